"""Thin Prefect tasks, one per workflow step, wrapping trading_core. No trading logic lives here.

Importing this package makes Prefect run offline with no telemetry (it otherwise tries the network)
and gives its temporary server time to start on a busy machine.
"""

import os

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")
# A command with no Prefect server starts a temporary one: Prefect waits 20 s for it, which a busy
# two-core machine can exceed ("Timed out while attempting to connect to ephemeral Prefect API").
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "90")
