"""RegimeDetector: Risk-Off / Normal / Risk-On from the trend of the benchmark.

Risk-On when the close is above its fast moving average and the fast average is above the slow one;
Risk-Off when the close is below the slow average and the fast average is below it too; Normal
otherwise. Without a benchmark the equal-weight universe index stands in, and the result says so.
Every label at t uses closes up to and including t only.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from trading_core.data.market import MarketData

RISK_OFF, NORMAL, RISK_ON = 0, 1, 2
LABELS = {RISK_OFF: "Risk-Off", NORMAL: "Normal", RISK_ON: "Risk-On"}
KEYS = {RISK_OFF: "risk_off", NORMAL: "normal", RISK_ON: "risk_on"}


def equal_weight_index(close: pd.DataFrame) -> pd.Series:
    """An index that holds the listed symbols in equal weight, rebalanced daily (starts at 100)."""
    returns = close.pct_change(fill_method=None).mean(axis=1).fillna(0.0)
    return (100 * (1 + returns).cumprod()).rename("equal_weight_index")


@dataclass(frozen=True)
class RegimeState:
    """The regime on one date, where it came from, and its history."""

    code: int
    source: str
    history: pd.Series
    index_close: pd.Series

    @property
    def label(self) -> str:
        return LABELS[self.code]

    @property
    def key(self) -> str:
        return KEYS[self.code]


class RegimeDetector:
    """Labels each session with a regime from moving-average trend rules."""

    def __init__(self, fast_window: int = 50, slow_window: int = 200) -> None:
        self.fast_window = fast_window
        self.slow_window = slow_window

    def history(self, index_close: pd.Series) -> pd.Series:
        """Regime code per date; Normal until the slow average has its full window."""
        fast = index_close.rolling(self.fast_window, min_periods=self.fast_window).mean()
        slow = index_close.rolling(self.slow_window, min_periods=self.slow_window).mean()
        codes = np.where(
            (index_close > fast) & (fast > slow),
            RISK_ON,
            np.where((index_close < slow) & (fast < slow), RISK_OFF, NORMAL),
        )
        return pd.Series(codes, index=index_close.index, name="regime")

    def detect(self, data: MarketData) -> RegimeState:
        """The regime at the last date of `data`, from its benchmark or the equal-weight universe."""
        if data.benchmark is not None and len(data.benchmark.dropna()):
            series, source = data.benchmark.dropna(), "benchmark"
        else:
            series = equal_weight_index(data.close)
            source = "equal-weight universe (no benchmark in the data)"
        history = self.history(series)
        return RegimeState(
            code=int(history.iloc[-1]), source=source, history=history, index_close=series
        )
