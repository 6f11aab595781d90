"""How steps become Prefect tasks, and the options that come from settings at run time: retries
for steps that touch the outside world, caching."""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import timedelta
from typing import Any, ParamSpec, TypeVar

from prefect import Task, task
from prefect.cache_policies import NO_CACHE, TASK_SOURCE, CacheKeyFnPolicy
from prefect.client.schemas.objects import State, TaskRun
from prefect.tasks import exponential_backoff

from settings.runtime import OrchestrationSettings
from trading_core.errors import AlphapilotError
from trading_core.faults import crash_point
from trading_core.home import Home

P = ParamSpec("P")
R = TypeVar("R")


def step(name: str) -> Callable[[Callable[P, R]], Task[P, R]]:
    """A workflow step: a Prefect task named `name`, cached only where `cached` says, with a
    crash point (`task:<name>`) as it starts for the recovery tests (trading_core.faults).

    The crash point is a call at the top of the step, not a Prefect state hook: a hook would log
    "Running hook ..." twice per task in every production run, and the point does nothing unless
    the tests' variable names it (read when the step runs, so a process forked after importing
    the flows can still be told where to die).
    """

    def decorate(fn: Callable[P, R]) -> Task[P, R]:
        @functools.wraps(fn)  # Prefect reads the parameters and source of `fn` through this
        def run(*args: P.args, **kwargs: P.kwargs) -> R:
            crash_point(f"task:{name}")
            return fn(*args, **kwargs)

        return task(name=name, cache_policy=NO_CACHE)(run)

    return decorate


def outside_world(task: Task[P, R], orchestration: OrchestrationSettings) -> Task[P, R]:
    """`task` retried as `orchestration` says: exponential delays with jitter.

    Only for steps that can fail for reasons outside alphapilot (a data vendor, a webhook, an SMTP
    server); pure computation fails the same way again and is never retried, and neither is one
    of alphapilot's own refusals (bad data, bad config) raised inside such a step.
    """
    o = orchestration
    return task.with_options(
        retries=o.retries,
        retry_delay_seconds=exponential_backoff(o.retry_delay_seconds)(o.retries)
        if o.retries
        else 0,
        # None (no jitter) is a value Task takes and with_options passes on; its annotation omits it
        retry_jitter_factor=o.retry_jitter_factor if o.retry_delay_seconds else None,  # type: ignore[arg-type]
        retry_condition_fn=transient,
    )


def transient(task: Task[..., Any], task_run: TaskRun, state: State) -> bool:
    """Whether a failure may pass on retry: anything but alphapilot's own refusals."""
    return not isinstance(state.result(raise_on_failure=False), AlphapilotError)


def cached(
    task: Task[P, R],
    orchestration: OrchestrationSettings,
    home: Home,
    key: Callable[[dict[str, Any]], str],
) -> Task[P, R]:
    """`task` cached under `home`'s cache/ on `key(parameters)` plus the task's source code.

    `key` names what the result depends on (data fingerprint, as-of date, settings hash), never
    the DataFrames themselves, which Prefect hashes unreliably. Entries expire after
    `orchestration.cache_expiration_hours`; `orchestration.cache: false` turns caching off.
    """
    o = orchestration
    if not o.cache:
        return task.with_options(cache_policy=NO_CACHE)
    policy = CacheKeyFnPolicy(cache_key_fn=lambda _context, parameters: key(parameters))
    return task.with_options(
        cache_policy=policy + TASK_SOURCE,
        cache_expiration=timedelta(hours=o.cache_expiration_hours),
        persist_result=True,
        result_storage=home.cache.resolve(),
    )
