"""Test-wide setup: Prefect offline in a temporary home, a shared Prefect test server, and data.

The environment is set before anything imports Prefect, so no test touches the network or the
user's ~/.prefect.
"""

from __future__ import annotations

import os
import tempfile

os.environ["PREFECT_HOME"] = tempfile.mkdtemp(prefix="alphapilot-prefect-")
os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
os.environ["DO_NOT_TRACK"] = "1"
os.environ.pop("PREFECT_API_URL", None)
for name in [n for n in os.environ if n.startswith("ALPHAPILOT")]:
    os.environ.pop(name)
# One thread per model fit: the suite runs in two processes on two cores, and a two-thread
# OpenMP fit beside a busy process crawls (a test that took 80 s this way takes 8 s with one).
os.environ["ALPHAPILOT__MODELING__N_JOBS"] = "1"

import prefect.main  # noqa: E402, F401  (configure Prefect's logging on the real stdout, once)
import pytest  # noqa: E402


@pytest.fixture(scope="session")
def prefect_server():
    """One temporary Prefect server for every flow test in the session."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=60):
        yield
