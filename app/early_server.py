"""Prefect's temporary server, started the moment a command knows it will run a flow.

With no Prefect server configured (`PREFECT_API_URL` unset), Prefect starts a temporary one the
first time a flow runs: a uvicorn subprocess that takes 10 s to answer, 17 s with a new Prefect
home (its database is created and migrated first). Prefect only starts it after the command has
imported its flows, pandas and the model libraries (about 8 s), and its client first imports the
server's own code (another 8 s, in the command's process). `start_early` launches the same
subprocess (Prefect's command line for it, unchanged) before all that and points this process's
Prefect settings at it, so the server starts on the other core while the command imports, and the
command never imports the server's code. The server is stopped when the command exits.
"""

import atexit
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

# Uvicorn's exit status when the port was taken between choosing it and binding it.
PORT_TAKEN = 3


def start_early() -> Callable[[], None]:
    """Start the temporary server now if Prefect will need one; returns a function that waits
    until it answers (call it before the first flow run). A configured server: nothing to do."""
    from prefect.settings import PREFECT_API_URL, PREFECT_SERVER_EPHEMERAL_ENABLED

    if PREFECT_API_URL.value() or not PREFECT_SERVER_EPHEMERAL_ENABLED.value():
        return lambda: None
    server = TemporaryServer()
    server.launch()
    atexit.register(server.stop)
    return server.wait_until_ready


class TemporaryServer:
    """One uvicorn process serving Prefect's API on a free loopback port, as Prefect's own
    `SubprocessASGIServer` runs it; this process's Prefect settings point at it."""

    def __init__(self) -> None:
        self.process: subprocess.Popen | None = None
        self.api_url = ""

    def launch(self) -> None:
        """Start the process on a free port and make it this process's Prefect API."""
        from prefect.context import refresh_global_settings_context
        from prefect.settings import get_current_settings

        port = _free_port()
        self.api_url = f"http://127.0.0.1:{port}/api"
        env = {  # not the URL of an earlier launch (a port taken): the server has no API to call
            **{k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"},
            "PREFECT_UI_ENABLED": "0",
            "PREFECT__SERVER_EPHEMERAL": "1",
            "PREFECT__SERVER_FINAL": "1",
            **get_current_settings().to_environment_variables(exclude_unset=True),
        }
        self.process = subprocess.Popen(_uvicorn_command(port), env=env)
        os.environ["PREFECT_API_URL"] = self.api_url
        refresh_global_settings_context()

    def wait_until_ready(self) -> None:
        """Block until the API answers its health check; a clear error if it never does."""
        from prefect.settings import PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS

        deadline = time.monotonic() + PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS.value()
        while time.monotonic() < deadline:
            status = self.process.poll()
            if status == PORT_TAKEN:
                self.launch()
            elif status is not None:
                raise RuntimeError(f"Prefect's temporary server exited with status {status}")
            elif answers(f"{self.api_url}/health"):
                return
            time.sleep(0.1)
        raise RuntimeError(f"Prefect's temporary server did not answer at {self.api_url} in time")

    def stop(self) -> None:
        """Terminate the server (killed if it takes over 5 s)."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def _uvicorn_command(port: int) -> list[str]:
    """Prefect's own command line for its temporary server (`SubprocessASGIServer`)."""
    import prefect

    return [
        sys.executable, "-m", "uvicorn",
        "--app-dir", str(Path(prefect.__file__).parent.parent),
        "--factory", "prefect.server.api.server:create_app",
        "--host", "127.0.0.1", "--port", str(port),
        "--log-level", "error", "--lifespan", "on",
    ]  # fmt: skip


def _free_port() -> int:
    """A loopback port nobody listens on now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def answers(url: str) -> bool:
    """Whether `url` answers 200 now."""
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False
