"""Live monitoring: the IC of what was actually published, and of the model since its cutoff."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from trading_core.data.synthetic import generate_synthetic_market
from trading_core.features.labels import forward_returns, stack_labels
from trading_core.home import Home
from trading_core.live.monitoring import MODEL_SINCE_CUTOFF, TRACK_RECORD, OpsMonitor
from trading_core.live.operations import LivePortfolioManager


@pytest.fixture(scope="module")
def market():
    return generate_synthetic_market(symbols=60, years=1, seed=11, ic=0.2)


def publish(home: Home, signal: pd.DataFrame, days: pd.DatetimeIndex) -> None:
    """Write signals.json the way the daily run does, one folder per session."""
    for day in days:
        folder = home.day(day.date())
        folder.mkdir(parents=True)
        scores = {s: float(v) for s, v in signal.loc[day].items()}
        (folder / "signals.json").write_text(json.dumps({"scores": scores}))


def test_track_record_ic_comes_from_the_published_signals(tmp_path, market):
    home = Home(tmp_path)
    horizon = 5
    close = market.data.close
    today = close.index[-1]
    published_days = close.index[-(40 + horizon) : -1]
    publish(home, market.signal, published_days)
    labels = stack_labels(forward_returns(close, horizon))

    published = LivePortfolioManager(home, 1e6).published_scores(today.date(), days=40 + horizon)
    assert set(published.index.get_level_values("date")) == set(published_days)
    monitor = OpsMonitor(ic_lookback_days=60, min_sessions=20)
    report, series = monitor.report(
        monitor.ic(published, labels), pd.Series(dtype=float), pd.DataFrame({"f": [1.0]})
    )
    assert report["live_ic_source"] == TRACK_RECORD
    # only sessions whose 5-day forward return is known by today count
    assert report["live_ic_sessions"] == len(published_days) - (horizon - 1)
    assert report["live_ic"] > 0.1  # the planted signal's IC (0.2 at one day) shows through
    assert not report["ic_alert"]
    assert series.index.max() < today


def test_published_signals_on_or_after_the_run_date_are_ignored(tmp_path, market):
    home = Home(tmp_path)
    days = market.data.close.index[-10:]
    publish(home, market.signal, days)
    published = LivePortfolioManager(home, 1e6).published_scores(days[5].date(), days=100)
    assert published.index.get_level_values("date").max() == days[4]


def test_without_a_track_record_the_model_since_cutoff_is_used_and_a_bad_one_alerts(market):
    close = market.data.close
    labels = stack_labels(forward_returns(close, 5))
    anti_signal = -market.signal.stack().rename_axis(["date", "symbol"])
    monitor = OpsMonitor(ic_lookback_days=60, ic_alert_threshold=0.0, min_sessions=20)
    report, _ = monitor.report(
        pd.Series(dtype=float), monitor.ic(anti_signal, labels), pd.DataFrame({"f": [1.0, None]})
    )
    assert report["live_ic_source"] == MODEL_SINCE_CUTOFF
    assert report["live_ic"] < -0.1 and report["ic_alert"]
    assert any("below the alert threshold" in note for note in report["notes"])
    assert report["feature_coverage"] == 0.5


def test_too_little_history_gives_no_live_ic_and_says_why():
    monitor = OpsMonitor(min_sessions=20)
    short = pd.Series([0.1] * 5, index=pd.bdate_range("2022-01-03", periods=5))
    report, series = monitor.report(short, short, pd.DataFrame({"f": [1.0]}))
    assert report["live_ic"] is None and series.empty and not report["ic_alert"]
    assert "needs 20 sessions" in report["notes"][0]
