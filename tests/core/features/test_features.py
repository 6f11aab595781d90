"""Features are known at the close of t and never later; labels are the future, and only that.

The look-ahead check computes features on the data a person had at the close of t and compares
them with the full-history features restricted to dates <= t. It runs over every feature, on real
closes, on a synthetic market with bars and volume, and without a benchmark (the equal-weight
market), and is shown to catch a leak. Values are checked against direct computations on small
hand-made frames.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from trading_core.data.market import MarketData
from trading_core.data.providers import BundledProvider
from trading_core.data.synthetic import generate_synthetic_market
from trading_core.errors import ConfigError
from trading_core.features import windows
from trading_core.features.cross_section import rank_rows, zscore_rows
from trading_core.features.labels import forward_returns, stack_labels
from trading_core.features.library import (
    Feature,
    available,
    compute_features,
    feature_set,
    skipped,
)
from trading_core.ml.dataset import build_dataset

FEATURES = feature_set()
BY_NAME = {f.name: f for f in FEATURES}
LEAK = Feature("leak", 1, lambda d: d.close.shift(-1) / d.close - 1)
LISTING_DELAY = 30  # sessions the late-listed synthetic symbol is absent from the start
VOLUME_FEATURES = [
    "volume_change_1",
    "volume_ratio_20",
    "volume_vol_20",
    "volume_price_corr_20",
    "amihud_20",
    "dollar_volume_20",
]
BAR_FEATURES = ["hl_range", "close_loc", "gap", "intraday_ret", "park_vol_20"]


@pytest.fixture(scope="module")
def bundled() -> MarketData:
    """The real S&P 500 sample from 2019 on (closes and a benchmark; no volume, no bars)."""
    return BundledProvider().fetch().since("2019-01-02")


@pytest.fixture(scope="module")
def synthetic() -> MarketData:
    """A synthetic market with bars and volume in which symbol S00 lists LISTING_DELAY sessions late."""
    data = generate_synthetic_market(symbols=12, years=1.5, seed=5).data
    assert data.has_volume
    late = {}
    for name, frame in data.frames().items():
        frame = frame.copy()
        frame.iloc[:LISTING_DELAY, 0] = np.nan
        late[name] = frame
    return dataclasses.replace(data, **late)


@pytest.fixture(scope="module")
def no_benchmark(synthetic) -> MarketData:
    """The same market without a benchmark: the market is the equal-weight universe."""
    return dataclasses.replace(synthetic, benchmark=None)


def assert_features_known_at_the_close_of(data: MarketData, features: list[Feature], cut) -> None:
    """Features from the data as of `cut` equal the full-history features up to `cut`."""
    full = compute_features(data, features)
    known_then = compute_features(data.as_of(cut), features)
    up_to_cut = full[full.index.get_level_values("date") <= pd.Timestamp(cut)]
    pd.testing.assert_frame_equal(known_then, up_to_cut, check_exact=True)


def cut_dates(data: MarketData) -> list[pd.Timestamp]:
    dates = data.dates
    return [dates[40], dates[len(dates) // 2], dates[300], dates[-2]]


@pytest.mark.parametrize("market", ["bundled", "synthetic", "no_benchmark"])
def test_features_never_see_the_future(request, market):
    data = request.getfixturevalue(market)

    for cut in cut_dates(data):
        assert_features_known_at_the_close_of(data, FEATURES, cut)


@pytest.mark.parametrize("market", ["bundled", "synthetic"])
def test_the_look_ahead_check_catches_a_leaking_feature(request, market):
    data = request.getfixturevalue(market)

    with pytest.raises(AssertionError):
        assert_features_known_at_the_close_of(
            data, [*FEATURES, LEAK], data.dates[len(data.dates) // 2]
        )


def first_listed_values(data: MarketData, feature: Feature) -> pd.Series:
    """The feature's values for the late-listed symbol S00, from its first listed session on."""
    rows = compute_features(data, [feature]).xs("S00", level="symbol")[feature.name]
    assert rows.index[0] == data.dates[LISTING_DELAY]  # no rows before the listing
    return rows.reset_index(drop=True)


@pytest.mark.parametrize("market", ["synthetic", "no_benchmark"])
@pytest.mark.parametrize("feature", FEATURES, ids=lambda f: f.name)
def test_a_feature_is_nan_until_its_declared_lookback_exists(request, market, feature):
    values = first_listed_values(request.getfixturevalue(market), feature)

    # the value at position p uses p + 1 sessions of the symbol's history
    assert values.iloc[: feature.lookback - 1].isna().all()


@pytest.mark.parametrize("market", ["synthetic", "no_benchmark"])
@pytest.mark.parametrize("feature", FEATURES, ids=lambda f: f.name)
def test_a_feature_has_a_value_as_soon_as_its_declared_lookback_exists(request, market, feature):
    values = first_listed_values(request.getfixturevalue(market), feature)

    assert values.iloc[feature.lookback - 1 :].notna().all()


def test_the_default_feature_set_needs_no_arguments_and_names_each_feature_once():
    names = [f.name for f in feature_set()]

    assert len(names) == len(set(names)) == 59
    assert {"ret_1", "ret_250", "mom_12_1", "rev_5", "vol_60", "beta_120", "mdd_250"} <= set(names)


@pytest.mark.parametrize(
    ("settings", "field"),
    [({"skew_windows": [2]}, "skew_windows"), ({"ma_pairs": [(5, 20, 60)]}, "ma_pairs")],
)
def test_an_impossible_window_is_refused_naming_the_setting(settings, field):
    with pytest.raises(ConfigError, match=f"features.{field}"):
        feature_set(**settings)


def test_close_only_data_gets_at_least_40_features(bundled):
    rows = compute_features(bundled, FEATURES)

    raw = [f.name for f in available(FEATURES, bundled)]
    assert len(raw) >= 40
    expected = [f"{name}{suffix}" for name in raw for suffix in ("", "_rank", "_z")]
    assert list(rows.columns) == expected
    assert (rows.dtypes == "float32").all()
    assert rows.index.names == ["date", "symbol"]
    assert rows.loc[bundled.dates[-1]][raw].notna().all(axis=None)  # all exist after 4 years


def test_volume_and_bar_features_are_skipped_and_listed_without_the_data(bundled, synthetic):
    assert skipped(FEATURES, bundled) == VOLUME_FEATURES + BAR_FEATURES
    assert not set(VOLUME_FEATURES + BAR_FEATURES) & set(compute_features(bundled, FEATURES))
    assert skipped(FEATURES, synthetic) == []
    assert set(VOLUME_FEATURES + BAR_FEATURES) <= set(compute_features(synthetic, FEATURES))


def test_bar_features_need_only_the_fields_they_read(synthetic):
    no_open = dataclasses.replace(synthetic, open=None, volume=None)

    assert skipped(FEATURES, no_open) == [*VOLUME_FEATURES, "gap", "intraday_ret"]
    assert {"hl_range", "close_loc", "park_vol_20"} <= set(compute_features(no_open, FEATURES))


def test_volume_features_are_absent_without_volume_and_present_with_it(synthetic):
    without = dataclasses.replace(synthetic, volume=None)

    volume_columns = {"volume_ratio_20", "volume_price_corr_20"}
    assert volume_columns <= set(compute_features(synthetic, FEATURES).columns)
    assert not volume_columns & set(compute_features(without, FEATURES).columns)
    assert not any(c.startswith("volume") for c in compute_features(without, FEATURES).columns)


def test_feature_rows_are_the_priced_date_symbol_pairs_and_ranks_are_percentiles(synthetic):
    rows = compute_features(synthetic, FEATURES)

    assert len(rows) == int(synthetic.close.notna().sum().sum())
    ranks = rows.filter(like="_rank")
    assert ((ranks > 0) & (ranks <= 1) | ranks.isna()).all().all()


def test_ranks_and_z_scores_are_taken_across_the_symbols_of_each_date(synthetic):
    rows = compute_features(synthetic, FEATURES, dtype="float64")

    for name in ("ret_5", "beta_60", "mdd_20", "amihud_20"):
        wide = rows[name].unstack("symbol")
        pd.testing.assert_frame_equal(
            rows[f"{name}_rank"].unstack("symbol"), wide.rank(axis=1, pct=True)
        )
        z = rows[f"{name}_z"].unstack("symbol").dropna(how="all")
        np.testing.assert_allclose(z.mean(axis=1), 0.0, atol=1e-12)
        np.testing.assert_allclose(z.std(axis=1, ddof=0), 1.0, rtol=1e-12)


def test_z_scores_are_clipped_at_five_and_a_flat_date_has_none():
    values = np.array([[1000.0] + [0.0, 1.0] * 50, [3.0] * 101])

    z = zscore_rows(values)

    assert z[0, 0] == 5.0
    assert np.abs(z[0, 1:]).max() < 1
    assert np.isnan(z[1]).all()


def test_ranks_average_ties_and_leave_missing_values_out():
    values = np.array([[3.0, np.nan, 1.0, 3.0, np.inf, 2.0]])

    np.testing.assert_array_equal(rank_rows(values), [[0.875, np.nan, 0.25, 0.875, np.nan, 0.5]])


def test_infinite_values_become_nan_and_the_thread_count_changes_nothing(synthetic):
    blowup = Feature("blowup", 1, lambda d: d.close / (d.close - d.close))  # inf everywhere

    rows = compute_features(synthetic, [*FEATURES[:8], blowup])

    assert rows[["blowup", "blowup_rank", "blowup_z"]].isna().all(axis=None)
    pd.testing.assert_frame_equal(
        compute_features(synthetic, FEATURES, n_jobs=1), compute_features(synthetic, FEATURES)
    )


@pytest.mark.parametrize("late_listing", [True, False])
def test_chosen_transforms_are_those_columns_of_the_full_build(synthetic, late_listing):
    data = synthetic if late_listing else synthetic.since(synthetic.dates[LISTING_DELAY])
    full = compute_features(data, FEATURES)

    rows = compute_features(data, FEATURES, transforms=["_z", ""])

    pd.testing.assert_frame_equal(rows, full[[c for c in full if not c.endswith("_rank")]])
    with pytest.raises(ValueError, match="transforms must be among"):
        compute_features(data, FEATURES[:2], transforms=["_zscore"])


@pytest.mark.parametrize("last", [1, 25, LISTING_DELAY + 5, 10_000])
def test_the_rows_of_the_last_dates_are_those_of_the_full_build(synthetic, last):
    """A daily run keeps the rows of its last sessions only: computed from the whole history,
    equal bit for bit to the full build's (a late listing included), also with a universe."""
    members = synthetic.close.notna() & (synthetic.close.index >= synthetic.dates[50])[:, None]
    for universe in (None, members):
        full = compute_features(synthetic, FEATURES, members=universe)
        rows = compute_features(synthetic, FEATURES, members=universe, last=last)

        kept = synthetic.dates[-last:]
        dates = rows.index.get_level_values("date").unique()
        assert dates.equals(kept) if universe is None else dates.isin(kept).all()
        expected = full[full.index.get_level_values("date").isin(kept)]
        pd.testing.assert_frame_equal(rows, expected, check_exact=True)


# ---------------------------------------------------------------------------------------------
# values against direct computations on small hand-made frames

DATES = pd.bdate_range("2020-01-01", periods=160, name="date")


def hand_made(volume: bool = False, benchmark: pd.Series | None = None) -> MarketData:
    """Three symbols of seeded random-walk closes (B lists 10 sessions late), maybe with volume."""
    rng = np.random.default_rng(11)
    returns = rng.normal(0.0005, 0.02, (len(DATES), 3))
    close = pd.DataFrame(
        50 * np.cumprod(1 + returns, axis=0),
        index=DATES,
        columns=pd.Index(["A", "B", "C"], name="symbol"),
    )
    close.iloc[:10, 1] = np.nan
    volumes = None
    if volume:
        volumes = close.notna() * rng.integers(1_000, 100_000, close.shape).astype("float64")
        volumes = volumes.where(close.notna())
    return MarketData(close=close, volume=volumes, benchmark=benchmark)


def feature_values(data: MarketData, name: str) -> pd.DataFrame:
    """The raw feature as a wide frame (dates x symbols) from the long output."""
    wide = compute_features(data, [BY_NAME[name]], dtype="float64")[name].unstack("symbol")
    return wide.reindex(index=data.close.index, columns=data.close.columns)


def assert_wide_close(actual: pd.DataFrame, expected: pd.DataFrame, rtol: float = 1e-9) -> None:
    """Same NaN pattern, and values equal within `rtol` (plus a hair of absolute slack)."""
    np.testing.assert_array_equal(actual.isna().to_numpy(), expected.isna().to_numpy())
    np.testing.assert_allclose(actual.to_numpy(), expected.to_numpy(), rtol=rtol, atol=1e-12)


def trailing(frame: pd.DataFrame, t: int, window: int) -> pd.DataFrame:
    """Rows t - window + 1 .. t."""
    return frame.iloc[t - window + 1 : t + 1]


def test_ret_5_is_the_close_over_the_close_five_sessions_earlier():
    data = hand_made()

    assert_wide_close(feature_values(data, "ret_5"), data.close / data.close.shift(5) - 1)


def test_downside_volatility_is_the_root_mean_square_of_the_losses():
    data = hand_made()
    returns = data.close / data.close.shift(1) - 1

    expected = pd.DataFrame(np.nan, index=DATES, columns=data.close.columns)
    for t in range(len(DATES)):
        window = trailing(returns, t, 20)
        if t >= 19 and len(window) == 20:
            losses = window.clip(upper=0.0)
            valid = window.notna().all()
            expected.iloc[t] = np.sqrt((losses**2).mean()).where(valid)

    assert_wide_close(feature_values(data, "downvol_20"), expected)


def test_max_drawdown_is_the_worst_peak_to_trough_fall_inside_the_window():
    data = hand_made()

    expected = pd.DataFrame(np.nan, index=DATES, columns=data.close.columns)
    for t in range(19, len(DATES)):
        window = trailing(data.close, t, 20)
        for symbol in window.columns:
            prices = window[symbol].to_numpy()
            if not np.isnan(prices).any():
                expected.loc[DATES[t], symbol] = (prices / np.maximum.accumulate(prices) - 1).min()

    actual = feature_values(data, "mdd_20")
    assert_wide_close(actual, expected)
    assert (actual.stack().dropna() < 0).all()


def test_the_distance_from_the_high_is_the_close_over_the_window_maximum():
    data = hand_made()

    expected = data.close / data.close.rolling(60, min_periods=60).max() - 1
    assert_wide_close(feature_values(data, "high_dist_60"), expected)
    expected = data.close / data.close.rolling(20, min_periods=20).min() - 1
    assert_wide_close(feature_values(data, "low_dist_20"), expected)


def test_beta_is_one_half_against_a_market_moving_exactly_twice_the_stock():
    stock = hand_made().close["A"]
    market = 100 * (1 + 2 * (stock / stock.shift(1) - 1).fillna(0.0)).cumprod()
    data = hand_made(benchmark=market)

    beta = feature_values(data, "beta_60")["A"]
    residual = feature_values(data, "resvol_60")["A"]

    assert beta.iloc[:60].isna().all()
    np.testing.assert_allclose(beta.iloc[60:], 0.5, rtol=1e-9)
    np.testing.assert_allclose(residual.iloc[60:], 0.0, atol=1e-9)


def test_beta_and_residual_volatility_match_a_least_squares_fit_on_each_window():
    data = hand_made(benchmark=100 * hand_made().close.mean(axis=1) ** 0.5)
    returns = data.close / data.close.shift(1) - 1
    market = data.benchmark / data.benchmark.shift(1) - 1

    beta = feature_values(data, "beta_60")
    residual = feature_values(data, "resvol_60")
    for t in (80, 120, len(DATES) - 1):
        x = trailing(market, t, 60).to_numpy()
        for symbol in ("A", "B"):
            y = trailing(returns[symbol], t, 60).to_numpy()
            slope, intercept = np.polyfit(x, y, 1)
            np.testing.assert_allclose(beta[symbol].iloc[t], slope, rtol=1e-8)
            noise = (y - intercept - slope * x).std()
            np.testing.assert_allclose(residual[symbol].iloc[t], noise, rtol=1e-7)


def test_without_a_benchmark_beta_is_taken_against_the_equal_weight_universe():
    data = hand_made()
    returns = data.close / data.close.shift(1) - 1
    universe = returns.mean(axis=1)  # the mean of the symbols with a return on each date

    covariance = returns.apply(lambda r: r.rolling(60, min_periods=60).cov(universe))
    expected = covariance.div(universe.rolling(60).var(), axis=0)
    assert_wide_close(feature_values(data, "beta_60"), expected, rtol=1e-8)


def test_volatility_skewness_and_volume_price_correlation_match_pandas():
    data = hand_made(volume=True)
    returns = data.close / data.close.shift(1) - 1

    assert_wide_close(feature_values(data, "vol_20"), returns.rolling(20, min_periods=20).std())
    assert_wide_close(
        feature_values(data, "skew_60"), returns.rolling(60, min_periods=60).skew(), rtol=1e-7
    )
    assert_wide_close(
        feature_values(data, "volume_price_corr_20"),
        returns.rolling(20, min_periods=20).corr(np.log1p(data.volume)),
        rtol=1e-7,
    )


def test_amihud_is_the_mean_absolute_return_per_dollar_traded():
    data = hand_made(volume=True)
    returns = data.close / data.close.shift(1) - 1

    expected = (returns.abs() / (data.close * data.volume)).rolling(20, min_periods=20).mean()
    assert_wide_close(feature_values(data, "amihud_20"), expected)


def test_residual_reversal_is_minus_the_recent_move_net_of_the_markets_part():
    data = hand_made(benchmark=100 * hand_made().close.mean(axis=1) ** 0.5)
    returns = data.close / data.close.shift(1) - 1
    market = data.benchmark / data.benchmark.shift(1) - 1
    beta = feature_values(data, "beta_60")

    expected = -(returns.rolling(5).sum() - beta.mul(market.rolling(5).sum(), axis=0))
    assert_wide_close(feature_values(data, "rev_5"), expected, rtol=1e-8)


@pytest.mark.parametrize("window", [1, 2, 5, 7, 16, 33])
def test_window_statistics_need_every_row_of_the_window(window):
    rng = np.random.default_rng(window)
    values = pd.DataFrame(rng.normal(size=(80, 4)))
    values.iloc[[3, 40, 41], 1] = np.nan
    values.iloc[:25, 2] = np.nan
    rolling = values.rolling(window, min_periods=window)
    array = values.to_numpy()

    assert_wide_close(pd.DataFrame(windows.rolling_sum(array, window)), rolling.sum())
    assert_wide_close(pd.DataFrame(windows.rolling_max(array, window)), rolling.max())
    assert_wide_close(pd.DataFrame(windows.rolling_min(array, window)), rolling.min())
    if window > 1:
        assert_wide_close(pd.DataFrame(windows.rolling_var(array, window)), rolling.var())
    if window > 2:
        assert_wide_close(pd.DataFrame(windows.rolling_skew(array, window)), rolling.skew())
    fall = windows.rolling_max_drawdown(array, window)
    expected = rolling.apply(lambda x: (x - np.maximum.accumulate(x)).min(), raw=True)
    assert_wide_close(pd.DataFrame(fall), expected)


# ---------------------------------------------------------------------------------------------
# labels


@pytest.mark.parametrize("excess", [False, True])
@pytest.mark.parametrize("horizon", [1, 5])
def test_forward_returns_are_the_close_h_sessions_ahead_over_todays_close(
    synthetic, horizon, excess
):
    close = synthetic.close.iloc[:80]

    labels = forward_returns(close, horizon, excess=excess)

    values = close.to_numpy()
    expected = values[horizon:] / values[:-horizon] - 1
    if excess:
        expected -= np.nanmean(expected, axis=1, keepdims=True)
    np.testing.assert_allclose(labels.iloc[:-horizon].to_numpy(), expected, rtol=1e-12)
    assert labels.iloc[-horizon:].isna().all().all()
    if excess:
        np.testing.assert_allclose(labels.iloc[:-horizon].mean(axis=1), 0.0, atol=1e-15)


def test_stacked_labels_drop_the_unlabeled_rows(synthetic):
    labels = stack_labels(forward_returns(synthetic.close, 5))

    assert labels.notna().all()
    assert labels.index.names == ["date", "symbol"]
    assert labels.index.get_level_values("date").max() == synthetic.dates[-6]


def test_a_dataset_built_at_t_only_labels_dates_whose_horizon_has_passed(synthetic):
    cut = synthetic.dates[250]

    dataset = build_dataset(synthetic.as_of(cut), FEATURES, horizon=5)

    assert dataset.labeled_dates[-1] == synthetic.dates[245]
    full = build_dataset(synthetic, FEATURES, horizon=5)

    def up_to_245(labels: pd.Series) -> pd.Series:
        return labels[labels.index.get_level_values("date") <= synthetic.dates[245]]

    pd.testing.assert_series_equal(up_to_245(dataset.labels), up_to_245(full.labels))
