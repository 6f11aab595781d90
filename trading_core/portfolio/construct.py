"""construct_portfolio: the top-K names by score, weighted by the chosen optimizer under caps.

If the optimizer fails, inverse volatility and then equal weight are tried under the same caps, and
the fallback and its reasons are recorded. Every candidate is verified against every cap (finite,
long-only, per name, per sector, total) before it is returned; a violation counts as a failure.

Given the weights held now, three settings cut turnover, the same in backtests and live: a rank
buffer keeps held names while they rank within top-K + buffer (`select_with_buffer`), a turnover
penalty makes max_sharpe and min_volatility pay for trading away from them (`optimizers`), and a
no-trade band leaves a weight near its target where it is (`band.hold_within_band`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cache

import numpy as np
import pandas as pd

from trading_core.portfolio.band import hold_within_band
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

    `weights` covers the top-K names (zero where neither the optimizer nor the no-trade band holds
    any); `notes` says which of them the optimizer could not use and why.
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
    values = scores.to_numpy(dtype="float64")
    scored = np.flatnonzero(~np.isnan(values))
    symbols = scores.index.to_numpy()[scored]
    order = np.lexsort((symbols.astype(str), -values[scored]))
    return symbols[order[:top_k]].tolist()


def select_with_buffer(
    scores: pd.Series, top_k: int, buffer: int, held: Iterable[str] = ()
) -> list[str]:
    """The `top_k` names to hold, in rank order, when the `held` names get a rank buffer.

    qlib's TopkDropout idea: a held name stays while it ranks within the first `top_k + buffer`
    (the best `top_k` of them if more qualify); new names take only the slots left free, best score
    first. A name hovering around the cut is then not sold and bought back every rebalance. A held
    name without a score cannot stay. `buffer` 0 gives `select_top` exactly.

    The buffer never covers more than half of the scored names outside the book, so in a small
    universe the worst-ranked names still leave (12 names, top 10: a buffer of 1 at most; with
    top_k + buffer at the universe's size no name would ever be sold).
    """
    ranked = select_top(scores, len(scores))
    buffer = min(buffer, max(len(ranked) - top_k, 0) // 2)
    held = set(held)
    kept = set([symbol for symbol in ranked[: top_k + buffer] if symbol in held][:top_k])
    entrants = [symbol for symbol in ranked if symbol not in kept][: top_k - len(kept)]
    chosen = kept.union(entrants)
    return [symbol for symbol in ranked if symbol in chosen]


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
    current: pd.Series | None = None,
    rank_buffer: int = 0,
    rebalance_threshold: float = 0.0,
    turnover_penalty: float = 0.0,
) -> PortfolioResult:
    """Target weights for the top-K names by score at gross `exposure`, within every cap.

    `close` ends at the rebalance date; `sectors` maps symbol -> sector (names it lacks have no
    sector cap). Weights sum to `exposure`, or to the most the caps allow when that is less (within
    `band.EXPOSURE_SLACK` of it when the no-trade band keeps weights). `current`: the weights held
    now (fractions of portfolio value, index symbol; None: nothing held), which `rank_buffer`,
    `turnover_penalty` and `rebalance_threshold` (the band) keep from trading; 0 turns each off.
    """
    if optimizer not in OPTIMIZERS:
        raise ValueError(f"unknown optimizer {optimizer!r}: choose from {', '.join(OPTIMIZERS)}")
    held = () if current is None else current.index.to_numpy()[current.to_numpy() > 0]
    chosen = select_with_buffer(scores, top_k, rank_buffer, held)
    # One index for the weight Series of every optimizer, of Python objects: a pandas index of
    # strings costs tenths of a millisecond to build and to read from, at every rebalance of
    # every backtest; the result is indexed by strings as before (`_by_symbol`).
    symbols = pd.Index(chosen, dtype=object)
    caps = Caps(max_weight, sectors, max_sector_weight)
    inputs = cache(lambda: estimate(close, scores, symbols, covariance_window, score_ic))
    builders: dict[str, Callable[[], pd.Series]] = {
        "max_sharpe": lambda: max_sharpe(
            inputs(), exposure, caps, risk_free_rate, solver, current, turnover_penalty
        ),
        "min_volatility": lambda: min_volatility(
            inputs(), exposure, caps, solver, current, turnover_penalty
        ),
        "hrp": lambda: hrp(inputs(), exposure, caps),
        "inverse_vol": lambda: inverse_vol(close, symbols, exposure, caps, volatility_window),
        "equal_weight": lambda: equal_weight(symbols, exposure, caps),
    }
    total = min(exposure, caps.capacity(chosen))
    failures: list[str] = []
    for name in dict.fromkeys([optimizer, *FALLBACKS]):
        try:
            weights = builders[name]().reindex(symbols, fill_value=0.0)
            caps.check(weights, total)
        except (ValueError, ArithmeticError) as exc:
            failures.append(f"{name} failed: {exc}")
            continue
        weights = hold_within_band(weights, current, rebalance_threshold, caps)
        return PortfolioResult(
            weights=_by_symbol(weights.to_numpy(), chosen),
            optimizer=name,
            requested_optimizer=optimizer,
            exposure=exposure,
            fallback_reason="; ".join(failures) or None,
            notes=inputs().notes if name in ESTIMATE_BASED else (),
        )
    raise ValueError(f"no optimizer could build a portfolio: {'; '.join(failures)}")


def _by_symbol(weights: np.ndarray, symbols: list[str]) -> pd.Series:
    """`weights` of `symbols` as a Series named weight, indexed by symbol in alphabetical order
    (sort_index on an index of strings costs a tenth of a millisecond; this, a few microseconds
    plus building the index)."""
    order = sorted(range(len(symbols)), key=symbols.__getitem__)
    index = pd.Index([symbols[i] for i in order], name="symbol")
    return pd.Series(weights[order], index=index, name="weight")
