"""The kill switch as the ledger keeps it: every engagement and release, the last one in force.

The kill switch, once engaged, stays engaged until `resume` (with a reason and who); every
engagement and release is kept. What trips it is the safety checks' business
(trading_core.live.kill_switch); while it is engaged, no run is applied (lifecycle).
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from datetime import date

from trading_core.live.ledger.errors import LedgerError
from trading_core.live.ledger.schema import stored_json


@dataclass(frozen=True)
class KillSwitchEvent:
    """An engagement or release of the kill switch: when (UTC), for which session, who, why."""

    event: str
    recorded_at: str
    run_date: date | None
    actor: str
    reason: str
    details: dict


def engaged(db: sqlite3.Connection) -> KillSwitchEvent | None:
    """The engagement in force, or None when the last event is a release (or there is none)."""
    latest = _latest(db)
    return latest if latest is not None and latest.event == "engaged" else None


def history(db: sqlite3.Connection) -> list[KillSwitchEvent]:
    """Every engagement and release, oldest first."""
    rows = db.execute("SELECT * FROM kill_switch_events ORDER BY event_id").fetchall()
    return [_event(row) for row in rows]


def engage(
    db: sqlite3.Connection, run_date: date, reason: str, details: dict, stamp: str
) -> KillSwitchEvent:
    """Engage the switch for `run_date`, unless it is engaged already; the engagement in force."""
    if not reason.strip():
        raise LedgerError("engaging the kill switch needs a reason")
    details_json = stored_json(details, f"kill switch details for {run_date}")
    if engaged(db) is None:
        db.execute(
            "INSERT INTO kill_switch_events "
            "(event, recorded_at, run_date, actor, reason, details) "
            "VALUES ('engaged', ?, ?, 'alphapilot', ?, ?)",
            (stamp, run_date.isoformat(), reason.strip(), details_json),
        )
    return _recorded(db)


def resume(db: sqlite3.Connection, reason: str, by: str, stamp: str) -> KillSwitchEvent:
    """Record the release of the engaged switch by `by`, for `reason`; the release.

    The event's `run_date` is the last session run so far: later runs judge the switch on the
    account's returns after it, so the losses that tripped it cannot trip it again.
    """
    if not reason.strip():
        raise LedgerError("resuming after the kill switch needs a reason (--reason ...)")
    if not by.strip():
        raise LedgerError("resuming after the kill switch needs the name of who resumes")
    if engaged(db) is None:
        raise LedgerError("the kill switch is not engaged: nothing to resume")
    # the last session judged while engaged: the switch judges only what comes after it
    (last,) = db.execute("SELECT MAX(run_date) FROM runs WHERE status != 'superseded'").fetchone()
    db.execute(
        "INSERT INTO kill_switch_events (event, recorded_at, run_date, actor, reason, details) "
        "VALUES ('resumed', ?, ?, ?, ?, ?)",
        (stamp, last, by.strip(), reason.strip(), "{}"),
    )
    return _recorded(db)


def _recorded(db: sqlite3.Connection) -> KillSwitchEvent:
    """The latest event, which the caller has just recorded (or found in force)."""
    latest = _latest(db)
    if latest is None:
        raise LedgerError("no kill switch event is recorded")
    return latest


def _latest(db: sqlite3.Connection) -> KillSwitchEvent | None:
    row = db.execute("SELECT * FROM kill_switch_events ORDER BY event_id DESC LIMIT 1").fetchone()
    return None if row is None else _event(row)


def _event(row: sqlite3.Row) -> KillSwitchEvent:
    return KillSwitchEvent(
        event=row["event"],
        recorded_at=row["recorded_at"],
        run_date=None if row["run_date"] is None else date.fromisoformat(row["run_date"]),
        actor=row["actor"],
        reason=row["reason"],
        details=json.loads(row["details"]),
    )
