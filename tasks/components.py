"""Settings -> core objects: the one place that maps configuration onto the pure core's classes.

The daily run and the backtests build their regime detector, portfolio policy, cost model and
backtester here, from the same `TradingRules`, so the two can never be configured differently;
the selection flow and the CLI's `rollback` open the production store here, so both act on the
same champion.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd

from settings.portfolio import PortfolioSettings, RegimeSettings
from settings.runtime import OrchestrationSettings
from settings.trading import BacktestSettings
from tasks.sections import TradingRules
from trading_core.backtest.engine import VectorizedBacktester
from trading_core.costs import CostModel
from trading_core.home import Home
from trading_core.home_lock import HomeLock
from trading_core.live.safety_checks import SafetyValidator
from trading_core.live.trade_generator import TradeGenerator
from trading_core.portfolio.policy import PortfolioPolicy
from trading_core.regime import KEYS, RegimeDetector
from trading_core.selection.production import ProductionStore


def detector_for(regime: RegimeSettings) -> RegimeDetector:
    """The regime detector the regime settings describe."""
    return RegimeDetector(**regime.model_dump(exclude={"exposure"}))


def costs_for(portfolio: PortfolioSettings) -> CostModel:
    """The cost model shared by the trade generator and the backtester."""
    return CostModel(portfolio.costs_bps, portfolio.slippage_bps)


def policy_for(
    rules: TradingRules, sectors: pd.Series | None = None, optimizer: str | None = None
) -> PortfolioPolicy:
    """Portfolio rules from settings; `optimizer` overrides the configured one (a champion's)."""
    p = rules.portfolio
    regimes = KEYS.values()
    return PortfolioPolicy(
        optimizer=optimizer or p.optimizer,
        top_k={key: p.top_k_for(key) for key in regimes},
        exposure={key: getattr(rules.regime.exposure, key) for key in regimes},
        max_weight=min(p.max_weight, rules.live.max_position_pct),
        sectors=sectors if sectors is not None and len(sectors) else None,
        max_sector_weight=rules.risk.max_sector_weight,
        volatility_window=p.volatility_window,
        covariance_window=p.covariance_window,
        score_ic=p.score_ic,
        risk_free_rate=p.risk_free_rate,
        solver=p.solver,
        rank_buffer=p.rank_buffer,
        rebalance_threshold=rules.risk.rebalance_threshold,
        turnover_penalty=p.turnover_penalty,
    )


def backtester_for(backtest: BacktestSettings, rules: TradingRules) -> VectorizedBacktester:
    """The backtester with the live cost model, cash rate, capital, execution and volume cap."""
    b = backtest
    return VectorizedBacktester(
        costs_for(rules.portfolio),
        cash_rate=b.cash_rate,
        initial_capital=rules.live.initial_capital,
        execution=b.execution,
        max_volume_pct=rules.live.max_volume_pct if b.participation else None,
    )


def validator_for(rules: TradingRules) -> SafetyValidator:
    """The safety validator with every configured limit, the kill switch's included."""
    live, kill = rules.live, rules.kill_switch
    return SafetyValidator(
        max_weight=min(rules.portfolio.max_weight, live.max_position_pct),
        max_stale_sessions=rules.max_stale_sessions,
        max_sector_weight=rules.risk.max_sector_weight,
        max_turnover=rules.portfolio.max_turnover,
        max_trade_pct=live.max_trade_pct,
        max_cost_pct=live.max_cost_pct,
        max_daily_loss_pct=kill.max_daily_loss_pct,
        min_live_sharpe=kill.min_live_sharpe_threshold,
        lookback_weeks=kill.lookback_weeks,
    )


def trade_generator_for(rules: TradingRules) -> TradeGenerator:
    """The trade generator with the live limits and the shared cost model."""
    live = rules.live
    return TradeGenerator(
        costs_for(rules.portfolio),
        min_trade_size=live.min_trade_size,
        max_daily_trades=live.max_daily_trades,
        fractional_shares=live.fractional_shares,
        max_volume_pct=live.max_volume_pct,
        max_turnover=rules.portfolio.max_turnover,
    )


def production_store(home: Home) -> ProductionStore:
    """The champion and its history under the home's production/ folder."""
    return ProductionStore(home.production)


def home_lock(
    home: Path,
    orchestration: OrchestrationSettings,
    command: str,
    on_wait: Callable[[str], None] | None = None,
) -> HomeLock:
    """The home's one-writer lock: waits `orchestration.lock_timeout_seconds` for another writer
    (calling `on_wait` once with who it waits for), then refuses naming it."""
    return HomeLock(home, orchestration.lock_timeout_seconds, command, on_wait)
