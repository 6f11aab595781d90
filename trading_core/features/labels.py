"""Labels: forward returns over a horizon, known only `horizon` sessions after t.

The last `horizon` dates of any frame are unlabeled (NaN): a label never exists before its future.
"""

from __future__ import annotations

import pandas as pd


def forward_returns(close: pd.DataFrame, horizon: int, excess: bool = True) -> pd.DataFrame:
    """close[t+horizon] / close[t] - 1, minus the cross-sectional mean on t when `excess`."""
    forward = close.shift(-horizon) / close - 1
    if excess:
        forward = forward.sub(forward.mean(axis=1), axis=0)
    return forward


def stack_labels(labels: pd.DataFrame) -> pd.Series:
    """Wide labels to a (date, symbol) Series named `label`, dropping the unlabeled rows."""
    stacked = labels.stack(future_stack=True).dropna()
    stacked.index = stacked.index.set_names(["date", "symbol"])
    return stacked.rename("label")
