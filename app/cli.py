"""The `alphapilot` command line: each command runs a Prefect flow ad hoc.

Every failure, before or inside a flow, ends in one line on stderr, `error: <what is wrong>
(details: <home>/logs/alphapilot.log)`; the traceback goes to that log file (flows/logfile.py).
The exit code says what kind of failure it was (`exit_code`, the one place that decides):

    0   ok (a market-closed day included)
    1   trades blocked or trading halted (SafetyViolation: safety checks, kill switch)
    2   usage error (an unknown option, a bad date, options that exclude each other)
    3   data, model or configuration error (DataError, ModelError, ConfigError, bad input files)
    4   the home is busy or the paper account needs attention (HomeBusy, LedgerError and its
        kinds: LedgerMissing, LedgerInconsistent, StalePositions, ApprovalRefused)
    5   a file cannot be read or written (OSError: full disk, read-only home, permissions)
    70  unexpected internal error (a bug: the log file has the traceback)
    130 interrupted (Ctrl-C)

`--json` (daily, select, train, data update) prints exactly one JSON object on stdout, the
outcome with its `status`, paths and figures, or on failure `{"status": "error" | "blocked",
"error", "exit_code", "log"}`; everything else goes to stderr.
"""

from __future__ import annotations

import gc
import json
import math
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from enum import IntEnum
from importlib.metadata import version
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn, Optional

import typer
from typer.core import TyperGroup

import tasks  # noqa: F401  (offline, no-telemetry Prefect environment before Prefect loads)

if TYPE_CHECKING:
    import pandas as pd

    from settings import Settings

DEMO_TUNING_TRIALS = 8
# What model selection and training load on first use (4 s of imports on 2 cores).
RESEARCH_LIBRARIES = ("lightgbm", "xgboost", "optuna", "cvxpy", "sklearn.covariance")
# the out-of-sample columns of training_comparison.csv that `train` shows
COMPARED = [
    "rank_ic",
    "ic",
    "rank_icir",
    "rank_ic_t_stat",
    "hit_rate",
    "top_minus_bottom",
    "top_quintile_sharpe",
    "cv_rank_ic",
]
# the daily run's `--json` status, from the ledger's record of the run (a blocked run raises)
ACCOUNT_STATUS = {"applied": "applied", "proposed": "awaiting_approval"}


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


class _Invocation:
    """What a failing command needs to answer: JSON or not, and the home whose log to name."""

    json = False
    home: Path | None = None
    server_ready: Callable[[], None] = staticmethod(lambda: None)
    preload: tuple[str, ...] = ()


class _OneLineErrors(TyperGroup):
    """Any exception a command lets through ends as one `error:` line and its exit code."""

    def invoke(self, ctx: typer.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (typer.Exit, typer.Abort, typer.TyperException):  # an ending, or a usage error
            raise
        except (Exception, KeyboardInterrupt) as exc:
            _refuse(_reason(exc), exit_code(exc))


app = typer.Typer(
    cls=_OneLineErrors,
    help="alphapilot: ML equity trading recommendations orchestrated by Prefect, on a paper "
    "account (dry run: no broker is involved).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
data_app = typer.Typer(
    help="Market data: update the local store, generate synthetic data.", no_args_is_help=True
)
app.add_typer(data_app, name="data")
account_app = typer.Typer(
    help="The paper account: start a new one on purpose.", no_args_is_help=True
)
app.add_typer(account_app, name="account")
automations_app = typer.Typer(
    help="Prefect Automations: alerts for a missed or stuck daily run.", no_args_is_help=True
)
app.add_typer(automations_app, name="automations")

HomeOption = Annotated[
    Optional[Path],
    typer.Option(
        "--home",
        help="Home directory for everything alphapilot writes "
        "(env ALPHAPILOT_HOME; default ./alphapilot_home).",
    ),
]
ConfigOption = Annotated[
    Optional[Path],
    typer.Option(
        "--config", help="YAML settings file layered over the defaults (env ALPHAPILOT_CONFIG)."
    ),
]
JsonOption = Annotated[
    bool,
    typer.Option(
        "--json",
        help="Print one JSON object with the outcome (status, paths, figures) on stdout, "
        "nothing else; log lines stay on stderr.",
    ),
]


def _show_version(value: bool) -> None:
    if value:
        typer.echo(f"alphapilot {version('alphapilot')}")
        raise typer.Exit()


@app.callback()
def _start(
    show_version: Annotated[
        bool,
        typer.Option(
            "--version",
            "-V",
            callback=_show_version,
            is_eager=True,
            help="Print the version and exit.",
        ),
    ] = False,
) -> None:
    """Each command starts with no log file and plain (not JSON) answers."""
    from flows.logfile import stop_logging

    stop_logging()
    _Invocation.json, _Invocation.home = False, None
    _Invocation.server_ready, _Invocation.preload = lambda: None, ()


def _run(step):
    """Run `step` with Prefect's console showing log lines without their tracebacks.

    A failure ends the command in one line on stderr and its exit code (`_OneLineErrors`).
    """
    from flows.logfile import quiet_console

    quiet_console()
    return step()


def _start_prefect_early(*preload: str) -> None:
    """Called by every command that runs a flow, before it imports the flows: Prefect's temporary
    server (when no server is configured) starts now, overlapping the imports.

    `preload`: modules the command's flows import on first use. They are imported just before
    the first flow run, while the server may still be starting and the command would only wait.
    """
    from flows.early_server import start_early

    _Invocation.server_ready, _Invocation.preload = start_early(), preload


def _run_flow(step):
    """`_run` for a step that runs a flow: once the early-started server answers."""
    from importlib import import_module

    for module in _Invocation.preload:
        import_module(module)
    _Invocation.preload = ()
    _Invocation.server_ready()
    return _run(step)


def _reason(exc: BaseException) -> str:
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


def _refuse(reason: str, code: int) -> NoReturn:
    """Log the exception being handled to the log file, print `error: reason` and exit `code`.

    The log file is the home's, also when the failing command created the home; with --json,
    stdout gets the failure as the command's one JSON object.
    """
    from flows.logfile import current_log, log_to, record_failure

    if current_log() is None and _Invocation.home is not None:
        log_to(_Invocation.home)
    record_failure(f"error: {reason}")
    log = current_log()
    details = f" (details: {log})" if log is not None else ""
    typer.secho(f"error: {reason}{details}", fg="red", err=True)
    if _Invocation.json:
        status = "blocked" if code == ExitCode.BLOCKED else "error"
        _emit({"status": status, "error": reason, "exit_code": int(code), "log": log})
    raise typer.Exit(int(code)) from None


def _reply(outcome: dict[str, Any], show: Callable[[], None]) -> None:
    """A command's outcome: one JSON object on stdout with --json, else `show()` for a person."""
    if _Invocation.json:
        _emit(outcome)
    else:
        show()


def _emit(outcome: dict[str, Any]) -> None:
    typer.echo(json.dumps(_plain(outcome), default=str))


def _plain(value: Any) -> Any:
    """`value` with numpy scalars as Python numbers and NaN/infinity as null (strict JSON)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if type(value).__module__ == "numpy" and hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _os_error(exc: OSError) -> str:
    """`cannot write <path>: No space left on device`, naming the file when the error does."""
    import errno

    if not exc.filename:
        return f"{type(exc).__name__}: {exc}"
    verb = "write" if exc.errno in (errno.ENOSPC, errno.EROFS, errno.EDQUOT) else "access"
    return f"cannot {verb} {exc.filename}: {exc.strerror or exc}"


def _str(path: Path | None) -> str | None:
    return None if path is None else str(path)


def _check_settings(config: Path | None, home: Path | None) -> Settings:
    """Fail fast on invalid settings, before a Prefect flow run is started; the settings.

    From here on, the log lines and any traceback go to the home's log file (if the home exists).
    """
    from flows.logfile import log_to
    from settings import load_settings

    settings = _run(lambda: load_settings(_str(config), _str(home)))
    _Invocation.home = settings.home
    log_to(settings.home)
    return settings


@data_app.command("update")
def data_update_cmd(
    provider: Annotated[
        Optional[str],
        typer.Option(
            help="bundled | synthetic | folder | yfinance | tiingo (default: data.provider if "
            "your settings set it, else the source recorded in the home, else bundled)."
        ),
    ] = None,
    path: Annotated[
        Optional[Path], typer.Option(help="Data folder for the folder provider.")
    ] = None,
    replace: Annotated[
        bool,
        typer.Option("--replace", help="Replace the store's data if it comes from another source."),
    ] = False,
    home: HomeOption = None,
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """Update the local market-data store (incremental and idempotent) from its source."""
    _Invocation.json = as_json
    settings = _check_settings(config, home)
    _start_prefect_early()
    from dataclasses import asdict

    from flows.data_update import data_update
    from trading_core.home import Home

    result = _run_flow(
        lambda: data_update(
            provider=provider,
            path=_str(path),
            replace=replace,
            home=_str(home),
            config=_str(config),
        )
    )
    state = "replaced" if result.replaced else "updated" if result.changed else "unchanged"
    quality_file = Home(settings.home).data / "quality.json"
    summary = result.quality.summary() if result.quality else "not assessed"
    _reply(
        {
            "status": "ok",
            **asdict(result),
            "quality": {"summary": summary, "file": quality_file},
            "store": Home(settings.home).data,
        },
        lambda: typer.echo(
            f"market data {state} from {result.source}: {result.symbols} symbols, "
            f"{result.first_date}..{result.last_date}, fingerprint {result.fingerprint}\n"
            f"data quality: {summary} ({quality_file})"
        ),
    )


@data_app.command("synth")
def data_synth_cmd(
    out: Annotated[Path, typer.Option(help="Folder to write the dataset to.")],
    symbols: Annotated[int, typer.Option(help="Number of stocks.")] = 50,
    years: Annotated[float, typer.Option(help="Years of daily sessions.")] = 8,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 7,
    ic: Annotated[
        float, typer.Option(help="Oracle information coefficient of the planted signal.")
    ] = 0.05,
    drift: Annotated[
        float,
        typer.Option(
            help="Market drift per session; 0 leaves no premium for beta (the oracle is a ceiling)."
        ),
    ] = 0.0003,
    fmt: Annotated[str, typer.Option("--format", help="csv | csv.gz | parquet")] = "csv",
) -> None:
    """Write a synthetic data folder with a planted signal of known IC."""
    from trading_core.data.folder import write_folder
    from trading_core.data.synthetic import generate_synthetic_market

    def make():
        market = generate_synthetic_market(
            symbols=symbols, years=years, seed=seed, ic=ic, market_drift=drift
        )
        return market, write_folder(market.data, out, fmt=fmt)

    market, path = _run(make)
    by_execution = ", ".join(f"{e} {v:.4f}" for e, v in market.oracle_ic_by_execution.items())
    typer.echo(
        f"wrote {path} ({symbols} symbols x {len(market.data.dates)} sessions); "
        f"oracle IC {market.oracle_ic:.4f} (1 day), {market.oracle_ic_horizon:.4f} "
        f"({market.horizon} days; {by_execution})"
    )


@app.command("select")
def select_cmd(
    as_of: Annotated[
        Optional[datetime],
        typer.Option("--as-of", formats=["%Y-%m-%d"], help="Use data up to this date only."),
    ] = None,
    home: HomeOption = None,
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """Champion selection: train the candidates, compare out of sample, promote the best."""
    _Invocation.json = as_json
    _check_settings(config, home)
    _start_prefect_early(*RESEARCH_LIBRARIES)
    from flows.champion_selection import champion_selection

    result = _run_flow(
        lambda: champion_selection(
            as_of=as_of.date() if as_of else None, home=_str(home), config=_str(config)
        )
    )
    _reply(_selection_outcome(result), lambda: _print_champion(result))


def _selection_reports(result: dict) -> dict[str, str]:
    """The selection report to open (HTML) and its Markdown twin, written side by side."""
    from trading_core.selection.outputs import HTML_FILE

    markdown = Path(result["report"])
    return {"report": str(markdown.with_name(HTML_FILE)), "report_markdown": str(markdown)}


def _selection_outcome(result: dict) -> dict[str, Any]:
    champion = result["champion"]
    chosen = ("combination", "model", "optimizer", "trained_through", "reason", "metadata_path")
    return {
        "status": "ok",
        "champion": None if champion is None else {k: champion.get(k) for k in chosen},
        "trials": result["trials"],
        "baseline_sharpe": result["baseline_sharpe"],
        "ranking": [{**entry, "passed": not entry["failures"]} for entry in result["ranking"][:10]],
        "failed": result["failed"],
        **_selection_reports(result),
    }


def _print_champion(result: dict) -> None:
    typer.echo(
        f"{result['trials']} model x optimizer backtests; equal-weight baseline Sharpe "
        f"{result['baseline_sharpe']:.2f}"
    )
    for i, entry in enumerate(result["ranking"][:10], 1):
        verdict = "passes" if not entry["failures"] else "; ".join(entry["failures"])
        typer.echo(f"  {i:>2}. {entry['combination']:<32} score {entry['score']:.3f}  {verdict}")
    for name, error in result["failed"].items():
        typer.echo(f"  failed: {name}: {error}")
    champion = result["champion"]
    if champion is None:
        typer.echo(
            "no combination passed the thresholds: nothing promoted (an existing champion "
            "stays; without one the daily run scores with the latest candidate)"
        )
    else:
        typer.echo(
            f"champion: {champion['combination']} (trained through "
            f"{champion['trained_through']}) -> {champion['metadata_path']}"
        )
    typer.echo(f"report: {_selection_reports(result)['report']}")


@app.command("train")
def train_cmd(
    as_of: Annotated[
        Optional[datetime],
        typer.Option("--as-of", formats=["%Y-%m-%d"], help="Use data up to this date only."),
    ] = None,
    home: HomeOption = None,
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """Train, tune and evaluate every candidate out of sample; print the comparison table."""
    _Invocation.json = as_json
    _check_settings(config, home)
    _start_prefect_early(*RESEARCH_LIBRARIES)
    from flows.training import train_candidates_flow
    from trading_core.io import read_csv

    path = _run_flow(
        lambda: train_candidates_flow(
            as_of=as_of.date() if as_of else None, home=_str(home), config=_str(config)
        )
    )
    table = read_csv(path).set_index("model")
    _reply(
        {"status": "ok", "comparison": path, "models": table[COMPARED].to_dict(orient="index")},
        lambda: _print_comparison(table, path),
    )


def _print_comparison(table: pd.DataFrame, path: str) -> None:
    typer.echo("test period (never tuned on):")
    typer.echo(table[COMPARED].to_string(float_format=lambda v: f"{v:+.4f}"))
    typer.echo(f"comparison: {path}")


@app.command("daily")
def daily_cmd(
    run_date: Annotated[
        Optional[datetime],
        typer.Option(
            "--date", formats=["%Y-%m-%d"], help="Session to run for (default: today, New York)."
        ),
    ] = None,
    dry_run: Annotated[
        bool,
        typer.Option(
            "--dry-run/--live",
            help="Paper trading, no broker involved (the default); --live is refused: no broker "
            "adapter exists.",
        ),
    ] = True,
    replay_from: Annotated[
        Optional[datetime],
        typer.Option(
            "--from",
            formats=["%Y-%m-%d"],
            help="Replay every session from this date (paper trading, auto-approved), in order.",
        ),
    ] = None,
    replay_to: Annotated[
        Optional[datetime],
        typer.Option(
            "--to", formats=["%Y-%m-%d"], help="Last session of a replay (default: last stored)."
        ),
    ] = None,
    home: HomeOption = None,
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """Daily live run: scores, regime, target portfolio, trades, safety checks and report.

    The trades are applied to the paper account at once, or wait for `alphapilot approve` when
    live.require_manual_approval is set; a blocked run applies nothing (exit code 1).
    With --from (and --to), replays the daily run over past sessions as of each date.
    """
    _Invocation.json = as_json
    if replay_from is not None and run_date is not None:
        _fail("use either --date or --from/--to, not both")
    if replay_to is not None and replay_from is None:
        _fail("--to needs --from")
    _check_settings(config, home)
    _start_prefect_early()
    if replay_from is not None:
        from flows.daily_replay import daily_replay

        summary = _run_flow(
            lambda: daily_replay(
                start=replay_from.date(),
                end=replay_to.date() if replay_to else None,
                home=_str(home),
                config=_str(config),
            )
        )
        _reply(
            {"status": "ok", **summary},
            lambda: typer.echo(
                f"replayed {summary['sessions']} sessions {summary['first']}..{summary['last']}"
            ),
        )
        return
    from flows.daily_live import daily_live

    result = _run_flow(
        lambda: daily_live(
            run_date=run_date.date() if run_date else None,
            dry_run=dry_run,
            home=_str(home),
            config=_str(config),
        )
    )
    _reply(_daily_outcome(result), lambda: _print_daily(result))


def _fail(message: str) -> NoReturn:
    """A usage error: the options given do not go together."""
    _refuse(message, ExitCode.USAGE)


@contextmanager
def _locked(config: Path | None, home: Path | None, command: str) -> Iterator[Settings]:
    """The settings, with the home's one-writer lock held for the command (waiting if need be)."""
    from tasks.components import home_lock

    settings = _check_settings(config, home)
    if not Path(settings.home).is_dir():
        _refuse(
            f"no alphapilot home at {settings.home}: nothing to {command.split()[0]}",
            ExitCode.INPUT,
        )
    lock = home_lock(settings, command, on_wait=lambda message: typer.echo(message, err=True))
    _run(lock.__enter__)
    try:
        yield settings
    finally:
        lock.__exit__(None, None, None)


def _ledger(settings: Settings):
    """The home's existing ledger, opened as the flows open it (approve and resume never open a
    new account)."""
    from tasks.live import open_ledger

    return _run(lambda: open_ledger(settings, create=False))


@app.command("approve")
def approve_cmd(
    run_date: Annotated[
        datetime,
        typer.Option("--date", formats=["%Y-%m-%d"], help="The session whose trades to apply."),
    ],
    home: HomeOption = None,
    config: ConfigOption = None,
) -> None:
    """Apply a session's proposed trades at their recorded prices (once; refused if blocked)."""
    with _locked(config, home, f"approve --date {run_date:%Y-%m-%d}") as settings:
        ledger = _ledger(settings)
        record = _run(lambda: ledger.approve(run_date.date()))
        _run(ledger.export)
    typer.echo(
        f"{record.run_date}: trades applied; cash {record.cash_after:,.2f}, "
        f"account value {record.equity_after:,.2f}"
    )


@app.command("resume")
def resume_cmd(
    reason: Annotated[
        str, typer.Option("--reason", help="Why trading may resume (kept in the ledger).")
    ],
    home: HomeOption = None,
    config: ConfigOption = None,
) -> None:
    """Release the kill switch: later runs may trade again. The reason and time are recorded."""
    import getpass

    with _locked(config, home, "resume") as settings:
        ledger = _ledger(settings)
        event = _run(lambda: ledger.resume(reason, by=getpass.getuser()))
        _run(ledger.export)
    typer.echo(f"kill switch released at {event.recorded_at} by {event.actor}: {event.reason}")


@app.command("rollback")
def rollback_cmd(home: HomeOption = None, config: ConfigOption = None) -> None:
    """Restore the previous champion (model and optimizer) from production/history/."""
    from trading_core.home import Home
    from trading_core.selection.production import ProductionStore

    with _locked(config, home, "rollback") as settings:
        store = ProductionStore(Home(settings.home).production)
        restored = _run(store.rollback)
    typer.echo(
        f"champion restored: {restored.get('combination') or restored['model_name']} "
        f"(selected on {restored.get('selected_on', 'unknown')}); the demoted one is kept in "
        f"{store.history_folder}"
    )


@account_app.command("new")
def account_new_cmd(
    from_positions: Annotated[
        bool,
        typer.Option(
            "--from-positions",
            help="Open with the holdings and cash of the last current_positions.csv export "
            "(default: all cash at live.initial_capital).",
        ),
    ] = False,
    home: HomeOption = None,
    config: ConfigOption = None,
) -> None:
    """Start a new paper account on purpose, after its ledger was lost or damaged.

    The old live/ folder is kept beside it as live.before-<UTC time>/; a working ledger is never
    replaced (move live/ away yourself to start over).
    """
    from trading_core.home import Home
    from trading_core.live.account import open_new_account

    with _locked(config, home, "account new") as settings:
        capital = settings.live.initial_capital
        ledger, kept = _run(lambda: open_new_account(Home(settings.home), capital, from_positions))
    positions = ledger.positions()
    typer.echo(
        f"new account in {ledger.path}: {int((positions.shares > 0).sum())} holdings, "
        f"cash {positions.cash:,.2f}"
        + (f"; the previous live/ folder is kept in {kept}" if kept else "")
    )


def _daily_outcome(result: dict) -> dict[str, Any]:
    """The daily run for scripts: `market_closed`, `applied` or `awaiting_approval` (a blocked
    run is a failure, exit code 1), the figures and the files."""
    if result.get("market_closed"):
        return {"status": "market_closed", **result}
    return {"status": ACCOUNT_STATUS[result["ledger_status"]], **result}


def _print_daily(result: dict) -> None:
    if result.get("market_closed"):
        typer.echo(result["reason"])
        return
    typer.echo(
        f"{result['date']}: regime {result['regime']}, exposure {result['exposure']:.0%}, "
        f"{result['trades_proposed']} trades, one-way turnover {result['turnover']:.1%}, "
        f"estimated cost {result['estimated_cost']:,.2f}"
    )
    from trading_core.reporting.daily import paper_account_outcome

    outcome = paper_account_outcome(
        result["ledger_status"], result["date"], result["trades_proposed"]
    )
    typer.echo(f"paper account: {outcome}")
    for name, path in result["files"].items():
        typer.echo(f"  {name:<22} {path}")


@app.command("demo")
def demo_cmd(home: HomeOption = None, config: ConfigOption = None) -> None:
    """The whole job on the bundled S&P 500 data: data update, champion selection, daily run."""
    # A demo-sized tuning budget, unless the user set one: the full search is `alphapilot train`.
    os.environ.setdefault("ALPHAPILOT__MODELING__TUNING__TRIALS", str(DEMO_TUNING_TRIALS))
    settings = _check_settings(config, home)
    _start_prefect_early("skfolio", *RESEARCH_LIBRARIES)
    from flows.champion_selection import champion_selection
    from flows.daily_live import daily_live
    from flows.data_update import data_update
    from flows.logfile import log_to
    from trading_core.data.store import MarketStore
    from trading_core.home import Home

    typer.echo(f"[1/3] data update (bundled S&P 500) into {settings.home}")
    _run_flow(lambda: data_update(provider="bundled", home=str(settings.home), config=_str(config)))
    log_to(settings.home)  # the home exists now
    dates = MarketStore(Home(settings.home).data).load().dates
    last = dates[-1].date()
    # Select on data that ends before the monitoring window, so the daily run can show live IC.
    cutoff = dates[-(settings.ops.ic_lookback_days + settings.modeling.label_horizon + 1)].date()
    typer.echo(
        f"[2/3] champion selection on data up to {cutoff} (the daily run then monitors the "
        f"model on the {settings.ops.ic_lookback_days} sessions it has not seen); "
        f"{settings.modeling.tuning.trials} Optuna trials for xgboost_tuned"
    )
    champion = _run_flow(
        lambda: champion_selection(as_of=cutoff, home=str(settings.home), config=_str(config))
    )
    _print_champion(champion)
    typer.echo(f"[3/3] daily run for {last}, the last session in the data")
    result = _run_flow(
        lambda: daily_live(run_date=last, home=str(settings.home), config=_str(config))
    )
    _print_daily(result)


@app.command("serve")
def serve_cmd(home: HomeOption = None, config: ConfigOption = None) -> None:
    """Run the flows on their schedules from this process (needs a running `prefect server start`).

    New York time: data update 17:00 and daily run 17:30 Mon-Fri, champion selection Sat 09:00.

    --home and --config become the runs' parameters. Ctrl-C stops serving and pauses the schedules.
    """
    _check_settings(config, home)
    from deployments.schedules import CRON, TIMEZONE
    from deployments.serve import require_prefect_server, serve_flows

    url = _run(require_prefect_server)
    when = ", ".join(f"{name} '{cron}'" for name, cron in CRON.items())
    typer.echo(f"serving {when} ({TIMEZONE}) on {url}; Ctrl-C stops and pauses them")
    _run(lambda: serve_flows(home=home, config=config))


@automations_app.command("create")
def automations_create_cmd(
    home: HomeOption = None,
    config: ConfigOption = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print the definitions; create nothing.")
    ] = False,
) -> None:
    """Create the daily-live alerts on the Prefect server, or replace them (needs a server).

    One alerts when a daily-live run has not completed orchestration.daily_deadline_minutes after
    its start (late, stuck, failed), one when nothing serves the deployment. Both post to the
    Slack webhook of your settings through the Prefect notification block `alphapilot-slack`.
    """
    settings = _check_settings(config, home)
    from uuid import UUID

    from prefect.settings import get_current_settings

    from deployments.automations import (
        BLOCK_NAME,
        create_automations,
        daily_automations,
        require_alert_channel,
    )
    from deployments.serve import require_prefect_server

    if dry_run:
        for automation in daily_automations(settings, UUID(int=0)):
            typer.echo(automation.model_dump_json(indent=2, exclude={"id"}))
        typer.echo(f"(block_document_id: the notification block {BLOCK_NAME!r}, not created)")
        return
    _run(lambda: require_alert_channel(settings))
    _run(require_prefect_server)
    for automation in _run(lambda: create_automations(settings)):
        typer.echo(f"{automation.name} ({automation.id}): {automation.description}")
    typer.echo(
        f"alerts go to Slack through the notification block {BLOCK_NAME!r}; "
        f"see them in the UI under Automations: {get_current_settings().ui_url}/automations"
    )


def main() -> None:
    """Console-script entry point."""
    try:
        app(prog_name="alphapilot")
    finally:
        # Python's collections at exit walk every object the run made: 0.5-0.9 s of a 7 s
        # daily run, for memory the process is about to give back anyway
        gc.freeze()


if __name__ == "__main__":
    sys.exit(main())
