"""Cross-sectional transforms: each date's values compared across the symbols priced that date.

Implements:

- `rank_rows` / `percentile_rank`: percentile rank in (0, 1] (ties share their average rank), as
  `DataFrame.rank(axis=1, pct=True)`, from one argsort per row.
- `zscore_rows` / `zscore`: (value - mean) / population std across the row, clipped to +-5.

Rows are dates, so a value on date t uses only values on date t: no look-ahead is possible. NaN
values are left out and stay NaN.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

Z_CLIP = 5.0


def rank_rows(values: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """Percentile rank of each value within its row (average rank of ties / count of values).

    NaN and infinite values are left out and get NaN. Written into `out` (C-ordered) if given.
    """
    values = np.asarray(values, dtype="float64")
    missing = ~np.isfinite(values)
    n_rows, n_cols = values.shape
    count = n_cols - missing.sum(axis=1, keepdims=True)
    # missing values sort last as +inf (sorting is several times slower with NaN scattered about)
    filled = np.where(missing, np.inf, values)
    order = np.argsort(filled, axis=1)  # the order within ties does not matter
    ordered = np.take_along_axis(filled, order, axis=1)
    position = np.broadcast_to(np.arange(n_cols, dtype="float64"), values.shape)
    present = position < count
    # a tie group runs from its first to its last position in the sorted row
    starts = np.ones(values.shape, dtype=bool)
    np.not_equal(ordered[:, 1:], ordered[:, :-1], out=starts[:, 1:])
    starts |= ~present
    if starts.all():
        middle = position
    else:
        ends = np.ones(values.shape, dtype=bool)
        ends[:, :-1] = starts[:, 1:]
        first = np.maximum.accumulate(np.where(starts, position, 0), axis=1)
        last = np.where(ends, position, n_cols - 1)[:, ::-1]
        last = np.minimum.accumulate(last, axis=1)[:, ::-1]
        middle = (first + last) / 2
    with np.errstate(divide="ignore", invalid="ignore"):
        ranks = np.where(present, (middle + 1) / count, np.nan)
    # scatter back: row i's k-th smallest value sits in column order[i, k]
    if out is None:
        out = np.empty(values.shape)
    elif out.shape != values.shape or not out.flags.c_contiguous:
        raise ValueError("rank_rows: `out` must be a C-ordered array of the values' shape")
    flat = order + (np.arange(n_rows) * n_cols)[:, None]
    out.ravel()[flat.ravel()] = ranks.ravel()
    return out


def zscore_rows(
    values: np.ndarray, clip: float = Z_CLIP, out: np.ndarray | None = None
) -> np.ndarray:
    """(value - row mean) / row population std, clipped to [-clip, clip]; NaN for a flat row.

    NaN values are left out and stay NaN. Written into `out` if given.
    """
    values = np.ascontiguousarray(values, dtype="float64")
    present = ~np.isnan(values)
    count = present.sum(axis=1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = np.where(present, values, 0.0).sum(axis=1, keepdims=True) / count
        centred = values - mean
        std = np.sqrt(np.where(present, centred * centred, 0.0).sum(axis=1, keepdims=True) / count)
        # equal values leave only rounding noise in `centred`: their row has no z-score
        z = centred / np.where(std > 1e-12 * np.abs(mean), std, np.nan)
    return np.clip(z, -clip, clip, out=out)


def percentile_rank(frame: pd.DataFrame) -> pd.DataFrame:
    """Each date's percentile rank across symbols, in (0, 1]."""
    return pd.DataFrame(rank_rows(frame.to_numpy()), index=frame.index, columns=frame.columns)


def zscore(frame: pd.DataFrame, clip: float = Z_CLIP) -> pd.DataFrame:
    """Each date's z-score across symbols (population std), clipped to [-clip, clip]."""
    return pd.DataFrame(
        zscore_rows(frame.to_numpy(), clip), index=frame.index, columns=frame.columns
    )
