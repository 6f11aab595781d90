"""The alerts of the daily run and of a failed flow, built from plain values.

- `kill_switch_alert`: the kill switch engaged on this session (trading halted until resumed);
- `safety_block_alert`: the safety checks blocked every trade of a session;
- `daily_summary_alert`: the headline figures of a session (only when asked for);
- `failure_alert`: a flow run failed or crashed, with the failed tasks and their errors.

Each takes the flow run's page in the Prefect UI as `link` (a URL string, None when there is no
UI to open); the renderings in messages.py show it as "Open the run in Prefect". The day's
alerts keep the path of the report as a line of their own.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date

from trading_core.alerts.messages import Alert

PERCENT = {"turnover", "exposure", "target_exposure", "daily_return"}
MONEY = {"estimated_cost", "portfolio_value"}
MAX_TASKS = 10  # failed tasks listed in one failure alert


def figure(name: str, value: object) -> str:
    """`name: value` for a person: fractions as percentages, money with thousands separators."""
    label = name.replace("_", " ")
    if isinstance(value, bool) or value is None:
        return f"{label}: {value}"
    if name in PERCENT and isinstance(value, int | float):
        return f"{label}: {value:.2%}"
    if name in MONEY and isinstance(value, int | float):
        return f"{label}: {value:,.2f}"
    return f"{label}: {value}"


def kill_switch_alert(
    session: date,
    reason: str | None,
    daily_return: float | None,
    rolling_sharpe: float | None,
    detail: str = "",
    violations: Sequence[str] = (),
    report_path: str | None = None,
    link: str | None = None,
) -> Alert:
    """The kill switch engaged on `session`: why, the figures it read, other violations of the day."""
    lines = [
        "Trading is HALTED: every trade is blocked until a person runs "
        '`alphapilot resume --reason "..."`.',
        "last daily return: " + ("n/a" if daily_return is None else f"{daily_return:+.2%}"),
        "rolling Sharpe: " + ("n/a" if rolling_sharpe is None else f"{rolling_sharpe:.2f}"),
    ]
    if detail:
        lines.append(detail)
    others = [v for v in violations if not (detail and detail in v)]  # the switch is said above
    if others:
        lines += ["Other safety violations:", *(f"- {v}" for v in others)]
    if report_path:
        lines.append(f"Report: {report_path}")
    return Alert(f"Kill switch engaged on {session:%Y-%m-%d} ({reason})", "error", lines, link)


def safety_block_alert(
    session: date,
    violations: Sequence[str],
    figures: Mapping[str, object],
    report_path: str | None = None,
    link: str | None = None,
) -> Alert:
    """The safety checks failed on `session`: every violation and the run's key figures."""
    lines = ["Every trade of the session is blocked. Violations:"]
    lines += [f"- {v}" for v in violations]
    lines += [figure(name, value) for name, value in figures.items()]
    if report_path:
        lines.append(f"Report: {report_path}")
    title = f"Trades for {session:%Y-%m-%d} BLOCKED by the safety checks"
    return Alert(title, "error", lines, link)


def daily_summary_alert(
    summary: Mapping[str, object], report_path: str | None = None, link: str | None = None
) -> Alert:
    """The headline figures of one daily run (the `DailyRun.summary()` mapping)."""
    shown = [
        "regime",
        "exposure",
        "turnover",
        "estimated_cost",
        "trades_proposed",
        "trades_blocked",
        "portfolio_value",
        "safety_passed",
        "kill_switch_engaged",
    ]
    lines = [figure(name, summary[name]) for name in shown if name in summary]
    if report_path:
        lines.append(f"Report: {report_path}")
    title = f"Daily run {summary.get('date', '')}: {summary.get('trades_proposed', 0)} trades"
    return Alert(title, "info", lines, link)


def failure_alert(
    flow_name: str,
    run_name: str,
    state_name: str,
    error: str,
    failed_tasks: Sequence[tuple[str, str]] = (),
    link: str | None = None,
) -> Alert:
    """Flow run `run_name` of `flow_name` ended `state_name` (Failed, Crashed) with `error`."""
    lines = [f"Error: {error}"]
    if failed_tasks:
        lines.append("Failed tasks:")
        lines += [f"- {name}: {message}" for name, message in failed_tasks[:MAX_TASKS]]
        if len(failed_tasks) > MAX_TASKS:
            lines.append(f"- and {len(failed_tasks) - MAX_TASKS} more")
    return Alert(f"Flow {flow_name} {state_name} (run {run_name})", "error", lines, link)
