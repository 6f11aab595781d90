"""Serve the three flows on their schedules from one process, without a work pool.

`alphapilot serve` (or `python -m deployments.serve`). Needs a running Prefect server: against
Prefect's temporary ephemeral server schedules never fire, so this refuses to start without one.
The schedules come from deployments/schedules.py, as prefect.yaml's do.
"""

from __future__ import annotations

import tasks  # noqa: F401  (offline, no-telemetry Prefect environment before Prefect loads)

# isort: split
import asyncio
import contextlib
import sys
from pathlib import Path

from prefect.settings import get_current_settings

from deployments.schedules import CRON, PARAMETERS, TIMEZONE
from trading_core.errors import AlphapilotError

START_SERVER = (
    "run `prefect server start`, then "
    "`prefect config set PREFECT_API_URL=http://127.0.0.1:4200/api`"
)


class NoPrefectServer(AlphapilotError):
    """No Prefect server answers at PREFECT_API_URL, so schedules could never fire."""


def require_prefect_server(timeout_seconds: float = 10) -> str:
    """The URL of the Prefect API this process talks to; NoPrefectServer if none answers there."""
    from prefect.client.orchestration import get_client

    url = get_current_settings().api.url
    if not url:
        raise NoPrefectServer(f"PREFECT_API_URL is not set; {START_SERVER}")
    with get_client(sync_client=True, httpx_settings={"timeout": timeout_seconds}) as client:
        failure = client.api_healthcheck()
    if failure is not None:
        reason = f"{type(failure).__name__}: {failure}".splitlines()[0]
        raise NoPrefectServer(f"no Prefect server answers at {url} ({reason}); {START_SERVER}")
    return url


def deployment_parameters(
    name: str, home: str | Path | None = None, config: str | Path | None = None
) -> dict[str, object]:
    """Parameters of deployment `name`: its fixed ones plus absolute `home` and `config` if given."""
    parameters = dict(PARAMETERS[name])
    for key, path in (("home", home), ("config", config)):
        if path is not None:
            parameters[key] = str(Path(path).expanduser().resolve())
    return parameters


def serve_flows(home: str | Path | None = None, config: str | Path | None = None) -> None:
    """Register data-update, daily-live and champion-selection with their schedules; run them.

    Like `prefect.serve`, but through `Runner.add_flow` (what `flow.serve` uses): the runner runs
    the imported flows themselves, whatever folder it was started in, and takes the deployments
    off the work pool, so a worker left over from `prefect deploy` does not pick up their runs.
    Blocks until interrupted; on Ctrl-C or SIGTERM the deployments are paused.
    """
    from prefect.exceptions import TerminationSignal
    from prefect.runner import Runner
    from prefect.schedules import Cron

    from flows.champion_selection import champion_selection
    from flows.daily_live import daily_live
    from flows.data_update import data_update

    flows = {
        "data-update": data_update,
        "daily-live": daily_live,
        "champion-selection": champion_selection,
    }
    runner = Runner(name="alphapilot", pause_on_shutdown=True)
    for name, flow in flows.items():
        runner.add_flow(
            flow,
            name=name,
            schedule=Cron(CRON[name], timezone=TIMEZONE),
            parameters=deployment_parameters(name, home, config),
            paused=False,
        )
    with contextlib.suppress(KeyboardInterrupt, TerminationSignal):  # a clean stop: paused
        asyncio.run(runner.start())


def main() -> None:
    """`python -m deployments.serve`: check for a server, then serve with the environment's home."""
    try:
        require_prefect_server()
    except NoPrefectServer as exc:
        sys.exit(f"error: NoPrefectServer: {exc}")
    serve_flows()


if __name__ == "__main__":
    main()
