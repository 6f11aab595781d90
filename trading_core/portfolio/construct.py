"""construct_portfolio: the top-K names by score, weighted by the chosen optimizer under caps.

If the optimizer fails, inverse volatility and then equal weight are tried under the same caps, and
the fallback and its reasons are recorded. Every candidate is verified against every cap (finite,
long-only, per name, per sector, total) before it is returned; a violation counts as a failure.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

import numpy as np
import pandas as pd

from trading_core.portfolio.caps import Caps
from trading_core.portfolio.estimates import estimate
from trading_core.portfolio.optimizers import (
    OPTIMIZERS,
    equal_weight,
    hrp,
    inverse_vol,
    max_sharpe,
    min_volatility,
)

FALLBACKS = ("inverse_vol", "equal_weight")
ESTIMATE_BASED = ("max_sharpe", "min_volatility", "hrp")


@dataclass(frozen=True)
class PortfolioResult:
    """Target weights (fractions of portfolio value; cash = 1 - sum) and how they were made.

    `weights` covers the top-K names (zero where the optimizer holds none); `notes` says which of
    them the optimizer could not use and why.
    """

    weights: pd.Series
    optimizer: str
    requested_optimizer: str
    exposure: float
    fallback_reason: str | None = None
    notes: tuple[str, ...] = ()

    @property
    def cash(self) -> float:
        return 1.0 - float(self.weights.sum())


def select_top(scores: pd.Series, top_k: int) -> list[str]:
    """The `top_k` highest-scored symbols (ties broken by symbol name for determinism)."""
    ranked = scores.dropna()
    order = np.lexsort((np.asarray(ranked.index, dtype=str), -ranked.to_numpy(dtype="float64")))
    return ranked.index[order[:top_k]].tolist()


def construct_portfolio(
    scores: pd.Series,
    close: pd.DataFrame,
    exposure: float,
    optimizer: str = "equal_weight",
    top_k: int = 10,
    max_weight: float = 0.15,
    sectors: pd.Series | None = None,
    max_sector_weight: float | None = None,
    volatility_window: int = 60,
    covariance_window: int = 252,
    score_ic: float = 0.05,
    risk_free_rate: float = 0.0,
    solver: str = "CLARABEL",
) -> PortfolioResult:
    """Target weights for the top-K names by score at gross `exposure`, within every cap.

    `close` ends at the rebalance date; `sectors` maps symbol -> sector (names it lacks have no
    sector cap). Weights sum to `exposure`, or to the most the caps allow when that is less.
    """
    if optimizer not in OPTIMIZERS:
        raise ValueError(f"unknown optimizer {optimizer!r}: choose from {', '.join(OPTIMIZERS)}")
    chosen = select_top(scores, top_k)
    caps = Caps(max_weight, sectors, max_sector_weight)
    inputs = cache(lambda: estimate(close, scores, chosen, covariance_window, score_ic))
    builders: dict[str, Callable[[], pd.Series]] = {
        "max_sharpe": lambda: max_sharpe(inputs(), exposure, caps, risk_free_rate, solver),
        "min_volatility": lambda: min_volatility(inputs(), exposure, caps, solver),
        "hrp": lambda: hrp(inputs(), exposure, caps),
        "inverse_vol": lambda: inverse_vol(close, chosen, exposure, caps, volatility_window),
        "equal_weight": lambda: equal_weight(chosen, exposure, caps),
    }
    total = min(exposure, caps.capacity(chosen))
    failures: list[str] = []
    for name in dict.fromkeys([optimizer, *FALLBACKS]):
        try:
            weights = builders[name]().reindex(chosen, fill_value=0.0)
            caps.check(weights, total)
        except (ValueError, ArithmeticError) as exc:
            failures.append(f"{name} failed: {exc}")
            continue
        return PortfolioResult(
            weights=weights.rename("weight").rename_axis("symbol").sort_index(),
            optimizer=name,
            requested_optimizer=optimizer,
            exposure=exposure,
            fallback_reason="; ".join(failures) or None,
            notes=inputs().notes if name in ESTIMATE_BASED else (),
        )
    raise ValueError(f"no optimizer could build a portfolio: {'; '.join(failures)}")
