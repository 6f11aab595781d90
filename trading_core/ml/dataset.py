"""The research dataset: feature rows, training labels and raw forward returns, as of the data's end.

Labels and forward returns are aligned to the feature rows (NaN where the horizon has not passed),
so every split is a boolean mask over one table.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from trading_core.data.market import MarketData
from trading_core.data.universe import membership
from trading_core.features.labels import (
    effective_execution,
    execution_delay,
    forward_returns,
    transform_labels,
)
from trading_core.features.library import Feature, compute_features


@dataclass(frozen=True)
class Dataset:
    """Feature rows indexed by (date, symbol) with aligned labels and forward returns.

    Labels run from the fill of `execution` (see `trading_core.features.labels`): a label at t is
    known `known_after` = horizon + delay sessions later.
    """

    rows: pd.DataFrame
    labels: pd.Series
    forward_returns: pd.Series
    horizon: int
    execution: str = "same_close"

    @property
    def known_after(self) -> int:
        """Sessions after t until its label is realized: the horizon plus the execution delay."""
        return self.horizon + execution_delay(self.execution)

    @property
    def dates(self) -> pd.DatetimeIndex:
        """The date of every row."""
        return pd.DatetimeIndex(self.rows.index.get_level_values("date"))

    @property
    def labeled_dates(self) -> pd.DatetimeIndex:
        """Sessions with at least one label, sorted."""
        return pd.DatetimeIndex(self.dates[self.labels.notna().to_numpy()].unique()).sort_values()

    def as_of(self, when: pd.Timestamp) -> Dataset:
        """What was known at the close of `when`: rows up to it, labels only where already realized.

        A label at t needs the prices of t + known_after, so it is kept only when that session is on
        or before `when`; equal to building the dataset from the data cut at `when` (a test pins it).
        """
        when = pd.Timestamp(when)
        dates = self.dates
        sessions = dates.unique().sort_values()
        position = sessions.searchsorted(when, side="right") - 1 - self.known_after
        keep = np.asarray(dates <= when)
        realized = pd.Series(
            dates <= sessions[position] if position >= 0 else np.zeros(len(dates), bool),
            index=self.rows.index,
        )[keep]
        return Dataset(
            rows=self.rows[keep],
            labels=self.labels[keep].where(realized),
            forward_returns=self.forward_returns[keep].where(realized),
            horizon=self.horizon,
            execution=self.execution,
        )

    def matured_after(self, cutoff: pd.Timestamp | date) -> np.ndarray:
        """Boolean mask of the rows dated after `cutoff` whose outcome is already realized (a label
        or a forward return): the only rows an out-of-sample IC of a model fit through `cutoff`
        can use, so the only ones worth scoring for it."""
        realized = self.labels.notna().to_numpy() | self.forward_returns.notna().to_numpy()
        return np.asarray(self.dates > pd.Timestamp(cutoff)) & realized

    def on(self, dates: pd.DatetimeIndex, labeled: bool = False) -> np.ndarray:
        """Boolean mask of the rows on `dates` (and with a label when `labeled`)."""
        mask = self.dates.isin(dates)
        return mask & self.labels.notna().to_numpy() if labeled else mask


def _align(wide: pd.DataFrame, index: pd.MultiIndex, name: str) -> pd.Series:
    stacked = wide.stack(future_stack=True)
    stacked.index = stacked.index.set_names(["date", "symbol"])
    return stacked.reindex(index).rename(name)


SUFFIXES = {"raw": "", "rank": "_rank", "z": "_z"}  # input kind: its column suffix


def build_dataset(
    data: MarketData,
    features: list[Feature],
    horizon: int,
    label_transform: str = "zscore",
    inputs: tuple[str, ...] = ("raw", "rank", "z"),
    execution: str = "same_close",
    last: int | None = None,
) -> Dataset:
    """Features for every priced (date, symbol); labels where the horizon has passed, else NaN.

    With a point-in-time universe (`data.universe`), only the rows of members: models neither
    train nor are evaluated on a name outside its membership, and it gets no score there; labels
    are transformed across the members of each date. `inputs` chooses which columns of each
    feature the models see (raw, rank, z); labels start at the `execution` fill (next_open falls
    back to next_close when the data has no opens). With `last`, the rows of the last that many
    dates only (`compute_features`).
    """
    members = None
    if data.universe is not None:
        members = membership(data.universe, data.dates, data.symbols)
    # only the chosen kinds are computed: no full-width frame to select from
    rows = compute_features(
        data, features, members=members, transforms=[SUFFIXES[k] for k in inputs], last=last
    )
    execution = effective_execution(execution, data.open)
    forward = forward_returns(data.close, horizon, open_=data.open, execution=execution)
    if members is not None:
        forward = forward.where(members)
    return Dataset(
        rows=rows,
        labels=_align(transform_labels(forward, label_transform), rows.index, "label"),
        forward_returns=_align(forward, rows.index, "forward_return"),
        horizon=horizon,
        execution=execution,
    )
