"""The ledger: positions, cash, runs, equity and the kill switch, changed only in whole transactions."""

from __future__ import annotations

import pickle
import sqlite3
from datetime import UTC, date, datetime
from pathlib import Path

import pandas as pd
import pytest

from trading_core.errors import AlphapilotError
from trading_core.home import Home
from trading_core.live.ledger import (
    ApprovalRefused,
    Ledger,
    LedgerError,
    LedgerInconsistent,
    lifecycle,
)
from trading_core.live.trade_generator import TRADE_COLUMNS

CAPITAL = 100_000.0
DAY1, DAY2, DAY3 = date(2024, 1, 2), date(2024, 1, 3), date(2024, 1, 4)
CLOSES1 = pd.Series({"AAA": 50.0, "BBB": 200.0, "CCC": 10.0})
CLOSES2 = pd.Series({"AAA": 55.0, "BBB": 210.0, "CCC": 11.0})


def fixed_clock() -> datetime:
    return datetime(2024, 1, 2, 21, 30, tzinfo=UTC)


def order(symbol, side, shares, price, commission, slippage, status="proposed"):
    return {
        "symbol": symbol,
        "side": side,
        "shares": float(shares),
        "price": float(price),
        "notional": shares * price,
        "current_weight": 0.0,
        "target_weight": 0.1,
        "weight_change": 0.1,
        "commission_est": commission,
        "slippage_est": slippage,
        "reason": "new",
        "status": status,
    }


def trade_list(*orders) -> pd.DataFrame:
    return pd.DataFrame(list(orders), columns=TRADE_COLUMNS)


# day 1: buy 100 AAA @ 50 (costs 2.5 + 5) and 10 BBB @ 200 (costs 1 + 2)
DAY1_TRADES = trade_list(order("AAA", "BUY", 100, 50, 2.5, 5.0), order("BBB", "BUY", 10, 200, 1, 2))
# day 2: sell 40 AAA @ 55 (costs 1.1 + 2.2)
DAY2_TRADES = trade_list(order("AAA", "SELL", 40, 55, 1.1, 2.2))


@pytest.fixture
def ledger(tmp_path) -> Ledger:
    return Ledger(tmp_path / "live" / "ledger.sqlite", CAPITAL, now=fixed_clock)


def snapshot(path: Path) -> tuple[bytes, dict[str, list[tuple]]]:
    """The file's bytes and every table's rows."""
    with sqlite3.connect(path) as db:
        tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        rows = {t: db.execute(f"SELECT * FROM {t} ORDER BY 1, 2").fetchall() for t in tables}
    return path.read_bytes(), rows


def edit(path: Path, *statements: str) -> None:
    with sqlite3.connect(path) as db:
        for statement in statements:
            db.execute(statement)


# ---------------------------------------------------------------------------------------------
# state


def test_a_new_ledger_is_all_cash_at_the_initial_capital(ledger):
    positions = ledger.positions()

    assert positions.cash == CAPITAL
    assert positions.shares.empty
    assert ledger.equity_curve().empty
    assert ledger.positions_file.read_text() == "symbol,quantity\nCASH,100000.0\n"
    ledger.verify()


def test_applying_runs_moves_shares_and_cash_by_the_trades_and_their_costs(ledger):
    first = ledger.record_run(DAY1, DAY1_TRADES, CLOSES1, apply=True, model_id="m1")
    second = ledger.record_run(DAY2, DAY2_TRADES, CLOSES2, apply=True, model_id="m1")

    cash1 = CAPITAL - (100 * 50 + 2.5 + 5) - (10 * 200 + 1 + 2)  # 92_989.5
    cash2 = cash1 + 40 * 55 - 1.1 - 2.2  # 95_186.2
    assert (first.status, first.cash_after) == ("applied", cash1)
    assert first.equity_after == pytest.approx(cash1 + 100 * 50 + 10 * 200)
    assert second.equity_before == pytest.approx(cash1 + 100 * 55 + 10 * 210)
    assert second.equity_after == pytest.approx(cash2 + 60 * 55 + 10 * 210)
    now = ledger.positions()
    assert now.shares.to_dict() == {"AAA": 60.0, "BBB": 10.0}
    assert now.cash == pytest.approx(cash2, abs=1e-9)
    before_day2 = ledger.positions(before=DAY2)
    assert before_day2.shares.to_dict() == {"AAA": 100.0, "BBB": 10.0}
    assert before_day2.cash == cash1
    assert ledger.positions(before=DAY1).cash == CAPITAL
    exported = pd.read_csv(ledger.positions_file)
    assert exported.to_dict("list") == {
        "symbol": ["AAA", "BBB", "CASH"],
        "quantity": [60, 10, now.cash],
    }
    ledger.verify()


def test_zero_share_rows_are_not_orders_and_are_not_stored(ledger):
    trades = trade_list(
        order("AAA", "BUY", 10, 50, 0, 0), order("CCC", "BUY", 0, 10, 0, 0, "skipped: cash")
    )

    ledger.record_run(DAY1, trades, CLOSES1, apply=True)

    assert ledger.trades(DAY1)["symbol"].tolist() == ["AAA"]


def test_a_trade_list_that_sells_more_than_is_held_is_refused_and_records_nothing(ledger):
    with pytest.raises(LedgerError, match="sell more AAA than is held"):
        ledger.record_run(DAY1, DAY2_TRADES, CLOSES1)

    assert ledger.run(DAY1) is None


@pytest.mark.parametrize("apply", [True, False], ids=["applied-at-once", "proposed-then-approved"])
def test_a_run_that_overdraws_cash_by_more_than_a_cent_is_refused(ledger, apply):
    spends_all = trade_list(order("AAA", "BUY", 2_000, 50, 0.011, 0.0))  # 100,000.011 of 100,000

    with pytest.raises(LedgerError, match="overdraw cash"):  # a proposal is refused when recorded
        ledger.record_run(DAY1, spends_all, CLOSES1, apply=apply)
        ledger.approve(DAY1)

    assert ledger.run(DAY1) is None
    assert ledger.positions().cash == CAPITAL


def test_a_run_that_spends_cash_to_within_a_cent_of_zero_is_applied(ledger):
    to_the_cent = trade_list(order("AAA", "BUY", 2_000, 50, 0.01, 0.0))  # 100,000.01

    record = ledger.record_run(DAY1, to_the_cent, CLOSES1, apply=True)

    assert record.status == "applied"
    assert record.cash_after == pytest.approx(-0.01, abs=1e-9)
    assert ledger.positions().shares.to_dict() == {"AAA": 2_000.0}
    ledger.verify()


def test_a_trade_list_with_an_invalid_row_names_the_row_and_symbol(ledger):
    bad = trade_list(order("AAA", "BUY", 10, 50, 0, 0), order("BBB", "BUY", 1, float("nan"), 0, 0))

    with pytest.raises(LedgerError, match=r"row 2 \(BBB\): price must be a positive number"):
        ledger.record_run(DAY1, bad, CLOSES1)


def test_a_held_symbol_without_a_close_cannot_be_valued(ledger):
    ledger.record_run(DAY1, DAY1_TRADES, CLOSES1, apply=True)

    with pytest.raises(AlphapilotError, match="no valid close on 2024-01-03 for BBB"):
        ledger.record_run(DAY2, DAY2_TRADES, CLOSES2.drop("BBB"))


# ---------------------------------------------------------------------------------------------
# approval


def test_approve_applies_a_proposal_exactly_once(ledger):
    proposed = ledger.record_run(DAY1, DAY1_TRADES, CLOSES1)
    assert proposed.status == "proposed"
    assert ledger.positions().cash == CAPITAL

    applied = ledger.approve(DAY1)

    assert applied.status == "applied" and applied.applied_at == "2024-01-02T21:30:00+00:00"
    assert ledger.positions().shares.to_dict() == {"AAA": 100.0, "BBB": 10.0}
    with pytest.raises(ApprovalRefused, match="already applied at 2024-01-02T21:30:00"):
        ledger.approve(DAY1)
    assert ledger.positions().shares.to_dict() == {"AAA": 100.0, "BBB": 10.0}


def test_a_blocked_run_cannot_be_approved(ledger):
    ledger.record_run(DAY1, DAY1_TRADES, CLOSES1, status="blocked", reason="prices_fresh: CCC")

    with pytest.raises(ApprovalRefused, match=r"blocked \(prices_fresh: CCC\)"):
        ledger.approve(DAY1)
    assert ledger.positions().cash == CAPITAL


def test_a_proposal_superseded_by_a_later_application_cannot_be_approved(ledger):
    ledger.record_run(DAY1, DAY1_TRADES, CLOSES1)
    ledger.record_run(DAY2, DAY1_TRADES, CLOSES2, apply=True)

    assert ledger.run(DAY1).status == "superseded"
    with pytest.raises(ApprovalRefused, match="superseded when the run for 2024-01-03 was applied"):
        ledger.approve(DAY1)


def test_approving_a_date_without_a_run_is_refused(ledger):
    with pytest.raises(ApprovalRefused, match="no run is recorded for 2024-01-02"):
        ledger.approve(DAY1)


# ---------------------------------------------------------------------------------------------
# re-runs and order in time


def test_rerunning_a_date_replaces_its_proposal_and_keeps_the_old_one(ledger):
    smaller = trade_list(order("AAA", "BUY", 10, 50, 0.25, 0.5))
    ledger.record_run(DAY1, smaller, CLOSES1)
    ledger.record_run(DAY1, DAY1_TRADES, CLOSES1, status="blocked", reason="kill switch")
    ledger.record_run(DAY1, DAY1_TRADES, CLOSES1)

    ledger.approve(DAY1)

    assert ledger.positions().shares.to_dict() == {"AAA": 100.0, "BBB": 10.0}
    assert ledger.trades(DAY1)["symbol"].tolist() == ["AAA", "BBB"]
    with sqlite3.connect(ledger.path) as db:
        statuses = db.execute("SELECT status FROM runs ORDER BY run_id").fetchall()
    assert [s for (s,) in statuses] == ["superseded", "superseded", "applied"]


@pytest.mark.parametrize("runs", [1, 3])
def test_rerunning_an_applied_date_never_applies_twice(ledger, runs):
    for _ in range(runs):
        record = ledger.record_run(DAY1, DAY1_TRADES, CLOSES1, apply=True)

    assert ledger.positions().shares.to_dict() == {"AAA": 100.0, "BBB": 10.0}
    assert ledger.positions().cash == CAPITAL - 5007.5 - 2003
    assert len(ledger.equity_curve()) == 1
    assert (record.note == "") == (runs == 1)
    if runs > 1:
        assert "already applied" in record.note and "matches" in record.note


def test_a_rerun_of_an_applied_date_that_differs_is_reported_not_applied(ledger):
    ledger.record_run(DAY1, DAY1_TRADES, CLOSES1, apply=True)

    record = ledger.record_run(DAY1, trade_list(order("AAA", "BUY", 7, 50, 0, 0)), CLOSES1)

    assert record.status == "applied"
    assert "DIFFERS" in record.note and "BUY 10 BBB @ 200" in record.note
    assert "re-run only: BUY 7 AAA @ 50" in record.note
    assert ledger.positions().shares.to_dict() == {"AAA": 100.0, "BBB": 10.0}


def test_a_run_dated_before_an_applied_date_is_refused(ledger):
    ledger.record_run(DAY2, DAY1_TRADES, CLOSES2, apply=True)

    with pytest.raises(LedgerError, match="2024-01-03 is already applied.*forward in time only"):
        ledger.record_run(DAY1, DAY1_TRADES, CLOSES1)
    assert ledger.run(DAY1) is None


# ---------------------------------------------------------------------------------------------
# crash safety


def crash(*_args, **_kwargs):
    raise RuntimeError("power cut")


@pytest.mark.parametrize("step", ["record-and-apply", "approve"])
def test_a_crash_mid_transaction_leaves_the_ledger_and_its_exports_unchanged(
    ledger, monkeypatch, step
):
    ledger.record_run(DAY1, DAY1_TRADES, CLOSES1, apply=True)
    if step == "approve":
        ledger.record_run(DAY2, DAY2_TRADES, CLOSES2)
    before = snapshot(ledger.path)
    exports = ledger.positions_file.read_bytes(), ledger.performance_file.read_bytes()
    # the last write of an application: positions, cash and run status are already changed
    monkeypatch.setattr(lifecycle, "supersede_pending", crash)

    with pytest.raises(RuntimeError, match="power cut"):
        if step == "approve":
            ledger.approve(DAY2)
        else:
            ledger.record_run(DAY2, DAY2_TRADES, CLOSES2, apply=True)

    assert snapshot(ledger.path) == before
    assert (ledger.positions_file.read_bytes(), ledger.performance_file.read_bytes()) == exports
    monkeypatch.undo()
    ledger.verify()
    if step == "approve":
        retried = ledger.approve(DAY2)
    else:
        retried = ledger.record_run(DAY2, DAY2_TRADES, CLOSES2, apply=True)
    assert retried.status == "applied"


# ---------------------------------------------------------------------------------------------
# kill switch


def test_the_kill_switch_stays_engaged_across_instances_until_resumed_with_a_reason(tmp_path):
    path = tmp_path / "ledger.sqlite"
    Ledger(path, CAPITAL, now=fixed_clock).engage_kill_switch(
        DAY1, "daily loss 4.1% > 3%", {"daily_loss": 0.041}
    )
    Ledger(path, CAPITAL, now=fixed_clock).engage_kill_switch(DAY2, "another trigger")
    ledger = Ledger(path, CAPITAL, now=lambda: datetime(2024, 1, 5, 14, 0, tzinfo=UTC))

    engaged = ledger.kill_switch()
    assert (engaged.run_date, engaged.reason) == (DAY1, "daily loss 4.1% > 3%")
    assert engaged.details == {"daily_loss": 0.041}
    with pytest.raises(ApprovalRefused, match="kill switch is engaged since 2024-01-02T21:30:00"):
        ledger.record_run(DAY3, DAY1_TRADES, CLOSES1, apply=True)
    ledger.record_run(DAY3, DAY1_TRADES, CLOSES1)
    with pytest.raises(ApprovalRefused, match="kill switch is engaged"):
        ledger.approve(DAY3)
    with pytest.raises(LedgerError, match="needs a reason"):
        ledger.resume("  ", by="alice")
    assert ledger.kill_switch() is not None

    resumed = ledger.resume("loss explained by a data error", by="alice")

    assert (resumed.recorded_at, resumed.actor) == ("2024-01-05T14:00:00+00:00", "alice")
    assert Ledger(path, CAPITAL).kill_switch() is None
    assert [e.event for e in ledger.kill_switch_history()] == ["engaged", "resumed"]
    assert ledger.approve(DAY3).status == "applied"
    with pytest.raises(LedgerError, match="not engaged"):
        ledger.resume("again", by="alice")


# ---------------------------------------------------------------------------------------------
# exports, equity, schema


def build(home: Path) -> Ledger:
    ledger = Ledger(home / "ledger.sqlite", CAPITAL, now=fixed_clock)
    ledger.record_run(DAY1, DAY1_TRADES, CLOSES1, apply=True, summary={"turnover": 0.07})
    ledger.record_run(DAY2, DAY2_TRADES, CLOSES2, summary={"turnover": 0.02})
    return ledger


def test_exports_are_byte_identical_on_repeat_with_a_fixed_clock(tmp_path):
    ledger = build(tmp_path / "a")
    first = ledger.positions_file.read_bytes(), ledger.performance_file.read_bytes()

    ledger.record_run(DAY2, DAY2_TRADES, CLOSES2, summary={"turnover": 0.02})  # same re-run
    ledger.positions_file.unlink()
    ledger.export()
    other = build(tmp_path / "b")

    assert (ledger.positions_file.read_bytes(), ledger.performance_file.read_bytes()) == first
    assert (other.positions_file.read_bytes(), other.performance_file.read_bytes()) == first


def exported(ledger: Ledger) -> tuple[bytes, bytes]:
    return ledger.positions_file.read_bytes(), ledger.performance_file.read_bytes()


def left_behind(ledger: Ledger) -> tuple[bytes, bytes]:
    """Apply DAY1 then DAY2, with the exports of DAY1 left in place as a process killed between
    DAY2's commit and its export leaves them; the exports DAY2 should have written."""
    ledger.record_run(DAY1, DAY1_TRADES, CLOSES1, apply=True)
    behind = exported(ledger)
    ledger.record_run(DAY2, DAY2_TRADES, CLOSES2, apply=True)
    current = exported(ledger)
    ledger.positions_file.write_bytes(behind[0])
    ledger.performance_file.write_bytes(behind[1])
    return current


def test_reading_and_verifying_never_write_even_exports_one_commit_behind(ledger):
    left_behind(ledger)
    before = {p.name: (p.stat().st_mtime_ns, p.read_bytes()) for p in ledger.path.parent.iterdir()}

    ledger.verify()
    Ledger(ledger.path, CAPITAL).verify()
    ledger.positions(), ledger.positions(before=DAY2), ledger.run(DAY2), ledger.trades()
    ledger.performance(), ledger.equity_curve(), ledger.kill_switch(), ledger.kill_switch_history()

    after = {p.name: (p.stat().st_mtime_ns, p.read_bytes()) for p in ledger.path.parent.iterdir()}
    assert after == before


@pytest.mark.parametrize("change", ["re-run", "refused-approval", "new-run"])
def test_the_next_change_rewrites_exports_left_one_commit_behind_first(ledger, change):
    current = left_behind(ledger)

    if change == "re-run":  # DAY2 is applied: its re-run records nothing
        ledger.record_run(DAY2, DAY2_TRADES, CLOSES2, apply=True)
    elif change == "refused-approval":
        with pytest.raises(ApprovalRefused, match="already applied"):
            ledger.approve(DAY2)
    else:
        ledger.record_run(DAY3, trade_list(), CLOSES2)
        current = (current[0], ledger.performance_file.read_bytes())  # DAY3 is in the history

    assert exported(ledger) == current
    ledger.verify()


def test_a_ledger_is_a_small_value_that_pickles_and_hashes_for_task_parameters(ledger):
    """It holds its path and clock, no connection: Prefect can pass and hash it cheaply."""
    from prefect.utilities.hashing import hash_objects

    ledger.record_run(DAY1, DAY1_TRADES, CLOSES1, apply=True)
    pickled = pickle.dumps(ledger)
    copy = pickle.loads(pickled)

    assert len(pickled) < 1_000
    assert copy.path == ledger.path
    pd.testing.assert_series_equal(copy.positions().shares, ledger.positions().shares)
    assert hash_objects(copy) is not None and hash_objects(copy) == hash_objects(ledger)


def test_equity_curve_and_performance_give_each_dates_end_of_day_value(ledger):
    ledger.record_run(DAY1, DAY1_TRADES, CLOSES1, apply=True)
    ledger.record_run(DAY2, DAY2_TRADES, CLOSES2, status="blocked", reason="safety")
    closes3 = pd.Series({"AAA": 60.0, "BBB": 190.0})
    ledger.record_run(DAY3, trade_list(order("AAA", "SELL", 100, 60, 0, 0)), closes3)

    curve = ledger.equity_curve()
    performance = pd.read_csv(ledger.performance_file)

    cash1 = CAPITAL - 5007.5 - 2003
    expected = [cash1 + 5000 + 2000, cash1 + 5500 + 2100, cash1 + 6000 + 1900]
    assert curve.index.tolist() == [pd.Timestamp(d) for d in (DAY1, DAY2, DAY3)]
    assert curve.tolist() == pytest.approx(expected)
    assert performance["status"].tolist() == ["applied", "blocked", "proposed"]
    assert performance["daily_return"].iloc[1] == pytest.approx(expected[1] / expected[0] - 1)
    assert performance["costs"].tolist() == [10.5, 0.0, 0.0]
    assert performance["invested"].tolist() == pytest.approx([7000, 7600, 7900])


def test_the_schema_is_versioned_and_its_constraints_refuse_bad_rows(ledger):
    with sqlite3.connect(ledger.path) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == 1
        assert db.execute("SELECT version FROM schema_version").fetchall() == [(1,)]
        with pytest.raises(sqlite3.IntegrityError, match="CHECK"):
            db.execute("INSERT INTO positions VALUES ('AAA', -5)")
        with pytest.raises(sqlite3.IntegrityError, match="NOT NULL"):
            db.execute("UPDATE account SET cash = ?", (float("nan"),))


def test_a_ledger_from_a_newer_version_is_refused(ledger):
    edit(ledger.path, "PRAGMA user_version = 2")

    with pytest.raises(LedgerError, match="schema version 2"):
        Ledger(ledger.path, CAPITAL)


def test_a_new_home_ledger_opens_with_a_hand_written_positions_file(tmp_path):
    home = Home(tmp_path)
    home.live.mkdir(parents=True)
    home.positions_file.write_text("symbol,quantity\nAAA,30\nCASH,5000\n")

    ledger = Ledger.at_home(home, CAPITAL)
    ledger.record_run(DAY1, trade_list(order("AAA", "SELL", 30, 50, 0, 0)), CLOSES1, apply=True)

    assert ledger.positions().cash == 5000 + 30 * 50
    assert ledger.positions().shares.empty
    assert home.positions_file.read_text() == "symbol,quantity\nCASH,6500.0\n"
    ledger.verify()


# ---------------------------------------------------------------------------------------------
# verification


@pytest.mark.parametrize(
    ("statement", "named"),
    [
        pytest.param(
            "UPDATE positions SET shares = 90 WHERE symbol = 'AAA'", "hold 90 AAA", id="shares"
        ),
        pytest.param("DELETE FROM positions WHERE symbol = 'BBB'", "hold 0 BBB", id="missing"),
        pytest.param("UPDATE account SET cash = cash + 1", "cash is 95,187.20", id="cash"),
        pytest.param(
            "UPDATE trades SET shares = 120 WHERE symbol = 'AAA' AND side = 'SELL'",
            "sell more AAA than is held",
            id="trade",
        ),
    ],
)
def test_verify_names_a_hand_edited_inconsistency(ledger, statement, named):
    ledger.record_run(DAY1, DAY1_TRADES, CLOSES1, apply=True)
    ledger.record_run(DAY2, DAY2_TRADES, CLOSES2, apply=True)
    ledger.verify()
    edit(ledger.path, statement)

    with pytest.raises(LedgerInconsistent, match=named):
        ledger.verify()


def test_verify_catches_negative_shares_slipped_past_the_constraints(ledger):
    ledger.record_run(DAY1, DAY1_TRADES, CLOSES1, apply=True)
    edit(
        ledger.path,
        "PRAGMA ignore_check_constraints = ON",
        "UPDATE positions SET shares = -100 WHERE symbol = 'AAA'",
    )

    with pytest.raises(LedgerInconsistent, match="hold -100 AAA but the applied trades give 100"):
        ledger.verify()
