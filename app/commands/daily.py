"""`alphapilot daily`: one session's run, or a replay of past sessions in order."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Optional

import typer

from app.answers import reply
from app.errors import fail
from app.invocation import Invocation
from app.options import ConfigOption, HomeOption, JsonOption, path_str
from app.steps import check_settings, run_flow, start_prefect_early

# the daily run's `--json` status, from the ledger's record of the run (a blocked run raises)
ACCOUNT_STATUS = {"applied": "applied", "proposed": "awaiting_approval"}


def daily_cmd(
    run_date: Annotated[
        Optional[datetime],
        typer.Option(
            "--date", formats=["%Y-%m-%d"], help="Session to run for (default: today, New York)."
        ),
    ] = None,
    dry_run: Annotated[
        bool,
        typer.Option(
            "--dry-run/--live",
            help="Paper trading, no broker involved (the default); --live is refused: no broker "
            "adapter exists.",
        ),
    ] = True,
    replay_from: Annotated[
        Optional[datetime],
        typer.Option(
            "--from",
            formats=["%Y-%m-%d"],
            help="Replay every session from this date (paper trading, auto-approved), in order.",
        ),
    ] = None,
    replay_to: Annotated[
        Optional[datetime],
        typer.Option(
            "--to", formats=["%Y-%m-%d"], help="Last session of a replay (default: last stored)."
        ),
    ] = None,
    home: HomeOption = None,
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """Daily live run: scores, regime, target portfolio, trades, safety checks and report.

    The trades are applied to the paper account at once, or wait for `alphapilot approve` when
    live.require_manual_approval is set; a blocked run applies nothing (exit code 1).
    With --from (and --to), replays the daily run over past sessions as of each date.
    """
    Invocation.json = as_json
    if replay_from is not None and run_date is not None:
        fail("use either --date or --from/--to, not both")
    if replay_to is not None and replay_from is None:
        fail("--to needs --from")
    check_settings(config, home)
    start_prefect_early()
    if replay_from is not None:
        from flows.daily_replay import daily_replay

        summary = run_flow(
            lambda: daily_replay(
                start=replay_from.date(),
                end=replay_to.date() if replay_to else None,
                home=path_str(home),
                config=path_str(config),
            )
        )
        reply(
            {"status": "ok", **summary},
            lambda: typer.echo(
                f"replayed {summary['sessions']} sessions {summary['first']}..{summary['last']}"
            ),
        )
        return
    from flows.daily_live import daily_live

    result = run_flow(
        lambda: daily_live(
            run_date=run_date.date() if run_date else None,
            dry_run=dry_run,
            home=path_str(home),
            config=path_str(config),
        )
    )
    reply(_daily_outcome(result), lambda: print_daily(result))


def print_daily(result: dict) -> None:
    """The run for a person: the figures, the paper account's fate and the files written."""
    if result.get("market_closed"):
        typer.echo(result["reason"])
        return
    typer.echo(
        f"{result['date']}: regime {result['regime']}, exposure {result['exposure']:.0%}, "
        f"{result['trades_proposed']} trades, one-way turnover {result['turnover']:.1%}, "
        f"estimated cost {result['estimated_cost']:,.2f}"
    )
    from trading_core.reporting.daily import paper_account_outcome

    outcome = paper_account_outcome(
        result["ledger_status"], result["date"], result["trades_proposed"]
    )
    typer.echo(f"paper account: {outcome}")
    for name, path in result["files"].items():
        typer.echo(f"  {name:<22} {path}")


def _daily_outcome(result: dict) -> dict[str, Any]:
    """The daily run for scripts: `market_closed`, `applied` or `awaiting_approval` (a blocked
    run is a failure, exit code 1), the figures and the files."""
    if result.get("market_closed"):
        return {"status": "market_closed", **result}
    return {"status": ACCOUNT_STATUS[result["ledger_status"]], **result}
