"""One writer per home: the lock waits a bounded time, names its holder, and dies with its process."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from trading_core.home_lock import LOCK_FILE, HomeBusy, HomeLock

HOLD = """
import sys, time
from trading_core.home_lock import HomeLock
with HomeLock(sys.argv[1], 0, "daily-live 2024-01-05"):
    print("held", flush=True)
    time.sleep(float(sys.argv[2]))
"""


def hold_in_child(home: Path, seconds: float) -> subprocess.Popen:
    """A separate process that takes the lock and keeps it for `seconds`."""
    child = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(home), str(seconds)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parents[2],  # the repository
    )
    assert child.stdout.readline().strip() == "held"
    return child


def test_a_second_writer_is_refused_after_its_wait_naming_the_holder(tmp_path: Path):
    child = hold_in_child(tmp_path, 30)
    try:
        waited: list[str] = []
        start = time.monotonic()
        with pytest.raises(HomeBusy) as refused, HomeLock(tmp_path, 0.5, "approve", waited.append):
            pass
        assert 0.5 <= time.monotonic() - start < 5
        message = str(refused.value)
        assert f"process {child.pid}" in message and "daily-live 2024-01-05" in message
        assert "orchestration.lock_timeout_seconds" in message
        assert len(waited) == 1 and str(child.pid) in waited[0]  # told once that it waits
    finally:
        child.kill()
        child.wait()


def test_a_waiting_writer_goes_ahead_when_the_holder_finishes(tmp_path: Path):
    child = hold_in_child(tmp_path, 1.5)
    start = time.monotonic()
    with HomeLock(tmp_path, 30, "daily-live 2024-01-08"):
        waited = time.monotonic() - start  # it got the lock only once the holder let go
    assert 1.0 < waited < 15
    assert child.wait(15) == 0


def test_a_killed_holder_leaves_no_stale_lock(tmp_path: Path):
    child = hold_in_child(tmp_path, 60)
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    assert (tmp_path / LOCK_FILE).read_text()  # its holder note is still there...
    with HomeLock(tmp_path, 2, "daily-live"):  # ...but the kernel released the lock
        pass


def test_the_lock_file_is_empty_once_released_and_names_the_holder_while_held(tmp_path: Path):
    lock = HomeLock(tmp_path, 0, "data-update folder")
    with lock:
        assert f"process {os.getpid()}" in lock.holder() and "data-update folder" in lock.holder()
    assert (tmp_path / LOCK_FILE).read_text() == ""
    assert lock.holder() == ""


def test_the_lock_is_reentrant_in_its_thread_and_exclusive_across_threads(tmp_path: Path):
    outcome: list[str] = []

    def other_thread() -> None:
        try:
            with HomeLock(tmp_path, 0.2, "other"):
                outcome.append("entered")
        except HomeBusy:
            outcome.append("busy")

    with HomeLock(tmp_path, 0, "outer"), HomeLock(tmp_path, 0, "inner"):
        thread = threading.Thread(target=other_thread)
        thread.start()
        thread.join()
    assert outcome == ["busy"]
    other_thread()
    assert outcome == ["busy", "entered"]  # released by the outer exit only


def test_a_home_that_cannot_be_written_is_one_clear_error(tmp_path: Path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    from trading_core.home_lock import HomeNotWritable

    with pytest.raises(HomeNotWritable, match="cannot lock the home"), HomeLock(blocker, 0, "x"):
        pass
