"""Mean-variance problems compiled once per shape and re-solved with each rebalance's numbers.

- `max_sharpe_weights`: the tangency portfolio on a unit budget, optionally net of turnover.
- `min_volatility_weights`: the least-variance portfolio on a unit budget, optionally plus a
  turnover cost (PyPortfolioOpt's `objective_functions.transaction_cost`).
- `Bounds`: the unit-budget name and sector bounds both problems are posed under.

Why not PyPortfolioOpt's EfficientFrontier: it builds a new cvxpy problem from constants for
every covariance, and cvxpy spends most of a 10-50 name solve compiling it (about 80% of 10-20 ms;
a walk-forward grid solves thousands). Here every number is a cvxpy Parameter in DPP form, so
cvxpy compiles one problem per shape (names, sector rows, with or without the turnover term,
solver) and a solve only substitutes the numbers. The variance is the sum of squares of a factor
F with F'F = covariance (DPP accepts a parameter matrix times the weights, not inside quad_form);
the formulations are otherwise PyPortfolioOpt's, so weights agree with it to the solver's
tolerance. Cached problems are shared by threads (a backtest grid runs optimizers in threads), so
each solve holds its problem's lock, and none warm-starts from the previous solve: the same
inputs give the same weights whatever was solved before.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # cvxpy takes seconds to import: loaded when a problem is first built
    import cvxpy as cp

SOLVER_OPTIONS = {  # first-order solvers to an accuracy the caps check can accept
    "OSQP": {"eps_abs": 1e-9, "eps_rel": 1e-9, "max_iter": 100_000},
    "SCS": {"eps_abs": 1e-9, "eps_rel": 1e-9, "max_iters": 100_000},
}
SOLVED = ("optimal", "optimal_inaccurate")  # cvxpy statuses with usable weights


@dataclass(frozen=True, eq=False)
class Bounds:
    """Unit-budget bounds: 0 <= w <= `name` for each name, `groups` @ w <= `limits` per sector.

    `groups` has one 0/1 row of members per sector cap that can bind (rows x names).
    """

    name: float
    groups: np.ndarray
    limits: np.ndarray


def max_sharpe_weights(
    excess: np.ndarray,
    covariance: np.ndarray,
    bounds: Bounds,
    solver: str,
    start: np.ndarray | None = None,
    penalty: float = 0.0,
) -> np.ndarray:
    """Unit-budget weights w maximizing (excess'w - penalty x T(w)) / sqrt(w' covariance w).

    `excess`: annual expected returns above the risk-free rate; T(w) = 1/2 (|w - start|_1 -
    |1 - sum(start)|), the turnover from `start` (needed when `penalty` > 0) a portfolio can
    avoid (`optimizers.max_sharpe` says why); penalty 0 gives the plain tangency portfolio.
    ValueError when the solver finds no portfolio earning above the risk-free rate.
    """
    net = penalty > 0
    problem = _max_sharpe_problem(len(excess), len(bounds.limits), net, solver)
    values = {
        "factor": _factor(covariance),
        "excess": excess,
        "scale": float(np.abs(excess).max()),
        "name": bounds.name,
        "groups": bounds.groups,
        "limits": bounds.limits,
    }
    if net:
        rate = penalty / 2
        values |= {"rate": rate, "rate_start": rate * start, "free": rate * abs(1 - start.sum())}
    with problem.lock:
        status = problem.solve(values)
        y, kappa = problem.variables["y"].value, problem.variables["kappa"].value
    if status not in SOLVED or not kappa > 0:
        raise ValueError(
            f"no portfolio earns above the risk-free rate"
            f"{' net of the turnover penalty' if net else ''} ({status})"
        )
    return y / kappa


def min_volatility_weights(
    covariance: np.ndarray,
    bounds: Bounds,
    solver: str,
    start: np.ndarray | None = None,
    cost: float = 0.0,
) -> np.ndarray:
    """Unit-budget weights w minimizing w' covariance w + `cost` x |w - start|_1.

    `cost` is PyPortfolioOpt's transaction-cost k (`start` is needed when it is above 0); 0 gives
    the plain minimum.
    """
    net = cost > 0
    problem = _min_volatility_problem(len(covariance), len(bounds.limits), net, solver)
    values = {
        "factor": _factor(covariance),
        "name": bounds.name,
        "groups": bounds.groups,
        "limits": bounds.limits,
    }
    if net:
        values |= {"cost": cost, "cost_start": cost * start}
    with problem.lock:
        status = problem.solve(values)
        weights = problem.variables["w"].value
    if status not in SOLVED:
        raise ValueError(f"no least-variance portfolio ({status})")
    return weights


class _Compiled:
    """A cvxpy problem with named parameters and variables, solved under a lock."""

    def __init__(
        self,
        objective: cp.Expression,
        constraints: list[cp.Constraint],
        parameters: dict[str, cp.Parameter],
        variables: dict[str, cp.Variable],
        solver: str,
    ) -> None:
        import cvxpy as cp

        self.problem = cp.Problem(cp.Minimize(objective), constraints)
        self.parameters = parameters
        self.variables = variables
        self.solver = solver
        self.lock = threading.Lock()

    def solve(self, values: dict[str, float | np.ndarray]) -> str:
        """Set the parameters, solve and return the status (the caller holds `lock`)."""
        for name, value in values.items():
            self.parameters[name].value = value
        self.problem.solve(
            solver=self.solver,
            enforce_dpp=True,
            warm_start=False,
            **SOLVER_OPTIONS.get(self.solver, {}),
        )
        return self.problem.status


@lru_cache(maxsize=32)
def _max_sharpe_problem(n: int, rows: int, net: bool, solver: str) -> _Compiled:
    """PyPortfolioOpt's homogenized max_sharpe (Cornuejols and Tutuncu): y = kappa w, kappa > 0.

    The return constraint is excess'y >= scale (tight at the optimum), not == 1: with scale the
    largest |excess|, y stays near the scale of w (with 1, CLARABEL fails on some well-posed
    books). Net of turnover, the return is excess'y - rate (|y - kappa start|_1 -
    kappa |1 - sum(start)|), homogeneous of degree one and concave, with rate = penalty / 2.
    """
    import cvxpy as cp

    p = _parameters(n, rows)
    y, kappa = cp.Variable(n), cp.Variable(nonneg=True)
    p |= {"excess": cp.Parameter(n), "scale": cp.Parameter()}
    gain = p["excess"] @ y
    if net:
        p |= {
            "rate": cp.Parameter(),
            "rate_start": cp.Parameter(n),
            "free": cp.Parameter(),
        }
        gain -= cp.norm1(p["rate"] * y - kappa * p["rate_start"]) - p["free"] * kappa
    constraints = [gain >= p["scale"], cp.sum(y) == kappa, y >= 0, y <= p["name"] * kappa]
    if rows:
        constraints.append(p["groups"] @ y <= p["limits"] * kappa)
    risk = cp.sum_squares(p["factor"] @ y)
    return _Compiled(risk, constraints, p, {"y": y, "kappa": kappa}, solver)


@lru_cache(maxsize=32)
def _min_volatility_problem(n: int, rows: int, net: bool, solver: str) -> _Compiled:
    """PyPortfolioOpt's min_volatility, with its transaction_cost k |w - start|_1 when `net`."""
    import cvxpy as cp

    p = _parameters(n, rows)
    w = cp.Variable(n)
    objective = cp.sum_squares(p["factor"] @ w)
    if net:
        p |= {"cost": cp.Parameter(), "cost_start": cp.Parameter(n)}
        objective += cp.norm1(p["cost"] * w - p["cost_start"])
    constraints = [cp.sum(w) == 1, w >= 0, w <= p["name"]]
    if rows:
        constraints.append(p["groups"] @ w <= p["limits"])
    return _Compiled(objective, constraints, p, {"w": w}, solver)


def _parameters(n: int, rows: int) -> dict[str, cp.Parameter]:
    """The covariance factor and the bounds, common to both problems."""
    import cvxpy as cp

    return {
        "factor": cp.Parameter((n, n)),
        "name": cp.Parameter(),
        "groups": cp.Parameter((rows, n)),
        "limits": cp.Parameter(rows),
    }


def _factor(covariance: np.ndarray) -> np.ndarray:
    """F with F'F = `covariance`: the transposed Cholesky factor, or for a singular covariance
    (which has none) the square root from its eigendecomposition."""
    try:
        return np.linalg.cholesky(covariance).T
    except np.linalg.LinAlgError:
        values, vectors = np.linalg.eigh(covariance)
        return np.sqrt(np.clip(values, 0.0, None))[:, None] * vectors.T
