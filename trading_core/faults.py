"""Crash points for recovery tests: SIGKILL this process where ALPHAPILOT_KILL_AT names the point.

Points: `task:<prefect task name>` (as a step starts), `write:<file name>` (a file written and
synced but not yet renamed into place), `ledger:before-commit` (a ledger change made but not
committed), `production:archived` (the old champion archived, the new one not yet written). The
variable takes a shell-style pattern. Unset (always, outside tests), a point does nothing.

ALPHAPILOT_HOLD_AT pauses instead, at the points it names, until the file ALPHAPILOT_RELEASE_FILE
exists (at most `HOLD_LIMIT` seconds): a concurrency test holds one run at a known point while
another starts, instead of hoping the first is still running.
"""

from __future__ import annotations

import os
import signal
import time
from fnmatch import fnmatchcase
from pathlib import Path

KILL_AT = "ALPHAPILOT_KILL_AT"
HOLD_AT, RELEASE_FILE = "ALPHAPILOT_HOLD_AT", "ALPHAPILOT_RELEASE_FILE"
HOLD_LIMIT = 120.0


def crash_point(name: str) -> None:
    """Die at once, as a power cut or the OOM killer would, if the test environment asks for it."""
    pattern = os.environ.get(KILL_AT)
    if pattern and fnmatchcase(name, pattern):
        os.kill(os.getpid(), signal.SIGKILL)
    hold = os.environ.get(HOLD_AT)
    if hold and fnmatchcase(name, hold):
        release, deadline = Path(os.environ[RELEASE_FILE]), time.monotonic() + HOLD_LIMIT
        while not release.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
