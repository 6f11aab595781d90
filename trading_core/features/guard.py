"""The look-ahead guard: a feature at t must not change when the data after t is removed.

Run before any training: features are computed on a recent window of the data, and again on the
same window cut a few sessions before its end; every value up to the cut must be identical.
Raw values only: a date's ranks and z-scores follow from that date's raw values, and computing
them too would triple the guard's memory (about 7 GiB at 3,000 stocks, more than the build).
A feature that peeks ahead (a shifted label, a centered window, a back-fill) fails and is named.
"""

from __future__ import annotations

import numpy as np

from trading_core.data.market import MarketData
from trading_core.errors import DataError
from trading_core.features.library import Feature, compute_features


def assert_point_in_time(
    data: MarketData, features: list[Feature], window: int = 400, probe: int = 10
) -> None:
    """Raise DataError naming every feature whose values up to t depend on data after t."""
    dates = data.dates
    if len(dates) <= probe + 1:
        return
    recent = data.since(dates[max(0, len(dates) - window)])
    cut = recent.dates[-(probe + 1)]
    full = compute_features(recent, features, dtype="float64", transforms=[""]).loc[:cut]
    known = compute_features(recent.as_of(cut), features, dtype="float64", transforms=[""])
    same = np.isclose(full.to_numpy(), known.to_numpy(), rtol=0, atol=0, equal_nan=True)
    leaking = sorted(full.columns[~same.all(axis=0)])
    if leaking:
        raise DataError(
            f"look-ahead: feature(s) {', '.join(leaking)} change at or before {cut:%Y-%m-%d} when "
            "later data is removed; refusing to train on them"
        )
