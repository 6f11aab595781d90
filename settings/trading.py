"""Trading settings: how targets fill in backtests and trade live, and what stops the live run."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from settings.section import Section, fraction


class BacktestSettings(Section):
    """Walk-forward backtests: execution convention, rebalance cadence, retraining, cash rate.

    `execution` is when a target decided at the close of t fills, and where labels start:
    next_open (what the daily run, after the close, can get), next_close, or same_close (the
    signal's own close, for comparison only: no live run can trade there).
    """

    execution: Literal["next_open", "next_close", "same_close"] = "next_open"
    participation: bool = True
    rebalance_sessions: int = Field(5, ge=1)
    retrain: Literal["folds", "months"] = "folds"
    retrain_months: int = Field(12, ge=1)
    min_train_sessions: int = Field(504, ge=20)
    cash_rate: float = Field(0.0, ge=0.0, lt=1.0)


class LiveSettings(Section):
    dry_run: bool = True
    initial_capital: float = Field(1_000_000.0, gt=0.0)
    min_trade_size: float = fraction(0.005)
    max_position_pct: float = Field(0.15, gt=0.0, le=1.0)
    max_volume_pct: float = Field(0.05, gt=0.0, le=1.0)
    max_daily_trades: int = Field(50, ge=1)
    max_trade_pct: float = Field(0.10, gt=0.0, le=1.0)
    max_cost_pct: float = Field(0.005, gt=0.0, le=1.0)
    require_manual_approval: bool = False
    fractional_shares: bool = False
    split_guard_tolerance: float = Field(0.05, ge=0.0, le=0.1)
    delisted_symbols: list[str] = Field(default_factory=list)


class KillSwitchSettings(Section):
    max_daily_loss_pct: float = Field(0.03, gt=0.0, le=1.0)
    min_live_sharpe_threshold: float = -3.0
    lookback_weeks: int = Field(6, ge=1)


class OpsSettings(Section):
    kill_switch: KillSwitchSettings = KillSwitchSettings()
    ic_lookback_days: int = Field(60, ge=5)
    ic_alert_threshold: float = Field(0.0, ge=-1.0, le=1.0)
