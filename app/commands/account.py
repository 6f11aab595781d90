"""`alphapilot approve | resume | account new`: the paper account's changes a person makes.

Each holds the home's one-writer lock. `approve` and `resume` open the existing ledger as the
daily flow opens it (`tasks.live.open_ledger`), never a new account; the ledger rewrites its
exports itself after every change.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import typer

from app.options import ConfigOption, HomeOption
from app.steps import locked, run

if TYPE_CHECKING:
    from settings import Settings
    from trading_core.live.ledger import Ledger


def approve_cmd(
    run_date: Annotated[
        datetime,
        typer.Option("--date", formats=["%Y-%m-%d"], help="The session whose trades to apply."),
    ],
    home: HomeOption = None,
    config: ConfigOption = None,
) -> None:
    """Apply a session's proposed trades at their recorded prices (once; refused if blocked)."""
    with locked(config, home, f"approve --date {run_date:%Y-%m-%d}") as settings:
        ledger = _existing_ledger(settings)
        record = run(lambda: ledger.approve(run_date.date()))
    typer.echo(
        f"{record.run_date}: trades applied; cash {record.cash_after:,.2f}, "
        f"account value {record.equity_after:,.2f}"
    )


def resume_cmd(
    reason: Annotated[
        str, typer.Option("--reason", help="Why trading may resume (kept in the ledger).")
    ],
    home: HomeOption = None,
    config: ConfigOption = None,
) -> None:
    """Release the kill switch: later runs may trade again. The reason and time are recorded."""
    import getpass

    with locked(config, home, "resume") as settings:
        ledger = _existing_ledger(settings)
        event = run(lambda: ledger.resume(reason, by=getpass.getuser()))
    typer.echo(f"kill switch released at {event.recorded_at} by {event.actor}: {event.reason}")


def account_new_cmd(
    from_positions: Annotated[
        bool,
        typer.Option(
            "--from-positions",
            help="Open with the holdings and cash of the last current_positions.csv export "
            "(default: all cash at live.initial_capital).",
        ),
    ] = False,
    home: HomeOption = None,
    config: ConfigOption = None,
) -> None:
    """Start a new paper account on purpose, after its ledger was lost or damaged.

    The old live/ folder is kept beside it as live.before-<UTC time>/; a working ledger is never
    replaced (move live/ away yourself to start over).
    """
    from trading_core.home import Home
    from trading_core.live.account import open_new_account

    with locked(config, home, "account new") as settings:
        capital = settings.live.initial_capital
        ledger, kept = run(lambda: open_new_account(Home(settings.home), capital, from_positions))
    positions = ledger.positions()
    typer.echo(
        f"new account in {ledger.path}: {int((positions.shares > 0).sum())} holdings, "
        f"cash {positions.cash:,.2f}"
        + (f"; the previous live/ folder is kept in {kept}" if kept else "")
    )


def _existing_ledger(settings: Settings) -> Ledger:
    """The home's ledger, opened by the flows' function; LedgerMissing rather than a new one."""
    from tasks.live import open_ledger
    from trading_core.home import Home

    return run(lambda: open_ledger(Home(settings.home), settings.live, create=False))
