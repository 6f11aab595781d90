"""Mean-variance programs solved by Clarabel directly, and the numpy paths of the rebalance.

The optimizers pose their problems to Clarabel as quadratic programs (`mean_variance`); these
tests pin them to the cvxpy formulation they replaced (the same problems in cvxpy's own atoms,
solved by cvxpy with the same solver) on random and degenerate books, and to PyPortfolioOpt's
EfficientFrontier, show threads get exactly the weights a lone solve gets, and pin the numpy
replacements of pandas and scikit-learn steps (inverse volatility, windows of closes, the
Ledoit-Wolf covariance) to the results they replaced.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import cvxpy as cp
import numpy as np
import pandas as pd
import pytest
from pypfopt import EfficientFrontier, objective_functions
from sklearn.covariance import ledoit_wolf as sklearn_ledoit_wolf

from trading_core.portfolio.caps import Caps
from trading_core.portfolio.estimates import ledoit_wolf, positions_in, recent_closes
from trading_core.portfolio.mean_variance import (
    Bounds,
    max_sharpe_weights,
    min_volatility_weights,
)
from trading_core.portfolio.optimizers import inverse_vol

# Interior-point weights of two formulations of one problem agree to about this: the objective
# agrees to CLARABEL's 1e-8, and weights along its flat directions move more than it does.
WEIGHT_TOLERANCE = 1e-5
SECTOR_OF = {i: "tech" if i < 4 else "other" for i in range(8)}


def market(seed: int, n: int = 8) -> tuple[np.ndarray, np.ndarray]:
    """Annual expected returns and a factor covariance of `n` names."""
    rng = np.random.default_rng(seed)
    loadings = rng.normal(0.0, 0.15, (n, 2))
    covariance = loadings @ loadings.T + np.diag(rng.uniform(0.01, 0.06, n))
    return rng.normal(0.05, 0.04, n), covariance


def bounds(n: int = 8, name: float = 0.3, tech: float = 0.4) -> Bounds:
    """A name bound and one sector row: names 0-3 (tech) together at most `tech`."""
    groups = np.zeros((1, n))
    groups[0, :4] = 1.0
    return Bounds(name=name, groups=groups, limits=np.array([tech]))


def frontier(mu: np.ndarray, covariance: np.ndarray, solver: str = "CLARABEL"):
    """PyPortfolioOpt's EfficientFrontier under the same bounds as `bounds()`."""
    ef = EfficientFrontier(mu, covariance, weight_bounds=(0.0, 0.3), solver=solver)
    ef.add_sector_constraints(SECTOR_OF, {}, {"tech": 0.4})
    return ef


# The direct programs are the ones cvxpy handed Clarabel: these books get its weights to 1e-12.
# (A backtest's book whose least variance sits on a kink of the turnover cost can part by 1e-5,
# both answers within Clarabel's tolerance of the optimum.)
REFERENCE_TOLERANCE = 1e-8


def reference_max_sharpe(excess, covariance, bounds, start=None, penalty=0.0):
    """The cvxpy formulation the direct program replaced: (status, weights or None)."""
    n = len(excess)
    y, kappa = cp.Variable(n), cp.Variable(nonneg=True)
    gain = excess @ y
    if penalty > 0:
        rate = penalty / 2
        gain -= cp.norm1(rate * y - kappa * rate * start) - rate * abs(1 - start.sum()) * kappa
    constraints = [gain >= np.abs(excess).max(), cp.sum(y) == kappa, y >= 0]
    constraints += [y <= bounds.name * kappa, bounds.groups @ y <= bounds.limits * kappa]
    problem = cp.Problem(cp.Minimize(cp.quad_form(y, cp.psd_wrap(covariance))), constraints)
    problem.solve(solver="CLARABEL")
    return problem.status, None if y.value is None else y.value / kappa.value


def reference_min_volatility(covariance, bounds, start=None, cost=0.0):
    """The cvxpy formulation the direct program replaced, PyPortfolioOpt's transaction cost."""
    w = cp.Variable(len(covariance))
    objective = cp.quad_form(w, cp.psd_wrap(covariance))
    if cost > 0:
        objective += cp.norm1(cost * w - cost * start)
    constraints = [cp.sum(w) == 1, w >= 0, w <= bounds.name, bounds.groups @ w <= bounds.limits]
    cp.Problem(cp.Minimize(objective), constraints).solve(solver="CLARABEL")
    return w.value


def twins(seed: int, n: int = 8) -> tuple[np.ndarray, np.ndarray]:
    """A book whose names 0 and 1 are the same stock (a singular covariance); 1 earns more."""
    rng = np.random.default_rng(seed)
    exposures = np.hstack([rng.normal(0.0, 0.15, (n, 2)), np.diag(rng.uniform(0.1, 0.25, n))])
    exposures[1] = exposures[0]
    mu = rng.normal(0.05, 0.04, n)
    mu[1] = mu[0] + 0.02
    return mu, exposures @ exposures.T


def held(seed: int, n: int = 8, invested: float = 0.9) -> np.ndarray:
    """Weights held now: `invested` spread at random over the book, the rest in cash."""
    return invested * np.random.default_rng(seed + 10).dirichlet(np.ones(n))


@pytest.mark.parametrize("penalty", [0.0, 0.05, 0.2])
@pytest.mark.parametrize("seed", range(5))
def test_max_sharpe_is_the_cvxpy_formulations_portfolio(seed, penalty):
    mu, covariance = market(seed)
    start = held(seed)

    status, reference = reference_max_sharpe(mu, covariance, bounds(), start, penalty)
    assert status == "optimal"
    weights = max_sharpe_weights(mu, covariance, bounds(), "CLARABEL", start, penalty)

    np.testing.assert_allclose(weights, reference, atol=REFERENCE_TOLERANCE)


@pytest.mark.parametrize("cost", [0.0, 0.01, 0.05])
@pytest.mark.parametrize("seed", range(5))
def test_min_volatility_is_the_cvxpy_formulations_portfolio(seed, cost):
    _, covariance = market(seed)
    start = held(seed)

    weights = min_volatility_weights(covariance, bounds(), "CLARABEL", start, cost)

    reference = reference_min_volatility(covariance, bounds(), start, cost)
    np.testing.assert_allclose(weights, reference, atol=REFERENCE_TOLERANCE)


@pytest.mark.parametrize("penalty", [0.0, 0.05])
def test_a_singular_covariance_gives_the_cvxpy_formulations_portfolio(penalty):
    mu, covariance = twins(3)
    assert np.linalg.matrix_rank(covariance) == len(covariance) - 1
    start = held(3)

    sharpe = max_sharpe_weights(mu, covariance, bounds(), "CLARABEL", start, penalty)
    least = min_volatility_weights(covariance, bounds(), "CLARABEL", start, penalty)

    _, reference = reference_max_sharpe(mu, covariance, bounds(), start, penalty)
    np.testing.assert_allclose(sharpe, reference, atol=REFERENCE_TOLERANCE)
    # the least variance cannot tell the twins apart: only their sum and the rest are unique
    other = reference_min_volatility(covariance, bounds(), start, penalty)
    together = np.append(least[0] + least[1], least[2:])
    np.testing.assert_allclose(
        together, np.append(other[0] + other[1], other[2:]), atol=REFERENCE_TOLERANCE
    )


@pytest.mark.parametrize(("name", "tech"), [(1 / 8, 0.5), (0.3, 0.1), (0.15, 0.4)])
def test_tight_caps_give_the_cvxpy_formulations_portfolio(name, tech):
    mu, covariance = market(5)
    tight = bounds(name=name, tech=tech)

    sharpe = max_sharpe_weights(mu, covariance, tight, "CLARABEL", held(5), 0.05)
    least = min_volatility_weights(covariance, tight, "CLARABEL", held(5), 0.02)

    _, reference = reference_max_sharpe(mu, covariance, tight, held(5), 0.05)
    np.testing.assert_allclose(sharpe, reference, atol=REFERENCE_TOLERANCE)
    reference = reference_min_volatility(covariance, tight, held(5), 0.02)
    np.testing.assert_allclose(least, reference, atol=REFERENCE_TOLERANCE)
    assert least.max() <= name + 1e-7 and least[:4].sum() <= tech + 1e-7


@pytest.mark.parametrize("penalty", [0.0, 0.05])
def test_no_expected_return_above_the_risk_free_rate_is_an_error_as_cvxpy_found(penalty):
    mu, covariance = market(6)

    with pytest.raises(ValueError, match="no portfolio earns above the risk-free rate"):
        max_sharpe_weights(-np.abs(mu), covariance, bounds(), "CLARABEL", held(6), penalty)

    status, _ = reference_max_sharpe(-np.abs(mu), covariance, bounds(), held(6), penalty)
    assert status == "infeasible"


def test_a_penalty_no_trade_can_pay_for_is_an_error_as_cvxpy_found():
    # the book holds 34% in one name, above the 30% cap: at a penalty of 100%, trading back
    # within the caps costs more than any portfolio earns
    mu, covariance = market(0)

    with pytest.raises(ValueError, match="risk-free rate net of the turnover penalty"):
        max_sharpe_weights(mu, covariance, bounds(), "CLARABEL", held(0), 1.0)

    assert reference_max_sharpe(mu, covariance, bounds(), held(0), 1.0)[0] == "infeasible"


def test_a_solve_that_stops_short_is_an_error_naming_the_status(monkeypatch):
    import clarabel

    defaults = clarabel.DefaultSettings

    def one_iteration():
        settings = defaults()
        settings.max_iter = 1
        return settings

    monkeypatch.setattr(clarabel, "DefaultSettings", one_iteration)
    _, covariance = market(1)

    with pytest.raises(ValueError, match=r"no least-variance portfolio \(MaxIterations\)"):
        min_volatility_weights(covariance, bounds(), "CLARABEL")


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_max_sharpe_is_pypfopts_tangency_portfolio(seed):
    mu, covariance = market(seed)
    reference = frontier(mu, covariance)
    reference.max_sharpe(risk_free_rate=0.01)

    weights = max_sharpe_weights(mu - 0.01, covariance, bounds(), "CLARABEL")

    np.testing.assert_allclose(weights, reference.weights, atol=WEIGHT_TOLERANCE)
    assert weights[:4].sum() <= 0.4 + 1e-7 and weights.max() <= 0.3 + 1e-7


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_min_volatility_with_a_cost_is_pypfopts_with_transaction_cost(seed):
    mu, covariance = market(seed)
    start = np.random.default_rng(seed + 10).dirichlet(np.ones(8))
    reference = frontier(mu, covariance)
    reference.add_objective(objective_functions.transaction_cost, w_prev=start, k=0.02)
    reference.min_volatility()

    weights = min_volatility_weights(covariance, bounds(), "CLARABEL", start=start, cost=0.02)

    np.testing.assert_allclose(weights, reference.weights, atol=WEIGHT_TOLERANCE)


def test_threads_solving_at_once_get_exactly_the_weights_of_a_lone_solve():
    books = [market(seed) for seed in range(12)]
    alone = [max_sharpe_weights(mu, cov, bounds(), "CLARABEL") for mu, cov in books]

    with ThreadPoolExecutor(max_workers=4) as pool:
        together = list(
            pool.map(lambda book: max_sharpe_weights(*book, bounds(), "CLARABEL"), books)
        )

    for mine, reference in zip(together, alone, strict=True):
        np.testing.assert_array_equal(mine, reference)


def test_a_singular_covariance_still_solves():
    # two perfectly correlated names of variance 1/16 (no Cholesky factor) and one of 1/4
    twins = np.array([[1 / 16, 1 / 16, 0.0], [1 / 16, 1 / 16, 0.0], [0.0, 0.0, 1 / 4]])
    with pytest.raises(np.linalg.LinAlgError):
        np.linalg.cholesky(twins)

    weights = min_volatility_weights(
        twins, Bounds(name=0.5, groups=np.zeros((0, 3)), limits=np.zeros(0)), "CLARABEL"
    )

    # the least variance puts 0.8 on the twins together and 0.2 on the third: 0.04 + 0.01
    assert weights[2] == pytest.approx(0.2, abs=1e-6)
    assert weights @ twins @ weights == pytest.approx(0.05, rel=1e-6)


# ---------------------------------------------------------------------------------------------
# numpy in place of pandas on the rebalance path


@pytest.fixture(scope="module")
def gappy_close() -> pd.DataFrame:
    """80 sessions of 6 names; S1 misses closes, S4 has one close in the window, S5 never moves."""
    rng = np.random.default_rng(7)
    returns = rng.normal(0.0, 0.02, (80, 6))
    close = pd.DataFrame(
        100 * np.cumprod(1 + returns, axis=0),
        index=pd.bdate_range("2024-01-01", periods=80),
        columns=[f"S{i}" for i in range(6)],
    )
    close.iloc[[30, 55, 56, 70], 1] = np.nan
    close.iloc[:-1, 4] = np.nan
    close["S5"] = 50.0
    return close


def test_inverse_vol_uses_pandas_volatility_skipping_missing_closes(gappy_close):
    symbols = ["S3", "S1", "S0", "S2"]
    vol = gappy_close.iloc[-61:][symbols].pct_change(fill_method=None).std()

    weights = inverse_vol(gappy_close, symbols, 1.0, Caps(1.0), window=60)

    pd.testing.assert_series_equal(weights, (1 / vol) / (1 / vol).sum(), rtol=0, atol=1e-12)


def test_inverse_vol_names_the_names_without_a_volatility(gappy_close):
    with pytest.raises(ValueError, match="no usable volatility for S4, S5, S9 over 60"):
        inverse_vol(gappy_close, ["S0", "S4", "S5", "S9"], 1.0, Caps(0.5), window=60)


def test_recent_closes_follow_the_requested_order_with_nan_for_an_unknown_name(gappy_close):
    prices = recent_closes(gappy_close, ["S2", "XX", "S0"], 5)

    np.testing.assert_array_equal(prices[:, 0], gappy_close["S2"].iloc[-5:])
    assert np.isnan(prices[:, 1]).all()
    np.testing.assert_array_equal(prices[:, 2], gappy_close["S0"].iloc[-5:])
    np.testing.assert_array_equal(
        positions_in(gappy_close.columns, ["S5", "XX", "S0"]),
        gappy_close.columns.get_indexer(["S5", "XX", "S0"]),
    )


@pytest.mark.parametrize("names", [1, 2, 10, 40])
def test_ledoit_wolf_is_scikit_learns(names):
    rng = np.random.default_rng(names)
    returns = rng.normal(0.0, 0.02, (252, names)) + rng.normal(0.0, 0.01, (252, 1))
    if names > 2:
        returns[:, 1] = returns[:, 0]  # a name listed twice: the sample covariance is singular

    np.testing.assert_allclose(
        ledoit_wolf(returns), sklearn_ledoit_wolf(returns)[0], rtol=1e-12, atol=1e-18
    )
