"""The account is never reset by accident, and a run is applied only onto the positions it saw."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from test_ledger import CAPITAL, CLOSES1, CLOSES2, DAY1, DAY1_TRADES, DAY2, DAY2_TRADES, fixed_clock

from trading_core.home import Home
from trading_core.live.account import open_new_account
from trading_core.live.ledger import (
    PERFORMANCE_FILE,
    Ledger,
    LedgerError,
    LedgerMissing,
    StalePositions,
)
from trading_core.live.positions import positions_csv


@pytest.fixture
def home(tmp_path: Path) -> Home:
    """A home whose account bought on DAY1: ledger, both exports and the day's run folder."""
    home = Home(tmp_path / "home")
    ledger = Ledger.at_home(home, CAPITAL, fixed_clock)
    ledger.record_run(DAY1, DAY1_TRADES, CLOSES1, apply=True)
    home.day(DAY1).mkdir()
    (home.day(DAY1) / "trades.csv").write_text("symbol\n")
    return home


def ledger_file(home: Home) -> Path:
    return home.live / "ledger.sqlite"


def delete(home: Home) -> None:
    ledger_file(home).unlink()


def empty(home: Home) -> None:
    ledger_file(home).write_bytes(b"")


def delete_with_history_export_only(home: Home) -> None:
    delete(home)
    (home.live / "current_positions.csv").unlink()


def delete_with_run_folders_only(home: Home) -> None:
    delete(home)
    (home.live / "current_positions.csv").unlink()
    (home.live / PERFORMANCE_FILE).unlink()


def rename(home: Home) -> None:
    os.replace(ledger_file(home), home.live / "ledger.sqlite.bak")


LOSSES = [delete, empty, delete_with_history_export_only, delete_with_run_folders_only, rename]


@pytest.mark.parametrize("lose", LOSSES, ids=lambda f: f.__name__)
def test_a_lost_ledger_is_never_replaced_by_a_new_account(home: Home, lose):
    lose(home)
    before = {p: p.read_bytes() for p in home.root.rglob("*") if p.is_file()}

    with pytest.raises(LedgerMissing) as refused:
        Ledger.at_home(home, CAPITAL, fixed_clock)

    message = str(refused.value)
    assert str(ledger_file(home)) in message and "alphapilot account new" in message
    assert "\n" not in message
    assert {p: p.read_bytes() for p in home.root.rglob("*") if p.is_file()} == before


def test_a_new_home_opens_an_all_cash_account(tmp_path: Path):
    ledger = Ledger.at_home(Home(tmp_path / "home"), CAPITAL, fixed_clock)
    assert ledger.positions().cash == CAPITAL and ledger.positions().shares.empty


def test_an_empty_ledger_file_in_a_home_without_history_opens_a_new_account(tmp_path: Path):
    home = Home(tmp_path / "home")
    home.live.mkdir(parents=True)
    ledger_file(home).write_bytes(b"")
    assert Ledger.at_home(home, CAPITAL, fixed_clock).positions().cash == CAPITAL


def test_commands_that_need_an_account_never_open_one(tmp_path: Path):
    home = Home(tmp_path / "home")
    with pytest.raises(LedgerMissing, match="no account"):
        Ledger.at_home(home, CAPITAL, fixed_clock, create=False)
    assert not home.root.exists()


def test_account_new_keeps_the_old_live_folder_and_opens_all_cash(home: Home):
    empty(home)
    old_history = (home.live / PERFORMANCE_FILE).read_bytes()

    ledger, kept = open_new_account(home, CAPITAL, now=fixed_clock)

    assert kept is not None and (kept / PERFORMANCE_FILE).read_bytes() == old_history
    assert (kept / DAY1.isoformat() / "trades.csv").exists()
    assert ledger.positions().cash == CAPITAL and ledger.positions().shares.empty
    assert Ledger.at_home(home, CAPITAL, fixed_clock).positions().cash == CAPITAL


def test_account_new_from_positions_opens_with_the_last_exported_holdings(home: Home):
    exported = (home.live / "current_positions.csv").read_text()
    delete(home)

    ledger, _ = open_new_account(home, CAPITAL, from_positions=True, now=fixed_clock)

    assert positions_csv(ledger.positions()) == exported


def test_account_new_never_replaces_a_working_account(home: Home):
    before = ledger_file(home).read_bytes()
    with pytest.raises(LedgerError, match="already has a working account"):
        open_new_account(home, CAPITAL, now=fixed_clock)
    assert ledger_file(home).read_bytes() == before


def test_account_new_sets_a_damaged_ledger_aside(home: Home):
    ledger_file(home).write_bytes(ledger_file(home).read_bytes()[:1000])  # half-truncated
    with pytest.raises(LedgerError):
        Ledger.at_home(home, CAPITAL, fixed_clock).verify()

    ledger, kept = open_new_account(home, CAPITAL, now=fixed_clock)

    assert (kept / "ledger.sqlite").stat().st_size == 1000
    assert ledger.positions().cash == CAPITAL


# -- stale positions ---------------------------------------------------------------------------


def test_a_run_computed_before_another_was_applied_is_refused(home: Home):
    """Two runs overlap: the later date saw the positions before the earlier date's trades."""
    ledger = Ledger.at_home(home, CAPITAL, fixed_clock)
    seen_by_day2 = ledger.positions(before=DAY1)  # computed while DAY1 was not yet applied
    before = ledger_file(home).read_bytes()

    with pytest.raises(StalePositions) as refused:
        ledger.record_run(DAY2, DAY2_TRADES, CLOSES2, apply=True, basis=seen_by_day2)

    assert str(DAY2) in str(refused.value) and "AAA" in str(refused.value)
    assert ledger_file(home).read_bytes() == before
    assert ledger.run(DAY2) is None


def test_a_run_computed_from_the_current_positions_is_applied(home: Home):
    ledger = Ledger.at_home(home, CAPITAL, fixed_clock)
    record = ledger.record_run(
        DAY2, DAY2_TRADES, CLOSES2, apply=True, basis=ledger.positions(before=DAY2)
    )
    assert record.status == "applied"
    assert ledger.positions().shares["AAA"] == 60


def test_a_cash_only_difference_is_stale_too(home: Home):
    ledger = Ledger.at_home(home, CAPITAL, fixed_clock)
    seen = ledger.positions(before=DAY2)
    from trading_core.live.positions import Positions

    off_by_a_dollar = Positions(shares=seen.shares, cash=seen.cash + 1.0)
    with pytest.raises(StalePositions, match="cash changed"):
        ledger.record_run(DAY2, DAY2_TRADES, CLOSES2, apply=True, basis=off_by_a_dollar)
