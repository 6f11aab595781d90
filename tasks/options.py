"""Task options that come from settings at run time: retries for steps that touch the outside world."""

from __future__ import annotations

from typing import TypeVar

from prefect import Task
from prefect.client.schemas.objects import State, TaskRun
from prefect.tasks import exponential_backoff

from settings import Settings
from trading_core.errors import AlphapilotError

T = TypeVar("T", bound=Task)


def outside_world(task: T, settings: Settings) -> T:
    """`task` retried as `orchestration` says: exponential delays with jitter.

    Only for steps that can fail for reasons outside alphapilot (a data vendor, a webhook, an SMTP
    server); pure computation fails the same way again and is never retried, and neither is one
    of alphapilot's own refusals (bad data, bad config) raised inside such a step.
    """
    o = settings.orchestration
    return task.with_options(
        retries=o.retries,
        retry_delay_seconds=exponential_backoff(o.retry_delay_seconds)(o.retries)
        if o.retries
        else 0,
        retry_jitter_factor=o.retry_jitter_factor if o.retry_delay_seconds else None,
        retry_condition_fn=transient,
    )


def transient(task: Task, task_run: TaskRun, state: State) -> bool:
    """Whether a failure may pass on retry: anything but alphapilot's own refusals."""
    return not isinstance(state.result(raise_on_failure=False), AlphapilotError)
