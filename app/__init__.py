"""The front door: the `alphapilot` command line (`app.cli`), its log file and its early server.

Nothing in flows/, tasks/, trading_core/, settings/ or deployments/ imports this package: the
command line sits on top and starts the flows, never the reverse.
"""

import tasks  # noqa: F401  (offline, no-telemetry Prefect environment before Prefect loads)
