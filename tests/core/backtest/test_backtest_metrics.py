"""Backtest metrics against hand computations, and NaN (never an exception) on degenerate input."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from trading_core.backtest import metrics

ALTERNATING = pd.Series([0.01, -0.005, 0.01, -0.005])  # mean 0.0025, deviations +-0.0075


def series(values: list[float]) -> pd.Series:
    return pd.Series(values, index=pd.bdate_range("2024-01-01", periods=len(values)), dtype=float)


def test_max_drawdown_of_a_known_path():
    # wealth 1.1, 0.88, 0.99, 1.21: the fall from 1.1 to 0.88 is -20%
    returns = series([0.1, -0.2, 0.125, 2 / 9])
    assert metrics.max_drawdown(returns) == pytest.approx(-0.2)
    np.testing.assert_allclose(metrics.drawdown(returns), [0.0, -0.2, -0.1, 0.0], atol=1e-15)


def test_a_loss_on_the_first_day_is_a_drawdown_from_the_starting_capital():
    assert metrics.max_drawdown(series([-0.1, 0.05])) == pytest.approx(-0.1)
    assert metrics.max_drawdown(series([0.01, 0.02])) == 0.0


def test_sharpe_of_a_known_series():
    expected = 0.0025 / (0.0075 * math.sqrt(4 / 3)) * math.sqrt(252)
    assert metrics.sharpe(ALTERNATING) == pytest.approx(expected)
    daily_cash = 1.03 ** (1 / 252) - 1
    excess = (0.0025 - daily_cash) / (0.0075 * math.sqrt(4 / 3)) * math.sqrt(252)
    assert metrics.sharpe(ALTERNATING, cash_rate=0.03) == pytest.approx(excess)


def test_sortino_divides_by_the_downside_deviation_of_every_session():
    downside = math.sqrt(2 * 0.005**2 / 4)
    assert metrics.sortino(ALTERNATING) == pytest.approx(0.0025 / downside * math.sqrt(252))


def test_cagr_and_calmar():
    year = series([0.0] * 251 + [0.1])
    assert metrics.cagr(year) == pytest.approx(0.1)
    two_years = series([0.0] * 503 + [0.1])
    assert metrics.cagr(two_years) == pytest.approx(math.sqrt(1.1) - 1)
    dipped = series([0.0] * 250 + [-0.2, 0.375])  # 1 -> 0.8 -> 1.1 over one year
    assert metrics.calmar(dipped) == pytest.approx(0.1 / 0.2)
    assert metrics.cagr(series([-1.0, 0.1])) == -1.0


def test_total_return_volatility_and_win_rate():
    returns = series([0.01, 0.0, -0.01, 0.02])
    assert metrics.total_return(returns) == pytest.approx(1.01 * 0.99 * 1.02 - 1)
    assert metrics.win_rate(returns) == 0.5  # a flat day is not a win
    expected = np.std([0.01, 0.0, -0.01, 0.02], ddof=1) * math.sqrt(252)
    assert metrics.annual_volatility(returns) == pytest.approx(expected)


def test_turnover_and_cost_drag():
    turnover = series([0.5, 0.3])
    assert metrics.average_turnover(turnover) == pytest.approx(0.4)
    assert metrics.annual_turnover(turnover, sessions=504) == pytest.approx(0.4)
    equity = series([99.0] * 252)
    costs = pd.Series([1.0, 1.0], index=equity.index[[0, 100]])  # 1% of pre-trade equity, twice
    assert metrics.cost_drag(costs, equity) == pytest.approx(0.02)
    assert metrics.cost_drag(costs * 2, equity - 1) == pytest.approx(0.04)


def test_regime_breakdown_per_code():
    returns = series([0.01, -0.02, 0.03, 0.0, 0.01, 0.02])
    regimes = pd.Series([0, 0, 2, 2, 2, np.nan], index=returns.index)
    table = metrics.regime_performance(returns, regimes)
    assert table["days"].tolist() == [2, 0, 3]
    assert table.loc[0, "avg_return"] == pytest.approx(-0.005)
    assert table.loc[2, "win_rate"] == pytest.approx(2 / 3)
    assert table.loc[2, "sharpe"] == pytest.approx(metrics.sharpe(returns.iloc[2:5]))
    assert np.isnan(table.loc[1, "avg_return"]) and np.isnan(table.loc[1, "sharpe"])


@pytest.mark.parametrize(
    "returns",
    [series([]), series([0.01]), series([0.0] * 10), series([0.001] * 10)],
    ids=["empty", "one session", "flat", "no losing day"],
)
def test_degenerate_series_give_nan_not_an_exception(returns):
    empty = pd.Series(dtype=float)
    figures = metrics.summarize(returns, (1 + returns).cumprod(), empty, empty)
    assert set(figures) >= {"sharpe", "sortino", "calmar", "max_drawdown", "cost_drag"}
    assert np.isnan(figures["sharpe"]) and np.isnan(figures["sortino"])
    assert np.isnan(figures["calmar"])
    assert figures["max_drawdown"] == 0.0
