"""Long work shows a bar with done/total and an ETA on a terminal, and nothing elsewhere.

The Prefect progress artifact follows the same count in every flow run, and fanned-out results
keep their call order whatever order they finish in.
"""

from __future__ import annotations

import re
import time
from io import StringIO
from types import SimpleNamespace
from uuid import uuid4

import pytest
from rich.console import Console
from rich.progress import Task, TaskID

from tasks.progress import ProgressTracker, TimeLeft


def terminal() -> Console:
    return Console(file=StringIO(), force_terminal=True, color_system=None, width=120)


def printed(console: Console) -> str:
    return console.file.getvalue()


def test_a_terminal_shows_done_of_total_elapsed_and_time_left():
    console = terminal()
    with ProgressTracker("backtest grid", 4, console=console) as progress:
        progress.advance()
        progress.bar.refresh()
        shown = printed(console)
        progress.advance()

    assert "backtest grid" in shown and "1/4" in shown
    assert re.search(r"eta \d+:\d\d:\d\d", shown)
    assert "2/4" in printed(console)  # the last state stays on screen


def test_time_left_is_the_average_pace_so_far_times_the_items_left():
    task = Task(TaskID(0), "grid", total=4, completed=1, _get_time=lambda: 100.0)
    task.start_time = 40.0
    assert TimeLeft().render(task).plain == "eta 0:03:00"  # 60 s for 1 item, 3 items left
    task.completed = 0
    assert TimeLeft().render(task).plain == "eta -:--:--"


def test_nothing_is_printed_when_the_console_is_not_a_terminal():
    console = Console(file=StringIO(), width=120)
    with ProgressTracker("backtest grid", 3, console=console) as progress:
        for _ in range(3):
            progress.advance()

    assert progress.done == 3
    assert printed(console) == ""


@pytest.mark.parametrize("env", [{"TERM": "dumb"}, {"TTY_COMPATIBLE": "0"}])
def test_rich_switches_turn_the_bar_off(monkeypatch, env):
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    console = Console(file=StringIO(), width=120)
    console.file.isatty = lambda: True
    with ProgressTracker("grid", 2, console=console) as progress:
        progress.advance()

    assert printed(console) == ""


def test_a_deployment_run_draws_no_bar_even_on_a_terminal(monkeypatch):
    """Served and worker runs inherit the terminal of `alphapilot serve` or the worker."""
    from prefect.context import FlowRunContext

    run = SimpleNamespace(flow_run=SimpleNamespace(deployment_id=uuid4()))
    monkeypatch.setattr(FlowRunContext, "get", classmethod(lambda cls: run))
    monkeypatch.setattr("tasks.progress.create_progress_artifact", lambda *a, **k: uuid4())
    monkeypatch.setattr("tasks.progress.update_progress_artifact", lambda *a, **k: None)
    console = terminal()
    with ProgressTracker("grid", 2, console=console) as progress:
        progress.advance()

    assert progress.bar is None and printed(console) == ""


@pytest.mark.slow
def test_fan_out_keeps_call_order_updates_the_artifact_and_draws_the_bar(
    prefect_server, monkeypatch
):
    from prefect import flow, get_client, task
    from prefect.client.schemas.filters import (
        ArtifactFilter,
        ArtifactFilterFlowRunId,
        ArtifactFilterType,
    )
    from prefect.runtime import flow_run
    from prefect.task_runners import ThreadPoolTaskRunner

    from tasks.runners import fan_out

    console = terminal()
    monkeypatch.setattr("tasks.progress.prefect_console", lambda: console)

    @task
    def square(x: int) -> int:
        time.sleep(0.05 * (3 - x))  # the last call finishes first
        return x * x

    @flow
    def squares() -> tuple[list[int], str]:
        with ThreadPoolTaskRunner(max_workers=3) as runner:
            results = fan_out(runner, square, [{"x": x} for x in range(3)], "squares")
        return results, flow_run.id

    results, run_id = squares()

    assert results == [0, 1, 4]
    with get_client(sync_client=True) as client:
        artifacts = client.read_artifacts(
            artifact_filter=ArtifactFilter(
                flow_run_id=ArtifactFilterFlowRunId(any_=[run_id]),
                type=ArtifactFilterType(any_=["progress"]),
            )
        )
    assert [(a.description, a.data) for a in artifacts] == [("squares: 3 runs", 100.0)]
    assert "3/3" in printed(console)
