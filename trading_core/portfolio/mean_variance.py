"""Mean-variance problems written as quadratic programs and handed to Clarabel as they are.

- `max_sharpe_weights`: the tangency portfolio on a unit budget, optionally net of turnover.
- `min_volatility_weights`: the least-variance portfolio on a unit budget, optionally plus a
  turnover cost (PyPortfolioOpt's `objective_functions.transaction_cost`).
- `Bounds`: the unit-budget name and sector bounds both problems are posed under.

Why not cvxpy: Clarabel solves a 10-name problem in about half a millisecond, and cvxpy spent
5 ms more substituting the numbers and canonicalizing at every solve, even with the problem
compiled once per shape in DPP form; a walk-forward grid solves thousands. So each problem is
written here once as the data of a `QuadraticProgram`, posed as cvxpy posed it (the tests hold
the weights to cvxpy's), and given to Clarabel directly; another solver (`solver` OSQP or SCS)
gets the same program through cvxpy, built anew at each solve. The formulations are
PyPortfolioOpt's, so weights agree with its EfficientFrontier to the solver's tolerance. A solve
shares nothing with another: threads may solve at once, and the same inputs give the same
weights whatever ran before.
"""

from __future__ import annotations

from dataclasses import dataclass

import clarabel
import numpy as np

SOLVER_OPTIONS = {  # first-order solvers to an accuracy the caps check can accept
    "OSQP": {"eps_abs": 1e-9, "eps_rel": 1e-9, "max_iter": 100_000},
    "SCS": {"eps_abs": 1e-9, "eps_rel": 1e-9, "max_iters": 100_000},
}
# Statuses with usable weights: Clarabel's, then cvxpy's
SOLVED = ("Solved", "AlmostSolved", "optimal", "optimal_inaccurate")
# Clarabel statuses that say the solver broke down, not that the problem has no solution
# (cvxpy raises SolverError on them)
CLARABEL_FAILURES = ("NumericalError", "InsufficientProgress", "Unsolved")


@dataclass(frozen=True, eq=False)
class Bounds:
    """Unit-budget bounds: 0 <= w <= `name` for each name, `groups` @ w <= `limits` per sector.

    `groups` has one 0/1 row of members per sector cap that can bind (rows x names).
    """

    name: float
    groups: np.ndarray
    limits: np.ndarray


@dataclass(eq=False)
class QuadraticProgram:
    """Minimize ½ x'Px + q'x subject to A x = b on the first `equalities` rows, A x <= b below.

    Clarabel's form: A x + s = b with s in the zero cone on the equalities, nonnegative below.
    """

    P: np.ndarray
    q: np.ndarray
    A: np.ndarray
    b: np.ndarray
    equalities: int

    def with_turnover(self, D: np.ndarray, c: np.ndarray) -> QuadraticProgram:
        """This program over (x, t) with t >= |D x - c|, one t per row of D; the caller prices t."""
        size, extra = len(self.q), len(D)
        eye = np.eye(extra)
        return QuadraticProgram(
            P=_padded(self.P, size + extra),
            q=np.concatenate([self.q, np.zeros(extra)]),
            A=np.vstack(
                [
                    np.hstack([self.A, np.zeros((len(self.A), extra))]),
                    np.hstack([D, -eye]),
                    np.hstack([-D, -eye]),
                ]
            ),
            b=np.concatenate([self.b, c, -c]),
            equalities=self.equalities,
        )


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

    PyPortfolioOpt's homogenized max_sharpe (Cornuejols and Tutuncu) over x = (y, kappa),
    y = kappa w: minimize y' covariance y subject to sum(y) = kappa, 0 <= y <= name x kappa,
    groups y <= limits x kappa, kappa >= 0 and excess'y >= scale, scale the largest |excess|
    (tight at the optimum; with 1 instead, y strays from the scale of w and Clarabel fails on
    some well-posed books). Net of turnover the return is excess'y - rate (|y - kappa start|_1 -
    kappa |1 - sum(start)|), rate = penalty / 2: homogeneous of degree one and concave, posed
    with t >= |rate (y - kappa start)| per name (scaled as cvxpy scaled its norm1, so the
    weights are the ones it gave, not merely as good).
    """
    n, net = len(excess), penalty > 0
    if net and start is None:
        raise ValueError("a turnover penalty needs the weights held (start)")
    held = np.zeros(n) if start is None else start  # read only with a penalty
    rate = penalty / 2 if net else 0.0
    free = rate * abs(1 - held.sum()) if net else 0.0
    eye = np.eye(n)
    # rows: sum(y) = kappa; the return at least scale (its t: below); y >= 0; y <= name x kappa;
    # groups y <= limits x kappa; kappa >= 0
    on_y = np.vstack([np.ones(n), -excess, -eye, eye, bounds.groups, np.zeros(n)])
    on_kappa = np.concatenate(
        [[-1.0, -free], np.zeros(n), np.full(n, -bounds.name), -bounds.limits, [-1.0]]
    )
    A = np.column_stack([on_y, on_kappa])
    b = np.zeros(len(A))
    b[1] = -np.abs(excess).max()
    program = QuadraticProgram(_padded(2 * covariance, n + 1), np.zeros(n + 1), A, b, 1)
    if net:
        program = program.with_turnover(rate * np.hstack([eye, -held[:, None]]), np.zeros(n))
        program.A[1, n + 1 :] = 1.0  # the return pays sum(t)
    solved, status, x = _solve(program, solver)
    if not solved or x is None or not x[n] > 0:
        raise ValueError(
            f"no portfolio earns above the risk-free rate"
            f"{' net of the turnover penalty' if net else ''} ({status})"
        )
    return x[:n] / x[n]


def min_volatility_weights(
    covariance: np.ndarray,
    bounds: Bounds,
    solver: str,
    start: np.ndarray | None = None,
    cost: float = 0.0,
) -> np.ndarray:
    """Unit-budget weights w minimizing w' covariance w + `cost` x |w - start|_1.

    `cost` is PyPortfolioOpt's transaction-cost k (`start` is needed when it is above 0); 0 gives
    the plain minimum. Subject to sum(w) = 1, 0 <= w <= name and groups w <= limits; the cost is
    posed with t >= |cost (w - start)| per name (scaled as cvxpy scaled its norm1).
    """
    n = len(covariance)
    eye = np.eye(n)
    program = QuadraticProgram(
        P=2 * covariance,
        q=np.zeros(n),
        A=np.vstack([np.ones((1, n)), -eye, eye, bounds.groups]),
        b=np.concatenate([[1.0], np.zeros(n), np.full(n, bounds.name), bounds.limits]),
        equalities=1,
    )
    if cost > 0:
        if start is None:
            raise ValueError("a turnover cost needs the weights held (start)")
        program = program.with_turnover(cost * eye, cost * start)
        program.q[n:] = 1.0  # the objective pays sum(t)
    solved, status, x = _solve(program, solver)
    if not solved or x is None:
        raise ValueError(f"no least-variance portfolio ({status})")
    return x[:n]


def _solve(program: QuadraticProgram, solver: str) -> tuple[bool, str, np.ndarray | None]:
    """Whether `solver` found usable weights, its status and the solution (None without one).

    ValueError naming the solver when it fails (an unknown or uninstalled one included).
    """
    if solver == "CLARABEL":
        return _clarabel(program)
    return _cvxpy(program, solver)


def _clarabel(program: QuadraticProgram) -> tuple[bool, str, np.ndarray]:
    """Clarabel on the program as it is: equalities as its zero cone, the rest nonnegative."""
    # scipy waits for the first solve (tests/cross_cutting/test_daily_imports.py)
    import scipy.sparse as sp

    settings = clarabel.DefaultSettings()
    settings.verbose = False
    cones = [
        clarabel.ZeroConeT(program.equalities),
        clarabel.NonnegativeConeT(len(program.b) - program.equalities),
    ]
    solution = clarabel.DefaultSolver(
        sp.csc_matrix(np.triu(program.P)),  # Clarabel reads the upper triangle
        program.q,
        sp.csc_matrix(program.A),
        program.b,
        cones,
        settings,
    ).solve()
    status = str(solution.status)
    if status in CLARABEL_FAILURES:
        raise ValueError(f"solver CLARABEL: {status}")
    return status in SOLVED, status, np.array(solution.x)


def _cvxpy(program: QuadraticProgram, solver: str) -> tuple[bool, str, np.ndarray | None]:
    """The program through cvxpy, for a solver other than Clarabel."""
    import cvxpy as cp  # takes seconds to import: loaded only for another solver

    x, rows = cp.Variable(len(program.q)), program.equalities
    objective = 0.5 * cp.quad_form(x, cp.psd_wrap(program.P)) + program.q @ x
    constraints = [
        program.A[:rows] @ x == program.b[:rows],
        program.A[rows:] @ x <= program.b[rows:],
    ]
    problem = cp.Problem(cp.Minimize(objective), constraints)
    try:
        problem.solve(solver=solver, **SOLVER_OPTIONS.get(solver, {}))
    except cp.error.SolverError as exc:
        raise ValueError(f"solver {solver}: {' '.join(map(str, exc.args))}") from exc
    return problem.status in SOLVED, problem.status, x.value


def _padded(matrix: np.ndarray, size: int) -> np.ndarray:
    """`matrix` in the top-left corner of a `size` x `size` matrix of zeros."""
    padded = np.zeros((size, size))
    padded[: len(matrix), : len(matrix)] = matrix
    return padded
