"""Drawdown periods of a daily return series: the underwater curve and the worst falls.

- `underwater`: per session, equity over its running peak minus 1 (`backtest.metrics.drawdown`).
- `worst_drawdowns`: the `top` deepest drawdown periods, each with its peak, trough and recovery
  dates, depth and length in sessions. This is pyfolio's drawdown table with two differences:
  the starting capital counts as a peak (as in `backtest.metrics.max_drawdown` and empyrical's
  `max_drawdown`), and the length counts sessions elapsed from peak to recovery (or to the last
  session), where pyfolio counts the weekdays from peak to recovery with both ends (one more,
  holidays included) and leaves it empty while still under water.

A period runs from a peak to the first session whose equity is back at or above it. Sessions
without a return (NaN) are left out, so the account's life starts at its first return.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from trading_core.backtest import metrics

MIN_SESSIONS = 2  # an underwater curve needs two points to be a line
COLUMNS = ["peak", "trough", "recovery", "depth", "length"]


def underwater(returns: pd.Series) -> pd.Series:
    """Per session, equity over its running peak minus 1 (<= 0); the starting capital is a peak."""
    return metrics.drawdown(returns.dropna())


def worst_drawdowns(returns: pd.Series, top: int = 5) -> pd.DataFrame:
    """The `top` deepest drawdown periods, deepest first (rows ranked 1, 2, ...).

    Columns: `peak` (last session at the running peak before the fall; the first session when
    the fall starts from the starting capital), `trough` (deepest session), `recovery` (first
    session back at the peak, NaT while still under water), `depth` (the underwater value at the
    trough, e.g. -0.12), `length` (sessions from the peak to the recovery, or to the last session
    while still under water). Fewer rows when there are fewer periods; none without a loss.
    """
    curve = underwater(returns)
    values, dates, last = curve.to_numpy(), curve.index, len(curve) - 1
    below = np.r_[False, values < 0, False]
    # per period: its first session under water, and the first back at the peak (or past the end)
    starts = np.flatnonzero(~below[:-1] & below[1:])
    ends = np.flatnonzero(below[:-1] & ~below[1:])
    troughs = np.array(
        [s + np.argmin(values[s:e]) for s, e in zip(starts, ends, strict=True)], dtype=int
    )
    order = np.argsort(values[troughs], kind="stable")[:top]
    starts, ends, troughs = starts[order], ends[order], troughs[order]
    recovered = ends <= last
    return pd.DataFrame(
        {
            "peak": dates[np.maximum(starts - 1, 0)],
            "trough": dates[troughs],
            "recovery": dates[np.minimum(ends, last)].where(recovered, pd.NaT),
            "depth": values[troughs],
            "length": np.where(recovered, ends, last) - (starts - 1),
        },
        index=pd.RangeIndex(1, len(order) + 1, name="rank"),
    )
