"""Features from closing prices alone: returns, trend, risk, drawdown and exposure to the market.

Implements:

- `daily_returns`, `equal_weight_market`, `market_returns`: the inputs the others share.
- `momentum`: return over a window, optionally skipping the most recent sessions (12-1).
- `residual_reversal`: minus the recent return left after removing the market's part.
- `volatility`, `downside_volatility`, `skewness`: moments of daily returns.
- `max_drawdown`, `distance_from_high`, `distance_from_low`: where the close sits in its range.
- `ma_distance`, `ma_cross`: close over its moving average and short over long averages.
- `market_beta`, `residual_volatility`: a rolling regression of returns on market returns.

Every function takes adjusted closes or daily returns (index: session dates, columns: symbols)
and returns a frame of the same shape whose value at date t uses data up to and including t
only; it is NaN until the window's full history exists. Returns are simple daily returns;
volatilities are in daily units (not annualized).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from trading_core.features.windows import (
    rolling_max,
    rolling_max_drawdown,
    rolling_mean,
    rolling_min,
    rolling_pair_moments,
    rolling_skew,
    rolling_sum,
    rolling_var,
    shift,
)


def _values(frame: pd.DataFrame) -> np.ndarray:
    return frame.to_numpy(dtype="float64")


def _like(values: np.ndarray, frame: pd.DataFrame) -> pd.DataFrame:
    """A frame with `frame`'s index and columns around `values` (no copy)."""
    return pd.DataFrame(values, index=frame.index, columns=frame.columns, copy=False)


def daily_returns(close: pd.DataFrame) -> pd.DataFrame:
    """close[t] / close[t-1] - 1; NaN when either close is missing (no filling across gaps)."""
    values = _values(close)
    with np.errstate(divide="ignore", invalid="ignore"):
        return _like(values / shift(values, 1) - 1, close)


def equal_weight_market(returns: pd.DataFrame) -> pd.Series:
    """Mean daily return across the symbols with a return on each date (same-date data only)."""
    values = _values(returns)
    present = ~np.isnan(values)
    count = present.sum(axis=1)
    total = np.where(present, values, 0.0).sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = np.where(count > 0, total / count, np.nan)
    return pd.Series(mean, index=returns.index, name="market")


def market_returns(benchmark: pd.Series | None, returns: pd.DataFrame) -> pd.Series:
    """Daily returns of the benchmark on the return dates, or the equal-weight universe without one.

    A benchmark date missing from the data gives a NaN market return (never filled).
    """
    if benchmark is None:
        return equal_weight_market(returns)
    level = benchmark.reindex(returns.index).to_numpy(dtype="float64")
    with np.errstate(divide="ignore", invalid="ignore"):
        return pd.Series(level / shift(level, 1) - 1, index=returns.index, name="market")


def momentum(close: pd.DataFrame, window: int, skip: int = 0) -> pd.DataFrame:
    """Return over `window` sessions ending `skip` sessions before t (12-1 momentum: 252, 21).

    Needs window + 1 closes.
    """
    values = _values(close)
    with np.errstate(divide="ignore", invalid="ignore"):
        return _like(shift(values, skip) / shift(values, window) - 1, close)


def _market_fit(
    returns: pd.DataFrame, market: pd.Series, window: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rolling covariance with the market, market variance and return variance (population).

    From rolling means of products, E[xy] - E[x]E[y]; NaN unless all `window` returns and market
    returns are present.
    """
    mean_x, mean_m, mean_xx, mean_mm, mean_xm = rolling_pair_moments(
        _values(returns), market.to_numpy(dtype="float64")[:, None], window
    )
    mean_xm -= mean_x * mean_m
    mean_mm -= mean_m * mean_m
    mean_xx -= mean_x * mean_x
    return mean_xm, mean_mm, mean_xx


def market_beta(returns: pd.DataFrame, market: pd.Series, window: int) -> pd.DataFrame:
    """Slope of daily returns on market returns over the last `window` sessions.

    Needs window + 1 closes; NaN when the market did not move over the window.
    """
    covariance, market_variance, _ = _market_fit(returns, market, window)
    with np.errstate(divide="ignore", invalid="ignore"):
        return _like(covariance / np.where(market_variance > 0, market_variance, np.nan), returns)


def residual_volatility(returns: pd.DataFrame, market: pd.Series, window: int) -> pd.DataFrame:
    """Standard deviation (population) of the residuals of that regression: idiosyncratic risk."""
    covariance, market_variance, variance = _market_fit(returns, market, window)
    with np.errstate(divide="ignore", invalid="ignore"):
        explained = covariance * covariance / np.where(market_variance > 0, market_variance, np.nan)
    residual = np.maximum(variance - explained, 0.0)
    return _like(np.sqrt(residual), returns)


def residual_reversal(
    returns: pd.DataFrame, market: pd.Series, window: int, beta_window: int = 60
) -> pd.DataFrame:
    """Minus the sum of the last `window` daily returns net of beta times the market's.

    Short-term reversal on the idiosyncratic part of the move; beta is `market_beta` over
    `beta_window` sessions as of t. Needs max(window, beta_window) + 1 closes.
    """
    beta = _values(market_beta(returns, market, beta_window))
    own = rolling_sum(_values(returns), window)
    common = rolling_sum(market.to_numpy(dtype="float64")[:, None], window)
    return _like(beta * common - own, returns)


def volatility(returns: pd.DataFrame, window: int) -> pd.DataFrame:
    """Sample standard deviation of daily returns over `window` sessions (needs window + 1 closes)."""
    return _like(np.sqrt(rolling_var(_values(returns), window)), returns)


def downside_volatility(returns: pd.DataFrame, window: int) -> pd.DataFrame:
    """Root mean square of the negative daily returns (positive ones count as 0) over `window`."""
    down = np.minimum(_values(returns), 0.0)
    return _like(np.sqrt(rolling_mean(down * down, window)), returns)


def skewness(returns: pd.DataFrame, window: int) -> pd.DataFrame:
    """Sample skewness of daily returns over `window` sessions (NaN when they never changed)."""
    return _like(rolling_skew(_values(returns), window), returns)


def _log(close: pd.DataFrame) -> np.ndarray:
    values = _values(close)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.log(np.where(values > 0, values, np.nan))


def max_drawdown(close: pd.DataFrame, window: int) -> pd.DataFrame:
    """Largest peak-to-trough fall of the close within the last `window` closes (-0.3: 30 % down)."""
    return _like(np.expm1(rolling_max_drawdown(_log(close), window)), close)


def distance_from_high(close: pd.DataFrame, window: int) -> pd.DataFrame:
    """Close over the highest close of the last `window` sessions, minus 1 (<= 0)."""
    values = _values(close)
    return _like(values / rolling_max(values, window) - 1, close)


def distance_from_low(close: pd.DataFrame, window: int) -> pd.DataFrame:
    """Close over the lowest close of the last `window` sessions, minus 1 (>= 0)."""
    values = _values(close)
    with np.errstate(divide="ignore", invalid="ignore"):
        return _like(values / rolling_min(values, window) - 1, close)


def ma_distance(close: pd.DataFrame, window: int) -> pd.DataFrame:
    """Close over its `window`-session mean, minus 1: short-term reversal when the window is short."""
    values = _values(close)
    return _like(values / rolling_mean(values, window) - 1, close)


def ma_cross(close: pd.DataFrame, short: int, long: int) -> pd.DataFrame:
    """`short`-session mean close over the `long`-session mean, minus 1 (needs max of both)."""
    values = _values(close)
    return _like(rolling_mean(values, short) / rolling_mean(values, long) - 1, close)
