"""Live monitoring: the IC of what was actually published, and of the model since its cutoff."""

from __future__ import annotations

import json

import numpy as np
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

    published = LivePortfolioManager(home).published_scores(today.date(), days=40 + horizon)
    assert set(published.index.get_level_values("date")) == set(published_days)
    monitor = OpsMonitor(ic_lookback_days=60, min_sessions=20)
    report, series = monitor.report(
        monitor.ic(published, labels), pd.Series(dtype=float), pd.DataFrame({"f": [1.0]})
    )
    assert report.live_ic_source == TRACK_RECORD
    # only sessions whose 5-day forward return is known by today count
    assert report.live_ic_sessions == len(published_days) - (horizon - 1)
    assert report.live_ic > 0.1  # the planted signal's IC (0.2 at one day) shows through
    assert not report.ic_alert
    assert series.index.max() < today


def test_published_signals_on_or_after_the_run_date_are_ignored(tmp_path, market):
    home = Home(tmp_path)
    days = market.data.close.index[-10:]
    publish(home, market.signal, days)
    published = LivePortfolioManager(home).published_scores(days[5].date(), days=100)
    assert published.index.get_level_values("date").max() == days[4]


def test_without_a_track_record_the_model_since_cutoff_is_used_and_a_bad_one_alerts(market):
    close = market.data.close
    labels = stack_labels(forward_returns(close, 5))
    anti_signal = -market.signal.stack().rename_axis(["date", "symbol"])
    monitor = OpsMonitor(ic_lookback_days=60, ic_alert_threshold=0.0, min_sessions=20)
    report, _ = monitor.report(
        pd.Series(dtype=float), monitor.ic(anti_signal, labels), pd.DataFrame({"f": [1.0, None]})
    )
    assert report.live_ic_source == MODEL_SINCE_CUTOFF
    assert report.live_ic < -0.1 and report.ic_alert
    assert any("below the alert threshold" in note for note in report.notes)
    assert report.feature_coverage == 0.5


def test_scoring_only_the_rows_whose_outcome_is_known_gives_the_same_report(market):
    """The daily run scores the model on the rows since its cutoff whose label or forward return
    is realized (`Dataset.matured_after`): the rows an IC can use, not the last sessions'."""
    from trading_core.features.library import feature_set
    from trading_core.ml.dataset import build_dataset

    dates = market.data.dates
    known = build_dataset(market.data, feature_set(), 5, "zscore", ("z",)).as_of(dates[-1])
    cutoff = dates[-70]
    model = -market.signal.stack().rename_axis(["date", "symbol"])  # a model's scores, any rows

    def report(rows: np.ndarray) -> str:
        scores = model.reindex(known.rows.index[rows])
        monitor = OpsMonitor(ic_lookback_days=60, min_sessions=20, horizon=known.horizon)
        found, series = monitor.report(
            pd.Series(dtype=float),
            monitor.ic(scores, known.labels),
            known.rows.xs(dates[-1], level="date"),
            model_scores=scores,
            forward_returns=known.forward_returns,
        )
        # as JSON text, where NaN equals NaN
        return json.dumps([found.as_dict(), series.to_json(date_format="iso")], default=str)

    matured = known.matured_after(cutoff)
    since = np.asarray(known.dates > cutoff)
    assert matured.sum() < since.sum()  # the last sessions, not yet realized, are left out
    assert known.dates[matured].max() < known.dates[since].max()
    assert MODEL_SINCE_CUTOFF in report(matured)
    assert report(matured) == report(since)


def test_too_little_history_gives_no_live_ic_and_says_why():
    monitor = OpsMonitor(min_sessions=20)
    short = pd.Series([0.1] * 5, index=pd.bdate_range("2022-01-03", periods=5))
    report, series = monitor.report(short, short, pd.DataFrame({"f": [1.0]}))
    assert report.live_ic is None and series.empty and not report.ic_alert
    assert "needs 20 sessions" in report.notes[0]


# --- IC, top quantile, drift and regimes of accumulated signals -------------------------------


def planted(
    rho: float, seed: int, dates: int = 60, names: int = 100
) -> tuple[pd.Series, pd.Series]:
    """Signals and forward returns whose correlation is `rho` by construction (both N(0, 1))."""
    rng = np.random.default_rng(seed)
    index = pd.MultiIndex.from_product(
        [pd.bdate_range("2023-01-02", periods=dates), [f"S{i:03d}" for i in range(names)]],
        names=["date", "symbol"],
    )
    signal = rng.standard_normal(len(index))
    noise = rng.standard_normal(len(index))
    returns = rho * signal + np.sqrt(1 - rho**2) * noise
    return pd.Series(signal, index, name="score"), pd.Series(returns, index, name="fwd")


def test_ic_of_a_planted_signal_is_close_to_the_planted_level_and_significant():
    signals, forward = planted(0.1, seed=1)
    ic = OpsMonitor().calculate_information_coefficient(signals, forward)
    assert ic["ic"] == pytest.approx(0.1, abs=0.03)
    # Spearman of a bivariate normal: 6 / pi * arcsin(rho / 2) = 0.0955
    assert ic["rank_ic"] == pytest.approx(0.0955, abs=0.03)
    assert ic["ic_pvalue"] < 1e-6 and ic["rank_ic_pvalue"] < 1e-6
    assert ic["mean_daily_ic"] == pytest.approx(0.1, abs=0.03)
    assert ic["daily_rank_ic_pvalue"] < 1e-3
    assert (ic["n_observations"], ic["n_dates"], ic["daily_ic_days"]) == (6000, 60, 60)


@pytest.mark.parametrize(("rho", "dates", "names"), [(0.1, 60, 100), (0.0, 3, 4), (0.3, 1, 3)])
def test_pooled_ic_and_p_values_are_scipys_pearsonr_and_spearmanr(rho, dates, names):
    from scipy import stats  # the module computes these without importing scipy.stats

    signals, forward = planted(rho, seed=5, dates=dates, names=names)
    signals = signals.round(1)  # ties, which the rank correlation averages
    ic = OpsMonitor().calculate_information_coefficient(signals, forward)
    pearson = stats.pearsonr(signals, forward)
    spearman = stats.spearmanr(signals, forward)
    assert ic["ic"] == pytest.approx(pearson.statistic, abs=1e-12)
    assert ic["ic_pvalue"] == pytest.approx(pearson.pvalue, abs=1e-12)
    assert ic["rank_ic"] == pytest.approx(spearman.statistic, abs=1e-12)
    assert ic["rank_ic_pvalue"] == pytest.approx(spearman.pvalue, abs=1e-12)


def test_ic_of_pure_noise_is_near_zero_and_not_significant():
    signals, forward = planted(0.0, seed=2)
    ic = OpsMonitor().calculate_information_coefficient(signals, forward)
    assert abs(ic["ic"]) < 0.03 and abs(ic["rank_ic"]) < 0.03
    assert ic["ic_pvalue"] > 0.1 and ic["rank_ic_pvalue"] > 0.1
    assert abs(ic["mean_daily_rank_ic"]) < 0.03


def test_only_matured_pairs_count_in_the_ic():
    signals, forward = planted(0.1, seed=3)
    dates = signals.index.get_level_values("date")
    unmatured = dates > dates.unique()[-6]  # the last 5 sessions have no realized return yet
    forward = forward.mask(unmatured)
    monitor = OpsMonitor()
    ic = monitor.calculate_information_coefficient(signals, forward)
    assert (ic["n_observations"], ic["n_dates"]) == (55 * 100, 55)
    matured_only = monitor.calculate_information_coefficient(signals[~unmatured], forward)
    assert ic == matured_only


def test_overlapping_horizons_shrink_the_daily_t_stat_by_sqrt_horizon():
    signals, forward = planted(0.1, seed=4)
    one = OpsMonitor(horizon=1).calculate_information_coefficient(signals, forward)
    five = OpsMonitor(horizon=5).calculate_information_coefficient(signals, forward)
    assert five["daily_rank_ic_t_stat"] == pytest.approx(one["daily_rank_ic_t_stat"] / np.sqrt(5))
    assert five["daily_rank_ic_pvalue"] > one["daily_rank_ic_pvalue"]
    assert five["rank_ic"] == one["rank_ic"]  # the pooled figure does not depend on the horizon


def test_top_quantile_outperforms_on_a_planted_signal_and_not_on_noise():
    monitor = OpsMonitor()
    good, _ = monitor.calculate_top_quantile_performance(*planted(0.3, seed=5))
    noise, _ = monitor.calculate_top_quantile_performance(*planted(0.0, seed=6))
    # top quintile of N(0, 1) scores averages 1.40, so the planted excess is about 0.3 * 1.40
    assert good["top_minus_universe"] == pytest.approx(0.42, abs=0.1)
    assert good["top_minus_bottom"] == pytest.approx(0.84, abs=0.15)
    assert good["hit_rate"] > 0.9 and good["n_dates"] == 60
    assert abs(noise["top_minus_universe"]) < 0.1 and abs(noise["top_minus_bottom"]) < 0.15
    assert 0.3 < noise["hit_rate"] < 0.7


def test_top_quantile_figures_per_date_are_hand_checkable():
    day = pd.Timestamp("2024-03-01")
    index = pd.MultiIndex.from_product([[day], list("ABCDEFGHIJ")], names=["date", "symbol"])
    signals = pd.Series(np.arange(1.0, 11.0), index)  # J is the best-scored name
    forward = pd.Series([0.0, -0.02, 0.01, 0.0, 0.0, 0.01, 0.0, 0.0, 0.03, 0.05], index)
    summary, daily = OpsMonitor().calculate_top_quantile_performance(signals, forward, 0.2)
    row = daily.loc[day]
    assert row["top"] == pytest.approx(0.04)  # I and J
    assert row["bottom"] == pytest.approx(-0.01)  # A and B
    assert row["universe"] == pytest.approx(0.008)
    assert row["top_minus_universe"] == pytest.approx(0.032)
    assert row["top_minus_bottom"] == pytest.approx(0.05) and row["names"] == 10
    assert summary["hit_rate"] == 1.0 and summary["n_dates"] == 1
    with pytest.raises(ValueError, match="quantile"):
        OpsMonitor().calculate_top_quantile_performance(signals, forward, 0.3)


def ic_series(values: list[float]) -> pd.Series:
    return pd.Series(values, index=pd.bdate_range("2024-01-01", periods=len(values)))


def test_drift_is_flagged_when_the_rolling_ic_falls_below_the_threshold_and_says_since_when():
    series = ic_series([0.05] * 60 + [-0.05] * 15)
    drift = OpsMonitor(ic_alert_threshold=0.0, drift_window=20).detect_model_drift(series)
    assert drift.drift
    assert drift.rolling_ic == pytest.approx((5 * 0.05 - 15 * 0.05) / 20)
    assert drift.days_below == 15
    # the 20-session mean turns negative once 11 of its days are bad: the 71st session
    assert drift.since == series.index[70] and drift.drift_sessions == 5


def test_a_healthy_or_recovered_ic_series_does_not_drift():
    monitor = OpsMonitor(ic_alert_threshold=0.0)
    healthy = monitor.detect_model_drift(ic_series([0.08, -0.02] * 40))
    assert not healthy.drift and healthy.since is None
    assert healthy.days_below == 10 and healthy.rolling_ic == pytest.approx(0.03)
    recovered = monitor.detect_model_drift(ic_series([0.05] * 20 + [-0.05] * 20 + [0.05] * 20))
    assert not recovered.drift and recovered.days_below == 0
    short = monitor.detect_model_drift(ic_series([-0.1] * 19))
    assert not short.drift and np.isnan(short.rolling_ic) and short.days_below == 19


def test_drift_threshold_and_window_can_be_given_per_call():
    series = ic_series([0.05] * 30)
    drift = OpsMonitor().detect_model_drift(series, window=10, threshold=0.06)
    assert drift.drift and drift.window == 10 and drift.days_below == 10
    assert drift.since == series.index[9] and drift.drift_sessions == 21


def test_regime_performance_per_regime_is_hand_checkable():
    days = pd.bdate_range("2024-01-01", periods=5)
    returns = pd.Series([0.01, -0.02, 0.03, 0.00, 0.02], days)
    regimes = pd.Series(["Risk-On", "Risk-Off", "risk_on", "Normal", 2], days, dtype=object)
    table = OpsMonitor().check_regime_performance(returns, regimes)
    on, off, normal = table.loc[2], table.loc[0], table.loc[1]
    assert (on["regime"], on["days"], off["days"], normal["days"]) == ("Risk-On", 3, 1, 1)
    assert on["avg_return"] == pytest.approx(0.02) and on["win_rate"] == 1.0
    # mean 0.02 over a sample std of 0.01, annualized with sqrt(252)
    assert on["sharpe"] == pytest.approx(2 * np.sqrt(252))
    assert off["avg_return"] == pytest.approx(-0.02) and off["win_rate"] == 0.0
    assert np.isnan(off["sharpe"]) and normal["win_rate"] == 0.0
    with pytest.raises(ValueError, match="unknown regime"):
        OpsMonitor().check_regime_performance(returns, regimes.replace("Normal", "Sideways"))


def test_report_adds_signal_ic_and_top_quantile_of_the_chosen_source_on_its_ic_dates(market):
    close = market.data.close
    forward = stack_labels(forward_returns(close, 5))
    scores = market.signal.stack().rename_axis(["date", "symbol"]).loc[close.index[-80] :]
    monitor = OpsMonitor(ic_lookback_days=60, min_sessions=20, horizon=5)
    daily = monitor.ic(scores, forward)
    report, series = monitor.report(
        pd.Series(dtype=float),
        daily,
        pd.DataFrame({"f": [1.0]}),
        model_scores=scores,
        forward_returns=forward,
    )
    assert report.live_ic_source == MODEL_SINCE_CUTOFF
    assert report.signal_ic["n_dates"] == report.live_ic_sessions == 60
    assert report.signal_ic["rank_ic"] > 0.1 and report.signal_ic["rank_ic_pvalue"] < 0.01
    assert report.top_quantile["top_minus_bottom"] > 0
    assert not report.ic_drift and report.drift.since is None


def test_report_without_scores_keeps_the_old_figures_and_flags_drift_in_a_note():
    falling = ic_series([0.05] * 60 + [-0.05] * 15)
    monitor = OpsMonitor(ic_lookback_days=100, ic_alert_threshold=0.0, min_sessions=20)
    report, _ = monitor.report(falling, pd.Series(dtype=float), pd.DataFrame({"f": [1.0]}))
    assert report.live_ic_source == TRACK_RECORD
    assert not report.ic_alert  # the 75-session mean is still positive
    assert report.ic_drift and report.drift.since == falling.index[70]
    # monitoring_log.json records the date as YYYY-MM-DD
    assert report.as_dict()["drift"]["since"] == f"{falling.index[70]:%Y-%m-%d}"
    assert any("model drift" in note for note in report.notes)
    assert report.signal_ic is None and report.top_quantile is None
