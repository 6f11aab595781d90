"""Turnover control: rank buffer, no-trade band and turnover penalty, the same in backtest and live.

Pure functions first (the buffer's selection, the band, the drift of held weights, the penalized
optimizers), then the walk-forward backtest's use of them: each portfolio is built from the
previous targets drifted to its date, and the controls lower the one-way turnover the backtester
measures on a synthetic market with a planted signal.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from settings import load_settings
from tasks.components import policy_for
from tasks.sections import TradingRules
from trading_core.backtest.engine import VectorizedBacktester
from trading_core.backtest.walk_forward import target_weights
from trading_core.costs import CostModel
from trading_core.data.synthetic import generate_synthetic_market
from trading_core.errors import ConfigError
from trading_core.portfolio.band import EXPOSURE_SLACK, hold_within_band
from trading_core.portfolio.caps import Caps
from trading_core.portfolio.construct import construct_portfolio, select_top, select_with_buffer
from trading_core.portfolio.estimates import Estimates
from trading_core.portfolio.optimizers import max_sharpe, min_volatility
from trading_core.portfolio.policy import PortfolioPolicy, drift
from trading_core.regime import KEYS, NORMAL
from trading_core.turnover import one_way_turnover

TOL = 1e-9
SYMBOLS = [f"S{i:02d}" for i in range(12)]
SECTORS = pd.Series({s: ("tech", "energy", "banks")[i % 3] for i, s in enumerate(SYMBOLS)})


def turnover_between(new: pd.Series, old: pd.Series) -> float:
    names = new.index.union(old.index)
    return one_way_turnover(new.reindex(names, fill_value=0.0) - old.reindex(names, fill_value=0.0))


# ---------------------------------------------------------------------------------------------
# rank buffer


def test_a_buffer_of_zero_selects_exactly_the_top_k_whatever_is_held():
    rng = np.random.default_rng(3)
    for _ in range(200):
        scores = pd.Series(rng.choice([0.0, 1.0, np.nan, *rng.normal(size=5)], 30), index=range(30))
        scores.index = [f"N{i:02d}" for i in scores.index]
        held = rng.choice(scores.index, rng.integers(0, 15), replace=False)
        top_k = int(rng.integers(1, 20))

        assert select_with_buffer(scores, top_k, 0, held) == select_top(scores, top_k)


def test_a_held_name_stays_within_the_buffer_and_new_names_fill_only_free_slots():
    scores = pd.Series(np.arange(10.0, 0.0, -1.0), index=[f"R{r}" for r in range(1, 11)])
    # R4 ranks within top_k + buffer = 5 and stays; R6 ranks below it and leaves
    chosen = select_with_buffer(scores, top_k=3, buffer=2, held=["R4", "R6"])

    assert chosen == ["R1", "R2", "R4"]
    assert select_top(scores, 3) == ["R1", "R2", "R3"]


def test_more_held_names_in_the_buffer_than_slots_keeps_the_best_of_them():
    scores = pd.Series(np.arange(10.0, 0.0, -1.0), index=[f"R{r}" for r in range(1, 11)])

    chosen = select_with_buffer(scores, top_k=2, buffer=5, held=["R7", "R3", "R5", "R9"])

    assert chosen == ["R3", "R5"]


def test_an_unscored_held_name_cannot_stay_and_the_book_holds_top_k_names():
    rng = np.random.default_rng(4)
    scores = pd.Series(rng.normal(size=40), index=[f"N{i:02d}" for i in range(40)])
    scores.iloc[:5] = np.nan
    held = list(scores.index[:15])

    chosen = select_with_buffer(scores, top_k=10, buffer=10, held=held)

    assert len(chosen) == len(set(chosen)) == 10
    assert not set(chosen) & set(scores.index[:5])
    ranks = {symbol: r for r, symbol in enumerate(select_top(scores, 40))}
    assert all(ranks[s] < 20 for s in chosen if s in held)
    entrants = [s for s in chosen if s not in held]
    passed_over = [s for s in ranks if s not in held and s not in chosen]
    assert all(ranks[e] < ranks[p] for e in entrants for p in passed_over)


# ---------------------------------------------------------------------------------------------
# no-trade band


def random_book(rng: np.random.Generator, caps: Caps, exposure: float) -> pd.Series:
    raw = pd.Series(rng.exponential(size=len(SYMBOLS)) * (rng.random(len(SYMBOLS)) < 0.8), SYMBOLS)
    return caps.apply(raw, exposure)


def test_the_band_keeps_every_cap_and_never_raises_turnover():
    rng = np.random.default_rng(5)
    kept_any = 0
    for _ in range(300):
        caps = Caps(rng.choice([0.12, 0.2, 0.5]), SECTORS, rng.choice([None, 0.3, 0.45]))
        exposure = rng.choice([0.6, 1.0])
        target = random_book(rng, caps, exposure)
        jitter = rng.normal(0.0, rng.choice([0.005, 0.02, 0.05]), len(SYMBOLS))
        current = (target + jitter).clip(lower=0.0) * (rng.random(len(SYMBOLS)) < 0.9)
        current = current / max(1.0, current.sum())
        band = rng.choice([0.005, 0.02, 0.1])

        banded = hold_within_band(target, current, band, caps)

        at_target = np.isclose(banded, target, rtol=0, atol=0)
        at_current = np.isclose(banded, current, rtol=0, atol=0)
        assert (at_target | at_current).all()
        assert (np.abs(current - target)[at_current & ~at_target] < band).all()
        assert turnover_between(banded, current) <= turnover_between(target, current) + TOL
        assert (banded <= caps.max_weight + TOL).all()
        if caps.max_sector_weight is not None:
            sectors = banded.groupby(SECTORS).sum()
            assert (sectors <= caps.max_sector_weight + TOL).all()
        assert abs(banded.sum() - target.sum()) <= EXPOSURE_SLACK + TOL
        kept_any += int((at_current & ~at_target).any())
    assert kept_any > 100  # the band did act in most cases


def test_a_name_within_the_band_keeps_its_weight_and_one_outside_trades():
    target = pd.Series({"A": 0.30, "B": 0.30, "C": 0.40})
    current = pd.Series({"A": 0.31, "B": 0.25, "C": 0.39, "D": 0.01})

    banded = hold_within_band(target, current, 0.02, Caps(0.5))

    assert banded.to_dict() == {"A": 0.31, "B": 0.30, "C": 0.39}  # D leaves the book


def test_a_kept_weight_that_breaks_a_cap_trades_to_its_target():
    target = pd.Series({"A": 0.20, "B": 0.20, "C": 0.20, "D": 0.20, "E": 0.20})
    current = pd.Series({"A": 0.215, "B": 0.21, "C": 0.19, "D": 0.20, "E": 0.185})
    sectors = pd.Series({"A": "x", "B": "x", "C": "y", "D": "y", "E": "z"})

    name_capped = hold_within_band(target, current, 0.02, Caps(0.21))
    sector_capped = hold_within_band(target, current, 0.02, Caps(0.5, sectors, 0.42))

    assert name_capped["A"] == 0.20 and name_capped["B"] == 0.21  # A would pass the name cap
    assert sector_capped["A"] == 0.20 and sector_capped["B"] == 0.21  # x would hold 0.425
    assert sector_capped[["A", "B"]].sum() <= 0.42


def test_kept_weights_may_not_move_the_total_beyond_the_slack():
    target = pd.Series(0.1, index=[f"N{i}" for i in range(10)])
    current = target + 0.004  # each within the band, together 4% above the target

    banded = hold_within_band(target, current, 0.01, Caps(0.2))

    assert abs(banded.sum() - 1.0) <= EXPOSURE_SLACK
    assert (banded == current).sum() == 1  # 9 trade back: 1.004 is within the slack, 1.008 not


def test_no_band_or_no_book_leaves_the_targets_alone():
    target = pd.Series({"A": 0.5, "B": 0.5})
    current = pd.Series({"A": 0.49, "B": 0.51})

    assert hold_within_band(target, current, 0.0, Caps(1.0)).equals(target)
    assert hold_within_band(target, None, 0.05, Caps(1.0)).equals(target)


# ---------------------------------------------------------------------------------------------
# drift of held weights (the backtest's current book)


def test_drift_moves_weights_with_prices_and_keeps_cash():
    weights = pd.Series({"A": 0.5, "B": 0.3, "C": 0.0})  # 20% cash
    start = pd.Series({"A": 10.0, "B": 20.0, "C": 5.0})
    end = pd.Series({"A": 20.0, "B": np.nan, "C": 6.0})  # B has no close: its value is frozen

    drifted = drift(weights, start, end)

    # A grows to 1.0, B stays at 0.3, cash 0.2: total 1.5
    pd.testing.assert_series_equal(drifted, pd.Series({"A": 1.0 / 1.5, "B": 0.2, "C": 0.0}))


# ---------------------------------------------------------------------------------------------
# turnover penalty in the mean-variance optimizers


@pytest.fixture(scope="module")
def estimates() -> Estimates:
    """Eight names with distinct alphas and a factor covariance (annual figures)."""
    rng = np.random.default_rng(6)
    loadings = rng.normal(0.0, 0.1, (8, 2))
    covariance = loadings @ loadings.T + np.diag(rng.uniform(0.02, 0.08, 8))
    return Estimates(
        symbols=SYMBOLS[:8],
        returns=np.zeros((2, 8)),  # not used by the mean-variance optimizers
        covariance=covariance,
        expected_returns=np.array([0.08, 0.06, 0.05, 0.03, 0.02, 0.01, -0.01, 0.04]),
    )


@pytest.fixture(scope="module")
def held() -> pd.Series:
    """A book of 80% in the optimizer's names and 20% in one outside them (sold anyway)."""
    return pd.Series([0.05, 0.05, 0.1, 0.15, 0.15, 0.1, 0.1, 0.1, 0.2], index=[*SYMBOLS[:8], "X"])


def net_sharpe(w: np.ndarray, e: Estimates, start: np.ndarray, penalty: float) -> float:
    """Sharpe net of the penalty on the turnover beyond what investing the budget must make."""
    cost = penalty * (one_way_turnover(w - start) - one_way_turnover([w.sum() - start.sum()]))
    return float((e.expected_returns @ w - cost) / np.sqrt(w @ e.covariance @ w))


def test_max_sharpe_with_a_penalty_is_the_best_sharpe_net_of_turnover(estimates, held):
    caps, penalty = Caps(0.35), 0.05
    start = held.reindex(estimates.symbols).to_numpy()

    solved = max_sharpe(estimates, 1.0, caps, current=held, turnover_penalty=penalty).to_numpy()

    rng = np.random.default_rng(7)
    others = [w for w in rng.dirichlet(np.full(8, 0.5), 4000) if w.max() <= 0.35]
    others += [start / start.sum(), max_sharpe(estimates, 1.0, caps).to_numpy()]
    best = net_sharpe(solved, estimates, start, penalty)
    assert all(best >= net_sharpe(w, estimates, start, penalty) - 1e-7 for w in others)
    assert solved.sum() == pytest.approx(1.0) and solved.max() <= 0.35 + TOL


@pytest.mark.parametrize("optimizer", [max_sharpe, min_volatility])
def test_a_penalty_moves_the_optimum_towards_the_book_and_zero_changes_nothing(
    optimizer, estimates, held
):
    caps = Caps(0.35)
    plain = optimizer(estimates, 1.0, caps)
    turnover = {
        penalty: turnover_between(
            optimizer(estimates, 1.0, caps, current=held, turnover_penalty=penalty),
            held.reindex(estimates.symbols),
        )
        for penalty in (0.0, 0.02, 10.0)
    }

    pd.testing.assert_series_equal(
        optimizer(estimates, 1.0, caps, current=held, turnover_penalty=0.0), plain, rtol=0, atol=0
    )
    assert turnover[0.0] == turnover_between(plain, held.reindex(estimates.symbols))
    assert turnover[0.02] < turnover[0.0] - 0.01
    # a prohibitive penalty only buys the 20% the book lacks: one-way turnover 0.1
    assert turnover[10.0] == pytest.approx(0.1, abs=1e-6)


@pytest.mark.parametrize("optimizer", [max_sharpe, min_volatility])
def test_holding_the_optimum_already_means_no_trade_at_any_penalty(optimizer, estimates):
    caps = Caps(0.35, SECTORS, 0.5)
    optimum = optimizer(estimates, 0.8, caps)  # a budget below 1: weights sum to 0.8

    again = optimizer(estimates, 0.8, caps, current=optimum, turnover_penalty=0.05)

    np.testing.assert_allclose(again, optimum, atol=1e-6)


def test_construct_portfolio_without_controls_ignores_the_book():
    rng = np.random.default_rng(8)
    returns = rng.normal(0.0, 0.015, (300, 12))
    close = pd.DataFrame(
        100 * np.cumprod(1 + returns, axis=0), pd.bdate_range("2023-01-02", periods=300), SYMBOLS
    )
    scores = pd.Series(rng.normal(size=12), SYMBOLS)
    for optimizer in ("max_sharpe", "min_volatility", "inverse_vol"):
        kwargs = dict(optimizer=optimizer, top_k=6, max_weight=0.3, sectors=SECTORS)
        plain = construct_portfolio(scores, close, 1.0, max_sector_weight=0.5, **kwargs)
        moved = plain.weights.reindex(SYMBOLS, fill_value=0.0) + rng.uniform(-0.015, 0.015, 12)
        current = moved.clip(lower=0.0)  # near the targets, and some names outside them

        with_book = construct_portfolio(
            scores, close, 1.0, max_sector_weight=0.5, current=current, **kwargs
        )
        controlled = construct_portfolio(
            scores,
            close,
            1.0,
            max_sector_weight=0.5,
            current=current,
            rank_buffer=3,
            rebalance_threshold=0.02,
            turnover_penalty=0.05,
            **kwargs,
        )

        assert plain.optimizer == with_book.optimizer == controlled.optimizer == optimizer
        pd.testing.assert_series_equal(with_book.weights, plain.weights, rtol=0, atol=0)
        assert turnover_between(controlled.weights, current) < turnover_between(
            plain.weights, current
        )


# ---------------------------------------------------------------------------------------------
# settings and the walk-forward backtest


def test_settings_wire_the_controls_into_the_policy_and_refuse_negatives():
    settings = load_settings(
        portfolio={"rank_buffer": 7, "turnover_penalty": 0.03}, risk={"rebalance_threshold": 0.01}
    )
    policy = policy_for(TradingRules.of(settings))

    assert (policy.rank_buffer, policy.turnover_penalty, policy.rebalance_threshold) == (
        7,
        0.03,
        0.01,
    )
    for section, field in [
        ("portfolio", "rank_buffer"),
        ("portfolio", "turnover_penalty"),
        ("risk", "rebalance_threshold"),
    ]:
        with pytest.raises(ConfigError, match=f"{section}.{field}"):
            load_settings(**{section: {field: -1}})


@pytest.fixture(scope="module")
def market():
    return generate_synthetic_market(symbols=60, years=2, seed=17, ic=0.08)


def weekly_signal(market) -> pd.Series:
    dates = market.data.close.index[70::5]
    return market.signal.loc[dates].stack().rename_axis(["date", "symbol"]).rename("score")


def policy(optimizer: str = "equal_weight", **controls) -> PortfolioPolicy:
    keys = KEYS.values()
    return PortfolioPolicy(
        optimizer=optimizer,
        top_k=dict.fromkeys(keys, 10),
        exposure=dict.fromkeys(keys, 1.0),
        max_weight=0.2,
        **controls,
    )


class Recording:
    """A policy that records the book each portfolio is built from."""

    def __init__(self, inner: PortfolioPolicy) -> None:
        self.inner, self.optimizer, self.books = inner, inner.optimizer, []

    def build(self, scores, close, regime_key, current=None):
        self.books.append(current)
        return self.inner.build(scores, close, regime_key, current)


def test_each_backtest_portfolio_is_built_from_the_previous_targets_drifted_to_its_date(market):
    close = market.data.close
    scores = weekly_signal(market)
    regimes = pd.Series(NORMAL, index=close.index)
    recording = Recording(policy("inverse_vol", rank_buffer=5))

    weights, _ = target_weights(scores, close, regimes, recording)

    assert recording.books[0] is None
    dates = weights.index
    for i in (1, 7, len(dates) - 1):
        before, day = dates[i - 1], dates[i]
        held = weights.loc[before]
        grown = held * close.loc[day] / close.loc[before]
        expected = grown / (grown.sum() + 1.0 - held.sum())
        book = recording.books[i]
        pd.testing.assert_series_equal(
            book, expected.reindex(book.index), check_names=False, rtol=1e-12
        )
        assert set(held[held > 0].index) <= set(book.index)


def test_buffer_and_band_lower_the_backtests_one_way_turnover(market):
    data = market.data
    close = data.close
    scores = weekly_signal(market)
    regimes = pd.Series(NORMAL, index=close.index)
    backtester = VectorizedBacktester(CostModel(5.0, 5.0))

    def turnover(optimizer: str, **controls) -> float:
        weights, _ = target_weights(scores, close, regimes, policy(optimizer, **controls))
        start = weights.index[0]
        result = backtester.run(
            weights, close.loc[start:], regimes.loc[start:], open_=data.open.loc[start:]
        )
        return result.metrics["avg_turnover"]

    none = turnover("inverse_vol")
    buffered = turnover("inverse_vol", rank_buffer=10)
    banded = turnover("inverse_vol", rebalance_threshold=0.02)

    assert buffered < none - 0.05
    assert banded < none
    assert turnover("inverse_vol", rank_buffer=10, rebalance_threshold=0.02) < buffered
