"""Serve the flows on their schedules without a work pool: `python -m deployments.serve`.

Needs a running Prefect server (`prefect server start`, then PREFECT_API_URL set to it): against
Prefect's temporary ephemeral server, schedules never fire. The schedules match prefect.yaml.
"""

from __future__ import annotations

import tasks  # noqa: F401  (offline, no-telemetry Prefect environment before Prefect loads)

# isort: split
from prefect import serve
from prefect.schedules import Cron

from flows.champion_selection import champion_selection
from flows.daily_live import daily_live
from flows.data_update import data_update

TIMEZONE = "America/New_York"


def main() -> None:
    """Serve data update (17:00), daily live (17:30, Mon-Fri) and champion selection (Sat 09:00)."""
    serve(
        data_update.to_deployment(
            name="data-update", schedule=Cron("0 17 * * 1-5", timezone=TIMEZONE)
        ),
        daily_live.to_deployment(
            name="daily-live",
            schedule=Cron("30 17 * * 1-5", timezone=TIMEZONE),
            parameters={"dry_run": True},
        ),
        champion_selection.to_deployment(
            name="champion-selection", schedule=Cron("0 9 * * 6", timezone=TIMEZONE)
        ),
    )


if __name__ == "__main__":
    main()
