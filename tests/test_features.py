"""Features are known at the close of t and never later; labels are the future, and only that.

The look-ahead check computes features on the data a person had at the close of t and compares
them with the full-history features restricted to dates <= t. It is shown to catch a leak.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from trading_core.data.market import MarketData
from trading_core.data.providers import BundledProvider
from trading_core.data.synthetic import generate_synthetic_market
from trading_core.features.labels import forward_returns, stack_labels
from trading_core.features.library import Feature, compute_features, feature_set
from trading_core.ml.dataset import build_dataset

FEATURES = feature_set(
    momentum_windows=[5, 20, 60, 120, 250],
    reversal_window=5,
    volatility_windows=[20, 60],
    volume_window=20,
)
LEAK = Feature("leak", 1, lambda d: d.close.shift(-1) / d.close - 1)
LISTING_DELAY = 30  # sessions the late-listed synthetic symbol is absent from the start


@pytest.fixture(scope="module")
def bundled() -> MarketData:
    """The last ~3 years of the real S&P 500 sample (no volume)."""
    full = BundledProvider().fetch()
    return full.since(full.dates[-756])


@pytest.fixture(scope="module")
def synthetic() -> MarketData:
    """A synthetic market with volume in which symbol S00 lists LISTING_DELAY sessions late."""
    data = generate_synthetic_market(symbols=12, years=1.5, seed=5).data
    assert data.has_volume
    late = {}
    for name, frame in data.frames().items():
        frame = frame.copy()
        frame.iloc[:LISTING_DELAY, 0] = np.nan
        late[name] = frame
    return dataclasses.replace(data, **late)


def assert_features_known_at_the_close_of(data: MarketData, features: list[Feature], cut) -> None:
    """Features from the data as of `cut` equal the full-history features up to `cut`."""
    full = compute_features(data, features)
    known_then = compute_features(data.as_of(cut), features)
    up_to_cut = full[full.index.get_level_values("date") <= pd.Timestamp(cut)]
    pd.testing.assert_frame_equal(known_then, up_to_cut, check_exact=True)


def cut_dates(data: MarketData) -> list[pd.Timestamp]:
    dates = data.dates
    return [dates[40], dates[len(dates) // 2], dates[300], dates[-2]]


@pytest.mark.parametrize("market", ["bundled", "synthetic"])
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


@pytest.mark.parametrize("feature", FEATURES, ids=lambda f: f.name)
def test_a_feature_is_nan_until_its_declared_lookback_exists(synthetic, feature):
    values = first_listed_values(synthetic, feature)

    # the value at position p uses p + 1 sessions of the symbol's history
    assert values.iloc[: feature.lookback - 1].isna().all()


@pytest.mark.parametrize("feature", FEATURES, ids=lambda f: f.name)
def test_a_feature_has_a_value_as_soon_as_its_declared_lookback_exists(synthetic, feature):
    values = first_listed_values(synthetic, feature)

    assert values.iloc[feature.lookback - 1 :].notna().all()


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
    full = build_dataset(synthetic, FEATURES, horizon=5, excess=True)
    known = full.labels[full.labels.index.get_level_values("date") <= synthetic.dates[245]]
    pd.testing.assert_series_equal(dataset.labels, known, check_exact=True)
