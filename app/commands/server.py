"""`alphapilot serve | automations create`: the flows on their schedules, the alerts about them.

Both need a running Prefect server (`prefect server start`); they import deployments/ only when
they run.
"""

from __future__ import annotations

from typing import Annotated

import typer

from app.options import ConfigOption, HomeOption
from app.steps import check_settings, run


def serve_cmd(home: HomeOption = None, config: ConfigOption = None) -> None:
    """Run the flows on their schedules from this process (needs a running `prefect server start`).

    New York time: data update 17:00 and daily run 17:30 Mon-Fri, champion selection Sat 09:00.

    --home and --config become the runs' parameters. Ctrl-C stops serving and pauses the schedules.
    """
    check_settings(config, home)
    from deployments.schedules import CRON, TIMEZONE
    from deployments.serve import require_prefect_server, serve_flows

    url = run(require_prefect_server)
    when = ", ".join(f"{name} '{cron}'" for name, cron in CRON.items())
    typer.echo(f"serving {when} ({TIMEZONE}) on {url}; Ctrl-C stops and pauses them")
    run(lambda: serve_flows(home=home, config=config))


def automations_create_cmd(
    home: HomeOption = None,
    config: ConfigOption = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print the definitions; create nothing.")
    ] = False,
) -> None:
    """Create the daily-live alerts on the Prefect server, or replace them (needs a server).

    One alerts when a daily-live run has not completed orchestration.daily_deadline_minutes after
    its start (late, stuck, failed), one when nothing serves the deployment. Both post to the
    Slack webhook of your settings through the Prefect notification block `alphapilot-slack`.
    """
    settings = check_settings(config, home)
    from uuid import UUID

    from prefect.settings import get_current_settings

    from deployments.automations import (
        BLOCK_NAME,
        create_automations,
        daily_automations,
        require_alert_channel,
    )
    from deployments.serve import require_prefect_server

    if dry_run:
        for automation in daily_automations(settings, UUID(int=0)):
            typer.echo(automation.model_dump_json(indent=2, exclude={"id"}))
        typer.echo(f"(block_document_id: the notification block {BLOCK_NAME!r}, not created)")
        return
    run(lambda: require_alert_channel(settings))
    run(require_prefect_server)
    for automation in run(lambda: create_automations(settings)):
        typer.echo(f"{automation.name} ({automation.id}): {automation.description}")
    typer.echo(
        f"alerts go to Slack through the notification block {BLOCK_NAME!r}; "
        f"see them in the UI under Automations: {get_current_settings().ui_url}/automations"
    )
