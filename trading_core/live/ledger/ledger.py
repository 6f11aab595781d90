"""The Ledger: the paper account in one SQLite file, opened once per run and passed down.

Reading (positions, runs, trades, performance, the kill switch, `verify`) never writes. Each change
(`record_run`, `approve`, `engage_kill_switch`, `resume`) is one transaction; `record_run` and
`approve` verify the ledger first and rewrite the exports after they commit. A Ledger holds its
file's path and clock only, never an open connection, so it pickles and hashes cheaply and passes
through Prefect task parameters like any small value.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path

import pandas as pd

from trading_core.faults import crash_point
from trading_core.home import Home
from trading_core.live.ledger import consistency, kill_switch_store, lifecycle
from trading_core.live.ledger.errors import LedgerInconsistent, LedgerMissing
from trading_core.live.ledger.exports import export_texts, refuse_edited_positions, write_exports
from trading_core.live.ledger.kill_switch_store import KillSwitchEvent
from trading_core.live.ledger.lifecycle import RunRecord, check_run_arguments
from trading_core.live.ledger.schema import (
    LEDGER_FILE,
    PERFORMANCE_FILE,
    POSITIONS_FILE,
    STORED_TRADE_COLUMNS,
    create_schema,
    stored_json,
)
from trading_core.live.ledger.state import as_positions, state_before
from trading_core.live.ledger.store import column_names, transaction
from trading_core.live.ledger.trade_rows import trade_rows
from trading_core.live.positions import Positions, all_cash, load_positions, positions_csv
from trading_core.live.trade_generator import PROPOSED

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
        opening = opening or all_cash(initial_capital)
        with transaction(self.path) as db:
            created = create_schema(db, self.path, initial_capital, opening, self._stamp())
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
                "`alphapilot account new` (docs/guide/daily_operations.md, 'The ledger is missing')"
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
        with transaction(self.path, write=False) as db:
            return float(db.execute("SELECT initial_capital FROM account").fetchone()[0])

    def positions(self, before: date | None = None) -> Positions:
        """Holdings and cash after every applied run dated before `before` (None: all of them)."""
        with transaction(self.path, write=False) as db:
            return as_positions(*state_before(db, before))

    def run(self, run_date: date) -> RunRecord | None:
        """The latest run recorded for `run_date` (the current one unless all were superseded)."""
        with transaction(self.path, write=False) as db:
            return lifecycle.latest_run(db, run_date)

    def trades(self, run_date: date | None = None) -> pd.DataFrame:
        """Trade lists of the current (not superseded) runs, one date or all, in recorded order."""
        sql = (
            "SELECT r.run_date AS date, r.status AS run_status, "
            + ", ".join(f"t.{c}" for c in STORED_TRADE_COLUMNS)
            + " FROM trades t JOIN runs r USING (run_id) WHERE r.status != 'superseded'"
            + ("" if run_date is None else " AND r.run_date = ?")
            + " ORDER BY r.run_date, t.seq"
        )
        params = () if run_date is None else (run_date.isoformat(),)
        return self._frame(sql, params)

    def performance(self) -> pd.DataFrame:
        """One row per run date: end-of-day equity (after trades when applied), cash, returns."""
        frame = self._frame(_PERFORMANCE_SQL, (PROPOSED,))
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
        with transaction(self.path, write=False) as db:
            return kill_switch_store.engaged(db)

    def kill_switch_history(self) -> list[KillSwitchEvent]:
        """Every engagement and release, oldest first."""
        with transaction(self.path, write=False) as db:
            return kill_switch_store.history(db)

    def verify(self) -> None:
        """Raise LedgerInconsistent naming every way the stored state disagrees with its history,
        or the positions export with the ledger. Reads only: exports one commit behind (a process
        killed between the commit and the export) are not an edit; the next change rewrites them."""
        self._verified_exports()

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
        check_run_arguments(status, apply, reason)
        self._catch_up()
        rows = trade_rows(trades, run_date)
        run = {
            "status": status,
            "model_id": model_id,
            "data_fingerprint": data_fingerprint,
            "block_reason": reason.strip(),
            "summary": stored_json(summary or {}, f"summary of the run for {run_date}"),
        }
        with transaction(self.path) as db:
            applied = lifecycle.applied_run(db, run_date)
            if applied is not None:
                return lifecycle.rerun_of_applied(db, applied, rows)
            record = lifecycle.record(
                db, run_date, rows, prices, run, apply=apply, basis=basis, stamp=self._stamp()
            )
            crash_point("ledger:before-commit")
        self.export()
        return record

    def approve(self, run_date: date) -> RunRecord:
        """Apply D's proposed trades, exactly once; applied, blocked or superseded runs are refused."""
        self._catch_up()
        with transaction(self.path) as db:
            record = lifecycle.approve(db, run_date, self._stamp())
            crash_point("ledger:before-commit")
        self.export()
        return record

    def engage_kill_switch(
        self, run_date: date, reason: str, details: dict | None = None
    ) -> KillSwitchEvent:
        """Stop every application until `resume`; while engaged, a new trigger records nothing."""
        with transaction(self.path) as db:
            return kill_switch_store.engage(db, run_date, reason, details or {}, self._stamp())

    def resume(self, reason: str, by: str) -> KillSwitchEvent:
        """Release the kill switch, recording who, when (UTC) and why; a reason is required.

        The event's `run_date` is the last session run so far: later runs judge the switch on
        the account's returns after it, so the losses that tripped it cannot trip it again.
        """
        with transaction(self.path) as db:
            return kill_switch_store.resume(db, reason, by, self._stamp())

    def export(self) -> None:
        """Rewrite current_positions.csv and performance_history.csv beside the ledger from it."""
        write_exports(self._exports())

    # -- internals -------------------------------------------------------------------------

    def _catch_up(self) -> None:
        """Before a change: verify, and rewrite exports a killed process left one commit behind."""
        write_exports(self._verified_exports(), changed_only=True)

    def _verified_exports(self) -> dict[Path, str]:
        """The exports as the ledger stands, once the ledger and its positions export agree."""
        with transaction(self.path, write=False) as db:
            problems = consistency.problems(db)
            last = consistency.last_applied(db)
        if problems:
            raise LedgerInconsistent(f"ledger {self.path} is inconsistent: {'; '.join(problems)}")
        exports = self._exports()
        if self.positions_file.exists():  # the ledger's positions now, or before its last run
            allowed = [exports[self.positions_file]]
            if last is not None:
                allowed.append(positions_csv(self.positions(before=date.fromisoformat(last))))
            refuse_edited_positions(self.positions_file, allowed, self.path)
        return exports

    def _exports(self) -> dict[Path, str]:
        """The text of each export file as the ledger stands."""
        return export_texts(self.path.parent, self.positions(), self.performance())

    def _frame(self, sql: str, params: tuple) -> pd.DataFrame:
        """A query's rows as a frame, its `date` column as timestamps."""
        with transaction(self.path, write=False) as db:
            cursor = db.execute(sql, params)
            rows = cursor.fetchall()
        frame = pd.DataFrame([tuple(row) for row in rows], columns=column_names(cursor))
        frame["date"] = pd.to_datetime(frame["date"])
        return frame

    def _stamp(self) -> str:
        return self._now().astimezone(UTC).isoformat(timespec="seconds")
