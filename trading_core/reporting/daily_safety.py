"""The daily report's safety story as view models: the verdict banner and the kill switch.

- `verdict_banner`: what the run did to the paper account: blocked (with every violation),
  applied, awaiting approval (with the command that applies it), only ready, or nothing to do.
- `kill_switch_view`: the halt banner (since when, why, the command that releases it) and today's
  reading for the safety section.

Both read the run's own `SafetyVerdict` and `KillSwitchStatus` (`trading_core.live`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date

import numpy as np

from trading_core.live.kill_switch import KillSwitchStatus
from trading_core.live.safety_checks import SafetyVerdict
from trading_core.reporting.daily_sections import words
from trading_core.reporting.formatting import finite_number, percent, plain_text

BLOCKED_TRADES = "Trades \u2014 blocked, nothing applied"
# each check of `live.safety_checks` as the page names it (any other: its name in words)
CHECK_TITLES = {
    "weights_defined": "Every weight defined",
    "long_only": "Long only",
    "position_cap": "Position cap",
    "sector_cap": "Sector cap",
    "gross_exposure": "Gross exposure",
    "target_exposure": "Exposure on target",
    "turnover": "Turnover",
    "trade_size": "Trade size",
    "estimated_cost": "Estimated cost",
    "prices_valid": "Prices valid",
    "prices_fresh": "Prices fresh",
    "kill_switch": "Kill switch",
}
RESUME_COMMAND = 'alphapilot resume --reason "why trading may resume"'
_KILL_REASONS = {
    "daily_loss": "a daily loss larger than the limit",
    "rolling_sharpe": "the rolling Sharpe ratio fell below the minimum",
}


@dataclass(frozen=True)
class Banner:
    """The verdict at the top of the page; `kind` is its CSS class (blocked, idle, pending, ready)."""

    kind: str
    headline: str
    detail: str
    trades_title: str
    items: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class KillSwitchView:
    """The kill switch as the page shows it; `known` is False when it was not read for the run."""

    known: bool
    halted: bool = False
    since: str = ""
    why: str = ""
    resume: str = RESUME_COMMAND
    triggered: bool = False
    status: str = ""
    daily_return: str = ""
    rolling_sharpe: str = ""
    detail: str = ""


def verdict_banner(
    verdict: SafetyVerdict,
    kill: KillSwitchStatus | None,
    n_trades: int,
    ledger_status: str | None,
    session: date,
    dry_run: bool,
) -> Banner:
    """Blocked (with the violations), or what the run did to the paper account.

    Applied to it, awaiting approval (with the command), or only ready when the run was not
    recorded (`ledger_status` None). A halted kill switch blocks even when every check passed
    (it should not).
    """
    if not verdict.passed:
        return Banner(
            "blocked",
            "BLOCKED \u2014 the safety checks failed",
            "Nothing was applied to the paper account, and nothing may be until every "
            "violation below is resolved.",
            BLOCKED_TRADES,
            verdict.violations,
        )
    if kill is not None and kill.halted:
        return Banner(
            "blocked",
            "BLOCKED \u2014 trading is halted by the kill switch",
            "Nothing was applied to the paper account, and nothing may be until the "
            "kill switch is released.",
            BLOCKED_TRADES,
        )
    broker = " Paper trading: no broker is involved." if dry_run else ""
    if n_trades == 0:
        return Banner(
            "idle",
            "No trades \u2014 the portfolio is on target",
            "All safety checks passed; nothing to apply to the paper account." + broker,
            "Trades",
        )
    trades = f"{n_trades} {'trade' if n_trades == 1 else 'trades'}"
    if ledger_status == "proposed":
        approve = f"alphapilot approve --date {session.isoformat()}"
        return Banner(
            "pending",
            f"{trades} awaiting approval",
            "All safety checks passed. Nothing is applied to the paper account until "
            f"you run `{approve}`." + broker,
            "Trades awaiting approval",
        )
    if ledger_status == "applied":
        return Banner(
            "ready",
            f"{trades} applied to the paper account",
            "All safety checks passed." + broker,
            "Trades applied to the paper account",
        )
    return Banner("ready", f"{trades} ready", "All safety checks passed." + broker, "Trades")


def kill_switch_view(status: KillSwitchStatus | None) -> KillSwitchView:
    """The halt banner (since, why, how to release) and today's reading for the safety section."""
    if status is None:
        return KillSwitchView(known=False)
    today = status.today
    daily = finite_number(today.daily_return)
    return KillSwitchView(
        known=True,
        halted=status.halted,
        since=f"{status.engaged_since:%Y-%m-%d}" if status.halted else "",
        why=_kill_reason(status.engaged_reason),
        triggered=today.triggered,
        status=f"TRIPPED on {_kill_reason(today.reason)}" if today.triggered else "not tripped",
        daily_return=(
            percent(daily, 2, signed=True)
            if daily is not None
            else "none yet (needs two account values)"
        ),
        rolling_sharpe=_sharpe(today.rolling_sharpe),
        detail=plain_text(today.detail, ""),
    )


def _kill_reason(reason: str | None) -> str:
    code = plain_text(reason, "")
    if not code:
        return "no reason recorded"
    text = _KILL_REASONS.get(code)
    return f"{text} ({code})" if text else code


def _sharpe(value: float | None) -> str:
    """A Sharpe ratio to two decimals; +/- infinity for a window of equal returns."""
    number = finite_number(value)
    if number is not None:
        return f"{number:.2f}"
    if isinstance(value, (float, np.floating)) and math.isinf(value):
        return "+\u221e" if value > 0 else "\u2212\u221e"
    return "not judged yet (too few returns, or no variation)"


def check_rows(verdict: SafetyVerdict) -> list[dict[str, object]]:
    """The verdict's checks as the page lists them: a title in words, passed, the detail."""
    return [
        {"title": CHECK_TITLES.get(c.name) or words(c.name), "passed": c.passed, "detail": c.detail}
        for c in verdict.checks
    ]
