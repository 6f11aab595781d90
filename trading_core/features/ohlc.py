"""Features from the day's bar (open, high, low, close): range, where the close sits, gaps.

Implements:

- `intraday_range`: (high - low) / close.
- `close_location`: (close - low) / (high - low), 0 at the low and 1 at the high.
- `overnight_gap`: open over the previous close, minus 1.
- `intraday_return`: close over open, minus 1.
- `parkinson_volatility`: daily volatility estimated from high/low ranges over a window.

Every function takes wide frames (index: session dates, columns: symbols) and returns a frame of
the same shape whose value at t uses bars up to and including t only. Used only when the data
has the fields a function names: a bar is never reconstructed from closes.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from trading_core.features.price import _like, _values
from trading_core.features.windows import rolling_mean, shift


def intraday_range(high: pd.DataFrame, low: pd.DataFrame, close: pd.DataFrame) -> pd.DataFrame:
    """(high - low) / close of the same session."""
    return _like((_values(high) - _values(low)) / _values(close), close)


def close_location(high: pd.DataFrame, low: pd.DataFrame, close: pd.DataFrame) -> pd.DataFrame:
    """(close - low) / (high - low): 0 at the day's low, 1 at its high; NaN when high == low."""
    spread = _values(high) - _values(low)
    with np.errstate(divide="ignore", invalid="ignore"):
        location = (_values(close) - _values(low)) / np.where(spread > 0, spread, np.nan)
    return _like(location, close)


def overnight_gap(open_: pd.DataFrame, close: pd.DataFrame) -> pd.DataFrame:
    """open[t] / close[t-1] - 1: the move while the market was shut (needs 2 sessions)."""
    return _like(_values(open_) / shift(_values(close), 1) - 1, close)


def intraday_return(open_: pd.DataFrame, close: pd.DataFrame) -> pd.DataFrame:
    """close[t] / open[t] - 1: the move during the session."""
    return _like(_values(close) / _values(open_) - 1, close)


def parkinson_volatility(high: pd.DataFrame, low: pd.DataFrame, window: int) -> pd.DataFrame:
    """sqrt(mean(ln(high / low)^2) / (4 ln 2)) over `window` sessions, in daily units."""
    with np.errstate(divide="ignore", invalid="ignore"):
        log_range = np.log(_values(high) / _values(low))
    return _like(np.sqrt(rolling_mean(log_range * log_range, window) / (4 * np.log(2))), high)
