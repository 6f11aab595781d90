"""Specifications of the paper account's tear-sheet numbers (trading_core.performance), checked
against empyrical-reloaded on seeded series: equal within 1e-9 where the conventions agree, and a
pinned, stated relation where they differ (undefined figures are NaN here, infinite there)."""

from __future__ import annotations

import math

import empyrical
import numpy as np
import pandas as pd
import pytest

from trading_core.backtest import metrics
from trading_core.performance import drawdowns, periods, rolling, statistics

CASH_RATE = 0.04
DAILY_CASH = (1 + CASH_RATE) ** (1 / 252) - 1  # empyrical takes the risk-free rate per session
TOLERANCE = 1e-9

# empyrical's figure for each key of the headline table, on the same returns (r) and benchmark (b)
EMPYRICAL = {
    "total_return": lambda r, b: empyrical.cum_returns_final(r),
    "cagr": lambda r, b: empyrical.cagr(r),
    "volatility": lambda r, b: empyrical.annual_volatility(r),
    "sharpe": lambda r, b: empyrical.sharpe_ratio(r, risk_free=DAILY_CASH),
    "sortino": lambda r, b: empyrical.sortino_ratio(r, required_return=DAILY_CASH),
    "max_drawdown": lambda r, b: empyrical.max_drawdown(r),
    "calmar": lambda r, b: empyrical.calmar_ratio(r),
    "win_rate": lambda r, b: float(np.mean(r.to_numpy() > 0)),  # no empyrical equivalent
    "best_day": lambda r, b: float(np.max(r.to_numpy())),
    "worst_day": lambda r, b: float(np.min(r.to_numpy())),
    "var_95": lambda r, b: empyrical.value_at_risk(r, cutoff=0.05),
    "cvar_95": lambda r, b: empyrical.conditional_value_at_risk(r, cutoff=0.05),
    "beta": lambda r, b: empyrical.beta(r, b, risk_free=DAILY_CASH),
    "alpha": lambda r, b: empyrical.alpha(r, b, risk_free=DAILY_CASH),
    "sessions": lambda r, b: float(len(r)),
}


def dated(values, start: str = "2022-01-03") -> pd.Series:
    return pd.Series(values, index=pd.bdate_range(start, periods=len(values)), dtype=float)


@pytest.fixture(scope="module")
def market() -> tuple[pd.Series, pd.Series]:
    """600 sessions (Jan 2022 - Apr 2024) of a strategy with beta about 0.8 and its benchmark."""
    rng = np.random.default_rng(19)
    benchmark = dated(rng.normal(0.0004, 0.011, 600))
    strategy = 0.8 * benchmark + dated(rng.normal(0.0002, 0.007, 600))
    return strategy.rename("strategy"), benchmark.rename("benchmark")


def table_of(frame: pd.DataFrame, window: str, side: str) -> dict[str, float]:
    rows = frame[(frame["window"] == window) & (frame["side"] == side)]
    return dict(zip(rows["metric"], rows["value"], strict=True))


def window_of(returns: pd.Series, months: int | None) -> pd.Series:
    """The sessions strictly after the same calendar date `months` back from the last one."""
    if months is None:
        return returns
    return returns[returns.index > returns.index[-1] - pd.DateOffset(months=months)]


# --- headline table ----------------------------------------------------------------------------


@pytest.mark.parametrize("window", list(statistics.WINDOWS))
def test_every_headline_figure_equals_empyricals(market, window):
    """Sharpe and Sortino over the per-session cash rate equal empyrical's with that rate as
    risk_free / required_return; Sortino's downside deviation averages over every session in both;
    VaR interpolates linearly (np.percentile) and CVaR averages the int((n-1) x 5%) + 1 worst
    sessions, as empyrical's; alpha is compounded, (1 + daily)^252 - 1, as empyrical's."""
    strategy, benchmark = market
    table = statistics.headline_table(strategy, benchmark, cash_rate=CASH_RATE)
    ours_r = window_of(strategy, statistics.WINDOWS[window])
    ours_b = benchmark.loc[ours_r.index]
    for side, returns in [("strategy", ours_r), ("benchmark", ours_b)]:
        figures = table_of(table, window, side)
        expected_keys = set(EMPYRICAL) - ({"beta", "alpha"} if side == "benchmark" else set())
        assert set(figures) == expected_keys
        for key, value in figures.items():
            reference = float(EMPYRICAL[key](returns, ours_b))
            assert value == pytest.approx(reference, rel=0, abs=TOLERANCE), (window, side, key)


def test_rows_follow_the_label_order_and_every_key_has_a_label(market):
    table = statistics.headline_table(*market)
    assert set(table["metric"]) <= set(statistics.LABELS)
    assert list(dict.fromkeys(table["window"])) == list(statistics.WINDOWS)
    order = list(statistics.LABELS)
    for (_, _), rows in table.groupby(["window", "side"], sort=False):
        keys = rows["metric"].tolist()
        assert keys == sorted(keys, key=order.index)


def test_trailing_windows_are_calendar_months_back_from_the_last_session(market):
    strategy, _ = market  # last session 2024-04-19
    last_3 = statistics.trailing(strategy, 3)
    assert last_3.index[0] == pd.Timestamp("2024-01-22")  # first session after 2024-01-19
    assert last_3.index[-1] == strategy.index[-1]
    equity = (1 + strategy).cumprod()
    growth = equity.iloc[-1] / equity.loc["2024-01-19"] - 1
    table = table_of(statistics.headline_table(strategy), "3m", "strategy")
    assert table["total_return"] == pytest.approx(growth, rel=1e-12)


def test_a_window_longer_than_the_history_is_not_shown(market):
    strategy, benchmark = market
    short = strategy.iloc[:40]  # under two months
    table = statistics.headline_table(short, benchmark, cash_rate=CASH_RATE)
    for window in ("3m", "12m"):
        for side in ("strategy", "benchmark"):
            assert all(math.isnan(v) for v in table_of(table, window, side).values())
    life = table_of(table, "life", "strategy")
    assert life["sessions"] == 40
    assert life["sharpe"] == pytest.approx(
        empyrical.sharpe_ratio(short, risk_free=DAILY_CASH), abs=TOLERANCE
    )


def test_without_a_benchmark_there_are_no_benchmark_rows_and_no_beta(market):
    table = statistics.headline_table(market[0])
    assert set(table["side"]) == {"strategy"}
    assert not {"beta", "alpha"} & set(table["metric"])


def test_sessions_before_the_first_return_are_left_out(market):
    """empyrical skips NaN inside its nan-aware means; here a session without a return is
    dropped before anything is computed, so the account's life starts at its first return."""
    strategy, benchmark = market
    late = pd.concat(
        [pd.Series(np.nan, index=pd.bdate_range("2021-12-20", "2021-12-31")), strategy]
    )
    pd.testing.assert_frame_equal(
        statistics.headline_table(late, benchmark, cash_rate=CASH_RATE),
        statistics.headline_table(strategy, benchmark, cash_rate=CASH_RATE),
    )
    assert drawdowns.worst_drawdowns(late).equals(drawdowns.worst_drawdowns(strategy))
    assert rolling.rolling_sharpe(late).index[0] == strategy.index[0]


def test_a_flat_series_has_zero_volatility_and_nan_ratios():
    """Existing convention of backtest.metrics: a ratio over zero volatility or zero downside is
    NaN (undefined); empyrical divides by zero and returns +-inf. Pinned: ours is NaN exactly
    where empyrical's is not finite."""
    flat = dated([0.001] * 80)
    table = table_of(statistics.headline_table(flat, cash_rate=CASH_RATE), "life", "strategy")
    assert table["volatility"] == pytest.approx(empyrical.annual_volatility(flat), abs=TOLERANCE)
    assert table["volatility"] == pytest.approx(0.0, abs=1e-15)
    for key in ("sharpe", "sortino"):
        assert math.isnan(table[key])
    assert not np.isfinite(empyrical.sharpe_ratio(flat, risk_free=DAILY_CASH))
    assert not np.isfinite(empyrical.sortino_ratio(flat))
    assert table["max_drawdown"] == 0.0 and math.isnan(table["calmar"])
    assert math.isnan(empyrical.calmar_ratio(flat))


def test_all_positive_returns_have_no_drawdown():
    rising = dated(np.linspace(0.001, 0.004, 90))
    table = table_of(statistics.headline_table(rising), "life", "strategy")
    assert table["max_drawdown"] == 0.0 == empyrical.max_drawdown(rising)
    assert math.isnan(table["calmar"]) and math.isnan(table["sortino"])
    assert table["win_rate"] == 1.0
    assert drawdowns.worst_drawdowns(rising).empty
    assert (drawdowns.underwater(rising) == 0).all()


# --- single statistics added to backtest.metrics ----------------------------------------------


def test_beta_and_alpha_pair_the_sessions_both_series_have(market):
    strategy, benchmark = market
    holed = benchmark.copy()
    holed.iloc[[5, 50, 300]] = np.nan
    assert metrics.beta(strategy, holed) == pytest.approx(
        empyrical.beta(strategy, holed), abs=TOLERANCE
    )
    assert metrics.alpha(strategy, holed, CASH_RATE) == pytest.approx(
        empyrical.alpha(strategy, holed, risk_free=DAILY_CASH), abs=TOLERANCE
    )


def test_beta_of_a_benchmark_that_does_not_move_is_nan(market):
    strategy, _ = market
    still = pd.Series(0.0003, index=strategy.index)
    assert math.isnan(metrics.beta(strategy, still)) and math.isnan(empyrical.beta(strategy, still))
    assert math.isnan(metrics.alpha(strategy, still))


def test_alpha_of_a_leveraged_benchmark_is_the_cash_it_borrows(market):
    _, benchmark = market
    levered = 2 * benchmark - DAILY_CASH  # twice the benchmark, financed at the cash rate
    assert metrics.beta(levered, benchmark) == pytest.approx(2.0, abs=1e-12)
    assert metrics.alpha(levered, benchmark, CASH_RATE) == pytest.approx(0.0, abs=1e-12)


@pytest.mark.parametrize("n", [1, 2, 19, 20, 21, 100, 101, 599])
def test_var_and_cvar_follow_empyricals_quantile_convention(market, n):
    returns = market[0].iloc[:n]
    var, cvar = metrics.value_at_risk(returns), metrics.conditional_value_at_risk(returns)
    assert var == pytest.approx(empyrical.value_at_risk(returns, 0.05), abs=TOLERANCE)
    assert cvar == pytest.approx(empyrical.conditional_value_at_risk(returns, 0.05), abs=TOLERANCE)
    assert cvar <= var + 1e-15


def test_new_metrics_are_nan_on_an_empty_series():
    empty = dated([])
    for figure in (metrics.best_day, metrics.worst_day, metrics.value_at_risk):
        assert math.isnan(figure(empty))
    assert math.isnan(metrics.conditional_value_at_risk(empty))
    assert math.isnan(metrics.beta(empty, empty)) and math.isnan(metrics.alpha(empty, empty))


# --- drawdowns ---------------------------------------------------------------------------------


def brute_force_periods(returns: pd.Series) -> list[dict]:
    """Every drawdown period, walking the equity session by session from a starting capital 1."""
    found, peak, peak_at, current = [], 1.0, -1, None
    wealth = 1.0
    for i, r in enumerate(returns.to_numpy()):
        wealth *= 1 + r
        if wealth >= peak:
            if current is not None:
                current.update(recovery=i, length=i - current["peak"])
                found.append(current)
                current = None
            peak, peak_at = wealth, i
        else:
            depth = wealth / peak - 1
            if current is None:
                current = {"peak": peak_at, "trough": i, "depth": depth, "recovery": None}
            elif depth < current["depth"]:
                current.update(trough=i, depth=depth)
    if current is not None:
        current["length"] = len(returns) - 1 - current["peak"]
        found.append(current)
    return sorted(found, key=lambda p: p["depth"])


def test_drawdown_periods_match_a_brute_force_walk(market):
    strategy, _ = market
    expected = brute_force_periods(strategy)
    table = drawdowns.worst_drawdowns(strategy, top=len(expected) + 3)
    assert len(table) == len(expected) > 5
    dates = strategy.index
    for (_, row), period in zip(table.iterrows(), expected, strict=True):
        assert row["peak"] == dates[max(period["peak"], 0)]
        assert row["trough"] == dates[period["trough"]]
        assert row["depth"] == pytest.approx(period["depth"], abs=1e-12)
        assert row["length"] == period["length"]
        if period["recovery"] is None:
            assert pd.isna(row["recovery"])
        else:
            assert row["recovery"] == dates[period["recovery"]]


def test_the_worst_drawdown_is_empyricals_max_drawdown(market):
    strategy, _ = market
    table = drawdowns.worst_drawdowns(strategy)
    assert len(table) == 5 and table["depth"].is_monotonic_increasing
    assert table["depth"].iloc[0] == pytest.approx(empyrical.max_drawdown(strategy), abs=TOLERANCE)
    np.testing.assert_allclose(
        drawdowns.underwater(strategy), empyrical.stats.drawdown_series(strategy), atol=TOLERANCE
    )


def test_a_known_path_of_drawdowns():
    # equity 1.1, 0.88, 0.99, 1.21, 1.089, 1.14345: -20% recovered on day 4, then -10% still open
    returns = dated([0.1, -0.2, 0.125, 2 / 9, -0.1, 0.05], start="2024-01-01")
    table = drawdowns.worst_drawdowns(returns)
    assert table["peak"].tolist() == [pd.Timestamp("2024-01-01"), pd.Timestamp("2024-01-04")]
    assert table["trough"].tolist() == [pd.Timestamp("2024-01-02"), pd.Timestamp("2024-01-05")]
    assert table["recovery"].iloc[0] == pd.Timestamp("2024-01-04")
    assert pd.isna(table["recovery"].iloc[1])
    np.testing.assert_allclose(table["depth"], [-0.2, -0.1], atol=1e-12)
    assert table["length"].tolist() == [3, 2]


def test_a_loss_on_the_first_session_falls_from_the_starting_capital():
    """pyfolio's table misses this fall (its running peak starts after the first return); here,
    as in backtest.metrics.max_drawdown and empyrical, the starting capital is a peak. The peak
    is then dated on the first session and the length counts from the capital before it."""
    table = drawdowns.worst_drawdowns(dated([-0.1, 0.05, 0.06], start="2024-01-01"))
    row = table.iloc[0]
    assert row["peak"] == row["trough"] == pd.Timestamp("2024-01-01")
    assert row["recovery"] == pd.Timestamp("2024-01-03") and row["length"] == 3
    assert row["depth"] == pytest.approx(-0.1)


# --- rolling -----------------------------------------------------------------------------------


def test_rolling_figures_equal_empyricals_once_the_window_is_full(market):
    strategy, benchmark = market
    window = rolling.WINDOW
    pairs = [
        (
            rolling.rolling_sharpe(strategy, CASH_RATE),
            empyrical.roll_sharpe_ratio(strategy, window, risk_free=DAILY_CASH),
        ),
        (rolling.rolling_volatility(strategy), empyrical.roll_annual_volatility(strategy, window)),
        (
            rolling.rolling_beta(strategy, benchmark),
            empyrical.roll_beta(strategy, benchmark, window),
        ),
    ]
    for ours, theirs in pairs:
        assert ours.index.equals(strategy.index)
        assert ours.iloc[: window - 1].isna().all()
        assert len(theirs) == len(strategy) - window + 1
        np.testing.assert_allclose(ours.iloc[window - 1 :], theirs, rtol=0, atol=TOLERANCE)


def test_each_rolling_value_is_the_metric_of_its_window(market):
    strategy, benchmark = market
    sharpe = rolling.rolling_sharpe(strategy, CASH_RATE, window=60)
    beta = rolling.rolling_beta(strategy, benchmark, window=60)
    for end in (59, 200, 599):
        part = strategy.iloc[end - 59 : end + 1]
        assert sharpe.iloc[end] == pytest.approx(metrics.sharpe(part, CASH_RATE), abs=1e-12)
        assert beta.iloc[end] == pytest.approx(metrics.beta(part, benchmark), abs=1e-12)


def test_a_window_with_a_missing_benchmark_session_has_no_beta(market):
    strategy, benchmark = market
    beta = rolling.rolling_beta(strategy, benchmark.drop(strategy.index[300]), window=50)
    assert beta.iloc[300:350].isna().all()
    assert beta.iloc[299] == pytest.approx(metrics.beta(strategy.iloc[250:300], benchmark))
    assert not np.isnan(beta.iloc[350])


def test_a_flat_window_has_a_nan_sharpe():
    returns = dated([0.01, -0.01] * 10 + [0.0005] * 30)
    sharpe = rolling.rolling_sharpe(returns, window=10)
    assert sharpe.iloc[-10:].isna().all() and not np.isnan(sharpe.iloc[15])


# --- calendar periods --------------------------------------------------------------------------


def test_monthly_and_yearly_returns_equal_empyricals_aggregation(market):
    strategy, _ = market
    monthly = periods.monthly_returns(strategy.loc["2022-03-15":])
    theirs = empyrical.aggregate_returns(strategy.loc["2022-03-15":], "monthly")
    assert list(monthly.columns) == list(range(1, 13))
    assert monthly.index.tolist() == [2022, 2023, 2024]
    np.testing.assert_allclose(monthly.stack().dropna(), theirs, rtol=0, atol=TOLERANCE)
    assert monthly.loc[2022, [1, 2]].isna().all() and monthly.loc[2024, 5:].isna().all()
    yearly = periods.yearly_returns(strategy)
    np.testing.assert_allclose(
        yearly, empyrical.aggregate_returns(strategy, "yearly"), rtol=0, atol=TOLERANCE
    )
    assert yearly.index.tolist() == [2022, 2023, 2024]


def test_a_month_compounds_its_sessions():
    returns = dated([0.1, -0.1, 0.2], start="2024-01-30")  # Jan 30, Jan 31, Feb 1
    monthly = periods.monthly_returns(returns)
    assert monthly.loc[2024, 1] == pytest.approx(1.1 * 0.9 - 1)
    assert monthly.loc[2024, 2] == pytest.approx(0.2)
    assert periods.yearly_returns(returns).loc[2024] == pytest.approx(1.1 * 0.9 * 1.2 - 1)


# --- how much history each figure needs -------------------------------------------------------


def test_enough_history_counts_the_sessions_still_missing(market):
    strategy, _ = market
    assert set(statistics.enough_history(strategy).values()) == {0}
    young = strategy.iloc[:30]
    missing = statistics.enough_history(young)
    assert missing["rolling"] == rolling.MIN_SESSIONS - 30 > 0
    assert missing["statistics"] == missing["drawdowns"] == missing["periods"] == 0
    assert rolling.rolling_sharpe(strategy.iloc[: rolling.MIN_SESSIONS]).notna().sum() > 20


@pytest.mark.parametrize("months", [3, 12])
def test_a_trailing_window_appears_after_exactly_the_weekdays_announced(months):
    young = dated(np.full(30, 0.001), start="2023-11-30")  # a month-end start
    missing = statistics.enough_history(young)[f"{months}m"]
    assert missing > 0
    grown = dated(np.full(30 + missing, 0.001), start="2023-11-30")
    assert statistics.trailing(grown, months) is not None
    assert statistics.trailing(grown.iloc[:-1], months) is None


def test_annualized_figures_wait_for_a_month_of_sessions(market):
    strategy, benchmark = market
    young = strategy.iloc[: statistics.MIN_ANNUALIZED_SESSIONS - 1]

    life = table_of(statistics.headline_table(young, benchmark), "life", "strategy")
    grown = table_of(
        statistics.headline_table(strategy.iloc[: statistics.MIN_ANNUALIZED_SESSIONS], benchmark),
        "life",
        "strategy",
    )

    assert all(math.isnan(life[key]) for key in statistics.ANNUALIZED)
    assert life["total_return"] == pytest.approx(empyrical.cum_returns_final(young), abs=TOLERANCE)
    assert not any(math.isnan(grown[key]) for key in statistics.ANNUALIZED)
    assert statistics.enough_history(young)["annualized"] == 1
