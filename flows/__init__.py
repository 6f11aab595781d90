"""Prefect flows: data update, daily live run, champion selection; the CLI that starts them."""

import tasks  # noqa: F401  (sets Prefect's offline, no-telemetry environment before Prefect loads)
