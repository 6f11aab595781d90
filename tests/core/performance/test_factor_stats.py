"""Specifications of the factor tear sheet (trading_core.performance.factor), checked against
alphalens-reloaded on seeded synthetic markets: one where the score predicts the next session's
return, one where it predicts nothing."""

from __future__ import annotations

import warnings

import alphalens
import numpy as np
import pandas as pd
import pytest

from trading_core.features.labels import forward_returns, stack_labels
from trading_core.ml.metrics import daily_ic
from trading_core.performance.factor import (
    DECAY_HORIZONS,
    LABELS,
    annualized_spread,
    cumulative_spread,
    factor_summary_row,
    factor_tear_sheet,
    ic_decay,
    ic_table,
    mean_by_quantile,
    quantile_returns_by_date,
    rank_autocorrelation,
    top_minus_bottom,
)

SYMBOLS, SESSIONS = 40, 300  # 40 names: a multiple of 5, so qcut and rank buckets coincide
PERSISTENCE = 0.8  # AR(1) coefficient of every name's score from one session to the next
TOLERANCE = 1e-9


def synthetic_market(signal: float, seed: int) -> tuple[pd.Series, pd.DataFrame, pd.DataFrame]:
    """Scores, closes and opens of SYMBOLS names over SESSIONS business days.

    Each name's score is a unit-variance AR(1); the close-to-close return of session t+1 is
    `signal` x score(t) plus 1% noise, and each open gaps from the previous close by 0.5% noise.
    """
    rng = np.random.default_rng(seed)
    score = np.empty((SESSIONS, SYMBOLS))
    score[0] = rng.normal(size=SYMBOLS)
    for t in range(1, SESSIONS):
        score[t] = PERSISTENCE * score[t - 1] + np.sqrt(1 - PERSISTENCE**2) * rng.normal(
            size=SYMBOLS
        )
    returns = np.zeros((SESSIONS, SYMBOLS))
    returns[1:] = signal * score[:-1] + 0.01 * rng.normal(size=(SESSIONS - 1, SYMBOLS))
    dates = pd.bdate_range("2022-01-03", periods=SESSIONS)
    symbols = [f"S{i:02d}" for i in range(SYMBOLS)]
    close = pd.DataFrame(100 * np.cumprod(1 + returns, axis=0), index=dates, columns=symbols)
    gaps = 1 + 0.005 * rng.normal(size=close.shape)
    open_ = (close.shift(1) * gaps).fillna(close)
    scores = pd.DataFrame(score, index=dates, columns=symbols).stack()
    scores.index = scores.index.set_names(["date", "symbol"])
    return scores.rename("score"), close, open_


def alphalens_factor_data(scores: pd.Series, prices: pd.DataFrame) -> pd.DataFrame:
    """alphalens' clean factor frame: forward returns over DECAY_HORIZONS from `prices`, quintiles.

    The last 20 dates have no 20-session return and are dropped (7% of the rows). alphalens 0.5
    calls DataFrame.set_index(inplace=True), which pandas 3.1 deprecates: that warning only is
    silenced, here.
    """
    factor = scores.rename_axis(["date", "asset"])
    with warnings.catch_warnings():
        warnings.filterwarnings(
            "ignore",
            message="The inplace keyword in DataFrame.set_index",
            category=pd.errors.Pandas4Warning,
            module="alphalens",
        )
        return alphalens.utils.get_clean_factor_and_forward_returns(
            factor,
            prices,
            quantiles=5,
            periods=DECAY_HORIZONS,
            filter_zscore=None,
            max_loss=0.1,
        )


def cleaned_scores(factor_data: pd.DataFrame) -> pd.Series:
    """The scores alphalens kept, indexed (date, symbol): both sides then see the same rows."""
    return factor_data["factor"].rename_axis(["date", "symbol"])


def next_session(prices: pd.DataFrame) -> pd.DataFrame:
    """alphalens' prices for a fill in the next session: on each date, the price of the session
    after it (the last date, which has no next session, is dropped, not left NaN to be ffilled)."""
    return prices.shift(-1).iloc[:-1]


def stacked_returns(close: pd.DataFrame, horizon: int, **convention) -> pd.Series:
    return stack_labels(forward_returns(close, horizon, **convention))


@pytest.fixture(scope="module")
def planted():
    scores, close, open_ = synthetic_market(signal=0.002, seed=7)
    factor_data = alphalens_factor_data(scores, close)
    return cleaned_scores(factor_data), close, open_, factor_data


@pytest.fixture(scope="module")
def null():
    scores, close, open_ = synthetic_market(signal=0.0, seed=8)
    factor_data = alphalens_factor_data(scores, close)
    return cleaned_scores(factor_data), close, open_, factor_data


@pytest.fixture(scope="module")
def sheet(planted):
    scores, close, _, _ = planted
    return factor_tear_sheet(scores, close, horizon=1)


# ---------------------------------------------------------------------------------------------
# forward returns: the conventions alphalens is compared under


@pytest.mark.parametrize("horizon", DECAY_HORIZONS)
def test_same_close_returns_are_alphalens_close_to_close_returns(planted, horizon):
    scores, close, _, factor_data = planted

    ours = stacked_returns(close, horizon).reindex(scores.index)

    np.testing.assert_allclose(ours, factor_data[f"{horizon}D"], rtol=0, atol=TOLERANCE)


@pytest.mark.parametrize("execution", ["next_open", "next_close"])
@pytest.mark.parametrize("horizon", DECAY_HORIZONS)
def test_next_session_returns_are_alphalens_fed_the_next_sessions_prices(
    planted, horizon, execution
):
    scores, close, open_, _ = planted
    fills = open_ if execution == "next_open" else close
    reference = alphalens_factor_data(scores, next_session(fills))

    ours = stacked_returns(close, horizon, open_=open_, execution=execution)

    expected = reference[f"{horizon}D"]
    np.testing.assert_allclose(
        ours.reindex(cleaned_scores(reference).index), expected, rtol=0, atol=TOLERANCE
    )


# ---------------------------------------------------------------------------------------------
# information coefficient


def test_daily_rank_ic_is_alphalens_factor_information_coefficient(planted, sheet):
    *_, factor_data = planted

    expected = alphalens.performance.factor_information_coefficient(factor_data)["1D"]

    assert len(sheet.ic) == len(expected) == SESSIONS - 20
    np.testing.assert_allclose(sheet.ic, expected, rtol=0, atol=TOLERANCE)


def test_ic_table_at_horizon_one_is_alphalens_information_table(planted, sheet):
    *_, factor_data = planted
    ic = alphalens.performance.factor_information_coefficient(factor_data)

    expected = alphalens.plotting.plot_information_table(ic, return_df=True).loc["1D"]

    table = sheet.ic_table
    assert table["ic_mean"] == pytest.approx(expected["IC Mean"], rel=0, abs=TOLERANCE)
    assert table["ic_std"] == pytest.approx(expected["IC Std."], rel=0, abs=TOLERANCE)
    assert table["risk_adjusted_ic"] == pytest.approx(expected["Risk-Adjusted IC"], abs=TOLERANCE)
    assert table["ic_t_stat"] == pytest.approx(expected["t-stat(IC)"], rel=0, abs=TOLERANCE)
    assert table["ic_p_value"] == pytest.approx(expected["p-value(IC)"], rel=0, abs=TOLERANCE)
    assert table["ic_skew"] == pytest.approx(expected["IC Skew"], rel=0, abs=TOLERANCE)
    assert table["ic_kurtosis"] == pytest.approx(expected["IC Kurtosis"], rel=0, abs=TOLERANCE)


@pytest.mark.parametrize("horizon", [5, 10, 20])
def test_overlapping_horizons_divide_alphalens_t_stat_by_the_root_of_the_horizon(planted, horizon):
    scores, close, _, factor_data = planted
    ic = alphalens.performance.factor_information_coefficient(factor_data)
    expected = alphalens.plotting.plot_information_table(ic, return_df=True).loc[f"{horizon}D"]

    table = ic_table(daily_ic(scores, stacked_returns(close, horizon)), horizon=horizon)

    assert table["ic_t_stat"] * np.sqrt(horizon) == pytest.approx(
        expected["t-stat(IC)"], rel=0, abs=TOLERANCE
    )
    assert table["ic_p_value"] > expected["p-value(IC)"]  # fewer effective days: less evidence
    for ours, theirs in [
        ("ic_mean", "IC Mean"),
        ("ic_skew", "IC Skew"),
        ("ic_kurtosis", "IC Kurtosis"),
    ]:
        assert table[ours] == pytest.approx(expected[theirs], rel=0, abs=TOLERANCE)


def test_ic_by_month_is_alphalens_monthly_mean_ic(planted, sheet):
    *_, factor_data = planted

    expected = alphalens.performance.mean_information_coefficient(factor_data, by_time="ME")["1D"]

    pd.testing.assert_index_equal(
        sheet.ic_by_month.index, expected.index.to_period("M"), check_names=False
    )
    np.testing.assert_allclose(sheet.ic_by_month, expected, rtol=0, atol=TOLERANCE)


def test_ic_decay_is_alphalens_mean_ic_at_each_horizon(planted, sheet):
    *_, factor_data = planted

    expected = alphalens.performance.factor_information_coefficient(factor_data).mean()

    assert list(sheet.ic_decay.index) == list(DECAY_HORIZONS)
    np.testing.assert_allclose(
        sheet.ic_decay["ic_mean"], expected[[f"{h}D" for h in DECAY_HORIZONS]], atol=TOLERANCE
    )


def test_next_open_ic_decay_is_alphalens_mean_ic_from_the_next_sessions_opens(planted):
    scores, close, open_, _ = planted
    reference = alphalens_factor_data(scores, next_session(open_))

    decay = ic_decay(cleaned_scores(reference), close, open_, execution="next_open")

    expected = alphalens.performance.factor_information_coefficient(reference).mean()
    np.testing.assert_allclose(
        decay["ic_mean"], expected[[f"{h}D" for h in DECAY_HORIZONS]], rtol=0, atol=TOLERANCE
    )


# ---------------------------------------------------------------------------------------------
# quintile returns and the top-minus-bottom spread


@pytest.mark.parametrize("demeaned", [True, False])
@pytest.mark.parametrize("horizon", [1, 5])
def test_quintile_returns_per_date_are_alphalens_by_date(planted, demeaned, horizon):
    scores, close, _, factor_data = planted

    ours = quantile_returns_by_date(scores, stacked_returns(close, horizon), demeaned=demeaned)

    expected, _ = alphalens.performance.mean_return_by_quantile(
        factor_data, by_date=True, demeaned=demeaned
    )
    expected = expected[f"{horizon}D"].unstack("factor_quantile")
    np.testing.assert_allclose(ours, expected, rtol=0, atol=TOLERANCE)


@pytest.mark.parametrize("demeaned", [True, False])
@pytest.mark.parametrize("horizon", [1, 5, 20])
def test_quintile_bars_are_alphalens_mean_return_by_quantile(planted, demeaned, horizon):
    scores, close, _, factor_data = planted
    by_date = quantile_returns_by_date(scores, stacked_returns(close, horizon), demeaned=demeaned)

    bars = mean_by_quantile(by_date, horizon=horizon)

    mean, std_err = alphalens.performance.mean_return_by_quantile(factor_data, demeaned=demeaned)
    column = f"{horizon}D"
    np.testing.assert_allclose(bars["mean_return"], mean[column], rtol=0, atol=TOLERANCE)
    # overlap: days / horizon effective dates, so the error is sqrt(horizon) times alphalens'
    np.testing.assert_allclose(
        bars["std_err"], std_err[column] * np.sqrt(horizon), rtol=0, atol=TOLERANCE
    )
    assert (bars["dates"] == SESSIONS - 20).all()


def test_the_spread_is_twice_alphalens_100_percent_gross_spread(planted, sheet):
    *_, factor_data = planted
    by_date, std_err = alphalens.performance.mean_return_by_quantile(factor_data, by_date=True)

    spread, _ = alphalens.performance.compute_mean_returns_spread(by_date, 5, 1, std_err)

    np.testing.assert_allclose(sheet.spread, 2 * spread["1D"], rtol=0, atol=TOLERANCE)


def test_the_one_session_spread_compounds_as_alphalens_cumulative_returns(planted, sheet):
    *_, factor_data = planted
    by_date, _ = alphalens.performance.mean_return_by_quantile(factor_data, by_date=True)
    spread, _ = alphalens.performance.compute_mean_returns_spread(by_date, 5, 1)

    growth = alphalens.performance.cumulative_returns(2 * spread["1D"])

    np.testing.assert_allclose(sheet.cumulative_spread, growth - 1, rtol=0, atol=TOLERANCE)


def test_a_longer_spread_compounds_only_non_overlapping_rebalancing_dates(planted):
    scores, close, _, factor_data = planted
    spread = top_minus_bottom(quantile_returns_by_date(scores, stacked_returns(close, 5)))

    cumulative = cumulative_spread(spread, horizon=5)

    by_date, _ = alphalens.performance.mean_return_by_quantile(factor_data, by_date=True)
    theirs, _ = alphalens.performance.compute_mean_returns_spread(by_date, 5, 1)
    growth = alphalens.performance.cumulative_returns(2 * theirs["5D"].iloc[::5])
    pd.testing.assert_index_equal(cumulative.index, growth.index, check_names=False)
    np.testing.assert_allclose(cumulative, growth - 1, rtol=0, atol=TOLERANCE)


@pytest.mark.parametrize("horizon", [1, 5])
def test_the_annualized_spread_is_the_mean_spread_per_year_of_sessions(planted, horizon):
    scores, close, _, factor_data = planted
    spread = top_minus_bottom(quantile_returns_by_date(scores, stacked_returns(close, horizon)))

    by_date, _ = alphalens.performance.mean_return_by_quantile(factor_data, by_date=True)
    theirs, _ = alphalens.performance.compute_mean_returns_spread(by_date, 5, 1)
    expected = 2 * theirs[f"{horizon}D"].mean() * 252 / horizon
    assert annualized_spread(spread, horizon) == pytest.approx(expected, rel=0, abs=TOLERANCE)


def test_a_horizon_below_one_is_refused(sheet):
    with pytest.raises(ValueError, match="horizon must be a positive integer"):
        cumulative_spread(sheet.spread, horizon=0)


# ---------------------------------------------------------------------------------------------
# turnover of the signal


def test_rank_autocorrelation_is_alphalens_factor_rank_autocorrelation(planted, sheet):
    *_, factor_data = planted

    expected = alphalens.performance.factor_rank_autocorrelation(factor_data)

    assert np.isnan(sheet.rank_autocorrelation.iloc[0]) and np.isnan(expected.iloc[0])
    np.testing.assert_allclose(sheet.rank_autocorrelation, expected, rtol=0, atol=TOLERANCE)


def expected_spearman(r: float, n: int) -> float:
    """Mean sample Spearman correlation of n draws from a bivariate normal with correlation r
    (Moran 1948): 6 / (pi (n + 1)) * (arcsin(r) + (n - 2) arcsin(r / 2))."""
    return 6 / (np.pi * (n + 1)) * (np.arcsin(r) + (n - 2) * np.arcsin(r / 2))


def test_rank_autocorrelation_of_a_gaussian_ar1_score_is_its_spearman_correlation(sheet):
    expected = expected_spearman(PERSISTENCE, SYMBOLS)

    assert sheet.rank_autocorrelation.mean() == pytest.approx(expected, abs=0.01)


# ---------------------------------------------------------------------------------------------
# what the planted and the null markets show


def test_a_planted_signal_shows_a_significant_ic_and_ordered_quintiles(sheet):
    assert 0.1 < sheet.ic_table["ic_mean"] < 0.3
    assert sheet.ic_table["ic_t_stat"] > 10
    assert sheet.ic_table["ic_p_value"] < 1e-6
    assert sheet.quantiles["mean_return"].is_monotonic_increasing
    assert sheet.annualized_spread > 0 and sheet.cumulative_spread.iloc[-1] > 0
    assert (sheet.ic_decay["ic_mean"] > 0.1).all()


def test_no_planted_signal_shows_an_ic_near_zero_that_is_not_significant(null):
    scores, close, _, _ = null

    empty = factor_tear_sheet(scores, close, horizon=1)

    assert abs(empty.ic_table["ic_mean"]) < 0.03
    assert abs(empty.ic_table["ic_t_stat"]) < 2
    assert empty.ic_table["ic_p_value"] > 0.05
    assert (empty.ic_decay["ic_t_stat"].abs() < 2).all()
    spread = empty.spread.dropna()
    assert abs(spread.mean()) < 2 * spread.std() / np.sqrt(len(spread))


def test_the_null_score_still_has_the_rank_autocorrelation_of_its_persistence(null):
    scores, *_ = null

    expected = expected_spearman(PERSISTENCE, SYMBOLS)

    assert rank_autocorrelation(scores).mean() == pytest.approx(expected, abs=0.01)


# ---------------------------------------------------------------------------------------------
# the candidate row and the labels


@pytest.mark.parametrize("horizon", [1, 5])
def test_a_candidate_row_holds_the_tear_sheets_own_figures(planted, horizon):
    scores, close, _, _ = planted
    full = factor_tear_sheet(scores, close, horizon=horizon)

    row = factor_summary_row(scores, stacked_returns(close, horizon), horizon=horizon)

    assert row == pytest.approx(
        {
            "ic_mean": full.ic_table["ic_mean"],
            "ic_t_stat": full.ic_table["ic_t_stat"],
            "annualized_spread": full.annualized_spread,
            "rank_autocorrelation": full.rank_autocorrelation.mean(),
        },
        rel=0,
        abs=TOLERANCE,
    )


def test_next_open_without_opens_is_recorded_as_next_close(planted):
    scores, close, _, _ = planted

    assert factor_tear_sheet(scores, close, execution="next_open").execution == "next_close"


def test_every_key_and_name_a_report_shows_has_a_label(sheet, planted):
    scores, close, _, _ = planted
    shown = {
        *sheet.ic_table,
        *sheet.ic_decay.columns,
        sheet.ic_decay.index.name,
        *sheet.quantiles.columns,
        sheet.quantiles.index.name,
        sheet.spread.name,
        sheet.cumulative_spread.name,
        sheet.ic.name,
        sheet.ic_by_month.name,
        sheet.ic_by_month.index.name,
        sheet.rank_autocorrelation.name,
        *factor_summary_row(scores, stacked_returns(close, 1), horizon=1),
    }

    assert shown <= set(LABELS)
