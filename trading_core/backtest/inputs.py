"""Checking and aligning a backtest's inputs before the simulation runs.

Implements:

- `check_close`: closes indexed by unique, increasing session dates.
- `align_targets`: target weights as row positions in `close` and a dense weight matrix.
- `check_targetable`: a same_close target only where the rebalance date has a positive close.
- `refuse_nonpositive`: a close that is a number must be positive.
- `carried_closes`: closes with gaps filled by the last close, so the simulation stays dense.

Each refusal is a DataError saying what is wrong (naming the symbol and date where there is one);
the engine (`trading_core.backtest.engine`) calls these in `VectorizedBacktester.run` and
simulates only what passed.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from trading_core.errors import DataError


def carried_closes(close: pd.DataFrame) -> np.ndarray:
    """Closes with each gap filled by the last close, and 1.0 before a symbol's first close.

    The placeholder 1.0 only keeps the arithmetic finite: a symbol cannot be targeted before its
    first close, so it holds no shares there.
    """
    return np.ascontiguousarray(close.ffill().fillna(1.0).to_numpy("float64"))


def refuse_nonpositive(raw: np.ndarray, close: pd.DataFrame) -> None:
    """A close that is a number must be positive (NaN is a missing close, handled separately)."""
    bad = raw <= 0
    if bad.any():
        i, j = np.argwhere(bad)[0]
        raise DataError(
            f"close is {raw[i, j]:g} (must be positive) for {close.columns[j]} on "
            f"{_day(close.index[i])}"
        )


def check_close(close: pd.DataFrame) -> None:
    """Closes must be indexed by strictly increasing, unique session dates."""
    if close.empty:
        raise DataError("close is empty: nothing to backtest")
    if not close.index.is_monotonic_increasing or not close.index.is_unique:
        raise DataError("close index must be unique, increasing session dates")


def align_targets(
    target_weights: pd.DataFrame, close: pd.DataFrame
) -> tuple[np.ndarray, np.ndarray]:
    """Row positions of the rebalance dates in `close`, and the weights on `close`'s columns."""
    if len(target_weights.index) == 0:
        raise DataError("target_weights has no rebalance date")
    if not target_weights.index.is_unique:
        duplicated = target_weights.index[target_weights.index.duplicated()][0]
        raise DataError(f"rebalance date {_day(duplicated)} appears twice in target_weights")
    unknown = target_weights.columns.difference(close.columns)
    if len(unknown):
        raise DataError(f"target_weights names symbols without closes: {', '.join(unknown)}")
    targets = target_weights.sort_index()
    rows = close.index.get_indexer(targets.index)
    if (rows < 0).any():
        missing = targets.index[rows < 0][0]
        raise DataError(f"rebalance date {_day(missing)} is not a session of close")
    weights = targets.reindex(columns=close.columns).fillna(0.0).to_numpy("float64")
    if not np.isfinite(weights).all():
        k, j = np.argwhere(~np.isfinite(weights))[0]
        raise DataError(
            f"target weight of {close.columns[j]} on {_day(targets.index[k])} is infinite"
        )
    return rows.astype(np.intp), weights


def check_targetable(
    weights: np.ndarray, rows: np.ndarray, valid: np.ndarray, raw: np.ndarray, close: pd.DataFrame
) -> None:
    """Refuse a non-zero target in a symbol without a positive close on its rebalance date."""
    bad = (weights != 0) & ~valid[rows]
    if bad.any():
        k, j = np.argwhere(bad)[0]
        raise DataError(
            f"close is {raw[rows[k], j]:g} for {close.columns[j]} on {_day(close.index[rows[k]])}: "
            "it cannot be targeted"
        )


def _day(value: object) -> str:
    """A date as YYYY-MM-DD for messages (other labels as they are)."""
    return value.strftime("%Y-%m-%d") if hasattr(value, "strftime") else str(value)
