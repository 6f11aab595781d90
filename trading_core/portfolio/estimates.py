"""Inputs of the mean-variance and risk-parity optimizers, from closes up to the rebalance date.

- `estimate`: daily returns, the Ledoit-Wolf covariance and expected returns of the chosen names.
- `ledoit_wolf`: the shrunk covariance of daily returns (scikit-learn's, without its checks).
- `grinold_alphas`: expected returns from scores by Grinold's rule, alpha_i = IC x sigma_i x z_i.

Every figure is annualized with 252 sessions a year. A name enters only with a positive close on
every session of the window and some price movement; the others are left out and listed in
`Estimates.notes` (a fresh listing or a halted name cannot be given a covariance).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

SESSIONS_PER_YEAR = 252
MIN_RETURNS = 20  # the fewest daily returns a covariance is estimated from


@dataclass(frozen=True, eq=False)
class Estimates:
    """What the optimizers see for the names with a full window (in the order requested)."""

    symbols: Sequence[str]
    returns: np.ndarray  # daily simple returns, rows = sessions, columns = symbols
    covariance: np.ndarray  # annualized Ledoit-Wolf covariance of the returns
    expected_returns: np.ndarray  # annual Grinold alphas
    notes: tuple[str, ...] = ()


def estimate(
    close: pd.DataFrame,
    scores: pd.Series,
    symbols: Sequence[str],
    window: int = 252,
    score_ic: float = 0.05,
) -> Estimates:
    """Risk and return estimates of `symbols` from the last `window` daily returns in `close`."""
    prices = recent_closes(close, symbols, window + 1)
    if len(prices) - 1 < MIN_RETURNS:
        raise ValueError(
            f"{len(prices) - 1} daily returns before the rebalance, need {MIN_RETURNS}"
        )
    usable = (np.isfinite(prices) & (prices > 0)).all(axis=0)
    returns = prices[1:, usable] / prices[:-1, usable] - 1.0
    moving = returns.std(axis=0) > 0
    usable[usable] = moving
    if not usable.any():
        raise ValueError(f"no name has a full, moving price history over {window} sessions")
    # all usable (the rule): `symbols` as given, so an index passed in is reused, not rebuilt
    kept = symbols if usable.all() else [s for s, ok in zip(symbols, usable, strict=True) if ok]
    returns = returns[:, moving]
    volatility = returns.std(axis=0, ddof=1) * np.sqrt(SESSIONS_PER_YEAR)
    return Estimates(
        symbols=kept,
        returns=returns,
        covariance=ledoit_wolf(returns) * SESSIONS_PER_YEAR,
        expected_returns=grinold_alphas(scores, kept, volatility, score_ic),
        notes=_left_out(symbols, usable, len(returns)),
    )


def ledoit_wolf(returns: np.ndarray) -> np.ndarray:
    """Ledoit-Wolf covariance of `returns` (rows: sessions), as scikit-learn's `ledoit_wolf`.

    The sample covariance (divided by n) shrunk towards mu x I, mu the mean variance, by the
    intensity of Ledoit and Wolf (2004), computed as sklearn computes it (a test pins the two
    together). Written out because sklearn's input checks cost half a millisecond a call, half
    of `estimate`, at every rebalance of the three optimizers that need a covariance.
    """
    n, p = returns.shape
    centred = returns - returns.mean(axis=0)
    sample = centred.T @ centred / n
    if p == 1:  # no shrinkage changes a single variance
        return sample
    mu = np.trace(sample) / p
    squares = centred**2
    total = (sample**2).sum()
    beta = ((squares.T @ squares).sum() / n - total) / (p * n)  # the sample's estimation error
    delta = total / p - mu**2  # its squared distance from mu x I, per name
    shrinkage = 0.0 if beta == 0 else min(beta, delta) / delta
    shrunk = (1.0 - shrinkage) * sample
    shrunk.flat[:: p + 1] += shrinkage * mu
    return shrunk


def grinold_alphas(
    scores: pd.Series, symbols: Sequence[str], volatility: np.ndarray, score_ic: float
) -> np.ndarray:
    """Annual expected returns alpha_i = IC x sigma_i x z_i (Grinold's "alpha = IC x vol x score").

    z is the cross-sectional z-score (population standard deviation) of the scores over the whole
    scored universe, so names ranked above the average get positive alphas; sigma_i is the
    annualized volatility of daily returns. All alphas are zero when every score is equal.
    """
    values = scores.to_numpy(dtype="float64")
    universe = values[~np.isnan(values)]
    spread = universe.std() if len(universe) else 0.0
    if not spread > 0:
        return np.zeros(len(symbols))
    z = (aligned(scores, symbols) - universe.mean()) / spread
    return score_ic * volatility * z


def recent_closes(close: pd.DataFrame, symbols: Sequence[str], sessions: int) -> np.ndarray:
    """The last `sessions` rows of `close` for `symbols`, in that order (NaN for a name not in it)."""
    prices = close.iloc[-sessions:].to_numpy(dtype="float64")
    missing = np.full((len(prices), 1), np.nan)  # position -1: a name not in `close`
    return np.hstack([prices, missing])[:, positions_in(close.columns, symbols)]


def aligned(values: pd.Series, symbols: Sequence[str]) -> np.ndarray:
    """`values` of `symbols` as float64 (NaN where one has none)."""
    known = np.append(values.to_numpy(dtype="float64"), np.nan)  # position -1: none
    return known[positions_in(values.index, symbols)]


def positions_in(index: pd.Index, labels: Sequence[str]) -> np.ndarray:
    """The position of each label in the unique `index` (-1 where absent).

    A lookup per label: for the few dozen names of a portfolio this is ten times faster than
    `reindex` or `get_indexer`, which first convert the labels to an index of pandas' str dtype.
    """
    return np.array([index.get_loc(label) if label in index else -1 for label in labels], np.intp)


def _left_out(symbols: Sequence[str], usable: np.ndarray, sessions: int) -> tuple[str, ...]:
    """A note naming the requested names the optimizer cannot use, if any."""
    missing = [symbol for symbol, ok in zip(symbols, usable, strict=True) if not ok]
    if not missing:
        return ()
    return (
        f"left out {', '.join(missing)}: no full, moving price history over {sessions} returns",
    )
