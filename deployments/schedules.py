"""When each flow runs, in one place: `alphapilot serve` uses these, and prefect.yaml must match.

Cron strings are read in New York time. tests/flows/test_deployments.py checks that prefect.yaml
(which cannot import Python) declares exactly these schedules, parameters and work pool. Nothing
here imports Prefect, so reading the table is free.
"""

from __future__ import annotations

TIMEZONE = "America/New_York"
WORK_POOL = "alphapilot"

CRON: dict[str, str] = {
    "data-update": "0 17 * * 1-5",  # 17:00 Mon-Fri: the store is current before the daily run
    "daily-live": "30 17 * * 1-5",  # 17:30 Mon-Fri: the flow ends "market closed" on holidays
    "champion-selection": "0 9 * * 6",  # Saturday 09:00: weekly retrain, compare and promote
}

PARAMETERS: dict[str, dict[str, object]] = {
    "data-update": {},
    "daily-live": {"dry_run": True},
    "champion-selection": {},
}
