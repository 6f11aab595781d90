"""Where fanned-out tasks run: a thread pool (default) or Dask, chosen by `orchestration` settings.

Large arguments that many tasks take (the dataset, the market data) go through `share`, so under
Dask they reach each worker once instead of once per task.
"""

from __future__ import annotations

import os
from typing import Any

from prefect import Task
from prefect.futures import PrefectFuture, as_completed
from prefect.task_runners import TaskRunner, ThreadPoolTaskRunner

from settings.runtime import OrchestrationSettings
from tasks.progress import ProgressTracker


def task_runner_for(orchestration: OrchestrationSettings, n_jobs: int) -> TaskRunner:
    """The task runner the settings name (not started: use it as a context manager).

    Threads default to cores / `n_jobs` (`modeling.n_jobs`) workers, so model fits never oversubscribe the
    cores (two OpenMP fits on the same cores slow each other down many times over). Dask either
    joins a running scheduler (`dask.address`) or starts a local cluster of processes.
    """
    o = orchestration
    if o.task_runner == "dask":
        from tasks.dask_runner import SharingDaskTaskRunner, local_cluster

        if o.dask.address:
            return SharingDaskTaskRunner(address=o.dask.address)
        return SharingDaskTaskRunner(
            cluster_class=local_cluster,
            cluster_kwargs={
                "n_workers": o.dask.n_workers,
                "threads_per_worker": o.dask.threads_per_worker,
                "processes": True,
                "dashboard_address": ":0",  # a fixed port collides with another cluster
            },
        )
    workers = o.max_workers or max(1, (os.cpu_count() or 1) // n_jobs)
    return ThreadPoolTaskRunner(max_workers=workers)


def share(runner: TaskRunner, value: Any) -> Any:
    """`value` as a parameter of tasks submitted to `runner`: sent to each worker once.

    Under Dask, a future of `value` that every worker holds (`SharingDaskTaskRunner.share`); the
    tasks receive the value. Under threads, `value` itself: the tasks already share the memory.
    """
    sharing = getattr(runner, "share", None)
    return sharing(value) if sharing else value


def fan_out(
    runner: TaskRunner,
    task: Task,
    calls: list[dict[str, Any]],
    description: str,
    raise_on_failure: bool = True,
) -> list[Any]:
    """Run `task` once per parameter dict through `runner`; results in call order.

    A progress artifact (and, on a terminal, a bar) tracks completed calls. With
    `raise_on_failure=False`, a failed call's result is its exception, so one bad combination does
    not sink a whole grid.
    """
    if not calls:
        return []
    with ProgressTracker(description, len(calls), unit="runs") as progress:
        futures: list[PrefectFuture[Any]] = [runner.submit(task, parameters=call) for call in calls]
        for _ in as_completed(futures):
            progress.advance()
    return [future.result(raise_on_failure=raise_on_failure) for future in futures]
