"""The Dask task runner: Prefect's, plus sending a large value to every worker once.

Under Dask every argument of a submitted task is pickled into that task: a dataset passed to ten
tasks crosses the wire ten times, and the scheduler and a worker unpickle it each time (the
flow's process also pickles and unpickles it twice per task, to name the task). `SharingDaskTaskRunner.share` scatters such
a value to every worker once; the tasks then receive it from their worker's memory.

Its own module because importing Dask takes seconds: only runs that use it pay for that.
"""

from __future__ import annotations

from typing import Any

import dask
from distributed import Future, LocalCluster
from prefect_dask import DaskTaskRunner

# Dask's Active Memory Manager drops all copies of a value but one while no task waits for it,
# undoing a broadcast: workers then fetch the value again, and tasks crowd onto the one holding it.
KEEP_BROADCAST_COPIES = {"distributed.scheduler.active-memory-manager.start": False}


class SharingDaskTaskRunner(DaskTaskRunner):
    """Prefect's `DaskTaskRunner` that can also send a value to every worker once (`share`)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._shared: dict[int, tuple[Any, Future]] = {}  # id(value): (value, its future)

    def share(self, value: Any) -> Future:
        """A future of `value` held by every worker; the same future for the same object.

        Dask resolves the future wherever it appears in a task's parameters, so the task receives
        the value itself. The runner keeps `value` alive (so its id stays its own) until it exits.
        """
        if id(value) not in self._shared:
            if not self._shared and self.client.amm.running():
                self.logger.warning(
                    "the Dask scheduler at %s runs the Active Memory Manager, which keeps shared "
                    "data on one worker only, so the others fetch it again; start the scheduler "
                    "with DASK_DISTRIBUTED__SCHEDULER__ACTIVE_MEMORY_MANAGER__START=False",
                    self.client.scheduler.address,
                )
            [future] = self.client.scatter([value], broadcast=True, hash=False)  # one piece
            self._shared[id(value)] = (value, future)
        return self._shared[id(value)][1]

    def __exit__(self, *args: Any) -> None:
        self._shared.clear()  # the cluster forgets the shared values with their futures
        super().__exit__(*args)


def local_cluster(**kwargs: Any) -> LocalCluster:
    """A `distributed.LocalCluster` (`kwargs`) whose scheduler keeps the copies `share` sends."""
    with dask.config.set(KEEP_BROADCAST_COPIES):
        return LocalCluster(**kwargs)
