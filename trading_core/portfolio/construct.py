"""construct_portfolio: the top-K names by score, weighted by the chosen optimizer under caps.

If the optimizer fails, inverse volatility and then equal weight are tried under the same caps, and
the fallback and its reason are recorded: weights that break a cap are never returned.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from trading_core.portfolio.optimizers import equal_weight, inverse_vol


@dataclass(frozen=True)
class PortfolioResult:
    """Target weights (fractions of portfolio value; cash = 1 - sum) and how they were made."""

    weights: pd.Series
    optimizer: str
    requested_optimizer: str
    exposure: float
    fallback_reason: str | None = None

    @property
    def cash(self) -> float:
        return 1.0 - float(self.weights.sum())


def select_top(scores: pd.Series, top_k: int) -> list[str]:
    """The `top_k` highest-scored symbols (ties broken by symbol name for determinism)."""
    ranked = scores.dropna().rename("score").rename_axis("symbol").reset_index()
    ranked = ranked.sort_values(["score", "symbol"], ascending=[False, True], kind="stable")
    return ranked["symbol"].head(top_k).tolist()


def construct_portfolio(
    scores: pd.Series,
    close: pd.DataFrame,
    exposure: float,
    optimizer: str = "equal_weight",
    top_k: int = 10,
    max_weight: float = 0.15,
    volatility_window: int = 60,
) -> PortfolioResult:
    """Target weights for the top-K names by score at gross `exposure`, no name above `max_weight`."""
    chosen = select_top(scores, top_k)
    builders = {
        "equal_weight": lambda: equal_weight(chosen, exposure, max_weight),
        "inverse_vol": lambda: inverse_vol(close, chosen, exposure, max_weight, volatility_window),
    }
    if optimizer not in builders:
        raise ValueError(f"unknown optimizer {optimizer!r}: choose from {', '.join(builders)}")
    reason = None
    for name in dict.fromkeys([optimizer, "inverse_vol", "equal_weight"]):
        try:
            weights = builders[name]()
        except (ValueError, ArithmeticError) as exc:
            reason = f"{name} failed: {exc}"
            continue
        weights = weights.rename("weight").rename_axis("symbol").sort_index()
        return PortfolioResult(
            weights=weights,
            optimizer=name,
            requested_optimizer=optimizer,
            exposure=exposure,
            fallback_reason=reason if name != optimizer else None,
        )
    raise ValueError(f"no optimizer could build a portfolio: {reason}")
