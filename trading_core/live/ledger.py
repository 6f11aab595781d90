"""The ledger: the one transactional record of the paper account (SQLite, `<home>/live/ledger.sqlite`).

It holds the opening balance, positions, cash, every run's trade list and status, the daily
equity and the kill switch. `current_positions.csv` and `performance_history.csv` beside it are
exports: rewritten atomically after every commit that changes them, derived from the ledger only,
so `export()` always writes the same bytes for the same ledger.

Runs and dates
- A run for session D is computed against `positions(before=D)`: the opening balance plus every
  applied run dated before D. The ledger moves forward in time only: recording a run for D when a
  later date is already applied is refused.
- Each date has at most one current run: `proposed` (awaiting approval), `applied`, or `blocked`
  (safety checks or the kill switch; it carries a reason). Re-running D replaces its proposed or
  blocked run, which is kept as `superseded`. Once D is applied, a re-run records nothing: the
  applied run comes back with a `note` saying whether the new proposal matches it.
- `approve(D)` applies D's trades with status `proposed` at their recorded prices, commission_est
  + slippage_est out of cash, exactly once. Approving an applied, blocked or superseded run, or any
  run while the kill switch is engaged, is refused (ApprovalRefused).
- Applying a run supersedes every other pending proposal: earlier dates can no longer be applied
  (forward only) and later ones were computed against positions that have just changed.
- Paper trading without manual approval: `record_run(..., apply=True)` records and applies in one
  transaction.
- The kill switch, once engaged, stays engaged until `resume` (with a reason and who); every
  engagement and release is kept.

Crash safety: every call changes the file in one `BEGIN IMMEDIATE ... COMMIT` transaction (rollback
journal, synchronous=FULL); an exception anywhere rolls it back and leaves the file as it was. The
positions table and the account cash are a materialized state; `verify()` replays the opening
balance plus the applied trades and names every difference.
"""

from __future__ import annotations

import json
import math
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from trading_core.errors import AlphapilotError, DataError
from trading_core.faults import crash_point
from trading_core.home import Home
from trading_core.io import atomic_write_text, to_csv
from trading_core.live.positions import Positions, all_cash, load_positions, positions_csv
from trading_core.live.trade_generator import PROPOSED

SCHEMA_VERSION = 1
LEDGER_FILE = "ledger.sqlite"
POSITIONS_FILE = "current_positions.csv"
PERFORMANCE_FILE = "performance_history.csv"
APPLIED, BLOCKED, SUPERSEDED = "applied", "blocked", "superseded"
SHARE_TOLERANCE = 1e-9  # shares: a residual this small after a sale is no holding
CASH_TOLERANCE = 0.01  # dollars: a cent of rounding in cost estimates is no overdraft

_SCHEMA = (
    "CREATE TABLE schema_version (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)",
    # NaN binds as NULL in SQLite, so NOT NULL on a REAL column also refuses NaN.
    """CREATE TABLE account (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        initial_capital REAL NOT NULL CHECK (initial_capital > 0),
        opening_cash REAL NOT NULL CHECK (opening_cash >= 0),
        cash REAL NOT NULL,
        created_at TEXT NOT NULL)""",
    """CREATE TABLE opening_positions (
        symbol TEXT PRIMARY KEY, shares REAL NOT NULL CHECK (shares > 0))""",
    """CREATE TABLE positions (
        symbol TEXT PRIMARY KEY, shares REAL NOT NULL CHECK (shares > 0))""",
    """CREATE TABLE runs (
        run_id INTEGER PRIMARY KEY,
        run_date TEXT NOT NULL CHECK (date(run_date) = run_date),
        status TEXT NOT NULL CHECK (status IN ('proposed', 'applied', 'blocked', 'superseded')),
        created_at TEXT NOT NULL,
        applied_at TEXT,
        model_id TEXT NOT NULL,
        data_fingerprint TEXT NOT NULL,
        block_reason TEXT NOT NULL,
        summary TEXT NOT NULL CHECK (json_valid(summary)),
        equity_before REAL NOT NULL,
        cash_before REAL NOT NULL,
        equity_after REAL,
        cash_after REAL,
        superseded_by INTEGER REFERENCES runs (run_id) DEFERRABLE INITIALLY DEFERRED,
        CHECK ((applied_at IS NOT NULL) = (status = 'applied')),
        CHECK ((equity_after IS NOT NULL AND cash_after IS NOT NULL) = (status = 'applied')),
        CHECK ((superseded_by IS NOT NULL) = (status = 'superseded')),
        CHECK (status != 'blocked' OR trim(block_reason) != ''))""",
    """CREATE UNIQUE INDEX one_current_run_per_date ON runs (run_date)
        WHERE status != 'superseded'""",
    """CREATE TABLE trades (
        run_id INTEGER NOT NULL REFERENCES runs (run_id),
        seq INTEGER NOT NULL CHECK (seq >= 0),
        symbol TEXT NOT NULL CHECK (symbol != ''),
        side TEXT NOT NULL CHECK (side IN ('BUY', 'SELL')),
        shares REAL NOT NULL CHECK (shares > 0),
        price REAL NOT NULL CHECK (price > 0),
        notional REAL NOT NULL CHECK (notional > 0),
        current_weight REAL,
        target_weight REAL,
        weight_change REAL,
        commission_est REAL NOT NULL CHECK (commission_est >= 0),
        slippage_est REAL NOT NULL CHECK (slippage_est >= 0),
        reason TEXT NOT NULL,
        status TEXT NOT NULL,
        PRIMARY KEY (run_id, seq))""",
    """CREATE TABLE marks (
        run_id INTEGER NOT NULL REFERENCES runs (run_id),
        symbol TEXT NOT NULL,
        close REAL NOT NULL CHECK (close > 0),
        PRIMARY KEY (run_id, symbol))""",
    """CREATE TABLE kill_switch_events (
        event_id INTEGER PRIMARY KEY,
        event TEXT NOT NULL CHECK (event IN ('engaged', 'resumed')),
        recorded_at TEXT NOT NULL,
        run_date TEXT CHECK (run_date IS NULL OR date(run_date) = run_date),
        actor TEXT NOT NULL,
        reason TEXT NOT NULL CHECK (trim(reason) != ''),
        details TEXT NOT NULL CHECK (json_valid(details)))""",
)
_REQUIRED_TRADE_COLUMNS = [
    "symbol",
    "side",
    "shares",
    "price",
    "commission_est",
    "slippage_est",
    "reason",
    "status",
]
_WEIGHT_COLUMNS = ["current_weight", "target_weight", "weight_change"]
_STORED_TRADE_COLUMNS = [
    "symbol",
    "side",
    "shares",
    "price",
    "notional",
    *_WEIGHT_COLUMNS,
    "commission_est",
    "slippage_est",
    "reason",
    "status",
]
_PERFORMANCE_SQL = """
    SELECT r.run_date AS date,
           COALESCE(r.equity_after, r.equity_before) AS equity,
           COALESCE(r.cash_after, r.cash_before) AS cash,
           r.status, r.equity_before,
           COALESCE(SUM(t.commission_est + t.slippage_est), 0.0) AS costs,
           COUNT(t.seq) AS trades_applied,
           r.model_id, r.data_fingerprint, r.created_at, r.applied_at, r.block_reason
    FROM runs r
    LEFT JOIN trades t ON t.run_id = r.run_id AND r.status = 'applied' AND t.status = ?
    WHERE r.status != 'superseded'
    GROUP BY r.run_id
    ORDER BY r.run_date
"""


class LedgerError(AlphapilotError):
    """The ledger refuses a change (names the date and why) or cannot be opened."""


class ApprovalRefused(LedgerError):
    """A run cannot be applied: already applied, blocked, superseded, or the kill switch is on."""


class LedgerInconsistent(LedgerError):
    """The stored state disagrees with the ledger's own history (names every difference)."""


class LedgerMissing(LedgerError):
    """No ledger where one is needed, or a missing/empty one where the home shows an account."""


class StalePositions(LedgerError):
    """A run was computed from positions the ledger no longer holds (another run changed them)."""


@dataclass(frozen=True)
class RunRecord:
    """One daily run as recorded; `note` explains a re-run that changed nothing (not stored)."""

    run_id: int
    run_date: date
    status: str
    created_at: str
    applied_at: str | None
    model_id: str
    data_fingerprint: str
    block_reason: str
    summary: dict
    equity_before: float
    cash_before: float
    equity_after: float | None
    cash_after: float | None
    superseded_by: int | None
    note: str = ""


@dataclass(frozen=True)
class KillSwitchEvent:
    """An engagement or release of the kill switch: when (UTC), for which session, who, why."""

    event: str
    recorded_at: str
    run_date: date | None
    actor: str
    reason: str
    details: dict


def utc_now() -> datetime:
    return datetime.now(UTC)


def has_ledger(home: Home) -> bool:
    """Whether the home has a ledger file with content (an empty file is no ledger)."""
    path = home.live / LEDGER_FILE
    return path.is_dir() or (path.is_file() and path.stat().st_size > 0)


def account_traces(home: Home) -> list[str]:
    """What in the home shows that an account was kept there: its history export, run folders."""
    traces = []
    if (home.live / PERFORMANCE_FILE).exists():
        traces.append(PERFORMANCE_FILE)
    days = [p for p in home.live.glob("[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]") if p.is_dir()]
    if days:
        traces.append(f"{len(days)} daily run folder(s)")
    return traces


class Ledger:
    """The paper account's positions, cash, runs, equity and kill switch in one SQLite file."""

    def __init__(
        self,
        path: Path,
        initial_capital: float,
        *,
        opening: Positions | None = None,
        now: Callable[[], datetime] = utc_now,
    ) -> None:
        """Open the ledger at `path`, creating it with `opening` (default: all cash) on first use.

        An existing ledger keeps the capital and opening balance it was created with.
        """
        self.path = Path(path)
        self.positions_file = self.path.parent / POSITIONS_FILE
        self.performance_file = self.path.parent / PERFORMANCE_FILE
        self._now = now
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._transaction() as db:
            created = self._create_schema(db, initial_capital, opening or all_cash(initial_capital))
        if created:
            self.export()

    @classmethod
    def at_home(
        cls,
        home: Home,
        initial_capital: float,
        now: Callable[[], datetime] = utc_now,
        *,
        create: bool = True,
    ) -> Ledger:
        """The home's ledger; with `create`, a new account in a home that has none yet.

        A new account opens with a hand-written current_positions.csv if there is one. A ledger
        that is missing or empty while the home shows an account (exports, run folders) is never
        replaced by a new one: LedgerMissing says how to recover (`alphapilot account new`).
        """
        path = home.live / LEDGER_FILE
        if has_ledger(home):
            return cls(path, initial_capital, now=now)
        traces = account_traces(home)
        if traces:
            state = "empty" if path.exists() else "missing"
            raise LedgerMissing(
                f"the ledger {path} is {state} but the home holds an account "
                f"({', '.join(traces)}): refusing to open a new all-cash account over it; restore "
                f"{LEDGER_FILE} from a backup, or start a new account on purpose with "
                "`alphapilot account new` (docs/DAILY_LIVE_OPERATIONS.md, 'The ledger is missing')"
            )
        if not create:
            raise LedgerMissing(
                f"no account in {home.root}: there is no ledger yet (the first `alphapilot daily` "
                "run opens one)"
            )
        opening = None
        if home.positions_file.exists():
            opening = load_positions(home.positions_file, initial_capital)
        return cls(path, initial_capital, opening=opening, now=now)

    # -- reading ---------------------------------------------------------------------------

    @property
    def initial_capital(self) -> float:
        with self._transaction(write=False) as db:
            return float(db.execute("SELECT initial_capital FROM account").fetchone()[0])

    def positions(self, before: date | None = None) -> Positions:
        """Holdings and cash after every applied run dated before `before` (None: all of them)."""
        with self._transaction(write=False) as db:
            if before is None:
                shares, cash = _current_state(db)
            else:
                shares, cash = _opening_state(db)
                for run_date, _, run_shares, run_cash in _history(db):
                    if run_date >= before:
                        break
                    shares, cash = run_shares, run_cash
        return _positions(shares, cash)

    def run(self, run_date: date) -> RunRecord | None:
        """The latest run recorded for `run_date` (the current one unless all were superseded)."""
        with self._transaction(write=False) as db:
            return _latest_run(db, run_date)

    def trades(self, run_date: date | None = None) -> pd.DataFrame:
        """Trade lists of the current (not superseded) runs, one date or all, in recorded order."""
        sql = (
            "SELECT r.run_date AS date, r.status AS run_status, "
            + ", ".join(f"t.{c}" for c in _STORED_TRADE_COLUMNS)
            + " FROM trades t JOIN runs r USING (run_id) WHERE r.status != 'superseded'"
            + ("" if run_date is None else " AND r.run_date = ?")
            + " ORDER BY r.run_date, t.seq"
        )
        params = () if run_date is None else (run_date.isoformat(),)
        with self._transaction(write=False) as db:
            cursor = db.execute(sql, params)
            rows = cursor.fetchall()
        frame = pd.DataFrame([tuple(row) for row in rows], columns=_column_names(cursor))
        frame["date"] = pd.to_datetime(frame["date"])
        return frame

    def performance(self) -> pd.DataFrame:
        """One row per run date: end-of-day equity (after trades when applied), cash, returns."""
        with self._transaction(write=False) as db:
            cursor = db.execute(_PERFORMANCE_SQL, (PROPOSED,))
            rows = cursor.fetchall()
        frame = pd.DataFrame([tuple(row) for row in rows], columns=_column_names(cursor))
        frame["date"] = pd.to_datetime(frame["date"])
        frame.insert(3, "invested", frame["equity"] - frame["cash"])
        frame.insert(4, "daily_return", frame["equity"].astype("float64").pct_change())
        return frame

    def equity_curve(self) -> pd.Series:
        """End-of-day account value per run date (index: session dates), for returns and limits."""
        performance = self.performance()
        return pd.Series(
            performance["equity"].to_numpy("float64"),
            index=pd.DatetimeIndex(performance["date"], name="date"),
            name="equity",
        )

    def kill_switch(self) -> KillSwitchEvent | None:
        """The engagement in force (since when, why), or None when trading may go ahead."""
        with self._transaction(write=False) as db:
            return _kill_switch(db)

    def kill_switch_history(self) -> list[KillSwitchEvent]:
        """Every engagement and release, oldest first."""
        with self._transaction(write=False) as db:
            rows = db.execute("SELECT * FROM kill_switch_events ORDER BY event_id").fetchall()
        return [_event(row) for row in rows]

    # -- changing --------------------------------------------------------------------------

    def record_run(
        self,
        run_date: date,
        trades: pd.DataFrame,
        prices: pd.Series,
        *,
        status: str = PROPOSED,
        apply: bool = False,
        summary: dict | None = None,
        model_id: str = "",
        data_fingerprint: str = "",
        reason: str = "",
        basis: Positions | None = None,
    ) -> RunRecord:
        """Record D's trade list, replacing a pending or blocked run of D, and apply it if `apply`.

        `prices` are the closes of D used to value the account (every symbol held or traded);
        `status` is `proposed` or `blocked` (then `reason` says why). A proposal that would sell
        more than `positions(before=D)` holds or overdraw its cash is refused. If D is already
        applied, nothing is recorded and the applied run comes back with a note comparing the
        proposals. `basis` is the positions the trades were computed from: when the ledger's
        positions differ from it by now (another run was applied meanwhile), StalePositions.
        """
        _check_run_arguments(status, apply, reason)
        self.verify()
        rows = _trade_rows(trades, run_date)
        summary_json = _json(summary or {}, f"summary of the run for {run_date}")
        with self._transaction() as db:
            applied = _applied_run(db, run_date)
            if applied is not None:
                return replace(applied, note=_rerun_note(db, applied, rows))
            _refuse_if_later_applied(db, run_date)
            if apply:
                _refuse_if_killed(db, run_date)
            before, cash = _current_state(db)
            if basis is not None:
                _refuse_if_stale(basis, before, cash, run_date)
            if status == PROPOSED:
                _execute(before, cash, [r for r in rows if r["status"] == PROPOSED], run_date)
            marks = _marks(prices, sorted(set(before) | {r["symbol"] for r in rows}), run_date)
            fields = {
                "status": status,
                "model_id": model_id,
                "data_fingerprint": data_fingerprint,
                "block_reason": reason.strip(),
                "summary": summary_json,
                "equity_before": _value(before, cash, marks),
                "cash_before": cash,
            }
            run_id = self._insert_run(db, run_date, fields, rows, marks)
            if apply:
                self._apply(db, run_id)
            record = _latest_run(db, run_date)
            crash_point("ledger:before-commit")
        self.export()
        return record

    def approve(self, run_date: date) -> RunRecord:
        """Apply D's proposed trades, exactly once; applied, blocked or superseded runs are refused."""
        self.verify()
        with self._transaction() as db:
            run = _latest_run(db, run_date)
            _refuse_approval(db, run, run_date)
            _refuse_if_killed(db, run_date)
            self._apply(db, run.run_id)
            record = _latest_run(db, run_date)
            crash_point("ledger:before-commit")
        self.export()
        return record

    def engage_kill_switch(
        self, run_date: date, reason: str, details: dict | None = None
    ) -> KillSwitchEvent:
        """Stop every application until `resume`; while engaged, a new trigger records nothing."""
        if not reason.strip():
            raise LedgerError("engaging the kill switch needs a reason")
        details_json = _json(details or {}, f"kill switch details for {run_date}")
        with self._transaction() as db:
            if _kill_switch(db) is None:
                db.execute(
                    "INSERT INTO kill_switch_events "
                    "(event, recorded_at, run_date, actor, reason, details) "
                    "VALUES ('engaged', ?, ?, 'alphapilot', ?, ?)",
                    (self._stamp(), run_date.isoformat(), reason.strip(), details_json),
                )
            return _kill_switch(db)

    def resume(self, reason: str, by: str) -> KillSwitchEvent:
        """Release the kill switch, recording who, when (UTC) and why; a reason is required.

        The event's `run_date` is the last session run so far: later runs judge the switch on
        the account's returns after it, so the losses that tripped it cannot trip it again.
        """
        if not reason.strip():
            raise LedgerError("resuming after the kill switch needs a reason (--reason ...)")
        if not by.strip():
            raise LedgerError("resuming after the kill switch needs the name of who resumes")
        with self._transaction() as db:
            engaged = _kill_switch(db)
            if engaged is None:
                raise LedgerError("the kill switch is not engaged: nothing to resume")
            # the last session judged while engaged: the switch judges only what comes after it
            (last,) = db.execute(
                "SELECT MAX(run_date) FROM runs WHERE status != 'superseded'"
            ).fetchone()
            db.execute(
                "INSERT INTO kill_switch_events "
                "(event, recorded_at, run_date, actor, reason, details) "
                "VALUES ('resumed', ?, ?, ?, ?, ?)",
                (self._stamp(), last, by.strip(), reason.strip(), "{}"),
            )
            row = db.execute(
                "SELECT * FROM kill_switch_events ORDER BY event_id DESC LIMIT 1"
            ).fetchone()
        return _event(row)

    def export(self) -> None:
        """Rewrite current_positions.csv and performance_history.csv beside the ledger from it."""
        for path, text in self._exports().items():
            atomic_write_text(path, text)

    def verify(self) -> None:
        """Raise LedgerInconsistent naming every way the stored state disagrees with its history,
        or the positions export with the ledger. Exports one commit behind (a process killed
        between the commit and the export) are not an edit: they are rewritten."""
        with self._transaction(write=False) as db:
            problems = _problems(db)
            last = db.execute("SELECT MAX(run_date) FROM runs WHERE status = 'applied'").fetchone()
        if problems:
            raise LedgerInconsistent(f"ledger {self.path} is inconsistent: {'; '.join(problems)}")
        exports = self._exports()
        self._refuse_edited_positions(exports[self.positions_file], last[0])
        for path, text in exports.items():
            if not path.exists() or path.read_text() != text:
                atomic_write_text(path, text)

    def _refuse_edited_positions(self, current: str, last_applied: str | None) -> None:
        """The positions export must be the ledger's, now or before its last applied run."""
        if not self.positions_file.exists():
            return
        allowed = [current]
        if last_applied is not None:
            allowed.append(positions_csv(self.positions(before=date.fromisoformat(last_applied))))
        if self.positions_file.read_text() not in allowed:
            raise LedgerInconsistent(
                f"{self.positions_file} was edited outside alphapilot: it differs from the "
                f"ledger {self.path.name}, the record of the account; delete the file to have "
                "it rewritten from the ledger"
            )

    def _exports(self) -> dict[Path, str]:
        """The text of each export file as the ledger stands."""
        performance = self.performance()
        performance["date"] = performance["date"].dt.strftime("%Y-%m-%d")
        return {
            self.positions_file: positions_csv(self.positions()),
            self.performance_file: to_csv(performance),
        }

    # -- internals -------------------------------------------------------------------------

    def _stamp(self) -> str:
        return self._now().astimezone(UTC).isoformat(timespec="seconds")

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, isolation_level=None, timeout=30.0)
        db.row_factory = sqlite3.Row
        try:
            db.execute("PRAGMA foreign_keys = ON")
            db.execute("PRAGMA synchronous = FULL")
            db.execute("PRAGMA user_version").fetchone()  # reads the header: is it a database?
        except sqlite3.DatabaseError as exc:
            db.close()
            raise LedgerError(f"ledger {self.path} cannot be read: {exc}") from None
        return db

    @contextmanager
    def _transaction(self, write: bool = True) -> Iterator[sqlite3.Connection]:
        """One connection, one transaction: committed if the block ends normally, else rolled back."""
        db = self._connect()
        try:
            db.execute("BEGIN IMMEDIATE" if write else "BEGIN")
            try:
                yield db
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")
        finally:
            db.close()

    def _create_schema(
        self, db: sqlite3.Connection, initial_capital: float, opening: Positions
    ) -> bool:
        """Create the tables and the opening balance in a new file; True if it was created."""
        version = db.execute("PRAGMA user_version").fetchone()[0]
        if version == SCHEMA_VERSION:
            return False
        if version != 0:
            raise LedgerError(
                f"ledger {self.path} has schema version {version}; this alphapilot knows "
                f"version {SCHEMA_VERSION} only"
            )
        if not (opening.cash >= 0 and (opening.shares >= 0).all()):
            raise LedgerError("the opening balance needs non-negative cash and shares")
        for statement in _SCHEMA:
            db.execute(statement)
        stamp = self._stamp()
        held = [(str(s), float(q)) for s, q in opening.shares.sort_index().items() if q > 0]
        db.execute("INSERT INTO schema_version VALUES (?, ?)", (SCHEMA_VERSION, stamp))
        db.execute(
            "INSERT INTO account VALUES (1, ?, ?, ?, ?)",
            (float(initial_capital), opening.cash, opening.cash, stamp),
        )
        db.executemany("INSERT INTO opening_positions VALUES (?, ?)", held)
        db.executemany("INSERT INTO positions VALUES (?, ?)", held)
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        return True

    def _insert_run(
        self,
        db: sqlite3.Connection,
        run_date: date,
        fields: dict[str, Any],
        rows: list[dict[str, Any]],
        marks: dict[str, float],
    ) -> int:
        """Insert D's new current run with its trades and marks; the previous one is superseded."""
        run_id = db.execute("SELECT COALESCE(MAX(run_id), 0) + 1 FROM runs").fetchone()[0]
        db.execute(
            "UPDATE runs SET status = 'superseded', superseded_by = ? "
            "WHERE run_date = ? AND status != 'superseded'",
            (run_id, run_date.isoformat()),
        )
        run = {"run_id": run_id, "run_date": run_date.isoformat(), "created_at": self._stamp()}
        _insert(db, "runs", [{**run, **fields}])
        _insert(db, "trades", [{"run_id": run_id, **row} for row in rows])
        _insert(
            db, "marks", [{"run_id": run_id, "symbol": s, "close": p} for s, p in marks.items()]
        )
        return run_id

    def _apply(self, db: sqlite3.Connection, run_id: int) -> None:
        """Fill the run's proposed trades, store the new state, mark it applied."""
        run_date = date.fromisoformat(
            db.execute("SELECT run_date FROM runs WHERE run_id = ?", (run_id,)).fetchone()[0]
        )
        shares, cash = _current_state(db)
        shares, cash = _execute(shares, cash, _orders(db, run_id), run_date)
        marks = dict(
            db.execute("SELECT symbol, close FROM marks WHERE run_id = ?", (run_id,)).fetchall()
        )
        db.execute("DELETE FROM positions")
        db.executemany("INSERT INTO positions VALUES (?, ?)", sorted(shares.items()))
        db.execute("UPDATE account SET cash = ?", (cash,))
        db.execute(
            "UPDATE runs SET status = 'applied', applied_at = ?, equity_after = ?, cash_after = ? "
            "WHERE run_id = ?",
            (self._stamp(), _value(shares, cash, marks), cash, run_id),
        )
        self._supersede_pending(db, run_id)

    def _supersede_pending(self, db: sqlite3.Connection, applied_id: int) -> None:
        """Every other proposal is stale once a run is applied."""
        db.execute(
            "UPDATE runs SET status = 'superseded', superseded_by = ? WHERE status = 'proposed'",
            (applied_id,),
        )


# -- state -------------------------------------------------------------------------------


def _insert(db: sqlite3.Connection, table: str, rows: list[dict[str, Any]]) -> None:
    """Insert dict rows (keys: column names) into `table`."""
    if rows:
        columns = list(rows[0])
        db.executemany(
            f"INSERT INTO {table} ({', '.join(columns)}) "
            f"VALUES ({', '.join(':' + c for c in columns)})",
            rows,
        )


def _column_names(cursor: sqlite3.Cursor) -> list[str]:
    return [column[0] for column in cursor.description]


def _positions(shares: dict[str, float], cash: float) -> Positions:
    series = pd.Series(shares, dtype="float64", name="shares").sort_index()
    return Positions(shares=series.rename_axis("symbol"), cash=cash)


def _current_state(db: sqlite3.Connection) -> tuple[dict[str, float], float]:
    shares = dict(db.execute("SELECT symbol, shares FROM positions ORDER BY symbol").fetchall())
    return shares, db.execute("SELECT cash FROM account").fetchone()[0]


def _opening_state(db: sqlite3.Connection) -> tuple[dict[str, float], float]:
    rows = db.execute("SELECT symbol, shares FROM opening_positions ORDER BY symbol").fetchall()
    return dict(rows), db.execute("SELECT opening_cash FROM account").fetchone()[0]


def _orders(db: sqlite3.Connection, run_id: int) -> list[sqlite3.Row]:
    """The run's trades to execute (status `proposed`), in recorded order."""
    return db.execute(
        "SELECT symbol, side, shares, price, commission_est, slippage_est FROM trades "
        "WHERE run_id = ? AND status = ? ORDER BY seq",
        (run_id, PROPOSED),
    ).fetchall()


def _execute(
    shares: dict[str, float], cash: float, orders: list, run_date: date
) -> tuple[dict[str, float], float]:
    """Holdings and cash after `orders` fill at their prices, costs out of cash; no shorts, no overdraft."""
    held = dict(shares)
    for order in orders:
        sign = 1.0 if order["side"] == "BUY" else -1.0
        held[order["symbol"]] = held.get(order["symbol"], 0.0) + sign * order["shares"]
        cash -= sign * order["shares"] * order["price"] + order["commission_est"]
        cash -= order["slippage_est"]
    short = sorted(s for s, q in held.items() if q < -SHARE_TOLERANCE)
    if short:
        raise LedgerError(
            f"the trades for {run_date} sell more {', '.join(short)} than is held "
            f"(would leave {', '.join(f'{held[s]:g}' for s in short)} shares)"
        )
    if cash < -CASH_TOLERANCE:
        raise LedgerError(f"the trades for {run_date} overdraw cash (would leave {cash:,.2f})")
    return {s: q for s, q in sorted(held.items()) if q > SHARE_TOLERANCE}, cash


def _history(db: sqlite3.Connection) -> Iterator[tuple[date, int, dict[str, float], float]]:
    """(date, run id, shares, cash) after each applied run, replayed from the opening balance."""
    shares, cash = _opening_state(db)
    runs = db.execute(
        "SELECT run_id, run_date FROM runs WHERE status = 'applied' ORDER BY run_date"
    ).fetchall()
    for run_id, run_date in runs:
        day = date.fromisoformat(run_date)
        shares, cash = _execute(shares, cash, _orders(db, run_id), day)
        yield day, run_id, shares, cash


def _value(shares: dict[str, float], cash: float, marks: dict[str, float]) -> float:
    return cash + math.fsum(q * marks[s] for s, q in sorted(shares.items()))


def _marks(prices: pd.Series, symbols: list[str], run_date: date) -> dict[str, float]:
    """The closes used to value the account on D; every held or traded symbol needs one."""
    marks = {s: float(prices[s]) if s in prices.index else math.nan for s in symbols}
    missing = [s for s, p in marks.items() if not (math.isfinite(p) and p > 0)]
    if missing:
        raise DataError(f"no valid close on {run_date} for {', '.join(missing)}: cannot value")
    return marks


# -- runs --------------------------------------------------------------------------------


def _record(row: sqlite3.Row) -> RunRecord:
    fields = dict(row)
    fields["run_date"] = date.fromisoformat(fields["run_date"])
    fields["summary"] = json.loads(fields["summary"])
    return RunRecord(**fields)


def _latest_run(db: sqlite3.Connection, run_date: date) -> RunRecord | None:
    row = db.execute(
        "SELECT * FROM runs WHERE run_date = ? ORDER BY run_id DESC LIMIT 1",
        (run_date.isoformat(),),
    ).fetchone()
    return None if row is None else _record(row)


def _applied_run(db: sqlite3.Connection, run_date: date) -> RunRecord | None:
    run = _latest_run(db, run_date)
    return run if run is not None and run.status == APPLIED else None


def _check_run_arguments(status: str, apply: bool, reason: str) -> None:
    if status not in (PROPOSED, BLOCKED):
        raise ValueError(f"a run is recorded as {PROPOSED!r} or {BLOCKED!r}, not {status!r}")
    if apply and status != PROPOSED:
        raise ValueError("a blocked run cannot be applied")
    if (status == BLOCKED) != bool(reason.strip()):
        raise ValueError("a blocked run needs a reason, and only a blocked run has one")


def _trade_rows(trades: pd.DataFrame, run_date: date) -> list[dict[str, Any]]:
    """The trade list as rows to store; zero-share rows (skipped, not orders) are left out."""
    missing = [c for c in _REQUIRED_TRADE_COLUMNS if c not in trades.columns]
    if missing:
        raise DataError(f"the trade list for {run_date} lacks column(s) {', '.join(missing)}")
    rows = []
    for seq, trade in enumerate(trades.to_dict("records")):
        if trade["shares"] == 0:
            continue
        problem = _trade_problem(trade)
        if problem:
            raise LedgerError(
                f"the trade list for {run_date}, row {seq + 1} ({trade['symbol']}): {problem}"
            )
        numbers = {
            c: float(trade[c]) for c in ("shares", "price", "commission_est", "slippage_est")
        }
        weights = {c: _optional_float(trade.get(c)) for c in _WEIGHT_COLUMNS}
        rows.append(
            {
                "seq": seq,
                "symbol": str(trade["symbol"]),
                "side": trade["side"],
                **numbers,
                "notional": numbers["shares"] * numbers["price"],
                **weights,
                "reason": str(trade["reason"]),
                "status": str(trade["status"]),
            }
        )
    return rows


def _trade_problem(trade: dict[str, Any]) -> str:
    """What is wrong with one trade row, or '' if nothing."""
    if trade["side"] not in ("BUY", "SELL"):
        return f"side must be BUY or SELL, not {trade['side']!r}"
    for column in ("shares", "price", "commission_est", "slippage_est"):
        value = _optional_float(trade[column])
        positive = column in ("shares", "price")
        if value is None or value < 0 or (positive and value == 0):
            kind = "positive" if positive else "non-negative"
            return f"{column} must be a {kind} number, not {trade[column]!r}"
    return ""


def _optional_float(value: Any) -> float | None:
    number = float(pd.to_numeric(value, errors="coerce"))
    return number if math.isfinite(number) else None


def _json(payload: dict, what: str) -> str:
    try:
        return json.dumps(payload, sort_keys=True, default=str, allow_nan=False)
    except ValueError as exc:
        raise LedgerError(f"{what} is not storable as JSON: {exc}") from None


def _rerun_note(db: sqlite3.Connection, applied: RunRecord, rows: list[dict[str, Any]]) -> str:
    """Say that D is already applied and whether this re-run's proposal matches the applied one."""

    def key(order: Any) -> tuple[str, str, float, float]:
        return order["side"], order["symbol"], round(order["shares"], 9), round(order["price"], 9)

    done = {key(order) for order in _orders(db, applied.run_id)}
    again = {key(row) for row in rows if row["status"] == PROPOSED}
    head = (
        f"the run for {applied.run_date} was already applied at {applied.applied_at}; "
        "this re-run changed nothing"
    )
    if done == again:
        return f"{head} (its proposal matches the applied one)"

    def listed(orders: set) -> str:
        return ", ".join(f"{s} {q:g} {sym} @ {p:g}" for s, sym, q, p in sorted(orders)) or "none"

    return (
        f"{head}, but its proposal DIFFERS from the applied one: applied only: "
        f"{listed(done - again)}; re-run only: {listed(again - done)}"
    )


def _refuse_if_later_applied(db: sqlite3.Connection, run_date: date) -> None:
    later = db.execute(
        "SELECT MAX(run_date) FROM runs WHERE status = 'applied' AND run_date > ?",
        (run_date.isoformat(),),
    ).fetchone()[0]
    if later is not None:
        raise LedgerError(
            f"cannot record a run for {run_date}: the run for {later} is already applied and "
            "the ledger moves forward in time only"
        )


def _refuse_if_stale(
    basis: Positions, shares: dict[str, float], cash: float, run_date: date
) -> None:
    """Refuse a run whose trades were computed from positions other than the ledger's now."""
    computed = {str(s): float(q) for s, q in basis.shares.items() if q != 0}
    moved = sorted(
        s
        for s in set(computed) | set(shares)
        if not math.isclose(
            computed.get(s, 0.0), shares.get(s, 0.0), rel_tol=1e-12, abs_tol=SHARE_TOLERANCE
        )
    )
    if moved or not math.isclose(basis.cash, cash, rel_tol=1e-12, abs_tol=1e-6):
        changed = ", ".join(moved[:5]) + (" ..." if len(moved) > 5 else "") or "cash"
        raise StalePositions(
            f"the run for {run_date} was computed from positions the ledger no longer holds "
            f"({changed} changed since: another run was applied meanwhile); nothing recorded, "
            f"run {run_date} again"
        )


def _refuse_if_killed(db: sqlite3.Connection, run_date: date) -> None:
    engaged = _kill_switch(db)
    if engaged is not None:
        raise ApprovalRefused(
            f"cannot apply the trades for {run_date}: the kill switch is engaged since "
            f"{engaged.recorded_at} ({engaged.reason}); release it with "
            "`alphapilot resume --reason ...` first"
        )


def _refuse_approval(db: sqlite3.Connection, run: RunRecord | None, run_date: date) -> None:
    """Raise ApprovalRefused unless `run` is a proposal that may be applied now."""
    if run is None:
        raise ApprovalRefused(f"no run is recorded for {run_date}: run the daily flow for it first")
    if run.status == APPLIED:
        raise ApprovalRefused(
            f"the run for {run_date} was already applied at {run.applied_at}; "
            "a run is applied exactly once"
        )
    if run.status == BLOCKED:
        raise ApprovalRefused(
            f"the run for {run_date} is blocked ({run.block_reason}) and cannot be approved; "
            f"fix the cause and re-run {run_date}"
        )
    if run.status == SUPERSEDED:
        by = db.execute(
            "SELECT run_date FROM runs WHERE run_id = ?", (run.superseded_by,)
        ).fetchone()[0]
        raise ApprovalRefused(
            f"the proposal for {run_date} was superseded when the run for {by} was applied; "
            "it can no longer be approved"
        )


# -- kill switch -------------------------------------------------------------------------


def _event(row: sqlite3.Row) -> KillSwitchEvent:
    return KillSwitchEvent(
        event=row["event"],
        recorded_at=row["recorded_at"],
        run_date=None if row["run_date"] is None else date.fromisoformat(row["run_date"]),
        actor=row["actor"],
        reason=row["reason"],
        details=json.loads(row["details"]),
    )


def _kill_switch(db: sqlite3.Connection) -> KillSwitchEvent | None:
    row = db.execute("SELECT * FROM kill_switch_events ORDER BY event_id DESC LIMIT 1").fetchone()
    return _event(row) if row is not None and row["event"] == "engaged" else None


# -- verification ------------------------------------------------------------------------


def _problems(db: sqlite3.Connection) -> list[str]:
    """Every disagreement between the stored state and what the ledger's history implies."""
    problems = [
        f"integrity check: {row[0]}"
        for row in db.execute("PRAGMA integrity_check").fetchall()
        if row[0] != "ok"
    ]
    problems += [
        f"table {row[0]} row {row[1]} refers to a missing {row[2]} row"
        for row in db.execute("PRAGMA foreign_key_check").fetchall()
    ]
    stale = db.execute(
        "SELECT run_date FROM runs WHERE status = 'proposed' AND run_date < "
        "(SELECT MAX(run_date) FROM runs WHERE status = 'applied') ORDER BY run_date"
    ).fetchall()
    problems += [f"the run for {row[0]} is still proposed behind an applied date" for row in stale]
    try:
        return problems + _replay_problems(db)
    except LedgerError as exc:
        return [*problems, f"replaying the applied trades fails: {exc}"]


def _replay_problems(db: sqlite3.Connection) -> list[str]:
    """Differences between the stored cash and positions and a replay of the applied trades."""
    problems = []
    shares, cash = _opening_state(db)
    for day, run_id, after_shares, after_cash in _history(db):
        stored = db.execute("SELECT cash_after FROM runs WHERE run_id = ?", (run_id,))
        cash_after = stored.fetchone()[0]
        if not math.isclose(cash_after, after_cash, rel_tol=1e-12, abs_tol=1e-6):
            problems.append(
                f"run {day} records cash {cash_after:,.2f} after applying, "
                f"its trades give {after_cash:,.2f}"
            )
        shares, cash = after_shares, after_cash
    table, table_cash = _current_state(db)
    for symbol in sorted(set(table) | set(shares)):
        held, replayed = table.get(symbol, 0.0), shares.get(symbol, 0.0)
        if not math.isclose(held, replayed, rel_tol=1e-12, abs_tol=SHARE_TOLERANCE):
            problems.append(
                f"positions hold {held:g} {symbol} but the applied trades give {replayed:g}"
            )
    if not math.isclose(table_cash, cash, rel_tol=1e-12, abs_tol=1e-6):
        problems.append(f"cash is {table_cash:,.2f} but the applied trades give {cash:,.2f}")
    return problems
