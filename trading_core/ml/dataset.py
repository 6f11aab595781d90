"""The research dataset: feature rows and forward-return labels from one MarketData, as of its end."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from trading_core.data.market import MarketData
from trading_core.features.labels import forward_returns, stack_labels
from trading_core.features.library import Feature, compute_features


@dataclass(frozen=True)
class Dataset:
    """Feature rows (index (date, symbol)) and the labels known by the data's last date."""

    rows: pd.DataFrame
    labels: pd.Series
    horizon: int

    @property
    def labeled_dates(self) -> pd.DatetimeIndex:
        return pd.DatetimeIndex(self.labels.index.get_level_values("date").unique()).sort_values()


def build_dataset(
    data: MarketData, features: list[Feature], horizon: int, excess: bool = True
) -> Dataset:
    """Features for every priced (date, symbol) and labels for the rows whose horizon has passed."""
    rows = compute_features(data, features)
    labels = stack_labels(forward_returns(data.close, horizon, excess=excess))
    return Dataset(rows=rows, labels=labels, horizon=horizon)
