"""The daily command's start-up: what it imports before its first step runs.

Every second of imports is paid by every daily run, a market-closed day included, so libraries
that only some runs need are imported where they are used: matplotlib by the first chart drawn,
scipy.special by the first p-value due (and scipy.stats not at all).
"""

from __future__ import annotations

import subprocess
import sys

DEFERRED = ("scipy", "matplotlib")


def test_importing_the_daily_command_leaves_scipy_and_matplotlib_for_later():
    script = (
        "import sys, flows.cli, flows.daily_live; "
        f"print(sorted({{m.split('.')[0] for m in sys.modules}} & set({DEFERRED!r})))"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split("\n")[-2] == "[]"
