"""A Dask cluster as a user runs one: `dask scheduler` and `dask worker` processes on loopback.

Use `running_dask_cluster(log_dir)` in tests and benchmarks that need a scheduler address to give
`orchestration.dask.address`. The scheduler runs without its Active Memory Manager, as
docs/guide/orchestration.md tells users to start it, so data broadcast to the workers stays on each.
"""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

from server_process import BIN, free_port

NO_AMM = {"DASK_DISTRIBUTED__SCHEDULER__ACTIVE_MEMORY_MANAGER__START": "False"}


@dataclass(frozen=True)
class DaskCluster:
    """A running scheduler's address and the process id of each worker (not its nanny)."""

    address: str
    worker_pids: dict[str, int]  # worker address: pid


@contextmanager
def running_dask_cluster(
    log_dir: Path,
    workers: int = 2,
    preload: Path | None = None,
    env: dict[str, str] | None = None,
    startup_timeout: float = 120,
) -> Iterator[DaskCluster]:
    """`dask scheduler` on a free loopback port and `workers` single-threaded `dask worker`s.

    `preload` is a module file each worker process loads first (`dask worker --preload`); `env`
    is added to this process's environment for all of them. Every process is stopped on exit,
    with its children (a worker's nanny runs the worker as its child), even on error.
    """
    from distributed import Client

    address = f"tcp://127.0.0.1:{free_port()}"
    env = {**os.environ, **NO_AMM, **(env or {})}
    host, port = address.removeprefix("tcp://").split(":")
    scheduler = ["scheduler", "--host", host, "--port", port, "--no-dashboard"]
    worker = ["worker", address, "--host", host, "--nthreads", "1", "--no-dashboard"]
    worker += ["--local-directory", str(log_dir)]  # its scratch space: not /tmp, shared with others
    worker += ["--preload", str(preload)] if preload else []
    commands = [scheduler] + [worker + ["--name", f"worker-{i}"] for i in range(workers)]
    with ExitStack() as stack:
        for i, command in enumerate(commands):
            log = stack.enter_context(open(log_dir / f"dask-{i}.log", "w"))
            process = subprocess.Popen(
                [str(BIN / "dask"), *command],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: the nanny's worker goes with it
            )
            stack.callback(stop_group, process)
        with Client(address, timeout=startup_timeout) as client:
            client.wait_for_workers(workers, timeout=startup_timeout)
            pids = client.run(os.getpid)
        yield DaskCluster(address, pids)


def stop_group(process: subprocess.Popen, grace: float = 20) -> None:
    """SIGTERM the process group `process` leads; SIGKILL what is left after `process` exits
    (or after `grace` seconds)."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:  # the whole group has exited
            break
        try:
            process.wait(grace)
        except subprocess.TimeoutExpired:
            continue
