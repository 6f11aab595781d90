"""Trailing-window statistics on numpy arrays, the engine under the feature modules.

Implements, for arrays whose first axis is time (one row per session; 1-D or 2-D):

- `shift`: values `periods` rows earlier, NaN where there is no earlier row.
- `rolling_sum`, `rolling_mean`, `rolling_power_means`, `rolling_var`, `rolling_skew`: from
  cumulative sums, O(T x N) whatever the window.
- `rolling_pair_moments`: the window means behind a rolling covariance, E[xy] - E[x]E[y].
- `rolling_max`, `rolling_min`: by doubling (sparse table), about log2(window) passes.
- `rolling_max_drawdown`: worst peak-to-trough log change inside the window, by doubling.

Every statistic at row t uses rows t - window + 1 .. t only and is NaN unless all `window` of
those rows are present (pandas' `rolling(window, min_periods=window)`): never centred, never
filled from later rows. Values at row t depend only on rows up to t, so cutting an array at t
leaves the earlier results bit for bit unchanged.
"""

from __future__ import annotations

import numpy as np

# a window variance below this fraction of the window's mean square is rounding noise, not spread
_VARIANCE_FLOOR = 1e-12


def shift(values: np.ndarray, periods: int) -> np.ndarray:
    """`values` moved `periods` rows later (values[t - periods] at row t); the first rows NaN."""
    out = np.empty_like(values)
    if periods >= len(values):
        out[:] = np.nan
        return out
    out[:periods] = np.nan
    out[periods:] = values[: len(values) - periods]
    return out


def _blank_gaps(means: list[np.ndarray], missing: np.ndarray, window: int) -> None:
    """Set NaN, in place, where a row within the last `window` rows is missing or absent."""
    if missing.any():
        counts = np.cumsum(missing, axis=0, dtype=np.int32)
        gaps = counts.copy()
        np.subtract(counts[window:], counts[:-window], out=gaps[window:])
        in_window = gaps > 0
        for mean in means:
            mean[in_window] = np.nan
    for mean in means:
        mean[: window - 1] = np.nan


def _window_sums(filled: np.ndarray, window: int) -> np.ndarray:
    """filled[t - window + 1] + ... + filled[t] from a cumulative sum (no missing values)."""
    cumulative = np.cumsum(filled, axis=0)
    total = np.empty_like(cumulative)
    total[:window] = cumulative[:window]
    np.subtract(cumulative[window:], cumulative[:-window], out=total[window:])
    return total


def rolling_power_means(values: np.ndarray, window: int, powers: int) -> list[np.ndarray]:
    """Means of values, values^2, ..., values^powers over the last `window` rows.

    NaN unless all `window` rows are present; the missing-row bookkeeping is done once.
    """
    missing = np.isnan(values)
    filled = np.where(missing, 0.0, values)
    means, power = [], filled
    for k in range(1, powers + 1):
        if k > 1:
            power = power * filled
        mean = _window_sums(power, window)
        mean /= window
        means.append(mean)
    _blank_gaps(means, missing, window)
    return means


def rolling_pair_moments(
    x: np.ndarray, y: np.ndarray, window: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Window means of x, y, x^2, y^2 and x*y (y broadcast against x), for covariances.

    NaN unless both x and y are present on all `window` rows.
    """
    x, y = np.broadcast_arrays(x, y)
    missing = np.isnan(x) | np.isnan(y)
    x = np.where(missing, 0.0, x)
    y = np.where(missing, 0.0, y)
    means = []
    for product in (x, y, x * x, y * y, x * y):
        mean = _window_sums(product, window)
        mean /= window
        means.append(mean)
    _blank_gaps(means, missing, window)
    mean_x, mean_y, mean_xx, mean_yy, mean_xy = means
    return mean_x, mean_y, mean_xx, mean_yy, mean_xy


def rolling_sum(values: np.ndarray, window: int) -> np.ndarray:
    """Sum of the last `window` rows; NaN unless all of them are present."""
    missing = np.isnan(values)
    total = _window_sums(np.where(missing, 0.0, values), window)
    _blank_gaps([total], missing, window)
    return total


def rolling_mean(values: np.ndarray, window: int) -> np.ndarray:
    """Mean of the last `window` rows; NaN unless all of them are present."""
    (mean,) = rolling_power_means(values, window, 1)
    return mean


def rolling_var(values: np.ndarray, window: int, ddof: int = 1) -> np.ndarray:
    """Variance of the last `window` rows (divisor window - ddof); 0 for a constant window."""
    mean, mean_square = rolling_power_means(values, window, 2)
    mean_square -= mean * mean
    np.maximum(mean_square, 0.0, out=mean_square)
    mean_square *= window / (window - ddof)
    return mean_square


def rolling_skew(values: np.ndarray, window: int) -> np.ndarray:
    """Sample skewness of the last `window` rows (adjusted Fisher-Pearson, as pandas' `skew`).

    NaN for a window with no spread (the skewness of a constant is undefined).
    """
    mean, mean_square, mean_cube = rolling_power_means(values, window, 3)
    # third central moment E[x^3] - 3 m E[x^2] + 2 m^3, and the variance E[x^2] - m^2
    square = mean * mean
    third = mean_cube
    third -= 3 * mean * mean_square
    third += 2 * square * mean
    variance = mean_square - square
    with np.errstate(invalid="ignore", divide="ignore"):
        flat = variance <= _VARIANCE_FLOOR * mean_square
        third /= variance**1.5
    third[flat] = np.nan
    third *= np.sqrt(window * (window - 1)) / (window - 2)
    return third


def _lagged_combine(values: np.ndarray, lag: int, combine: np.ufunc) -> np.ndarray:
    """combine(values[t], values[t - lag]) at row t; NaN in the first `lag` rows."""
    out = np.empty_like(values)
    lag = min(lag, len(values))
    out[:lag] = np.nan
    combine(values[lag:], values[: len(values) - lag], out=out[lag:])
    return out


def _doubling(values: np.ndarray, window: int, combine: np.ufunc) -> np.ndarray:
    """combine-reduction (max or min) over the last `window` rows via overlapping 2^k blocks."""
    block, size = values, 1
    while 2 * size <= window:
        block = _lagged_combine(block, size, combine)
        size *= 2
    # two blocks of `size` rows ending at t and at t - (window - size) cover the window exactly
    out = _lagged_combine(block, window - size, combine)
    out[: window - 1] = np.nan
    return out


def rolling_max(values: np.ndarray, window: int) -> np.ndarray:
    """Maximum of the last `window` rows; NaN unless all of them are present."""
    return _doubling(values, window, np.maximum)


def rolling_min(values: np.ndarray, window: int) -> np.ndarray:
    """Minimum of the last `window` rows; NaN unless all of them are present."""
    return _doubling(values, window, np.minimum)


def _join(
    earlier: tuple[np.ndarray, np.ndarray, np.ndarray],
    later: tuple[np.ndarray, np.ndarray, np.ndarray],
    lag: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(high, low, fall) of a run of rows ending `lag` rows before t followed by one ending at t."""
    n = len(later[0])
    lag = min(lag, n)
    early = [a[: n - lag] for a in earlier]
    high, low, fall = (np.empty_like(a) for a in later)
    for out in (high, low, fall):
        out[:lag] = np.nan
    np.maximum(early[0], later[0][lag:], out=high[lag:])
    np.minimum(early[1], later[1][lag:], out=low[lag:])
    drop = fall[lag:]
    np.subtract(later[1][lag:], early[0], out=drop)  # from the earlier high to the later low
    np.minimum(drop, early[2], out=drop)
    np.minimum(drop, later[2][lag:], out=drop)
    return high, low, fall


def rolling_max_drawdown(log_values: np.ndarray, window: int) -> np.ndarray:
    """Largest fall min(x[s] - x[u] for u <= s) within the last `window` rows (<= 0).

    On log prices it is the log of one plus the maximum drawdown. A run of rows is summarised by
    (highest, lowest, largest fall); two adjacent runs A then B combine as (max of highs, min of
    lows, min(fall A, fall B, low B - high A)), so windows are assembled from 2^k-row blocks.
    """
    # block summaries of `size` rows ending at each row, and the window built so far (`covered`)
    block = (log_values, log_values, np.where(np.isnan(log_values), np.nan, 0.0))
    built, covered, size = None, 0, 1
    while size <= window:
        if window & size:
            # this block goes just before the rows already covered
            built = block if built is None else _join(block, built, covered)
            covered += size
        if 2 * size <= window:
            block = _join(block, block, size)
        size *= 2
    assert built is not None
    fall = built[2]  # a new array: only the first block's high and low are the input itself
    fall[: window - 1] = np.nan
    return fall
