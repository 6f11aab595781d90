"""Labels: forward returns over a horizon, known only `horizon` sessions after t.

The last `horizon` dates of any frame are unlabeled (NaN): a label never exists before its future.
The training target may be transformed per date (excess over the mean, z-score or rank across
symbols), which removes the market's move and puts every date on the same scale.
"""

from __future__ import annotations

import pandas as pd

TRANSFORMS = ("raw", "excess", "zscore", "rank")


def forward_returns(close: pd.DataFrame, horizon: int, excess: bool = False) -> pd.DataFrame:
    """close[t+horizon] / close[t] - 1, minus the cross-sectional mean on t when `excess`."""
    forward = close.shift(-horizon) / close - 1
    if excess:
        forward = forward.sub(forward.mean(axis=1), axis=0)
    return forward


def transform_labels(forward: pd.DataFrame, transform: str = "zscore") -> pd.DataFrame:
    """The training target from raw forward returns, transformed across symbols on each date."""
    if transform == "raw":
        return forward
    if transform == "excess":
        return forward.sub(forward.mean(axis=1), axis=0)
    if transform == "zscore":
        std = forward.std(axis=1).where(lambda s: s > 0)
        return forward.sub(forward.mean(axis=1), axis=0).div(std, axis=0)
    if transform == "rank":
        return forward.rank(axis=1, pct=True) - 0.5
    raise ValueError(f"unknown label transform {transform!r}: choose from {', '.join(TRANSFORMS)}")


def stack_labels(labels: pd.DataFrame) -> pd.Series:
    """Wide labels to a (date, symbol) Series named `label`, dropping the unlabeled rows."""
    stacked = labels.stack(future_stack=True).dropna()
    stacked.index = stacked.index.set_names(["date", "symbol"])
    return stacked.rename("label")
