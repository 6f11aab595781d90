"""Progress of long work: a Prefect progress artifact for the run page, a bar for a terminal.

`fan_out` (training, tuning, the selection grid) and the daily replay count finished items through
one `ProgressTracker`. In a flow run the artifact follows every item, as the Prefect UI shows it.
The bar (done/total, elapsed, time left) is drawn only for someone watching a terminal: when
Prefect's console (stderr) is a terminal and the run is not a deployment's. Served and worker runs
inherit the terminal of `alphapilot serve` or the worker, where a bar would garble their logs; CI,
pipes and redirected output get no bar and nothing else on the console. rich's switches apply too:
`TTY_COMPATIBLE=0` or `TERM=dumb` turn the bar off.

The bar is drawn on the rich Console of Prefect's console log handler, so log lines print above it
rather than through it.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from types import TracebackType
from uuid import UUID

from prefect.artifacts import create_progress_artifact, update_progress_artifact
from prefect.context import FlowRunContext
from prefect.logging.handlers import PrefectConsoleHandler
from rich.console import Console
from rich.default_styles import DEFAULT_STYLES
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeElapsedColumn,
)
from rich.text import Text
from rich.theme import Theme

# Prefect's console theme does not inherit rich's defaults, which the bar's columns use.
BAR_STYLES = Theme(
    {name: s for name, s in DEFAULT_STYLES.items() if name.startswith(("progress.", "bar."))}
)


class TimeLeft(ProgressColumn):
    """Time left at the average pace so far (elapsed / done x left).

    rich's own estimate uses the last 30 seconds only, so items that take minutes each (a model
    fit, a backtest) would never get one.
    """

    def render(self, task: Task) -> Text:
        if task.finished:
            return Text("")
        if not task.completed or task.total is None or task.elapsed is None:
            return Text("eta -:--:--", style="progress.remaining")
        left = task.elapsed * (task.total - task.completed) / task.completed
        return Text(f"eta {timedelta(seconds=round(left))}", style="progress.remaining")


def prefect_console() -> Console:
    """The Console Prefect's console log handler prints to, else a new Console on stderr."""
    for handler in logging.getLogger().handlers:
        if isinstance(handler, PrefectConsoleHandler):
            return handler.console
    return Console(stderr=True)


def in_deployment_run() -> bool:
    """Whether this is a deployment's flow run (served or on a worker), not a direct call."""
    context = FlowRunContext.get()
    return bool(context and context.flow_run and context.flow_run.deployment_id)


def draws_bar(console: Console) -> bool:
    """Whether someone watches `console`: a capable terminal, outside a deployment's run."""
    return console.is_terminal and not console.is_dumb_terminal and not in_deployment_run()


class ProgressTracker:
    """Counts the finished items of one piece of long work; use it as a context manager.

    Args:
        description: what is being done, e.g. "backtest grid".
        total: how many items there are.
        unit: what an item is, for the artifact's description ("runs", "sessions").
        console: where a bar may be drawn (default: Prefect's console).
    """

    def __init__(
        self, description: str, total: int, unit: str = "items", console: Console | None = None
    ) -> None:
        self.description = description
        self.total = total
        self.done = 0
        self.console = console if console is not None else prefect_console()
        self.artifact: UUID | None = None
        if FlowRunContext.get():
            about = f"{description}: {total} {unit}"
            # Prefect's async_dispatch types the call `UUID | Coroutine`: from sync code, a UUID
            self.artifact = create_progress_artifact(0.0, description=about)  # type: ignore[assignment]
        self.bar: Progress | None = None

    def __enter__(self) -> ProgressTracker:
        if draws_bar(self.console):
            self.console.push_theme(BAR_STYLES)
            self.bar = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                TimeLeft(),
                console=self.console,
                refresh_per_second=2,
            )
            self.bar.start()
            self.bar.add_task(self.description, total=self.total)
        return self

    def advance(self) -> None:
        """One more item is finished."""
        self.done += 1
        if self.artifact is not None:
            update_progress_artifact(self.artifact, 100.0 * self.done / self.total)
        if self.bar is not None:
            self.bar.advance(self.bar.task_ids[0])

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        if self.bar is not None:
            self.bar.stop()
            self.console.pop_theme()
            self.bar = None
