"""Compiled mean-variance problems and the numpy paths of the rebalance: same answers, less work.

The optimizers solve cvxpy problems compiled once per shape (`mean_variance`); these tests pin
them to PyPortfolioOpt's EfficientFrontier (the formulation they replaced) to the solver's
tolerance, show a re-solve gives exactly a fresh solve's weights whatever ran before or beside
it, and pin the numpy replacements of pandas steps (inverse volatility, windows of closes) to
the pandas results they replaced.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd
import pytest
from pypfopt import EfficientFrontier, objective_functions

from trading_core.portfolio import mean_variance
from trading_core.portfolio.caps import Caps
from trading_core.portfolio.estimates import positions_in, recent_closes
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


def test_a_shape_is_compiled_once_and_a_resolve_equals_a_fresh_solve():
    mu, covariance = market(3)
    other_mu, other_covariance = market(4)
    mean_variance._max_sharpe_problem.cache_clear()
    fresh = max_sharpe_weights(mu, covariance, bounds(), "CLARABEL")

    max_sharpe_weights(other_mu, other_covariance, bounds(name=0.25), "CLARABEL")
    again = max_sharpe_weights(mu, covariance, bounds(), "CLARABEL")

    info = mean_variance._max_sharpe_problem.cache_info()
    assert (info.misses, info.hits) == (1, 2)  # one compilation, two re-solves
    np.testing.assert_array_equal(again, fresh)  # no warm start: history changes nothing


def test_threads_sharing_a_compiled_problem_get_their_own_answers():
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


def test_no_expected_return_above_the_risk_free_rate_is_an_error():
    mu, covariance = market(6)

    with pytest.raises(ValueError, match="risk-free rate"):
        max_sharpe_weights(-np.abs(mu), covariance, bounds(), "CLARABEL")


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
