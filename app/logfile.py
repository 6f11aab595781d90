"""The command line's logging: progress lines on the console, tracebacks in the home's log file.

Flows run in-process from the CLI, so Prefect's console handler would print every failure's
traceback (twice: the task's and the flow's) before the CLI's one-line `error:`. The console keeps
each record's message but not its traceback; the full records go to `<home>/logs/alphapilot.log`
(rotated), and Prefect's API handler (the UI's logs) is left as it is.
"""

from __future__ import annotations

import logging
import sys
from logging.handlers import RotatingFileHandler
from pathlib import Path

from trading_core.home import Home
from trading_core.redaction import redact

MAX_BYTES = 5 * 1024 * 1024
BACKUPS = 3
LINE = "%(asctime)s | %(process)d | %(levelname)-7s | %(name)s - %(message)s"
_handler: RotatingFileHandler | None = None


class WithoutTraceback(logging.Formatter):
    """`inner`'s formatting of a record without its exception and stack (kept for other handlers)."""

    def __init__(self, inner: logging.Formatter) -> None:
        super().__init__()
        self.inner = inner

    def format(self, record: logging.LogRecord) -> str:
        saved = record.exc_info, record.exc_text, record.stack_info
        record.exc_info = record.exc_text = record.stack_info = None
        try:
            return self.inner.format(record)
        finally:
            record.exc_info, record.exc_text, record.stack_info = saved


class Redacted(logging.Formatter):
    """`inner`'s formatting, tracebacks included, with every URL's secret parts removed."""

    def __init__(self, inner: logging.Formatter) -> None:
        super().__init__()
        self.inner = inner

    def format(self, record: logging.LogRecord) -> str:
        return redact(self.inner.format(record))


def quiet_console() -> None:
    """Prefect's console handler prints log lines without tracebacks (idempotent).

    A no-op until Prefect is imported (it sets up its console handler then): the CLI calls this
    before each step it runs, after importing the step's flow.
    """
    if "prefect.logging.handlers" not in sys.modules:
        return
    from prefect.logging.handlers import PrefectConsoleHandler

    for handler in logging.getLogger().handlers:
        if isinstance(handler, PrefectConsoleHandler) and not isinstance(
            handler.formatter, WithoutTraceback
        ):
            handler.setFormatter(WithoutTraceback(handler.formatter or logging.Formatter()))


def log_to(home: Path) -> Path | None:
    """Send every log record, tracebacks included, to the home's log file; its path.

    None, and no file, when the home is not an existing directory or the file cannot be opened
    (a read-only home, a full disk): nothing is created outside or instead of a home.
    """
    global _handler
    path = Home(home).log_file
    if _handler is not None and Path(_handler.baseFilename) == path:
        return path
    stop_logging()
    if not home.is_dir():
        return None
    import prefect.main  # noqa: F401  (Prefect sets up its logging on import: let it go first)
    from prefect.logging.formatters import PrefectFormatter

    try:
        path.parent.mkdir(exist_ok=True)
        handler = RotatingFileHandler(path, maxBytes=MAX_BYTES, backupCount=BACKUPS)
    except OSError:
        return None
    formatter = PrefectFormatter(
        LINE,
        flow_run_fmt=LINE.replace("%(name)s", "Flow run %(flow_run_name)r"),
        task_run_fmt=LINE.replace("%(name)s", "Task run %(task_run_name)r"),
    )
    handler.setFormatter(Redacted(formatter))
    logging.getLogger().addHandler(handler)
    _handler = handler
    return path


def record_failure(message: str) -> None:
    """The exception being handled, with its traceback, into the log file only (not the console:
    it shows the CLI's one line)."""
    if _handler is not None:
        logger = logging.getLogger("alphapilot.cli")
        record = logger.makeRecord(
            logger.name, logging.ERROR, __file__, 0, message, (), sys.exc_info()
        )
        _handler.handle(record)


def current_log() -> Path | None:
    """The log file records go to now, if any."""
    return None if _handler is None else Path(_handler.baseFilename)


def stop_logging() -> None:
    """Detach and close the log file handler, if any."""
    global _handler
    if _handler is not None:
        logging.getLogger().removeHandler(_handler)
        _handler.close()
        _handler = None
