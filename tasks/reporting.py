"""Reporting tasks: write a day's files and publish Prefect artifacts a person can open in the UI."""

from __future__ import annotations

from importlib.metadata import version
from pathlib import Path

from prefect import get_run_logger
from prefect.artifacts import create_markdown_artifact, create_table_artifact

from settings import Settings
from tasks.options import step
from trading_core.home import Home
from trading_core.live.operations import LivePortfolioManager
from trading_core.reporting.daily import DailyRun, daily_outputs
from trading_core.reporting.markdown import markdown_text


@step("publish-daily-report")
def publish_daily(run: DailyRun, settings: Settings) -> dict:
    """Write the five output files of the day at once and attach trade and summary artifacts."""
    files = daily_outputs(run, generated_by=f"alphapilot {version('alphapilot')}")
    manager = LivePortfolioManager(Home(settings.home))
    folder = manager.write_day(run.session, files)
    summary = run.summary()
    trades = run.final_trades
    key = f"daily-{run.session:%Y-%m-%d}"
    create_table_artifact(
        key=f"{key}-trades",
        table=trades.round(6).to_dict(orient="records"),
        description=f"Trades for {run.session:%Y-%m-%d}",
    )
    create_markdown_artifact(
        key=f"{key}-summary",
        markdown=summary_markdown(run, folder / "report.html"),
        description=f"Run summary for {run.session:%Y-%m-%d}",
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
        ("turnover", f"{summary['turnover']:.2%}"),
        ("estimated cost", f"{summary['estimated_cost']:,.2f}"),
        ("trades", f"{summary['trades_proposed']} proposed, {summary['trades_blocked']} blocked"),
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
