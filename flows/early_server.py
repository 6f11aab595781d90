"""Prefect's temporary server, started while a command is still importing its flows.

With no Prefect server configured (`PREFECT_API_URL` unset), Prefect starts a temporary one the
first time a flow runs: a uvicorn subprocess that takes about 10 s to answer. A command spends
about as long importing the flows, pandas and the model libraries before that first run, so
`start_early` starts the same server (Prefect's own `SubprocessASGIServer`, the instance its
client uses) in a background thread first, and the two overlap. Prefect stops it at exit.
"""

import threading
from collections.abc import Callable


def start_early() -> Callable[[], None]:
    """Start the temporary server in the background if Prefect will need one; returns a function
    that waits until the server answers (call it before the first flow run)."""
    from prefect.settings import PREFECT_API_URL, PREFECT_SERVER_EPHEMERAL_ENABLED

    if PREFECT_API_URL.value() or not PREFECT_SERVER_EPHEMERAL_ENABLED.value():
        return lambda: None
    thread = threading.Thread(target=_start, name="prefect-temporary-server", daemon=True)
    thread.start()
    return thread.join


def _start() -> None:
    from prefect.server.api.server import SubprocessASGIServer

    try:
        SubprocessASGIServer().start()
    except Exception:  # noqa: BLE001  the first flow run starts it again and reports the failure
        return
