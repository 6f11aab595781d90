"""The one cost model: commission and slippage in basis points of traded notional.

Shared by the backtester and the live trade generator so live cost estimates match the backtest.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class CostModel:
    """Costs proportional to traded notional: dollars, or a fraction of the portfolio traded.

    A fraction traded is buys plus sells, Σ|Δw|: twice the one-way turnover
    (`trading_core.turnover`).
    """

    commission_bps: float = 5.0
    slippage_bps: float = 5.0

    @property
    def rate(self) -> float:
        """Total cost per dollar traded."""
        return (self.commission_bps + self.slippage_bps) / 10_000

    def commission(self, notional: np.ndarray | float) -> np.ndarray | float:
        return np.abs(notional) * self.commission_bps / 10_000

    def slippage(self, notional: np.ndarray | float) -> np.ndarray | float:
        return np.abs(notional) * self.slippage_bps / 10_000

    def total(self, notional: np.ndarray | float) -> np.ndarray | float:
        return np.abs(notional) * self.rate
