"""Features from traded volume (shares) with closes: activity, its surprises and liquidity.

Implements:

- `volume_change`: log of today's volume over the volume `periods` sessions earlier.
- `volume_ratio`: log of today's volume over its `window`-session mean (a surprise in activity).
- `volume_volatility`: coefficient of variation of volume over a window.
- `volume_price_corr`: rolling correlation of daily returns with log volume.
- `amihud_illiquidity`: mean of |daily return| / dollar volume over a window.
- `dollar_volume`: log of the mean dollar volume (close x volume) over a window.

Every function takes wide frames (index: session dates, columns: symbols) and returns a frame of
the same shape whose value at t uses data up to and including t only, NaN until the window's
full history exists. A session with zero volume counts as missing where a ratio or log needs it.
Only used when the data has volume: nothing here is ever estimated from closes alone.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from trading_core.features.price import _like, _values
from trading_core.features.windows import rolling_mean, rolling_pair_moments, rolling_var, shift


def _positive(frame: pd.DataFrame) -> np.ndarray:
    values = _values(frame)
    return np.where(values > 0, values, np.nan)


def volume_change(volume: pd.DataFrame, periods: int = 1) -> pd.DataFrame:
    """log(volume[t] / volume[t - periods]): needs periods + 1 sessions."""
    values = np.log(_positive(volume))
    return _like(values - shift(values, periods), volume)


def volume_ratio(volume: pd.DataFrame, window: int) -> pd.DataFrame:
    """Log of today's volume over its `window`-session mean (today included)."""
    values = _positive(volume)
    return _like(np.log(values / rolling_mean(values, window)), volume)


def volume_volatility(volume: pd.DataFrame, window: int) -> pd.DataFrame:
    """Sample standard deviation of volume over its mean, over `window` sessions."""
    values = _positive(volume)
    return _like(np.sqrt(rolling_var(values, window)) / rolling_mean(values, window), volume)


def volume_price_corr(returns: pd.DataFrame, volume: pd.DataFrame, window: int) -> pd.DataFrame:
    """Correlation of daily returns with log(1 + volume) over `window` sessions (window + 1 closes).

    NaN when either side did not vary over the window.
    """
    mean_x, mean_y, var_x, var_y, covariance = rolling_pair_moments(
        _values(returns), np.log1p(_values(volume)), window
    )
    covariance -= mean_x * mean_y
    var_x -= mean_x * mean_x
    var_y -= mean_y * mean_y
    with np.errstate(divide="ignore", invalid="ignore"):
        denominator = np.sqrt(np.where((var_x > 0) & (var_y > 0), var_x * var_y, np.nan))
        return _like(np.clip(covariance / denominator, -1.0, 1.0), returns)


def amihud_illiquidity(
    returns: pd.DataFrame, close: pd.DataFrame, volume: pd.DataFrame, window: int
) -> pd.DataFrame:
    """Mean over `window` sessions of |daily return| / (close x volume), per dollar traded.

    Needs window + 1 closes. Tiny numbers (1e-10 for a large cap): only ranks and z-scores of it
    are comparable across datasets.
    """
    dollars = _values(close) * _positive(volume)
    return _like(rolling_mean(np.abs(_values(returns)) / dollars, window), returns)


def dollar_volume(close: pd.DataFrame, volume: pd.DataFrame, window: int) -> pd.DataFrame:
    """Log of the mean close x volume over `window` sessions: size of trading, in log dollars."""
    dollars = _values(close) * _positive(volume)
    with np.errstate(divide="ignore", invalid="ignore"):
        return _like(np.log(rolling_mean(dollars, window)), close)
