"""Settings -> core objects: the one place that maps configuration onto the pure core's classes.

The daily run and the backtests build their regime detector, portfolio policy, cost model and
backtester here, so the two can never be configured differently; the selection flow and the CLI's
`rollback` open the production store here, so both act on the same champion.
"""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd

from settings import Settings
from trading_core.backtest.engine import VectorizedBacktester
from trading_core.costs import CostModel
from trading_core.home import Home
from trading_core.home_lock import HomeLock
from trading_core.live.safety_checks import SafetyValidator
from trading_core.live.trade_generator import TradeGenerator
from trading_core.portfolio.policy import PortfolioPolicy
from trading_core.regime import KEYS, RegimeDetector
from trading_core.selection.production import ProductionStore


def detector_for(settings: Settings) -> RegimeDetector:
    """The regime detector the regime settings describe."""
    return RegimeDetector(**settings.regime.model_dump(exclude={"exposure"}))


def costs_for(settings: Settings) -> CostModel:
    """The cost model shared by the trade generator and the backtester."""
    return CostModel(settings.portfolio.costs_bps, settings.portfolio.slippage_bps)


def policy_for(
    settings: Settings, sectors: pd.Series | None = None, optimizer: str | None = None
) -> PortfolioPolicy:
    """Portfolio rules from settings; `optimizer` overrides the configured one (a champion's)."""
    p = settings.portfolio
    regimes = KEYS.values()
    return PortfolioPolicy(
        optimizer=optimizer or p.optimizer,
        top_k={key: p.top_k_for(key) for key in regimes},
        exposure={key: getattr(settings.regime.exposure, key) for key in regimes},
        max_weight=min(p.max_weight, settings.live.max_position_pct),
        sectors=sectors if sectors is not None and len(sectors) else None,
        max_sector_weight=settings.risk.max_sector_weight,
        volatility_window=p.volatility_window,
        covariance_window=p.covariance_window,
        score_ic=p.score_ic,
        risk_free_rate=p.risk_free_rate,
        solver=p.solver,
        rank_buffer=p.rank_buffer,
        rebalance_threshold=settings.risk.rebalance_threshold,
        turnover_penalty=p.turnover_penalty,
    )


def backtester_for(settings: Settings) -> VectorizedBacktester:
    """The backtester with the live cost model, cash rate, capital, execution and volume cap."""
    b = settings.backtest
    return VectorizedBacktester(
        costs_for(settings),
        cash_rate=b.cash_rate,
        initial_capital=settings.live.initial_capital,
        execution=b.execution,
        max_volume_pct=settings.live.max_volume_pct if b.participation else None,
    )


def validator_for(settings: Settings) -> SafetyValidator:
    """The safety validator with every configured limit, the kill switch's included."""
    live, kill = settings.live, settings.ops.kill_switch
    return SafetyValidator(
        max_weight=min(settings.portfolio.max_weight, live.max_position_pct),
        max_stale_sessions=settings.data.max_stale_sessions,
        max_sector_weight=settings.risk.max_sector_weight,
        max_turnover=settings.portfolio.max_turnover,
        max_trade_pct=live.max_trade_pct,
        max_cost_pct=live.max_cost_pct,
        max_daily_loss_pct=kill.max_daily_loss_pct,
        min_live_sharpe=kill.min_live_sharpe_threshold,
        lookback_weeks=kill.lookback_weeks,
    )


def trade_generator_for(settings: Settings) -> TradeGenerator:
    """The trade generator with the live limits and the shared cost model."""
    live = settings.live
    return TradeGenerator(
        costs_for(settings),
        min_trade_size=live.min_trade_size,
        max_daily_trades=live.max_daily_trades,
        fractional_shares=live.fractional_shares,
        max_volume_pct=live.max_volume_pct,
        max_turnover=settings.portfolio.max_turnover,
    )


def production_store(settings: Settings) -> ProductionStore:
    """The champion and its history under the home's production/ folder."""
    return ProductionStore(Home(settings.home).production)


def home_lock(
    settings: Settings, command: str, on_wait: Callable[[str], None] | None = None
) -> HomeLock:
    """The home's one-writer lock: waits `orchestration.lock_timeout_seconds` for another writer
    (calling `on_wait` once with who it waits for), then refuses naming it."""
    return HomeLock(settings.home, settings.orchestration.lock_timeout_seconds, command, on_wait)
