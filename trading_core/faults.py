"""Crash points for recovery tests: SIGKILL this process where ALPHAPILOT_KILL_AT names the point.

Points: `task:<prefect task name>` (as a step starts), `write:<file name>` (a file written and
synced but not yet renamed into place), `ledger:before-commit` (a ledger change made but not
committed), `production:archived` (the old champion archived, the new one not yet written). The
variable takes a shell-style pattern. Unset (always, outside tests), a point does nothing.
"""

from __future__ import annotations

import os
import signal
from fnmatch import fnmatchcase

KILL_AT = "ALPHAPILOT_KILL_AT"


def crash_point(name: str) -> None:
    """Die at once, as a power cut or the OOM killer would, if the test environment asks for it."""
    pattern = os.environ.get(KILL_AT)
    if pattern and fnmatchcase(name, pattern):
        os.kill(os.getpid(), signal.SIGKILL)
