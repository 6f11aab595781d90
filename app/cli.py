"""The `alphapilot` command line: each command runs a Prefect flow ad hoc.

This module is the table of contents: the command groups and where each command lives
(app/commands/). Every failure, before or inside a flow, ends in one line on stderr and an exit
code that says what kind of failure it was (app/errors.py lists them); the traceback goes to
`<home>/logs/alphapilot.log` (app/logfile.py).

`--json` (daily, select, train, data update) prints exactly one JSON object on stdout, the
outcome with its `status`, paths and figures, or on failure `{"status": "error" | "blocked",
"error", "exit_code", "log"}`; everything else goes to stderr.
"""

from __future__ import annotations

import gc
import sys
from importlib.metadata import version
from typing import Annotated

import typer

from app.commands import account, champion, daily, data, demo, server
from app.errors import OneLineErrors
from app.invocation import Invocation

app = typer.Typer(
    cls=OneLineErrors,
    help="alphapilot: ML equity trading recommendations orchestrated by Prefect, on a paper "
    "account (dry run: no broker is involved).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
data_app = typer.Typer(
    help="Market data: update the local store, generate synthetic data.", no_args_is_help=True
)
account_app = typer.Typer(
    help="The paper account: start a new one on purpose.", no_args_is_help=True
)
automations_app = typer.Typer(
    help="Prefect Automations: alerts for a missed or stuck daily run.", no_args_is_help=True
)

app.command("select")(champion.select_cmd)
app.command("train")(champion.train_cmd)
app.command("daily")(daily.daily_cmd)
app.command("approve")(account.approve_cmd)
app.command("resume")(account.resume_cmd)
app.command("rollback")(champion.rollback_cmd)
app.command("demo")(demo.demo_cmd)
app.command("serve")(server.serve_cmd)
data_app.command("update")(data.data_update_cmd)
data_app.command("synth")(data.data_synth_cmd)
account_app.command("new")(account.account_new_cmd)
automations_app.command("create")(server.automations_create_cmd)
app.add_typer(data_app, name="data")
app.add_typer(account_app, name="account")
app.add_typer(automations_app, name="automations")


def _show_version(value: bool) -> None:
    if value:
        typer.echo(f"alphapilot {version('alphapilot')}")
        raise typer.Exit()


@app.callback()
def _start(
    show_version: Annotated[
        bool,
        typer.Option(
            "--version",
            "-V",
            callback=_show_version,
            is_eager=True,
            help="Print the version and exit.",
        ),
    ] = False,
) -> None:
    """Each command starts with no log file and plain (not JSON) answers."""
    from app.logfile import stop_logging

    stop_logging()
    Invocation.reset()


def main() -> None:
    """Console-script entry point."""
    try:
        app(prog_name="alphapilot")
    finally:
        # Python's collections at exit walk every object the run made: 0.5-0.9 s of a 7 s
        # daily run, for memory the process is about to give back anyway
        gc.freeze()


if __name__ == "__main__":
    sys.exit(main())
