"""Reporting tasks: write a day's files and publish Prefect artifacts a person can open in the UI."""

from __future__ import annotations

from importlib.metadata import version

from prefect import get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE

from settings import Settings
from trading_core.home import Home
from trading_core.live.operations import LivePortfolioManager
from trading_core.reporting.daily import DailyRun, daily_outputs


@task(name="publish-daily-report", cache_policy=NO_CACHE)
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
        markdown="\n".join(
            [f"# Daily run {summary['date']}", "", "| item | value |", "|---|---|"]
            + [f"| {k} | {v} |" for k, v in summary.items()]
            + ["", f"Report: `{folder / 'report.html'}`"]
        ),
        description=f"Run summary for {run.session:%Y-%m-%d}",
    )
    get_run_logger().info("outputs written to %s", folder)
    return {"folder": str(folder), **summary, "files": {name: str(folder / name) for name in files}}
