"""The paper account's tear sheet as the report shows it (trading_core.reporting.tear_sheet and
tear_sheet_plots): every number from trading_core.performance, in words, each figure drawn once
there is history enough and otherwise one line saying how much more it needs, the same bytes for
the same input."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from trading_core.performance import drawdowns
from trading_core.performance.periods import monthly_returns
from trading_core.performance.statistics import (
    LABELS,
    WINDOW_LABELS,
    enough_history,
    headline_table,
)
from trading_core.reporting import tear_sheet_plots
from trading_core.reporting.formatting import DASH, fixed, percent
from trading_core.reporting.tear_sheet import daily_returns, needs_line, tear_sheet

CHARTS = ("growth", "rolling", "calendar")
CHART_PARTS = {"growth": "drawdowns", "rolling": "rolling", "calendar": "periods"}
SNAKE_CASE = re.compile(r"\b[a-z0-9]+_[a-z0-9_]+\b")


def history(sessions: int, seed: int = 5) -> tuple[pd.Series, pd.Series]:
    """Account value on `sessions` run dates from 2023-01-02, and benchmark closes on every
    weekday from a month earlier (more dates than the account has: it is read on the run dates)."""
    rng = np.random.default_rng(seed)
    dates = pd.bdate_range("2022-12-01", periods=sessions + 22)
    closes = pd.Series(4000 * np.exp(np.cumsum(rng.normal(0.0003, 0.011, len(dates)))), dates)
    market = closes.pct_change().iloc[-sessions:].to_numpy()
    ours = 0.6 * market + rng.normal(0.0003, 0.006, sessions)
    equity = pd.Series(1e6 * np.cumprod(1 + np.r_[0.0, ours[1:]]), dates[-sessions:])
    return equity, closes


@pytest.fixture(scope="module")
def two_years() -> tuple[pd.Series, pd.Series]:
    return history(505)


@pytest.fixture(scope="module")
def sheet(two_years) -> dict[str, object]:
    return tear_sheet(*two_years, "benchmark")


def test_returns_are_the_change_in_account_value_and_the_benchmark_over_the_same_run_dates():
    equity = pd.Series(
        [100.0, 110.0, 99.0], pd.to_datetime(["2024-01-02", "2024-01-03", "2024-01-05"])
    )
    closes = pd.Series(
        [50.0, 55.0, 1.0, 44.0],
        pd.to_datetime(["2024-01-02", "2024-01-03", "2024-01-04", "2024-01-05"]),
    )

    account, market = daily_returns(equity, closes)

    np.testing.assert_allclose(account.to_numpy(), [0.10, -0.10])
    np.testing.assert_allclose(market.to_numpy(), [0.10, -0.20])  # the 4th is no run date
    assert list(market.index) == list(account.index) == list(equity.index[1:])
    assert daily_returns(equity, None)[1] is None
    elsewhere = pd.Series([1.0, 2.0], pd.to_datetime(["2020-01-02", "2020-01-03"]))
    assert daily_returns(equity, elsewhere)[1] is None


def test_headline_figures_are_those_of_the_performance_statistics(two_years, sheet):
    account, market = daily_returns(*two_years)
    table = headline_table(account, market).set_index(["window", "side", "metric"])["value"]
    headline = sheet["headline"]
    columns = [(w, s) for w in ("life", "3m", "12m") for s in ("strategy", "benchmark")]
    rows = {row["label"]: row["values"] for row in headline["rows"]}

    assert [w["label"] for w in headline["windows"]] == list(WINDOW_LABELS.values())
    assert headline["sides"] == ["Account", "Benchmark"] * 3
    assert list(rows) == list(LABELS.values())
    assert rows["Sharpe ratio"] == [fixed(table[(*c, "sharpe")], 2) for c in columns]
    assert rows["Max drawdown"] == [percent(table[(*c, "max_drawdown")], 2) for c in columns]
    assert rows["Total return"] == [
        percent(table[(*c, "total_return")], 2, signed=True) for c in columns
    ]
    assert rows["Beta"][0] == fixed(table[("life", "strategy", "beta")], 2)
    assert rows["Beta"][1] == "\u2014"  # no beta of the benchmark on itself
    assert rows["Sessions"][:2] == ["504", "504"]
    assert headline["pending"] == []


def test_every_label_is_words_not_a_key(sheet):
    texts = [row["label"] for row in sheet["headline"]["rows"]]
    texts += [w["label"] for w in sheet["headline"]["windows"]] + sheet["headline"]["sides"]
    texts += [sheet["intro"]] + [sheet[name]["alt"] for name in CHARTS]

    assert not [text for text in texts if SNAKE_CASE.search(text)]
    assert not [text for text in texts if re.search(r"\b(True|False|nan|None)\b", text)]


def test_worst_drawdowns_are_listed_as_the_performance_module_finds_them(two_years, sheet):
    worst = drawdowns.worst_drawdowns(daily_returns(*two_years)[0], 5)
    rows = sheet["drawdowns"]

    assert [row["rank"] for row in rows] == ["1", "2", "3", "4", "5"]
    assert [row["start"] for row in rows] == [f"{d:%Y-%m-%d}" for d in worst["peak"]]
    assert [row["trough"] for row in rows] == [f"{d:%Y-%m-%d}" for d in worst["trough"]]
    assert [row["depth"] for row in rows] == [percent(d, 2) for d in worst["depth"]]
    assert [row["length"] for row in rows] == [f"{n:,}" for n in worst["length"]]
    recovery = [row["recovery"] for row in rows]
    assert recovery == ["not yet" if pd.isna(d) else f"{d:%Y-%m-%d}" for d in worst["recovery"]]


def test_two_years_of_history_draw_every_figure(sheet):
    for name in CHARTS:
        assert sheet[name]["needs"] == ""
        assert sheet[name]["uri"].startswith("data:image/png;base64,iVBORw0KGgo")


def test_one_account_value_shows_no_figure_and_says_what_each_part_still_needs():
    equity = pd.Series([1e6], [pd.Timestamp("2024-02-23")])

    sheet = tear_sheet(equity, pd.Series([4000.0], equity.index), "benchmark")

    needs = enough_history(pd.Series(dtype="float64", index=pd.DatetimeIndex([])))
    assert sheet["headline"] == {"needs": "Headline statistics: needs 2 more sessions"}
    assert sheet["drawdowns"] is None
    for name, part in CHART_PARTS.items():
        assert sheet[name]["uri"] is None
        assert sheet[name]["needs"] == needs_line(sheet[name]["alt"], needs[part])
    assert sheet["rolling"]["needs"] == (
        "Rolling 6-month Sharpe ratio, volatility and beta: needs 147 more sessions"
    )
    assert sheet["calendar"]["needs"].endswith(": needs 1 more session")
    assert sheet["intro"].startswith("The account has no daily return yet")


def test_a_young_account_shows_what_it_can_and_counts_down_the_rest():
    equity, closes = history(101)  # 100 returns

    sheet = tear_sheet(equity, closes, "benchmark")

    needs = enough_history(daily_returns(equity, closes)[0])
    assert [w["label"] for w in sheet["headline"]["windows"]] == [
        "Since inception",
        "Last 3 months",
    ]
    assert sheet["headline"]["pending"] == [
        f"Last 12 months columns: needs {needs['12m']} more sessions"
    ]
    assert sheet["rolling"]["needs"] == (
        "Rolling 6-month Sharpe ratio, volatility and beta: needs 47 more sessions"
    )
    assert sheet["growth"]["uri"] and sheet["calendar"]["uri"]


def test_a_first_weeks_account_shows_no_annualized_figure_and_says_when_it_will():
    equity, closes = history(11)  # 10 returns

    headline = tear_sheet(equity, closes, "benchmark")["headline"]

    rows = {row["label"]: row["values"] for row in headline["rows"]}
    assert rows["CAGR"] == rows["Sharpe ratio"] == [DASH, DASH]
    assert rows["Total return"][0] != DASH
    assert headline["pending"][-1] == (
        "Annualized figures (CAGR, volatility, ratios, alpha): needs 11 more sessions"
    )


def test_needs_one_more_session_is_singular():
    assert needs_line("Headline statistics", 1) == "Headline statistics: needs 1 more session"
    assert needs_line("Rolling figures", 1_000) == "Rolling figures: needs 1,000 more sessions"


def test_without_a_benchmark_there_are_no_benchmark_columns_beta_or_alpha(two_years):
    sheet = tear_sheet(two_years[0], None, "benchmark")
    labels = [row["label"] for row in sheet["headline"]["rows"]]

    assert set(sheet["headline"]["sides"]) == {"Account"}
    assert "Beta" not in labels and "Alpha (annualized)" not in labels
    assert sheet["rolling"]["alt"] == "Rolling 6-month Sharpe ratio and volatility"
    young = tear_sheet(two_years[0].iloc[:100], None, "benchmark")
    assert young["rolling"]["needs"] == (
        "Rolling 6-month Sharpe ratio and volatility: needs 48 more sessions"
    )
    assert all(sheet[name]["uri"] for name in CHARTS)
    assert "No benchmark closes were supplied" in sheet["intro"]


def test_a_flat_all_cash_account_has_no_drawdown_and_still_draws():
    equity = pd.Series(1e6, pd.bdate_range("2024-01-02", periods=200))

    sheet = tear_sheet(equity, None, "benchmark")

    assert sheet["drawdowns"] == []
    rows = {row["label"]: row["values"] for row in sheet["headline"]["rows"]}
    assert set(rows["Sharpe ratio"]) == {"\u2014"}  # undefined without variation: a dash, not nan
    assert all(sheet[name]["uri"] for name in CHARTS)


def test_same_history_gives_the_same_figures_byte_for_byte(two_years, sheet):
    again = tear_sheet(two_years[0].copy(), two_years[1].copy(), "benchmark")

    assert again == sheet
    account, market = daily_returns(*two_years)
    png = tear_sheet_plots.calendar_chart(account, market)
    assert png == tear_sheet_plots.calendar_chart(account.copy(), market.copy())
    assert b"Software" not in png


def drawn(monkeypatch, draw):
    """The Figure a tear-sheet chart function draws, instead of its PNG."""
    monkeypatch.setattr(tear_sheet_plots, "png", lambda fig: fig)
    return draw()


@pytest.mark.parametrize(("drift", "scale"), [(0.0003, "linear"), (0.004, "log")])
def test_cumulative_return_goes_on_a_log_axis_once_growth_spans_more_than_double(
    monkeypatch, drift, scale
):
    returns = pd.Series(drift, pd.bdate_range("2023-01-02", periods=300))

    fig = drawn(monkeypatch, lambda: tear_sheet_plots.growth_chart(returns, None))

    assert fig.axes[0].get_yscale() == scale
    assert ((1 + returns).prod() > tear_sheet_plots.LOG_RANGE) == (scale == "log")


def test_rolling_chart_has_a_beta_panel_only_with_a_benchmark(monkeypatch, two_years):
    account, market = daily_returns(*two_years)

    with_benchmark = drawn(monkeypatch, lambda: tear_sheet_plots.rolling_chart(account, market))
    alone = drawn(monkeypatch, lambda: tear_sheet_plots.rolling_chart(account, None))

    assert [ax.get_title(loc="left") for ax in with_benchmark.axes][2].startswith(
        "Rolling 6-month beta"
    )
    assert len(alone.axes) == 2


def test_heatmap_prints_each_months_return_in_its_cell(monkeypatch, two_years):
    account, market = daily_returns(*two_years)

    fig = drawn(monkeypatch, lambda: tear_sheet_plots.calendar_chart(account, market))

    cells = [text.get_text() for text in fig.axes[0].texts]
    monthly = monthly_returns(account).to_numpy().ravel() * 100
    assert cells == [f"{v:+.1f}" if round(v, 1) else "0.0" for v in monthly if np.isfinite(v)]
