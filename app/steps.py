"""How a command runs its steps: settings checked first, the home locked when it writes,
Prefect's temporary server started early, each step behind a console without tracebacks.

A failing step ends the command in one line on stderr and its exit code (`app.errors`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import typer

from app.errors import ExitCode, refuse
from app.invocation import Invocation
from app.options import path_str

if TYPE_CHECKING:
    from settings import Settings

T = TypeVar("T")


def run(step: Callable[[], T]) -> T:
    """Run `step` with Prefect's console showing log lines without their tracebacks."""
    from app.logfile import quiet_console

    quiet_console()
    return step()


def start_prefect_early(*preload: str) -> None:
    """Called by every command that runs a flow, before it imports the flows: Prefect's temporary
    server (when no server is configured) starts now, overlapping the imports.

    `preload`: modules the command's flows import on first use. They are imported just before
    the first flow run, while the server may still be starting and the command would only wait.
    """
    from app.early_server import start_early

    Invocation.server_ready, Invocation.preload = start_early(), preload


def run_flow(step: Callable[[], T]) -> T:
    """`run` for a step that runs a flow: once the early-started server answers, and without
    Prefect's flow-run heartbeats unless the user set their frequency.

    The flow runs in the foreground, in this process, which reports its own end or crash; the
    server-side alert on a daily run that does not complete (`deployments.automations`) reads
    state events, not heartbeats. Prefect's heartbeat thread sleeps in 1 s steps and each flow
    run's end waits for its next step: 0-1 s added to every run, 0.5 s on average.
    """
    from importlib import import_module

    from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings

    for module in Invocation.preload:
        import_module(module)
    Invocation.preload = ()
    Invocation.server_ready()
    with temporary_settings(set_defaults={PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}):
        return run(step)


def check_settings(config: Path | None, home: Path | None) -> Settings:
    """Fail fast on invalid settings, before a Prefect flow run is started; the settings.

    From here on, the log lines and any traceback go to the home's log file (if the home exists).
    """
    from app.logfile import log_to
    from settings import load_settings

    settings = run(lambda: load_settings(path_str(config), path_str(home)))
    Invocation.home = settings.home
    log_to(settings.home)
    return settings


@contextmanager
def locked(config: Path | None, home: Path | None, command: str) -> Iterator[Settings]:
    """The settings, with the home's one-writer lock held for the command (waiting if need be):
    the lock the flows take (`tasks.components.home_lock`)."""
    from tasks.components import home_lock

    settings = check_settings(config, home)
    if not Path(settings.home).is_dir():
        refuse(
            f"no alphapilot home at {settings.home}: nothing to {command.split()[0]}",
            ExitCode.INPUT,
        )
    lock = home_lock(
        settings.home,
        settings.orchestration,
        command,
        on_wait=lambda message: typer.echo(message, err=True),
    )
    run(lock.__enter__)
    try:
        yield settings
    finally:
        lock.__exit__(None, None, None)
