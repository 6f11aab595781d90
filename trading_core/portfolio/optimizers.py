"""Weighting schemes over a chosen set of symbols, all long-only, under name and sector caps.

- `max_sharpe`: the tangency portfolio of Grinold alphas under the Ledoit-Wolf covariance
  (PyPortfolioOpt EfficientFrontier).
- `min_volatility`: the least-variance portfolio under the same covariance (EfficientFrontier).
- `hrp`: hierarchical risk parity (Lopez de Prado 2016), PyPortfolioOpt's HRPOpt algorithm.
- `inverse_vol`: weights proportional to 1 / volatility of daily returns over a window.
- `equal_weight`: the same weight for every name.

Each returns weights summing to `exposure`, or to less when the caps cannot hold it (the rest is
cash); a scheme that cannot honour the caps raises ValueError with the reason.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from trading_core.portfolio.caps import Caps
from trading_core.portfolio.estimates import Estimates

if TYPE_CHECKING:  # cvxpy and PyPortfolioOpt take seconds to import: loaded when first solving
    from pypfopt import EfficientFrontier

OPTIMIZERS = ("max_sharpe", "min_volatility", "hrp", "inverse_vol", "equal_weight")
SOLVER_TOLERANCE = 1e-6  # how far a solver's weight may sit past a bound before it is a failure
DUST = 1e-6  # solver weights below this (of a unit budget) are numerical noise: set to zero
SOLVER_OPTIONS = {  # first-order solvers to an accuracy the caps check can accept
    "OSQP": {"eps_abs": 1e-9, "eps_rel": 1e-9, "max_iter": 100_000},
    "SCS": {"eps_abs": 1e-9, "eps_rel": 1e-9, "max_iters": 100_000},
}


def equal_weight(symbols: list[str], exposure: float, caps: Caps) -> pd.Series:
    """Equal weights over `symbols`."""
    return caps.apply(pd.Series(1.0, index=symbols), exposure)


def inverse_vol(
    close: pd.DataFrame, symbols: list[str], exposure: float, caps: Caps, window: int = 60
) -> pd.Series:
    """Weights proportional to the inverse of each name's daily-return volatility over `window`."""
    recent = close.iloc[-(window + 1) :].reindex(columns=symbols)
    vol = recent.pct_change(fill_method=None).std()
    bad = vol.isna() | (vol <= 0)
    if bad.any():
        names = ", ".join(vol[bad].index)
        raise ValueError(f"no usable volatility for {names} over {window} sessions")
    return caps.apply(1.0 / vol.astype("float64"), exposure)


def max_sharpe(
    estimates: Estimates,
    exposure: float,
    caps: Caps,
    risk_free_rate: float = 0.0,
    solver: str = "CLARABEL",
) -> pd.Series:
    """The highest ratio of expected excess return to volatility the caps allow."""
    mu = estimates.expected_returns
    best = int(np.argmax(mu))
    if mu[best] <= risk_free_rate:
        raise ValueError(
            f"no expected return above the risk-free rate {risk_free_rate:g} "
            f"(highest {mu[best]:.4f}, {estimates.symbols[best]})"
        )
    return _efficient(
        estimates, exposure, caps, solver, lambda ef: ef.max_sharpe(risk_free_rate=risk_free_rate)
    )


def min_volatility(
    estimates: Estimates, exposure: float, caps: Caps, solver: str = "CLARABEL"
) -> pd.Series:
    """The lowest ex-ante variance the caps allow."""
    return _efficient(estimates, exposure, caps, solver, lambda ef: ef.min_volatility())


def hrp(estimates: Estimates, exposure: float, caps: Caps) -> pd.Series:
    """Hierarchical risk parity weights, then scaled to `exposure` and re-capped by water-filling."""
    return caps.apply(pd.Series(hrp_weights(estimates.returns), index=estimates.symbols), exposure)


def hrp_weights(returns: np.ndarray) -> np.ndarray:
    """HRP weights summing to 1: PyPortfolioOpt 1.6 `HRPOpt(returns).optimize()` in numpy.

    Single-linkage clustering on the distance sqrt((1 - correlation) / 2), names in the tree's
    leaf order, then recursive halving with inverse-variance cluster weights on the sample
    covariance. The same numbers as HRPOpt (a test pins it) without its per-cluster pandas
    indexing, which costs about 70 ms at 50 names.
    """
    import scipy.cluster.hierarchy as sch
    import scipy.spatial.distance as ssd

    n = returns.shape[1]
    if n == 1:
        return np.ones(1)
    corr = np.corrcoef(returns, rowvar=False)
    cov = np.cov(returns, rowvar=False)
    distance = np.sqrt(np.clip((1.0 - corr) / 2.0, 0.0, 1.0))
    link = sch.linkage(ssd.squareform(distance, checks=False), "single")
    weights = np.ones(n)
    clusters = [sch.to_tree(link, rd=False).pre_order()]
    while clusters:
        clusters = [c[j:k] for c in clusters for j, k in _halves(len(c)) if len(c) > 1]
        for first, second in zip(clusters[::2], clusters[1::2], strict=True):
            first_var, second_var = _cluster_variance(cov, first), _cluster_variance(cov, second)
            alpha = 1 - first_var / (first_var + second_var)
            weights[first] *= alpha
            weights[second] *= 1 - alpha
    return weights


def _halves(size: int) -> tuple[tuple[int, int], tuple[int, int]]:
    return (0, size // 2), (size // 2, size)


def _cluster_variance(cov: np.ndarray, members: list[int]) -> float:
    """Variance of the inverse-variance portfolio of `members`."""
    block = cov[np.ix_(members, members)]
    weights = 1 / np.diag(block)
    weights /= weights.sum()
    return float(weights @ block @ weights)


def _efficient(
    estimates: Estimates,
    exposure: float,
    caps: Caps,
    solver: str,
    objective: Callable[[EfficientFrontier], object],
) -> pd.Series:
    """Solve an EfficientFrontier problem and return its weights scaled to `exposure`.

    PyPortfolioOpt's weights sum to 1, so the problem is posed on a unit budget with every cap
    divided by the budget (`exposure`, or the most the caps can hold when that is less: the rest
    stays in cash, as with every other optimizer); the solution is checked against those bounds (a solver's near-miss
    beyond SOLVER_TOLERANCE is a failure), cleared of dust and re-capped exactly at `exposure`.
    """
    symbols = estimates.symbols
    budget = min(exposure, caps.capacity(symbols))  # what the caps cannot hold stays in cash
    if budget <= 0:
        return pd.Series(0.0, index=symbols)
    import cvxpy as cp
    from pypfopt.exceptions import OptimizationError

    frontier = _frontier(estimates, budget, caps, solver)
    try:
        objective(frontier)
    except (OptimizationError, cp.error.SolverError) as exc:
        raise ValueError(f"solver {solver}: {' '.join(map(str, exc.args))}") from exc
    unit = pd.Series(frontier.weights, index=symbols)
    caps.check(unit * budget, budget, tolerance=SOLVER_TOLERANCE)
    return caps.apply(unit.where(unit >= DUST, 0.0), budget)


def _frontier(estimates: Estimates, exposure: float, caps: Caps, solver: str) -> EfficientFrontier:
    """An EfficientFrontier on a unit budget with name and sector bounds of cap / exposure."""
    from pypfopt import EfficientFrontier

    frontier = EfficientFrontier(
        estimates.expected_returns,
        estimates.covariance,
        weight_bounds=(0.0, min(1.0, caps.max_weight / exposure)),
        solver=solver,
        solver_options=SOLVER_OPTIONS.get(solver),
    )
    codes, labels = caps.sector_codes(estimates.symbols)
    counts = np.bincount(codes[codes >= 0], minlength=len(labels))
    binding = {  # a sector whose names cannot pass its cap needs no constraint
        label: caps.max_sector_weight / exposure
        for label, count in zip(labels, counts, strict=True)
        if count * caps.max_weight > caps.max_sector_weight
    }
    if binding:
        mapper = {i: labels[code] for i, code in enumerate(codes) if code >= 0}
        frontier.add_sector_constraints(mapper, {}, binding)
    return frontier
