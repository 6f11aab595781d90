"""The gap policy and the data-quality report: holes imported or refused, by name and date."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from trading_core.data.adjust import RawHistory
from trading_core.data.market import MarketData
from trading_core.data.quality import (
    QualityPolicy,
    QualityRefusal,
    assess,
    enforce,
    recent_gaps,
    stale_runs,
    symbol_rows,
)
from trading_core.data.store import MarketStore
from trading_core.data.synthetic import generate_synthetic_market
from trading_core.features.library import compute_features, feature_set


@pytest.fixture(scope="module")
def market() -> MarketData:
    return generate_synthetic_market(symbols=40, years=1, seed=4, ic=0.05).data


def with_holes(data: MarketData, holes: dict[str, tuple[int, int]]) -> MarketData:
    """`data` with each symbol's rows removed from session index a to b (inclusive)."""
    frames = {name: frame.copy() for name, frame in data.frames().items()}
    for symbol, (a, b) in holes.items():
        for frame in frames.values():
            frame.loc[data.dates[a] : data.dates[b], symbol] = np.nan
    return dataclasses.replace(data, **frames)


def test_a_short_gap_is_imported_and_reported_by_symbol_and_dates(market, tmp_path):
    data = with_holes(market, {"S03": (100, 102)})

    result = MarketStore(tmp_path).update(data, QualityPolicy(max_gap_sessions=3))

    [gap] = result.quality.gaps
    assert (gap.symbol, gap.sessions) == ("S03", 3)
    assert (gap.start, gap.end) == (
        f"{market.dates[100]:%Y-%m-%d}",
        f"{market.dates[102]:%Y-%m-%d}",
    )
    assert result.quality.refusal is None and not result.quality.session_holes
    assert MarketStore(tmp_path).load().close["S03"].isna().sum() == 3
    assert symbol_rows(result.quality)[0]["symbol"] == "S03"


def test_a_longer_gap_is_refused_in_one_line_naming_symbol_dates_and_setting(market, tmp_path):
    data = with_holes(market, {"S03": (100, 102), "S07": (50, 53)})

    with pytest.raises(QualityRefusal) as refused:
        MarketStore(tmp_path).update(data, QualityPolicy(max_gap_sessions=3))

    message = str(refused.value)
    assert "close of S07 is missing for 4 sessions" in message
    assert f"{market.dates[50]:%Y-%m-%d}..{market.dates[53]:%Y-%m-%d}" in message
    assert "data.max_gap_sessions 3" in message and "\n" not in message
    assert len(refused.value.report.gaps) == 2  # the report still lists everything found
    assert not MarketStore(tmp_path).exists()


def test_many_names_missing_one_session_is_reported_as_a_session_hole(market):
    names = market.symbols[:9]
    data = with_holes(market, {symbol: (120, 120) for symbol in names})

    report = assess(data, QualityPolicy())

    assert report.session_holes == [
        {"date": f"{market.dates[120]:%Y-%m-%d}", "missing": 9, "listed": 40}
    ]
    assert "session holes: " in report.summary() and report.refusal is None


def test_features_are_nan_exactly_where_they_need_a_missing_session(market):
    data = with_holes(market, {"S03": (100, 100)})
    features = feature_set(momentum_windows=(5,), volatility_windows=(5,))
    rows = compute_features(data, features).xs("S03", level="symbol")
    days = market.dates

    assert days[100] not in rows.index  # no row: neither scored nor traded that session
    ret5 = rows["ret_5"]  # close_t / close_{t-5}: needs session 100 only on t = 105
    assert ret5.loc[days[101] : days[110]].isna().tolist() == [False] * 4 + [True] + [False] * 5
    vol5 = rows["vol_5"]  # five daily returns: those of 100 and 101 need session 100
    assert vol5.loc[days[101] : days[105]].isna().all()
    assert vol5.loc[days[106] :].notna().all()


def test_a_jump_across_a_gap_is_refused_and_a_split_that_explains_one_is_listed(market):
    data = with_holes(market, {"S03": (100, 101)})
    close = data.close.copy()
    close.loc[market.dates[102] :, "S03"] *= 20  # a bad tick after the hole
    raw = close.loc[:, ["S05"]].copy()
    raw.loc[market.dates[150] :, "S05"] /= 20  # traded prices around a 20-for-1 split
    bars = raw.stack().rename("close").reset_index().assign(open=1.0, high=1.0, low=1.0, volume=1.0)
    actions = pd.DataFrame(
        {"date": [market.dates[150]], "symbol": ["S05"], "split": [20.0], "dividend": [0.0]}
    )

    report = assess(
        dataclasses.replace(data, close=close), QualityPolicy(), RawHistory(bars, actions)
    )

    verdicts = {jump.symbol: jump.verdict for jump in report.jumps}
    assert verdicts == {"S03": "refused", "S05": "accepted: split 20 applied"}
    with pytest.raises(
        QualityRefusal, match=r"close of S03 moves x2\d\.\d+ on .* data.max_daily_jump 10"
    ):
        enforce(report)


def test_a_close_unchanged_for_the_stale_limit_is_a_stale_run():
    days = pd.DatetimeIndex(pd.bdate_range("2024-01-01", periods=12))
    close = pd.DataFrame(
        {"A": [1, 2, 2, 2, 2, 2, 2, 3, 3, 3, np.nan, 3], "B": np.arange(1.0, 13.0)}, index=days
    )

    assert stale_runs(close, 5) == [
        {"symbol": "A", "start": "2024-01-02", "end": "2024-01-09", "sessions": 5, "close": 2.0}
    ]
    assert [run["sessions"] for run in stale_runs(close, 2)] == [5, 2]  # a hole ends a run


def test_the_benchmark_follows_the_same_gap_policy(market, tmp_path):
    short = market.benchmark.drop(market.dates[60:62])
    long = market.benchmark.drop(market.dates[60:64])

    report = assess(dataclasses.replace(market, benchmark=short), QualityPolicy())
    assert [(g.symbol, g.sessions) for g in report.gaps] == [("benchmark", 2)]
    assert report.refusal is None
    with pytest.raises(QualityRefusal, match=r"close of benchmark is missing for 4 sessions"):
        MarketStore(tmp_path).update(dataclasses.replace(market, benchmark=long))


def test_a_run_is_told_of_recent_gaps_of_its_names_and_of_session_holes(market):
    data = with_holes(market, {"S03": (240, 241), "S04": (100, 101)})
    data = with_holes(data, {symbol: (245, 245) for symbol in market.symbols[10:20]})

    lines = recent_gaps(data.close, ["S03", "S04", "S05"], sessions=20)

    assert lines[0].startswith(f"data gap: S03 has no close on {market.dates[240]:%Y-%m-%d}..")
    assert lines[1] == f"session hole on {market.dates[245]:%Y-%m-%d}: 10 of 40 names have no close"
    assert len(lines) == 2  # S04's gap is old, S05 has none, and unheld names' gaps are not told
