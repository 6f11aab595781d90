"""How a command fails: one line on stderr, the traceback in the log file, one exit code.

Every failure, before or inside a flow, ends in `error: <what is wrong> (details:
<home>/logs/alphapilot.log)` (app/logfile.py). The exit code says what kind of failure it was
(`exit_code`, the one place that decides):

    0   ok (a market-closed day included)
    1   trades blocked or trading halted (SafetyViolation: safety checks, kill switch)
    2   usage error (an unknown option, a bad date, options that exclude each other)
    3   data, model or configuration error (DataError, ModelError, ConfigError, bad input files)
    4   the home is busy or the paper account needs attention (HomeBusy, LedgerError and its
        kinds: LedgerMissing, LedgerInconsistent, StalePositions, ApprovalRefused)
    5   a file cannot be read or written (OSError: full disk, read-only home, permissions)
    70  unexpected internal error (a bug: the log file has the traceback)
    130 interrupted (Ctrl-C)
"""

from __future__ import annotations

from enum import IntEnum
from typing import Any, NoReturn

import typer
from typer.core import TyperGroup

from app.answers import emit
from app.invocation import Invocation


class ExitCode(IntEnum):
    """The process exit codes, as the module docstring and README's "Exit codes" list them."""

    OK = 0
    BLOCKED = 1
    USAGE = 2
    INPUT = 3
    ACCOUNT = 4
    IO = 5
    INTERNAL = 70
    INTERRUPTED = 130


def exit_code(error: BaseException) -> ExitCode:
    """The exit code for a failure, by the kind of error (most specific first)."""
    from trading_core.errors import AlphapilotError, SafetyViolation
    from trading_core.home_lock import HomeBusy, HomeNotWritable
    from trading_core.live.ledger import LedgerError

    by_kind: list[tuple[type[BaseException] | tuple[type[BaseException], ...], ExitCode]] = [
        (SafetyViolation, ExitCode.BLOCKED),
        ((HomeBusy, LedgerError), ExitCode.ACCOUNT),
        ((HomeNotWritable, OSError), ExitCode.IO),
        (AlphapilotError, ExitCode.INPUT),  # DataError, ModelError, ConfigError and the like
        (KeyboardInterrupt, ExitCode.INTERRUPTED),
    ]
    return next((code for kind, code in by_kind if isinstance(error, kind)), ExitCode.INTERNAL)


class OneLineErrors(TyperGroup):
    """Any exception a command lets through ends as one `error:` line and its exit code."""

    def invoke(self, ctx: typer.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (typer.Exit, typer.Abort, typer.TyperException):  # an ending, or a usage error
            raise
        except (Exception, KeyboardInterrupt) as exc:
            refuse(describe(exc), exit_code(exc))


def describe(exc: BaseException) -> str:
    """The one line naming a failure: `Kind: message`, the file for an OSError, `unexpected`
    for a bug (secrets in URLs redacted)."""
    from trading_core.errors import AlphapilotError
    from trading_core.redaction import redact

    if isinstance(exc, KeyboardInterrupt):
        return "interrupted"
    if isinstance(exc, AlphapilotError):
        return f"{type(exc).__name__}: {redact(str(exc))}"
    if isinstance(exc, OSError):  # a read-only home, a full disk, a missing permission
        return redact(_os_error(exc))
    return f"unexpected {type(exc).__name__}: {redact(str(exc))}"


def refuse(reason: str, code: int) -> NoReturn:
    """Log the exception being handled to the log file, print `error: reason` and exit `code`.

    The log file is the home's, also when the failing command created the home; with --json,
    stdout gets the failure as the command's one JSON object.
    """
    from app.logfile import current_log, log_to, record_failure

    if current_log() is None and Invocation.home is not None:
        log_to(Invocation.home)
    record_failure(f"error: {reason}")
    log = current_log()
    details = f" (details: {log})" if log is not None else ""
    typer.secho(f"error: {reason}{details}", fg="red", err=True)
    if Invocation.json:
        status = "blocked" if code == ExitCode.BLOCKED else "error"
        emit({"status": status, "error": reason, "exit_code": int(code), "log": log})
    raise typer.Exit(int(code)) from None


def fail(message: str) -> NoReturn:
    """A usage error: the options given do not go together."""
    refuse(message, ExitCode.USAGE)


def _os_error(exc: OSError) -> str:
    """`cannot write <path>: No space left on device`, naming the file when the error does."""
    import errno

    if not exc.filename:
        return f"{type(exc).__name__}: {exc}"
    verb = "write" if exc.errno in (errno.ENOSPC, errno.EROFS, errno.EDQUOT) else "access"
    return f"cannot {verb} {exc.filename}: {exc.strerror or exc}"
