"""PortfolioPolicy: how scores and a regime become target weights, the same in backtests and live.

It holds the optimizer, the names held and the gross exposure per regime, every cap and the
turnover controls; `build` makes one date's portfolio with `construct_portfolio` from the weights
held then. The daily run and the walk-forward backtest both go through it, so a backtested
portfolio is the one the live run would have proposed. `drift` gives the backtest the weights
held at a rebalance: the previous targets moved by the prices since.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from trading_core.portfolio.construct import PortfolioResult, construct_portfolio
from trading_core.portfolio.estimates import aligned


@dataclass(frozen=True)
class PortfolioPolicy:
    """Optimizer, per-regime top-K and exposure (keys risk_off/normal/risk_on), caps, and the
    turnover controls (0 turns each off; see `construct_portfolio`)."""

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
    rank_buffer: int = 0
    rebalance_threshold: float = 0.0
    turnover_penalty: float = 0.0

    def with_optimizer(self, optimizer: str) -> PortfolioPolicy:
        """The same policy with another optimizer (a backtest grid varies only this)."""
        return replace(self, optimizer=optimizer)

    def build(
        self,
        scores: pd.Series,
        close: pd.DataFrame,
        regime_key: str,
        current: pd.Series | None = None,
    ) -> PortfolioResult:
        """Target weights for one date: `close` must end at that date (nothing after it).

        `current`: the weights held at that date's closes (fractions of portfolio value, index
        symbol); None: nothing held.
        """
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
            current=current,
            rank_buffer=self.rank_buffer,
            rebalance_threshold=self.rebalance_threshold,
            turnover_penalty=self.turnover_penalty,
        )


def drift(weights: pd.Series, start: pd.Series, end: pd.Series) -> pd.Series:
    """`weights` set at the `start` closes, moved by the prices to the `end` closes.

    Each name grows by end / start (1 where either close is missing: its value is frozen, as the
    backtester holds it); the cash, 1 - sum, stays as it was; the result is each name's fraction
    of the grown total.
    """
    held, symbols = weights.to_numpy(dtype="float64"), weights.index.tolist()
    with np.errstate(divide="ignore", invalid="ignore"):  # a missing or zero close: frozen
        growth = aligned(end, symbols) / aligned(start, symbols)
    grown = held * np.where(np.isfinite(growth) & (growth > 0), growth, 1.0)
    return pd.Series(
        grown / (grown.sum() + 1.0 - held.sum()), index=weights.index, name=weights.name
    )
