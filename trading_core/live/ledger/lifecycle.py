"""A run's life in the ledger: recorded, applied or blocked, superseded; and the rules that refuse.

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

Each function works inside the caller's transaction (`db`) and commits nothing itself.
"""

from __future__ import annotations

import json
import math
import sqlite3
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

import pandas as pd

from trading_core.live.ledger.errors import ApprovalRefused, LedgerError, StalePositions
from trading_core.live.ledger.kill_switch_store import engaged
from trading_core.live.ledger.schema import APPLIED, BLOCKED, SUPERSEDED
from trading_core.live.ledger.state import (
    SHARE_TOLERANCE,
    Holdings,
    account_value,
    current_state,
    execute,
    marks_for,
    run_orders,
)
from trading_core.live.ledger.store import insert_rows
from trading_core.live.positions import Positions
from trading_core.live.trade_generator import PROPOSED


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


def recorded_run(db: sqlite3.Connection, run_date: date) -> RunRecord:
    """The latest run for `run_date`, which the caller has just recorded or applied."""
    run = latest_run(db, run_date)
    if run is None:
        raise LedgerError(f"no run is recorded for {run_date}")
    return run


def latest_run(db: sqlite3.Connection, run_date: date) -> RunRecord | None:
    """The latest run recorded for `run_date` (the current one unless all were superseded)."""
    row = db.execute(
        "SELECT * FROM runs WHERE run_date = ? ORDER BY run_id DESC LIMIT 1",
        (run_date.isoformat(),),
    ).fetchone()
    if row is None:
        return None
    fields = dict(row)
    fields["run_date"] = date.fromisoformat(fields["run_date"])
    fields["summary"] = json.loads(fields["summary"])
    return RunRecord(**fields)


def applied_run(db: sqlite3.Connection, run_date: date) -> RunRecord | None:
    """D's run if it is applied, else None."""
    run = latest_run(db, run_date)
    return run if run is not None and run.status == APPLIED else None


def check_run_arguments(status: str, apply: bool, reason: str) -> None:
    """ValueError for a call no caller should make: an unknown status, applying a blocked run."""
    if status not in (PROPOSED, BLOCKED):
        raise ValueError(f"a run is recorded as {PROPOSED!r} or {BLOCKED!r}, not {status!r}")
    if apply and status != PROPOSED:
        raise ValueError("a blocked run cannot be applied")
    if (status == BLOCKED) != bool(reason.strip()):
        raise ValueError("a blocked run needs a reason, and only a blocked run has one")


def record(
    db: sqlite3.Connection,
    run_date: date,
    rows: list[dict[str, Any]],
    prices: pd.Series,
    run: dict[str, Any],
    *,
    apply: bool,
    basis: Positions | None,
    stamp: str,
) -> RunRecord:
    """Record D's new current run (`run`: its status, reason, summary, model and data ids) with its
    trade `rows`, valued at `prices`; applied at once if `apply`. D must not be applied yet."""
    refuse_if_later_applied(db, run_date)
    if apply:
        refuse_if_killed(db, run_date)
    before, cash = current_state(db)
    if basis is not None:
        refuse_if_stale(basis, before, cash, run_date)
    if run["status"] == PROPOSED:
        execute(before, cash, [r for r in rows if r["status"] == PROPOSED], run_date)
    marks = marks_for(prices, sorted(set(before) | {r["symbol"] for r in rows}), run_date)
    valued = {**run, "equity_before": account_value(before, cash, marks), "cash_before": cash}
    run_id = insert_run(db, run_date, valued, rows, marks, stamp)
    if apply:
        apply_run(db, run_id, stamp)
    return recorded_run(db, run_date)


def approve(db: sqlite3.Connection, run_date: date, stamp: str) -> RunRecord:
    """Apply D's proposal; ApprovalRefused unless it is one that may be applied now."""
    run = refuse_approval(db, latest_run(db, run_date), run_date)
    refuse_if_killed(db, run_date)
    apply_run(db, run.run_id, stamp)
    return recorded_run(db, run_date)


def insert_run(
    db: sqlite3.Connection,
    run_date: date,
    fields: dict[str, Any],
    rows: list[dict[str, Any]],
    marks: dict[str, float],
    stamp: str,
) -> int:
    """Insert D's new current run with its trades and marks; the previous one is superseded."""
    run_id = db.execute("SELECT COALESCE(MAX(run_id), 0) + 1 FROM runs").fetchone()[0]
    db.execute(
        "UPDATE runs SET status = 'superseded', superseded_by = ? "
        "WHERE run_date = ? AND status != 'superseded'",
        (run_id, run_date.isoformat()),
    )
    run = {"run_id": run_id, "run_date": run_date.isoformat(), "created_at": stamp}
    insert_rows(db, "runs", [{**run, **fields}])
    insert_rows(db, "trades", [{"run_id": run_id, **row} for row in rows])
    closes = [{"run_id": run_id, "symbol": s, "close": p} for s, p in marks.items()]
    insert_rows(db, "marks", closes)
    return run_id


def apply_run(db: sqlite3.Connection, run_id: int, stamp: str) -> None:
    """Fill the run's proposed trades, store the new state, mark it applied."""
    run_date = date.fromisoformat(
        db.execute("SELECT run_date FROM runs WHERE run_id = ?", (run_id,)).fetchone()[0]
    )
    shares, cash = current_state(db)
    shares, cash = execute(shares, cash, run_orders(db, run_id), run_date)
    marks = dict(
        db.execute("SELECT symbol, close FROM marks WHERE run_id = ?", (run_id,)).fetchall()
    )
    db.execute("DELETE FROM positions")
    db.executemany("INSERT INTO positions VALUES (?, ?)", sorted(shares.items()))
    db.execute("UPDATE account SET cash = ?", (cash,))
    db.execute(
        "UPDATE runs SET status = 'applied', applied_at = ?, equity_after = ?, cash_after = ? "
        "WHERE run_id = ?",
        (stamp, account_value(shares, cash, marks), cash, run_id),
    )
    supersede_pending(db, run_id)


def supersede_pending(db: sqlite3.Connection, applied_id: int) -> None:
    """Every other proposal is stale once a run is applied."""
    db.execute(
        "UPDATE runs SET status = 'superseded', superseded_by = ? WHERE status = 'proposed'",
        (applied_id,),
    )


def rerun_of_applied(
    db: sqlite3.Connection, applied: RunRecord, rows: list[dict[str, Any]]
) -> RunRecord:
    """The applied run, with a note saying it was applied already and whether the re-run's
    proposal (`rows`) matches the applied one."""

    def key(order: Any) -> tuple[str, str, float, float]:
        return order["side"], order["symbol"], round(order["shares"], 9), round(order["price"], 9)

    done = {key(order) for order in run_orders(db, applied.run_id)}
    again = {key(row) for row in rows if row["status"] == PROPOSED}
    head = (
        f"the run for {applied.run_date} was already applied at {applied.applied_at}; "
        "this re-run changed nothing"
    )
    if done == again:
        return replace(applied, note=f"{head} (its proposal matches the applied one)")

    def listed(orders: set) -> str:
        return ", ".join(f"{s} {q:g} {sym} @ {p:g}" for s, sym, q, p in sorted(orders)) or "none"

    return replace(
        applied,
        note=f"{head}, but its proposal DIFFERS from the applied one: applied only: "
        f"{listed(done - again)}; re-run only: {listed(again - done)}",
    )


# -- refusals ------------------------------------------------------------------------------


def refuse_if_later_applied(db: sqlite3.Connection, run_date: date) -> None:
    """The ledger moves forward in time only."""
    later = db.execute(
        "SELECT MAX(run_date) FROM runs WHERE status = 'applied' AND run_date > ?",
        (run_date.isoformat(),),
    ).fetchone()[0]
    if later is not None:
        raise LedgerError(
            f"cannot record a run for {run_date}: the run for {later} is already applied and "
            "the ledger moves forward in time only"
        )


def refuse_if_stale(basis: Positions, shares: Holdings, cash: float, run_date: date) -> None:
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


def refuse_if_killed(db: sqlite3.Connection, run_date: date) -> None:
    """No run is applied while the kill switch is engaged."""
    engagement = engaged(db)
    if engagement is not None:
        raise ApprovalRefused(
            f"cannot apply the trades for {run_date}: the kill switch is engaged since "
            f"{engagement.recorded_at} ({engagement.reason}); release it with "
            "`alphapilot resume --reason ...` first"
        )


def refuse_approval(db: sqlite3.Connection, run: RunRecord | None, run_date: date) -> RunRecord:
    """`run`, a proposal that may be applied now; ApprovalRefused for any other."""
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
    return run
