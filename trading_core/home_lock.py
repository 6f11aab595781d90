"""One writer per home: an exclusive OS lock held by every command that changes a home.

The lock is `flock` on `<home>/.alphapilot.lock`. The kernel releases it when its process ends,
however it ends (a crash or SIGKILL leaves no stale lock behind). While held, the file names its
holder (process, command, host, since when) so that a second writer, after waiting its bounded
time, can say who is in the way; it is emptied on release, so an idle home's lock file is empty.

Within one process the lock is re-entrant for the thread that holds it; other threads of the same
process wait like other processes do.
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import socket
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType

from trading_core.errors import AlphapilotError

LOCK_FILE = ".alphapilot.lock"
POLL_SECONDS = 0.1


class HomeBusy(AlphapilotError):
    """Another command holds the home's lock (names who) and did not let go in time."""


class HomeNotWritable(AlphapilotError):
    """The home cannot be locked because it cannot be written (read-only, missing rights)."""


class _Held:
    """The process's hold on one lock file: its descriptor, owning thread and depth."""

    def __init__(self) -> None:
        self.guard = threading.RLock()
        self.fd: int | None = None
        self.depth = 0


_holds: dict[Path, _Held] = {}
_holds_guard = threading.Lock()


def _hold(path: Path) -> _Held:
    with _holds_guard:
        return _holds.setdefault(path, _Held())


class HomeLock:
    """`with HomeLock(root, timeout, command):` the caller is the home's only writer inside."""

    def __init__(
        self,
        root: Path,
        timeout: float,
        command: str,
        on_wait: Callable[[str], None] | None = None,
    ) -> None:
        self.path = Path(root).resolve() / LOCK_FILE
        self.timeout = timeout
        self.command = command
        self.on_wait = on_wait

    def __enter__(self) -> HomeLock:
        held = _hold(self.path)
        deadline = time.monotonic() + self.timeout
        if not held.guard.acquire(timeout=max(self.timeout, 0.0)):
            raise self._busy()
        try:
            if held.depth == 0:
                held.fd = self._acquire(deadline)
            held.depth += 1
        except BaseException:
            held.guard.release()
            raise
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        held = _hold(self.path)
        held.depth -= 1
        if held.depth == 0 and held.fd is not None:
            fd, held.fd = held.fd, None
            try:
                os.ftruncate(fd, 0)  # an idle home's lock file is empty
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
                os.close(fd)
        held.guard.release()

    def holder(self) -> str:
        """Who holds the lock, as its file says (empty when nobody wrote one)."""
        try:
            info = json.loads(self.path.read_text() or "{}")
        except (OSError, ValueError):
            return ""
        if not info:
            return ""
        return (
            f"process {info.get('pid')} on {info.get('host')} "
            f"({info.get('command')}, since {info.get('since')})"
        )

    def _acquire(self, deadline: float) -> int:
        """Open and flock the lock file, waiting until `deadline`; then write who holds it."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise HomeNotWritable(
                f"cannot lock the home {self.path.parent}: {exc.strerror or exc} "
                f"(every command that changes a home writes {LOCK_FILE} in it)"
            ) from None
        told = False
        try:
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except OSError as exc:
                    if exc.errno not in (errno.EAGAIN, errno.EACCES):
                        raise
                if time.monotonic() >= deadline:
                    raise self._busy()
                if not told and self.on_wait is not None:
                    self.on_wait(
                        f"waiting up to {self.timeout:g} s for the home {self.path.parent}, "
                        f"in use by {self.holder() or 'another process'}"
                    )
                    told = True
                time.sleep(POLL_SECONDS)
            self._write_holder(fd)
        except BaseException:
            os.close(fd)
            raise
        return fd

    def _write_holder(self, fd: int) -> None:
        info = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "command": self.command,
            "since": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        os.ftruncate(fd, 0)
        os.pwrite(fd, (json.dumps(info) + "\n").encode(), 0)

    def _busy(self) -> HomeBusy:
        return HomeBusy(
            f"the home {self.path.parent} is in use by {self.holder() or 'another process'}; "
            f"waited {self.timeout:g} s (orchestration.lock_timeout_seconds): try again when it "
            "has finished"
        )
