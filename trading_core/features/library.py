"""The feature library: momentum, reversal, volatility and (when volume exists) volume features.

Every function takes wide frames (index: session dates, columns: symbols) and returns a frame of
the same shape whose value at date t uses data up to and including t only. Each feature declares
the sessions of history it needs; its value is NaN until that history exists.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from trading_core.data.market import MarketData


def momentum(close: pd.DataFrame, window: int, skip: int = 0) -> pd.DataFrame:
    """Return over `window` sessions ending `skip` sessions before t (12-1 momentum: 252, 21)."""
    return close.shift(skip) / close.shift(window) - 1


def ma_distance(close: pd.DataFrame, window: int) -> pd.DataFrame:
    """Close over its `window`-session mean, minus 1: short-term reversal when the window is short."""
    return close / close.rolling(window, min_periods=window).mean() - 1


def volatility(close: pd.DataFrame, window: int) -> pd.DataFrame:
    """Standard deviation of daily returns over `window` sessions (daily units, not annualized)."""
    return close.pct_change(fill_method=None).rolling(window, min_periods=window).std()


def volume_ratio(volume: pd.DataFrame, window: int) -> pd.DataFrame:
    """Log of today's volume over its `window`-session mean: a surprise in trading activity."""
    mean = volume.rolling(window, min_periods=window).mean()
    return np.log(volume.where(volume > 0) / mean.where(mean > 0))


def volume_price_corr(close: pd.DataFrame, volume: pd.DataFrame, window: int) -> pd.DataFrame:
    """Rolling correlation of daily returns with log volume over `window` sessions."""
    returns = close.pct_change(fill_method=None)
    return returns.rolling(window, min_periods=window).corr(np.log1p(volume))


@dataclass(frozen=True)
class Feature:
    """A named feature, the sessions of history it needs (t included) and how to compute it."""

    name: str
    lookback: int
    compute: Callable[[MarketData], pd.DataFrame]
    needs_volume: bool = False


def feature_set(
    momentum_windows: list[int],
    reversal_window: int,
    volatility_windows: list[int],
    volume_window: int,
) -> list[Feature]:
    """The configured features, in a fixed order."""
    features = [
        Feature(f"ret_{w}", w + 1, lambda d, w=w: momentum(d.close, w)) for w in momentum_windows
    ]
    features.append(Feature("mom_12_1", 253, lambda d: momentum(d.close, 252, skip=21)))
    features.append(
        Feature(
            f"ma_dist_{reversal_window}",
            reversal_window,
            lambda d: ma_distance(d.close, reversal_window),
        )
    )
    features.append(Feature("ma_dist_50", 50, lambda d: ma_distance(d.close, 50)))
    features += [
        Feature(f"vol_{w}", w + 1, lambda d, w=w: volatility(d.close, w))
        for w in volatility_windows
    ]
    features.append(
        Feature(
            f"volume_ratio_{volume_window}",
            volume_window,
            lambda d: volume_ratio(d.volume, volume_window),
            needs_volume=True,
        )
    )
    features.append(
        Feature(
            f"volume_price_corr_{volume_window}",
            volume_window + 1,
            lambda d: volume_price_corr(d.close, d.volume, volume_window),
            needs_volume=True,
        )
    )
    return features


def available(features: list[Feature], data: MarketData) -> list[Feature]:
    """The features this data can support: volume features drop out when there is no volume."""
    return [f for f in features if data.has_volume or not f.needs_volume]


def compute_features(data: MarketData, features: list[Feature]) -> pd.DataFrame:
    """Long frame indexed by (date, symbol): each raw feature and its cross-sectional percentile rank.

    Rows are the (date, symbol) pairs with a close. Ranks use only the same date's values.
    """
    columns: dict[str, pd.Series] = {}
    listed = data.close.notna()
    for feature in available(features, data):
        wide = feature.compute(data).where(listed)
        wide = wide.replace([np.inf, -np.inf], np.nan)
        columns[feature.name] = wide.stack(future_stack=True)
        columns[f"{feature.name}_rank"] = wide.rank(axis=1, pct=True).stack(future_stack=True)
    frame = pd.DataFrame(columns)
    frame.index = frame.index.set_names(["date", "symbol"])
    return frame[listed.stack(future_stack=True).to_numpy()]
