"""Prefect flows: data update, daily live run and replay, training, champion selection.

The flow modules do not use `from __future__ import annotations`: `alphapilot serve` cloudpickles
each flow into a fresh process, where a type named only in a string annotation is unknown and the
run fails validating its parameters (tests/flows/test_flow_pickling.py).
"""

import tasks  # noqa: F401  (sets Prefect's offline, no-telemetry Prefect environment before Prefect loads)
