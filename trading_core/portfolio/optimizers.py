"""Weighting schemes over a chosen set of symbols, all long-only, under name and sector caps.

- `max_sharpe`: the tangency portfolio of Grinold alphas under the Ledoit-Wolf covariance
  (PyPortfolioOpt EfficientFrontier); with a turnover penalty, the best Sharpe net of turnover.
- `min_volatility`: the least-variance portfolio under the same covariance (EfficientFrontier);
  with a turnover penalty, variance plus the penalty on turnover (PyPortfolioOpt's
  `objective_functions.transaction_cost`).
- `hrp`: hierarchical risk parity (Lopez de Prado 2016), PyPortfolioOpt's HRPOpt algorithm.
- `inverse_vol`: weights proportional to 1 / volatility of daily returns over a window.
- `equal_weight`: the same weight for every name.

Each returns weights summing to `exposure`, or to less when the caps cannot hold it (the rest is
cash); a scheme that cannot honour the caps raises ValueError with the reason.

The turnover penalty (`turnover_penalty`, annual expected return given up per unit of one-way
turnover ½ Σ|w - current|, `trading_core.turnover`) prices the trades away from `current` (the
weights held now, fractions of portfolio value): names the alphas barely prefer are left where
they are. A penalty of 0 solves exactly the problem without it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
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
    current: pd.Series | None = None,
    turnover_penalty: float = 0.0,
) -> pd.Series:
    """The highest ratio of expected excess return to volatility the caps allow.

    With `turnover_penalty` > 0, the highest ratio net of turnover from `current` (None: nothing
    held): (excess return - penalty x the one-way turnover it could avoid) / volatility, see
    `_net_max_sharpe`.
    """
    mu = estimates.expected_returns
    best = int(np.argmax(mu))
    if mu[best] <= risk_free_rate:
        raise ValueError(
            f"no expected return above the risk-free rate {risk_free_rate:g} "
            f"(highest {mu[best]:.4f}, {estimates.symbols[best]})"
        )

    def solve(budget: float) -> np.ndarray:
        if turnover_penalty > 0:
            start = _held(estimates, current) / budget
            bounds = _bounds(estimates, budget, caps)
            return _net_max_sharpe(
                estimates, bounds, risk_free_rate, start, turnover_penalty, solver
            )
        frontier = _frontier(estimates, budget, caps, solver)
        frontier.max_sharpe(risk_free_rate=risk_free_rate)
        return frontier.weights

    return _efficient(estimates, exposure, caps, solver, solve)


def min_volatility(
    estimates: Estimates,
    exposure: float,
    caps: Caps,
    solver: str = "CLARABEL",
    current: pd.Series | None = None,
    turnover_penalty: float = 0.0,
) -> pd.Series:
    """The lowest ex-ante variance the caps allow.

    With `turnover_penalty` > 0, the lowest variance + penalty x one-way turnover from `current`
    (None: nothing held), both of the whole portfolio: the quadratic utility at risk aversion 2
    with no expected returns, as min_volatility ignores them. On the unit budget the problem is
    posed on (see `_efficient`), that is PyPortfolioOpt's `transaction_cost` with the weights held
    divided by the budget and k = penalty / (2 x budget).
    """

    def solve(budget: float) -> np.ndarray:
        frontier = _frontier(estimates, budget, caps, solver)
        if turnover_penalty > 0:
            from pypfopt import objective_functions

            frontier.add_objective(
                objective_functions.transaction_cost,
                w_prev=_held(estimates, current) / budget,
                k=turnover_penalty / (2 * budget),
            )
        frontier.min_volatility()
        return frontier.weights

    return _efficient(estimates, exposure, caps, solver, solve)


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
    solve: Callable[[float], np.ndarray],
) -> pd.Series:
    """Solve a mean-variance problem on a unit budget and return its weights scaled to `exposure`.

    PyPortfolioOpt's weights sum to 1, so `solve(budget)` poses the problem on a unit budget with
    every cap divided by the budget (`exposure`, or the most the caps can hold when that is less:
    the rest stays in cash, as with every other optimizer); the solution is checked against those
    bounds (a solver's near-miss beyond SOLVER_TOLERANCE is a failure), cleared of dust and
    re-capped exactly at `exposure`.
    """
    symbols = estimates.symbols
    budget = min(exposure, caps.capacity(symbols))  # what the caps cannot hold stays in cash
    if budget <= 0:
        return pd.Series(0.0, index=symbols)
    import cvxpy as cp
    from pypfopt.exceptions import OptimizationError

    try:
        unit = pd.Series(solve(budget), index=symbols)
    except (OptimizationError, cp.error.SolverError) as exc:
        raise ValueError(f"solver {solver}: {' '.join(map(str, exc.args))}") from exc
    caps.check(unit * budget, budget, tolerance=SOLVER_TOLERANCE)
    return caps.apply(unit.where(unit >= DUST, 0.0), budget)


@dataclass(frozen=True)
class _Bounds:
    """Unit-budget bounds: the name cap, and the sector caps that can bind (cap / budget)."""

    name: float
    sector_of: dict[int, str]  # position of each name under a sector cap -> its sector
    sectors: dict[str, float]  # sector -> bound, only for a sector whose names can pass its cap

    def members(self, sector: str) -> list[int]:
        return [i for i, label in self.sector_of.items() if label == sector]


def _bounds(estimates: Estimates, budget: float, caps: Caps) -> _Bounds:
    """Name and sector caps of `estimates.symbols` divided by `budget`."""
    codes, labels = caps.sector_codes(estimates.symbols)
    counts = np.bincount(codes[codes >= 0], minlength=len(labels))
    return _Bounds(
        name=min(1.0, caps.max_weight / budget),
        sector_of={i: labels[code] for i, code in enumerate(codes) if code >= 0},
        sectors={  # a sector whose names cannot pass its cap needs no constraint
            label: caps.max_sector_weight / budget
            for label, count in zip(labels, counts, strict=True)
            if count * caps.max_weight > caps.max_sector_weight
        },
    )


def _frontier(estimates: Estimates, budget: float, caps: Caps, solver: str) -> EfficientFrontier:
    """An EfficientFrontier on a unit budget with name and sector bounds of cap / budget."""
    from pypfopt import EfficientFrontier

    bounds = _bounds(estimates, budget, caps)
    frontier = EfficientFrontier(
        estimates.expected_returns,
        estimates.covariance,
        weight_bounds=(0.0, bounds.name),
        solver=solver,
        solver_options=SOLVER_OPTIONS.get(solver),
    )
    if bounds.sectors:
        frontier.add_sector_constraints(bounds.sector_of, {}, bounds.sectors)
    return frontier


def _held(estimates: Estimates, current: pd.Series | None) -> np.ndarray:
    """The weights held now of the optimizer's names (0 where none is held)."""
    if current is None:
        return np.zeros(len(estimates.symbols))
    return current.reindex(estimates.symbols, fill_value=0.0).to_numpy(dtype="float64")


def _net_max_sharpe(
    estimates: Estimates,
    bounds: _Bounds,
    risk_free_rate: float,
    start: np.ndarray,
    penalty: float,
    solver: str,
) -> np.ndarray:
    """Unit-budget weights w maximizing (mu'w - rf - penalty x T(w)) / sqrt(w' S w), where
    T(w) = 1/2 (|w - start|_1 - |1 - sum(start)|) is the turnover a portfolio can avoid.

    On the unit budget the whole portfolio's one-way turnover is budget/2 |w - start|_1 with
    start = held / budget, and its excess return and volatility are budget times those of w, so
    the ratio is the portfolio's Sharpe net of the penalty. The part every candidate must trade,
    investing cash or selling what exceeds the budget (|1 - sum(start)|, at most |w - start|_1),
    is not charged: in a ratio it would act as a higher risk-free rate and stop an empty book
    from being invested at all, instead of choosing between trades. So an empty book gives the
    plain tangency portfolio, and a book already at the optimum stays there.

    Solved homogenized as PyPortfolioOpt's max_sharpe is (Cornuejols and Tutuncu): with
    y = kappa w, kappa > 0, the numerator (mu - rf)'y - penalty/2 (|y - kappa start|_1 -
    kappa |1 - sum(start)|) is homogeneous of degree one and concave, so fixing it at a positive
    constant (>=, tight at the optimum) and minimizing y' S y gives the same w = y / kappa, every
    bound multiplied by kappa. The constant is the largest |mu - rf|, not 1, so y stays near the
    scale of w: with 1, CLARABEL fails on some well-posed books. An L1 term added to
    PyPortfolioOpt's max_sharpe would penalize y, not w - start. ValueError when no weights earn
    above the risk-free rate net of the penalty.
    """
    import cvxpy as cp

    y, kappa = cp.Variable(len(start)), cp.Variable(nonneg=True)
    excess = estimates.expected_returns - risk_free_rate
    unavoidable = abs(1.0 - start.sum())
    scale = float(np.abs(excess).max())
    constraints = [
        excess @ y - penalty / 2 * (cp.norm1(y - kappa * start) - kappa * unavoidable) >= scale,
        cp.sum(y) == kappa,
        y >= 0,
        y <= bounds.name * kappa,
        *(cp.sum(y[bounds.members(s)]) <= limit * kappa for s, limit in bounds.sectors.items()),
    ]
    risk = cp.quad_form(y, estimates.covariance, assume_PSD=True)
    problem = cp.Problem(cp.Minimize(risk), constraints)
    problem.solve(solver=solver, **SOLVER_OPTIONS.get(solver, {}))
    if problem.status not in (cp.OPTIMAL, cp.OPTIMAL_INACCURATE) or not kappa.value > 0:
        raise ValueError(
            f"no portfolio earns above the risk-free rate net of the turnover penalty "
            f"({problem.status})"
        )
    return y.value / kappa.value
