"""Reporting tasks: write a day's files and publish Prefect artifacts a person can open in the UI."""

from __future__ import annotations

from importlib.metadata import version
from pathlib import Path

from prefect import get_run_logger
from prefect.artifacts import (
    create_link_artifact,
    create_markdown_artifact,
    create_table_artifact,
)

from tasks.options import step
from trading_core.home import Home
from trading_core.live.operations import LivePortfolioManager
from trading_core.reporting.daily import DailyRun, daily_outputs, paper_account_outcome
from trading_core.reporting.markdown import markdown_text
from trading_core.reporting.trades_table import as_recorded, trades_table


@step("publish-daily-report")
def publish_daily(run: DailyRun, home: Home) -> dict:
    """Write the five output files of the day at once under `home` and attach its artifacts.

    Keyed by session (`daily-YYYY-MM-DD-trades`, `-summary`, `-report`), so the Artifacts page
    lists one entry per day whose latest version is the last run of that day: the trade table as
    the report formats it, the headline figures, and a link to the day's report.html.
    """
    files = daily_outputs(run, generated_by=f"alphapilot {version('alphapilot')}")
    manager = LivePortfolioManager(home)
    folder = manager.write_day(run.session, files)
    summary = run.summary()
    report = (folder / "report.html").resolve()
    key = f"daily-{run.session:%Y-%m-%d}"
    create_table_artifact(
        key=f"{key}-trades",
        table=trades_table(as_recorded(run.final_trades, run.ledger_status)),
        description=f"Trades for {run.session:%Y-%m-%d}, as in the report",
    )
    create_markdown_artifact(
        key=f"{key}-summary",
        markdown=summary_markdown(run, report),
        description=f"Run summary for {run.session:%Y-%m-%d}",
    )
    create_link_artifact(
        key=f"{key}-report",
        link=report.as_uri(),
        link_text=f"Daily report {run.session:%Y-%m-%d}",
        description=f"The report of {run.session:%Y-%m-%d} on the machine that ran it: {report}",
    )
    get_run_logger().info("outputs written to %s", folder)
    return {"folder": str(folder), **summary, "files": {name: str(folder / name) for name in files}}


def summary_markdown(run: DailyRun, report: Path) -> str:
    """The day's markdown artifact: the headline figures, the kill switch and the safety result."""
    summary = run.summary()
    kill = run.kill_switch
    rows = [
        ("regime", f"{summary['regime']} (from {summary['regime_source']})"),
        ("exposure", f"{summary['exposure']:.2%} (target {summary['target_exposure']:.2%})"),
        ("turnover", f"{summary['turnover']:.2%} one-way (½ Σ|Δw|)"),
        ("estimated cost", f"{summary['estimated_cost']:,.2f}"),
        ("trades", f"{summary['trades_proposed']} proposed, {summary['trades_blocked']} blocked"),
        (
            "paper account",
            paper_account_outcome(run.ledger_status, summary["date"], summary["trades_proposed"]),
        ),
        ("portfolio value", f"{summary['portfolio_value']:,.2f}"),
        ("kill switch", kill.message if kill else "not judged"),
        ("safety", "passed" if run.verdict.passed else "FAILED: trades blocked"),
    ]
    lines = [f"# Daily run {summary['date']}", "", "| item | value |", "|---|---|"]
    lines += [f"| {name} | {markdown_text(value)} |" for name, value in rows]
    if run.verdict.violations:
        lines += ["", "## Safety violations", ""]
        lines += [f"- {markdown_text(violation)}" for violation in run.verdict.violations]
    return "\n".join([*lines, "", f"Report: {markdown_text(report)}"])
