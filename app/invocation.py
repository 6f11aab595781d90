"""The command being run: how it answers and what its flows wait for.

One command per process in use, many in one process in tests: the CLI's callback resets this at
the start of every command.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path


class Invocation:
    """What a failing command needs to answer (JSON or not, the home whose log to name), the
    early-started Prefect server to wait for and the modules to import meanwhile."""

    json = False
    home: Path | None = None
    server_ready: Callable[[], None] = staticmethod(lambda: None)
    preload: tuple[str, ...] = ()

    @classmethod
    def reset(cls) -> None:
        """A new command: plain answers, no home yet, no server to wait for."""
        cls.json, cls.home = False, None
        cls.server_ready, cls.preload = lambda: None, ()
