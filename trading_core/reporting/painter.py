"""Where a report's charts are drawn: in this process, or in a warm child process.

Importing matplotlib takes about 0.5 s, a quarter of a daily run's work at 500 stocks. A run in a
fresh process (a command, a scheduled run) can instead start a child process when the session is
known to be open: the child imports matplotlib on the machine's other core while this process
loads the data, builds the features and scores, and then draws the charts with the same
functions, so the PNG bytes are the same. A process that has imported matplotlib already (a
notebook, the test suite, a replay's later days) draws in place, as starting a child would then
cost more than it saves.

A chart is asked for with `paint(draw, *args)` and shown as a `Picture`, whose data URI is read
only when the template lays it out, last, so the child draws while the page's tables are built.
If the child dies, the chart is drawn here: the report never depends on it.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property
from multiprocessing import get_context
from typing import Protocol

from trading_core.reporting.plots import png_data_uri

Drawing = Callable[..., bytes | None]  # a chart function: its inputs to PNG bytes or None
Chart = Callable[[], bytes | None]  # a chart asked for: its PNG bytes (or None) when read

log = logging.getLogger(__name__)


class Painter(Protocol):
    """Asks for one chart; the bytes are read by calling what it returns."""

    def __call__(self, draw: Drawing, *args: object, **kwargs: object) -> Chart: ...


@dataclass(frozen=True, eq=False)
class Picture:
    """A chart on a page: `uri` (its PNG as a data URI, None without one) is read when the
    template shows it; `note` says why there is no chart, `alt` what the chart is. Two pictures
    are equal when they show the same."""

    chart: Chart | None
    note: str = ""
    alt: str = ""

    @cached_property
    def uri(self) -> str | None:
        return None if self.chart is None else png_data_uri(self.chart())

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Picture):
            return NotImplemented
        return (self.uri, self.note, self.alt) == (other.uri, other.note, other.alt)


def here(draw: Drawing, *args: object, **kwargs: object) -> Chart:
    """Draw now, in this process."""
    png = draw(*args, **kwargs)
    return lambda: png


class ChartProcess:
    """A child process, started now, that imports matplotlib and then draws what it is given."""

    def __init__(self) -> None:
        # spawn, not fork: this process runs Prefect's threads, which a fork would copy mid-work
        self._pool = ProcessPoolExecutor(1, mp_context=get_context("spawn"), initializer=_warm_up)
        self._pool.submit(int)  # the pool starts its process on the first task: start it now

    def __call__(self, draw: Drawing, *args: object, **kwargs: object) -> Chart:
        try:
            future: Future[bytes | None] = self._pool.submit(draw, *args, **kwargs)
        except (BrokenProcessPool, RuntimeError) as exc:
            log.warning("the chart process is gone (%s): drawing here", exc)
            return here(draw, *args, **kwargs)

        def chart() -> bytes | None:
            try:
                return future.result()
            except BrokenProcessPool as exc:
                log.warning("the chart process died (%s): drawing here", exc)
                return draw(*args, **kwargs)

        return chart

    def close(self) -> None:
        """Stop the child: at once when idle, else once it ends its current task."""
        self._pool.shutdown(wait=False, cancel_futures=True)


@contextmanager
def painter() -> Iterator[Painter]:
    """A warm chart process for the block, or drawing here when matplotlib is already loaded."""
    if "matplotlib" in sys.modules:
        yield here
        return
    process = ChartProcess()
    try:
        yield process
    finally:
        process.close()


def _warm_up() -> None:
    """The child's first work: the imports every chart needs."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.dates  # noqa: F401
    import matplotlib.figure  # noqa: F401
    import matplotlib.ticker  # noqa: F401
    from matplotlib.backends import backend_agg  # noqa: F401

    from trading_core.reporting import plots, tear_sheet_plots  # noqa: F401
