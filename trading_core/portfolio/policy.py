"""PortfolioPolicy: how scores and a regime become target weights, the same in backtests and live.

It holds the optimizer, the names held and the gross exposure per regime, and every cap; `build`
makes one date's portfolio with `construct_portfolio`. The daily run and the walk-forward backtest
both go through it, so a backtested portfolio is the one the live run would have proposed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace

import pandas as pd

from trading_core.portfolio.construct import PortfolioResult, construct_portfolio


@dataclass(frozen=True)
class PortfolioPolicy:
    """Optimizer, per-regime top-K and exposure (keys risk_off/normal/risk_on), and caps."""

    optimizer: str
    top_k: Mapping[str, int]
    exposure: Mapping[str, float]
    max_weight: float
    sectors: pd.Series | None = field(default=None, compare=False)
    max_sector_weight: float | None = None
    volatility_window: int = 60
    covariance_window: int = 252
    score_ic: float = 0.05
    risk_free_rate: float = 0.0
    solver: str = "CLARABEL"

    def with_optimizer(self, optimizer: str) -> PortfolioPolicy:
        """The same policy with another optimizer (a backtest grid varies only this)."""
        return replace(self, optimizer=optimizer)

    def build(self, scores: pd.Series, close: pd.DataFrame, regime_key: str) -> PortfolioResult:
        """Target weights for one date: `close` must end at that date (nothing after it)."""
        return construct_portfolio(
            scores,
            close,
            self.exposure[regime_key],
            optimizer=self.optimizer,
            top_k=self.top_k[regime_key],
            max_weight=self.max_weight,
            sectors=self.sectors,
            max_sector_weight=self.max_sector_weight,
            volatility_window=self.volatility_window,
            covariance_window=self.covariance_window,
            score_ic=self.score_ic,
            risk_free_rate=self.risk_free_rate,
            solver=self.solver,
        )
