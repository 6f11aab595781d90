"""Specifications of the out-of-sample metrics in trading_core.ml.metrics."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from trading_core.ml.metrics import (
    daily_ic,
    evaluate_predictions,
    ic_summary,
    long_only_sharpe,
    quintile_returns,
)

ROW_KEYS = {
    "ic",
    "rank_ic",
    "icir",
    "rank_icir",
    "rank_ic_t_stat",
    "rank_ic_p_value",
    "hit_rate",
    "q1_return",
    "q2_return",
    "q3_return",
    "q4_return",
    "q5_return",
    "top_minus_bottom",
    "top_quintile_sharpe",
    "days",
}


def panel(values: np.ndarray, start: str = "2023-01-02") -> pd.Series:
    """A (date, symbol) Series from a dates x symbols array."""
    dates = pd.bdate_range(start, periods=values.shape[0])
    symbols = [f"S{i:03d}" for i in range(values.shape[1])]
    index = pd.MultiIndex.from_product([dates, symbols], names=["date", "symbol"])
    return pd.Series(values.ravel(), index=index)


@pytest.fixture(scope="module")
def noisy() -> tuple[pd.Series, pd.Series]:
    """Correlated scores and labels on 40 dates x 15 symbols, with ties and NaNs on both sides."""
    rng = np.random.default_rng(11)
    labels = rng.normal(size=(40, 15))
    scores = (0.4 * labels + rng.normal(size=labels.shape)).round(1)
    scores[rng.random(scores.shape) < 0.15] = np.nan
    labels[rng.random(labels.shape) < 0.1] = np.nan
    labels[3, 2:] = np.nan  # date 3 keeps 2 names: too few for an IC
    return panel(scores), panel(labels)


def market(days: int, names: int, signal: float, seed: int) -> tuple[pd.Series, pd.Series]:
    """Scores and labels where score = signal * label + unit noise."""
    rng = np.random.default_rng(seed)
    labels = rng.normal(size=(days, names))
    scores = signal * labels + rng.normal(size=labels.shape)
    return panel(scores), panel(labels)


# ---------------------------------------------------------------------------------------------
# daily_ic and ic_summary


@pytest.mark.parametrize(("rank", "method"), [(True, "spearman"), (False, "pearson")])
def test_daily_ic_equals_the_per_date_correlation_pandas_computes(noisy, rank, method):
    scores, labels = noisy

    ic = daily_ic(scores, labels, rank=rank, min_names=5)

    joined = pd.DataFrame({"s": scores, "l": labels}).dropna()
    by_date = joined.groupby(level="date")
    expected = by_date.apply(lambda g: g["s"].corr(g["l"], method=method))[by_date.size() >= 5]
    pd.testing.assert_series_equal(ic, expected, check_names=False, rtol=1e-12)
    assert len(ic) == 39  # the thin date is left out


def test_a_score_equal_to_the_label_has_rank_ic_one_on_every_day():
    _, labels = market(days=30, names=20, signal=0.0, seed=1)

    row = evaluate_predictions(labels, labels, labels, horizon=1)

    assert row["rank_ic"] == pytest.approx(1.0)
    assert row["ic"] == pytest.approx(1.0)
    assert row["hit_rate"] == 1.0
    assert row["days"] == 30


def test_the_negated_label_has_rank_ic_minus_one_and_no_hits():
    _, labels = market(days=30, names=20, signal=0.0, seed=2)

    row = evaluate_predictions(-labels, labels, labels, horizon=1)

    assert row["rank_ic"] == pytest.approx(-1.0)
    assert row["hit_rate"] == 0.0


def test_pure_noise_has_a_small_rank_ic_that_is_not_significant():
    scores, labels = market(days=250, names=100, signal=0.0, seed=3)

    summary = ic_summary(daily_ic(scores, labels, rank=True))

    assert abs(summary["mean"]) < 0.02
    assert summary["p_value"] > 0.05


def test_a_weak_planted_signal_over_many_days_is_significant():
    scores, labels = market(days=250, names=100, signal=0.05, seed=4)

    summary = ic_summary(daily_ic(scores, labels, rank=True))

    assert 0.0 < summary["mean"] < 0.1
    assert summary["p_value"] < 0.01


def test_ic_summary_p_value_is_the_one_sample_t_test_and_hit_rate_counts_positive_days():
    ic = pd.Series([0.1, 0.0, -0.05, 0.2, 0.08, np.nan])

    summary = ic_summary(ic)

    reference = stats.ttest_1samp(ic.dropna(), 0.0)
    assert summary["t_stat"] == pytest.approx(reference.statistic)
    assert summary["p_value"] == pytest.approx(reference.pvalue)
    assert summary["hit_rate"] == pytest.approx(3 / 5)  # a zero IC is not a hit
    assert summary["days"] == 5


@pytest.mark.parametrize("overlap", [1, 3, 5])
def test_ic_summary_p_value_is_scipys_student_t_tail_also_for_fractional_dof(overlap):
    ic = pd.Series(np.random.default_rng(6).normal(0.02, 0.1, 47))

    summary = ic_summary(ic, overlap=overlap)

    dof = 47 / overlap - 1
    reference = 2 * stats.t.sf(abs(summary["t_stat"]), dof)
    assert summary["p_value"] == pytest.approx(reference, abs=1e-12)


def test_overlapping_labels_shrink_the_t_stat_by_the_square_root_of_the_overlap():
    scores, labels = market(days=100, names=30, signal=0.2, seed=5)
    ic = daily_ic(scores, labels, rank=True)

    daily, weekly = ic_summary(ic), ic_summary(ic, overlap=5)

    assert weekly["t_stat"] == pytest.approx(daily["t_stat"] / math.sqrt(5))
    assert weekly["p_value"] > daily["p_value"]
    assert weekly["mean"] == daily["mean"]
    assert weekly["icir"] == daily["icir"]


# ---------------------------------------------------------------------------------------------
# quintile_returns


def test_quintile_means_rise_with_the_score_on_every_date_when_returns_are_the_scores():
    rng = np.random.default_rng(6)
    scores = panel(rng.normal(size=(20, 50)))

    buckets = quintile_returns(scores, scores)

    assert list(buckets.columns) == [1, 2, 3, 4, 5]
    assert len(buckets) == 20
    assert (buckets.diff(axis=1).iloc[:, 1:] > 0).all().all()


def test_a_seven_name_universe_puts_every_name_in_one_bucket_with_both_ends_filled():
    scores = panel(np.array([[7.0, 3.0, 1.0, 5.0, 2.0, 6.0, 4.0]]))
    returns = 10.0**-scores  # distinct powers of ten: each bucket mean reveals its members

    buckets = quintile_returns(scores, returns)

    # ranks 1..7 fall into buckets ceil(5 * rank / 7) = 1, 2, 3, 3, 4, 5, 5
    expected = [1e-1, 1e-2, (1e-3 + 1e-4) / 2, 1e-5, (1e-6 + 1e-7) / 2]
    np.testing.assert_allclose(buckets.iloc[0].to_numpy(), expected, rtol=1e-12)


def test_tied_scores_share_a_bucket():
    scores = panel(np.array([[1.0, 1.0, 1.0, 1.0, 1.0, 1.0]]))

    buckets = quintile_returns(scores, scores)

    assert buckets.iloc[0].notna().tolist() == [False, False, True, False, False]


# ---------------------------------------------------------------------------------------------
# long_only_sharpe


def test_long_only_sharpe_uses_every_horizonth_return_and_annualizes_per_holding_period():
    junk = 100.0  # overlapping values in between must be ignored
    values = [0.01, junk, -junk, 0.03, junk, junk, 0.02, -junk, junk]
    returns = pd.Series(values, index=pd.bdate_range("2024-01-01", periods=9))

    sharpe = long_only_sharpe(returns, horizon=3)

    # samples 0.01, 0.03, 0.02: mean 0.02, std 0.01, 252 / 3 periods a year
    assert sharpe == pytest.approx(2.0 * math.sqrt(84))


def test_long_only_sharpe_is_nan_with_fewer_than_two_samples_or_no_dispersion():
    dates = pd.bdate_range("2024-01-01", periods=5)

    assert math.isnan(long_only_sharpe(pd.Series([0.01, 0.02, 0.03, 0.04, 0.05], dates), 5))
    assert math.isnan(long_only_sharpe(pd.Series([0.01] * 5, dates), 1))
    assert math.isnan(long_only_sharpe(pd.Series(dtype=float), 1))


# ---------------------------------------------------------------------------------------------
# evaluate_predictions


def test_evaluate_predictions_returns_the_documented_keys_as_plain_floats(noisy):
    scores, labels = noisy
    forward = labels * 0.01 + 0.002

    row = evaluate_predictions(scores, labels, forward, horizon=5)

    assert set(row) == ROW_KEYS
    assert all(type(value) is float for value in row.values())
    assert row["top_minus_bottom"] == row["q5_return"] - row["q1_return"]
    assert row["q5_return"] > row["q1_return"]
    json.dumps(row)


def test_evaluate_predictions_tests_the_rank_ic_with_the_horizon_as_overlap(noisy):
    scores, labels = noisy

    row = evaluate_predictions(scores, labels, labels, horizon=5)

    summary = ic_summary(daily_ic(scores, labels, rank=True), overlap=5)
    assert row["rank_ic_t_stat"] == summary["t_stat"]
    assert row["rank_ic_p_value"] == summary["p_value"]
    assert row["days"] == summary["days"]
