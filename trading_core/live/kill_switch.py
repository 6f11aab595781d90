"""The kill switch: stop trading after a large daily loss or a weak recent risk-adjusted return.

`kill_switch` reads the account's equity curve (daily values, index: session dates) and trips on
- `daily_loss`: the last daily return is a loss beyond `max_daily_loss_pct` (a gain never trips).
  A loss of exactly the limit (970,000 after 1,000,000 at 3%) does not trip: like every limit of
  the safety validator it holds up to a rounding tolerance of 1e-9;
- `rolling_sharpe`: the annualized Sharpe ratio (risk-free rate 0, 252 sessions a year) of the last
  `lookback_sessions` daily returns is below `min_sharpe`; judged only once that many returns exist.

A daily loss is named first when both trip. A window of exactly equal returns has no standard
deviation: all zero (a flat, all-cash account) gives no Sharpe ratio and does not trip; all
positive or all negative gives +inf or -inf.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

PERIODS_PER_YEAR = 252
TOLERANCE = 1e-9  # rounding allowed on a limit (970000 / 1e6 - 1 is -0.030000000000000027)


@dataclass(frozen=True)
class KillSwitchState:
    """Whether the switch tripped, on which rule, the figures it read, and a sentence saying why."""

    triggered: bool
    reason: str | None  # "daily_loss" | "rolling_sharpe" | None
    daily_return: float | None  # None with fewer than two equity values
    rolling_sharpe: float | None  # None until `lookback_sessions` returns exist, or undefined
    detail: str


def kill_switch(
    equity_curve: pd.Series, max_daily_loss_pct: float, min_sharpe: float, lookback_sessions: int
) -> KillSwitchState:
    """The kill-switch state at the last date of `equity_curve` (daily account values)."""
    returns = equity_curve.dropna().sort_index().pct_change().dropna()
    daily = float(returns.iloc[-1]) if len(returns) else None
    sharpe = (
        rolling_sharpe(returns.iloc[-lookback_sessions:])
        if len(returns) >= lookback_sessions
        else None
    )
    if daily is not None and daily < -max_daily_loss_pct - TOLERANCE:
        reason = "daily_loss"
    elif sharpe is not None and sharpe < min_sharpe:
        reason = "rolling_sharpe"
    else:
        reason = None
    detail = _detail(reason, daily, sharpe, len(returns), lookback_sessions)
    limits = f" (limits: daily loss {max_daily_loss_pct:.2%}, Sharpe {min_sharpe:g})"
    return KillSwitchState(reason is not None, reason, daily, sharpe, detail + limits)


def rolling_sharpe(returns: pd.Series) -> float | None:
    """Annualized Sharpe ratio of daily `returns` (risk-free 0); None when mean and spread are 0."""
    mean = float(returns.mean())
    spread = float(returns.std(ddof=1))
    if spread > 0:
        return float(mean / spread * np.sqrt(PERIODS_PER_YEAR))
    return None if mean == 0 else float(np.sign(mean) * np.inf)


def _detail(
    reason: str | None, daily: float | None, sharpe: float | None, returns: int, lookback: int
) -> str:
    """One sentence: the rule that tripped (if any), the last return and the rolling Sharpe."""
    last = "no daily return yet" if daily is None else f"last daily return {daily:+.2%}"
    if returns < lookback:
        rolling = f"{returns} of {lookback} returns for the rolling Sharpe"
    else:
        rolling = f"{lookback}-session Sharpe " + (
            "undefined (no variation)" if sharpe is None else f"{sharpe:.2f}"
        )
    return (f"TRIPPED on {reason}: " if reason else "") + f"{last}; {rolling}"


@dataclass(frozen=True)
class KillSwitchStatus:
    """What a run reports: today's reading, and since when and why trading is halted (if it is)."""

    today: KillSwitchState
    engaged_since: date | None = None
    engaged_reason: str | None = None

    @property
    def halted(self) -> bool:
        return self.engaged_since is not None

    @property
    def message(self) -> str:
        """One sentence for the report and the log."""
        if not self.halted:
            return f"not engaged: {self.today.detail}"
        return (
            f"TRADING HALTED by the kill switch since {self.engaged_since:%Y-%m-%d} "
            f"({self.engaged_reason}); every trade is blocked until a person runs "
            '`alphapilot resume --reason "..."`'
        )

    def to_dict(self) -> dict:
        return {
            "triggered": self.today.triggered,
            "reason": self.today.reason,
            "daily_return": self.today.daily_return,
            "rolling_sharpe": self.today.rolling_sharpe,
            "detail": self.today.detail,
            "engaged": self.halted,
            "engaged_since": None if not self.halted else f"{self.engaged_since:%Y-%m-%d}",
            "engaged_reason": self.engaged_reason,
        }
