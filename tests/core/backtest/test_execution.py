"""Execution conventions: targets decided at the close of t fill at the open or close of t+1 (or,
for comparison only, at the close of t); labels start at the same fill; volume caps a fill."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from trading_core.backtest import VectorizedBacktester
from trading_core.backtest.walk_forward import sharpe_by_execution
from trading_core.costs import CostModel
from trading_core.data.market import MarketData
from trading_core.errors import DataError
from trading_core.features.labels import EXECUTIONS, execution_prices, forward_returns
from trading_core.ml.dataset import Dataset, build_dataset

FREE = CostModel(0.0, 0.0)
DAYS = pd.bdate_range("2024-01-02", periods=5)
CLOSE = pd.DataFrame(
    {"A": [10.0, 11.0, 12.0, 12.0, 13.0], "B": [20.0, 18.0, 18.0, 19.0, 19.0]}, DAYS
)
OPEN = pd.DataFrame(
    {"A": [10.0, 10.5, 11.5, 12.5, 12.5], "B": [20.0, 19.0, 18.5, 18.0, 19.5]}, DAYS
)
TARGETS = pd.DataFrame({"A": [0.5], "B": [0.5]}, index=DAYS[:1])


def test_next_open_fills_at_the_open_after_the_signal_by_hand():
    result = VectorizedBacktester(FREE, initial_capital=100.0).run(TARGETS, CLOSE, open_=OPEN)
    # decided at the close of d0, filled at the open of d1: 50 / 10.5 A, 50 / 19 B, no cash
    shares = np.array([50 / 10.5, 50 / 19.0])
    expected = CLOSE.iloc[1:].to_numpy() @ shares
    assert result.execution == "next_open"
    assert list(result.equity.index) == list(DAYS[1:])
    np.testing.assert_allclose(result.equity.to_numpy(), expected, rtol=1e-13)
    np.testing.assert_allclose(result.positions.iloc[0].to_numpy(), shares, rtol=1e-13)


def test_next_close_fills_at_the_close_after_the_signal_by_hand():
    backtester = VectorizedBacktester(FREE, initial_capital=100.0, execution="next_close")
    result = backtester.run(TARGETS, CLOSE, open_=OPEN)
    shares = np.array([50 / 11.0, 50 / 18.0])
    np.testing.assert_allclose(
        result.equity.to_numpy(), CLOSE.iloc[1:].to_numpy() @ shares, rtol=1e-13
    )


def test_without_opens_next_open_falls_back_to_next_close_and_says_so():
    result = VectorizedBacktester(FREE, initial_capital=100.0).run(TARGETS, CLOSE)
    assert result.execution == "next_close"
    same = VectorizedBacktester(FREE, initial_capital=100.0, execution="next_close")
    assert result.equity.equals(same.run(TARGETS, CLOSE).equity)


def test_a_missing_open_fills_at_that_sessions_close():
    opens = OPEN.copy()
    opens.loc[DAYS[1], "A"] = np.nan
    prices = execution_prices(CLOSE, opens, "next_open")
    assert prices.loc[DAYS[1], "A"] == CLOSE.loc[DAYS[1], "A"]
    assert prices.loc[DAYS[1], "B"] == OPEN.loc[DAYS[1], "B"]


def test_a_target_on_the_last_session_is_not_traded():
    targets = pd.DataFrame({"A": [0.5, 1.0], "B": [0.5, 0.0]}, index=DAYS[[0, 4]])
    result = VectorizedBacktester(FREE).run(targets, CLOSE, open_=OPEN)
    assert list(result.turnover.index) == [DAYS[1]]  # fill date of the only tradable target
    with pytest.raises(DataError, match="no rebalance can fill"):
        VectorizedBacktester(FREE).run(targets.iloc[1:], CLOSE, open_=OPEN)


def test_a_trade_is_capped_at_its_share_of_average_volume():
    volume = pd.DataFrame({"A": 100.0, "B": 1e9}, index=DAYS)
    backtester = VectorizedBacktester(
        FREE, initial_capital=100_000.0, max_volume_pct=0.05, volume_window=3
    )
    result = backtester.run(TARGETS, CLOSE, open_=OPEN, volume=volume)
    # A may trade 5 shares (5% of 100), not the 50 000 / 10.5 its target asks for
    assert result.positions.iloc[0]["A"] == pytest.approx(5.0)
    assert result.positions.iloc[0]["B"] == pytest.approx(50_000 / 19.0)
    asked = 50_000.0 * 2
    unfilled = 50_000.0 - 5 * 10.5
    assert result.unfilled.iloc[0] == pytest.approx(unfilled)
    assert result.metrics["capped_share"] == pytest.approx(unfilled / asked)
    uncapped = VectorizedBacktester(FREE, initial_capital=100_000.0).run(
        TARGETS, CLOSE, open_=OPEN, volume=volume
    )
    assert uncapped.metrics["capped_share"] == 0.0


def test_costs_are_charged_on_what_was_filled():
    volume = pd.DataFrame({"A": 100.0, "B": 1e9}, index=DAYS)
    costs = CostModel(10.0, 0.0)
    capped = VectorizedBacktester(costs, initial_capital=100_000.0, max_volume_pct=0.05)
    result = capped.run(TARGETS, CLOSE, open_=OPEN, volume=volume)
    filled = 5 * 10.5 + 50_000.0
    assert result.costs.iloc[0] == pytest.approx(filled * 10 / 10_000)


def test_labels_start_at_the_fill_of_each_convention():
    h = 2
    by_hand = {
        "same_close": CLOSE.shift(-h) / CLOSE - 1,
        "next_close": CLOSE.shift(-1 - h) / CLOSE.shift(-1) - 1,
        "next_open": OPEN.shift(-1 - h) / OPEN.shift(-1) - 1,
    }
    for execution in EXECUTIONS:
        labels = forward_returns(CLOSE, h, open_=OPEN, execution=execution)
        pd.testing.assert_frame_equal(labels, by_hand[execution], check_names=False)


@pytest.fixture(scope="module")
def market():
    from trading_core.data.synthetic import generate_synthetic_market

    return generate_synthetic_market(symbols=8, years=1.2, seed=3, ic=0.1).data


@pytest.mark.parametrize("execution", EXECUTIONS)
def test_as_of_keeps_only_labels_realized_by_then(market: MarketData, execution: str):
    from trading_core.features.library import feature_set

    features = feature_set(momentum_windows=[5], volatility_windows=[5])
    full = build_dataset(market, features, 5, "raw", ("raw",), execution)
    when = market.dates[-20]
    cut = build_dataset(market.as_of(when), features, 5, "raw", ("raw",), execution)
    known = full.as_of(when)
    assert known.known_after == 5 + (execution != "same_close")
    pd.testing.assert_series_equal(known.labels, cut.labels, check_dtype=False)
    assert known.labels.notna().any()


def test_a_dataset_says_which_fill_its_labels_start_at(market: MarketData):
    from dataclasses import replace

    from trading_core.features.library import feature_set

    features = feature_set(momentum_windows=[5], volatility_windows=[5])
    dataset: Dataset = build_dataset(market, features, 5, "raw", ("raw",), "next_open")
    assert dataset.execution == "next_open"
    no_opens = build_dataset(replace(market, open=None), features, 5, "raw", ("raw",), "next_open")
    assert no_opens.execution == "next_close"


def test_sharpe_by_execution_reruns_the_same_targets_under_each_fill(market: MarketData):
    dates = market.dates[::5][:-1]
    rng = np.random.default_rng(0)
    weights = pd.DataFrame(
        rng.dirichlet(np.ones(market.close.shape[1]), len(dates)),
        index=dates,
        columns=market.close.columns,
    )
    backtester = VectorizedBacktester(CostModel(5.0, 5.0))
    sharpes = sharpe_by_execution(weights, market, backtester)
    assert set(sharpes) == set(EXECUTIONS)
    for execution in EXECUTIONS:
        alone = backtester.with_execution(execution).run(
            weights, market.close, open_=market.open, volume=market.volume
        )
        assert sharpes[execution] == alone.metrics["sharpe"]
    assert len({round(s, 12) for s in sharpes.values()}) == 3  # the fill moves the result
