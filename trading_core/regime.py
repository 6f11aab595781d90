"""RegimeDetector: Risk-Off / Normal / Risk-On from the trend and volatility of a market index.

The index is the benchmark, or the equal-weight universe when the data has none (`source` says
which). Every value at session t uses index closes up to and including t only.

Per session, three readings of the index close `P`:

- trend: the fast and slow simple moving averages of `P` (`fast_window`, `slow_window` sessions);
  the trend is *up* when `P > fast > slow` and *down* when `P < slow` and `fast < slow`.
- volatility: the standard deviation of daily returns over `volatility_window` sessions.
- volatility rank: the fraction of the trailing `volatility_history` volatility readings (today
  included) at or below today's, so 1.0 is a new one-year high (trailing only, no look-ahead).

The raw regime of a session is

- Risk-Off when the trend is down, or when the volatility rank is at or above
  `high_volatility_quantile` and the trend is not up (stress: a fast crash is caught by its
  volatility weeks before the 50/200 averages cross);
- Risk-On when the trend is up and the volatility rank is at or below `low_volatility_quantile`;
- Normal otherwise, and on every session before all windows are full.

Hysteresis: the published label changes only when the raw regime has named the same new regime
on `confirm_sessions` consecutive sessions; it switches on the last of them (with 3: a raw change
on t, t+1 and t+2 moves the label on t+2). A single off-pattern session resets the count, so a
series that whipsaws around its averages keeps its label.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from trading_core.data.market import MarketData
from trading_core.data.universe import membership

RISK_OFF, NORMAL, RISK_ON = 0, 1, 2
LABELS = {RISK_OFF: "Risk-Off", NORMAL: "Normal", RISK_ON: "Risk-On"}
KEYS = {RISK_OFF: "risk_off", NORMAL: "normal", RISK_ON: "risk_on"}

BENCHMARK_SOURCE = "benchmark"
EQUAL_WEIGHT_SOURCE = "equal-weight universe (no benchmark in the data)"


def equal_weight_index(close: pd.DataFrame, members: pd.DataFrame | None = None) -> pd.Series:
    """An index that holds the listed symbols (the members, with a point-in-time universe) in
    equal weight, rebalanced daily (starts at 100)."""
    returns = close.pct_change(fill_method=None)
    if members is not None:
        returns = returns.where(members.reindex_like(returns).fillna(False).astype(bool))
    returns = returns.mean(axis=1).fillna(0.0)
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


def confirm(raw: np.ndarray, sessions: int, start: int = NORMAL) -> np.ndarray:
    """Hysteresis: adopt a new code only after `sessions` consecutive raw sessions name it."""
    out = np.empty(len(raw), dtype=np.int64)
    state, candidate, count = start, start, 0
    for i, code in enumerate(raw.tolist()):
        if code == state:
            count = 0
        elif code == candidate:
            count += 1
        else:
            candidate, count = code, 1
        if count >= sessions:
            state, count = candidate, 0
        out[i] = state
    return out


class RegimeDetector:
    """Labels each session Risk-Off / Normal / Risk-On from index trend and volatility rank."""

    def __init__(
        self,
        fast_window: int = 50,
        slow_window: int = 200,
        volatility_window: int = 20,
        volatility_history: int = 252,
        high_volatility_quantile: float = 0.8,
        low_volatility_quantile: float = 0.5,
        confirm_sessions: int = 3,
    ) -> None:
        if not 2 <= fast_window < slow_window:
            raise ValueError(
                f"need 2 <= fast_window < slow_window, got {fast_window}, {slow_window}"
            )
        if volatility_window < 2 or volatility_history < 2:
            raise ValueError("volatility_window and volatility_history must be at least 2")
        if not 0 < low_volatility_quantile < high_volatility_quantile < 1:
            raise ValueError(
                "need 0 < low_volatility_quantile < high_volatility_quantile < 1, got "
                f"{low_volatility_quantile}, {high_volatility_quantile}"
            )
        if confirm_sessions < 1:
            raise ValueError(f"confirm_sessions must be at least 1, got {confirm_sessions}")
        self.fast_window = fast_window
        self.slow_window = slow_window
        self.volatility_window = volatility_window
        self.volatility_history = volatility_history
        self.high_volatility_quantile = high_volatility_quantile
        self.low_volatility_quantile = low_volatility_quantile
        self.confirm_sessions = confirm_sessions

    @property
    def warmup_sessions(self) -> int:
        """Sessions of index closes needed before the first label that is not Normal by default."""
        return max(self.slow_window, self.volatility_window + self.volatility_history)

    def signals(self, index_close: pd.Series) -> pd.DataFrame:
        """Per date: close, moving averages, daily volatility, its trailing rank, raw and final code.

        NaN closes are dropped before the windows are taken; the frame has the non-NaN dates only.
        """
        close = index_close.dropna().astype("float64")
        fast = close.rolling(self.fast_window, min_periods=self.fast_window).mean()
        slow = close.rolling(self.slow_window, min_periods=self.slow_window).mean()
        returns = close.pct_change(fill_method=None)
        vol = returns.rolling(self.volatility_window, min_periods=self.volatility_window).std()
        rank = vol.rolling(self.volatility_history, min_periods=self.volatility_history).rank(
            method="max", pct=True
        )
        p, f, s, r = (x.to_numpy() for x in (close, fast, slow, rank))
        ready = ~(np.isnan(f) | np.isnan(s) | np.isnan(r))
        with np.errstate(invalid="ignore"):
            up = (p > f) & (f > s)
            down = (p < s) & (f < s)
            stress = (r >= self.high_volatility_quantile) & ~up
            calm = r <= self.low_volatility_quantile
        raw = np.where(down | stress, RISK_OFF, np.where(up & calm, RISK_ON, NORMAL))
        raw = np.where(ready, raw, NORMAL)
        return pd.DataFrame(
            {
                "close": close,
                "fast": fast,
                "slow": slow,
                "volatility": vol,
                "volatility_rank": rank,
                "raw": raw,
                "regime": confirm(raw, self.confirm_sessions),
            },
            index=close.index,
        )

    def history(
        self,
        index_close: pd.Series,
        start: str | pd.Timestamp | None = None,
        end: str | pd.Timestamp | None = None,
    ) -> pd.Series:
        """Regime code per date of `index_close` (int, named "regime"), optionally sliced.

        Computed from the first close on, so a range [start, end] is labelled with its warm-up
        taken from earlier dates; dates with a NaN close carry the last label (Normal at first).
        """
        codes = self.signals(index_close)["regime"]
        codes = codes.reindex(index_close.index).ffill().fillna(NORMAL).astype("int64")
        return codes.loc[start:end].rename("regime")

    def index_of(self, data: MarketData) -> tuple[pd.Series, str]:
        """The index the regime is measured on (benchmark, else equal-weight universe) and its name."""
        if data.benchmark is not None and data.benchmark.notna().any():
            return data.benchmark.dropna(), BENCHMARK_SOURCE
        members = None
        if data.universe is not None:
            members = membership(data.universe, data.dates, data.symbols)
        return equal_weight_index(data.close, members), EQUAL_WEIGHT_SOURCE

    def detect(self, data: MarketData) -> RegimeState:
        """The regime at the last date of `data`, from its benchmark or the equal-weight universe."""
        series, source = self.index_of(data)
        history = self.history(series)
        return RegimeState(
            code=int(history.iloc[-1]), source=source, history=history, index_close=series
        )
