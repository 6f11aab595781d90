"""Thin Prefect tasks, one per workflow step, wrapping trading_core. No trading logic lives here.

Importing this package makes Prefect run offline with no telemetry (it otherwise tries the network).
"""

import os

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")
