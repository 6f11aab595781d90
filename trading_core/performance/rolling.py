"""Rolling six-month figures of a daily return series: Sharpe ratio, volatility, beta.

Each function returns a Series on the sessions of `returns` whose value at t uses the `window`
sessions ending at t (126 by default, about six months), NaN until the window is full. Each
window's figure is the one `backtest.metrics` gives for that slice (`sharpe`,
`annual_volatility`, `beta`, with their NaN conventions), computed on all windows at once.
Sessions without a return (NaN) are left out.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from numpy.lib.stride_tricks import sliding_window_view

from trading_core.backtest.metrics import session_rate

WINDOW = 126  # sessions, about six months
MIN_SESSIONS = WINDOW + 21  # the first full window and a month of line after it


def _windows(values: np.ndarray, window: int) -> np.ndarray:
    """One row per full window ending at each session from the `window`-th on."""
    if len(values) < window:
        return np.empty((0, window))
    return sliding_window_view(values, window)


def _on_sessions(figures: np.ndarray, returns: pd.Series, name: str) -> pd.Series:
    """Per-window figures placed at each window's last session, NaN before the first full one."""
    padded = np.r_[np.full(len(returns) - len(figures), np.nan), figures]
    return pd.Series(padded, index=returns.index, name=name)


def rolling_sharpe(
    returns: pd.Series, cash_rate: float = 0.0, window: int = WINDOW, periods_per_year: int = 252
) -> pd.Series:
    """Annualized Sharpe ratio over the trailing `window` sessions, in excess of the cash rate."""
    returns = returns.dropna()
    excess = _windows(
        returns.to_numpy("float64") - session_rate(cash_rate, periods_per_year), window
    )
    spread = excess.std(axis=1, ddof=1)
    figures = excess.mean(axis=1) / np.where(spread > 1e-15, spread, np.nan)
    return _on_sessions(figures * np.sqrt(periods_per_year), returns, "sharpe")


def rolling_volatility(
    returns: pd.Series, window: int = WINDOW, periods_per_year: int = 252
) -> pd.Series:
    """Sample standard deviation over the trailing `window` sessions times sqrt(periods_per_year)."""
    returns = returns.dropna()
    spread = _windows(returns.to_numpy("float64"), window).std(axis=1, ddof=1)
    return _on_sessions(spread * np.sqrt(periods_per_year), returns, "volatility")


def rolling_beta(returns: pd.Series, benchmark: pd.Series, window: int = WINDOW) -> pd.Series:
    """Beta on the benchmark over the trailing `window` sessions.

    The benchmark is taken on the sessions of `returns`; a window with a session the benchmark
    lacks is NaN, as is one where the benchmark does not move.
    """
    returns = returns.dropna()
    ours = _windows(returns.to_numpy("float64"), window)
    market = _windows(benchmark.reindex(returns.index).to_numpy("float64"), window)
    centred = market - market.mean(axis=1, keepdims=True)
    variance = np.mean(centred**2, axis=1)
    figures = np.mean(centred * ours, axis=1) / np.where(variance > 1e-30, variance, np.nan)
    return _on_sessions(figures, returns, "beta")
