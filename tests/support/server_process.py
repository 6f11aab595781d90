"""A real `prefect server start` in a subprocess, for tests that need schedules, workers or serve.

Prefect's test harness (conftest's `prefect_server`) is enough for ad hoc flow runs; this is the
product's own setup, for `prefect deploy`, workers, schedules and serve. Use
`running_prefect_server(tmp_dir)` (about 17 s to come up on two cores), then run Prefect commands
with `server.env` and talk to the server in-process under `server.settings()`.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import httpx

REPO = Path(__file__).resolve().parents[2]  # tests/support/ -> the repository
BIN = Path(sys.executable).parent
T = TypeVar("T")


@dataclass(frozen=True)
class PrefectServer:
    """A running server: its API URL and the environment for processes that should use it."""

    url: str
    env: dict[str, str]
    log: Path

    def prefect(
        self, *args: str, cwd: Path = REPO, env: dict[str, str] | None = None, timeout: float = 120
    ) -> str:
        """Run a `prefect` command against this server; its output, or AssertionError with it."""
        done = subprocess.run(
            [str(BIN / "prefect"), *args],
            cwd=cwd,
            env={**self.env, **(env or {})},
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        output = done.stdout + done.stderr
        assert done.returncode == 0, f"prefect {' '.join(args)} failed:\n{output}"
        return output

    def start(
        self, *command: str, cwd: Path, log: Path, env: dict[str, str] | None = None
    ) -> subprocess.Popen:
        """Start a long-running command (a worker, `alphapilot serve`) against this server."""
        with open(log, "w") as out:
            return subprocess.Popen(
                list(command),
                cwd=cwd,
                env={**self.env, **(env or {})},
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    def serve(self, *options: str, cwd: Path, log: Path) -> subprocess.Popen:
        """`alphapilot serve` with `options` as a user starts it, polling for runs every second."""
        command = [str(BIN / "alphapilot"), "serve", *options]
        return self.start(*command, cwd=cwd, log=log, env={"PREFECT_RUNNER_POLL_FREQUENCY": "1"})

    @contextmanager
    def settings(self) -> Iterator[None]:
        """Point this process's Prefect client (`get_client()`) at the server."""
        from prefect.settings import PREFECT_API_URL, temporary_settings

        with temporary_settings({PREFECT_API_URL: self.url}):
            yield


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def prefect_env(home: Path, api_url: str | None) -> dict[str, str]:
    """This environment with a private PREFECT_HOME, no telemetry and `api_url` (or none)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "ALPHAPILOT"))}
    env.update(PREFECT_HOME=str(home), PREFECT_SERVER_ANALYTICS_ENABLED="false", DO_NOT_TRACK="1")
    if api_url:
        env["PREFECT_API_URL"] = api_url
    return env


def wait_for(check: Callable[[], T], timeout: float, what: str, interval: float = 0.5) -> T:
    """Poll `check` until it returns something truthy; AssertionError naming `what` on timeout."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)


def stop(process: subprocess.Popen, sig: int = signal.SIGTERM, grace: float = 20) -> None:
    """Ask `process` to stop with `sig`; kill it if it has not exited after `grace` seconds."""
    if process.poll() is None:
        process.send_signal(sig)
        try:
            process.wait(grace)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)


@contextmanager
def running_prefect_server(tmp_dir: Path, startup_timeout: float = 90) -> Iterator[PrefectServer]:
    """`prefect server start` on a free port with its own PREFECT_HOME under `tmp_dir`."""
    port = free_port()
    url = f"http://127.0.0.1:{port}/api"
    env = prefect_env(tmp_dir / "prefect_home", url)
    log = tmp_dir / "server.log"
    with open(log, "w") as out:
        process = subprocess.Popen(
            [str(BIN / "prefect"), "server", "start", "--host", "127.0.0.1", "--port", str(port)],
            cwd=tmp_dir,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:

        def healthy() -> bool:
            if process.poll() is not None:
                raise AssertionError(f"prefect server exited:\n{log.read_text()[-3000:]}")
            try:
                return httpx.get(f"{url}/health", timeout=2).status_code == 200
            except httpx.HTTPError:
                return False

        wait_for(healthy, startup_timeout, f"prefect server on port {port}")
        yield PrefectServer(url=url, env=env, log=log)
    finally:
        stop(process)
