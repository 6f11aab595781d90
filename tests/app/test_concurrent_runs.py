"""Two daily runs for different dates started together on one home: one writer at a time.

Each run is a real process (forked from a server that preloaded alphapilot, as in the crash tests).
The second starts while the first holds the home's lock; it waits, then runs on the positions the
first left. Whatever the order, the account ends exactly as the same two commands run one after
the other.
"""

from __future__ import annotations

import multiprocessing
import os
import shutil
import tempfile
from pathlib import Path

import pytest
from homes import SmallHome, build_small_home
from server_process import wait_for
from test_crash_recovery import PRELOAD, Ended, _redirected, applied_trades, cli, copy_home
from typer.testing import CliRunner

from app.cli import app
from trading_core.faults import HOLD_AT, RELEASE_FILE
from trading_core.home import Home
from trading_core.home_lock import LOCK_FILE
from trading_core.live.ledger import Ledger

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("prefect_server")]


@pytest.fixture(scope="module")
def processes():
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(PRELOAD)
    return context


@pytest.fixture(scope="module")
def fresh(tmp_path_factory) -> SmallHome:
    """A home with data and a champion whose account has not traded: its last two sessions open."""
    root = tmp_path_factory.mktemp("concurrent")
    small = build_small_home(root)
    shutil.move(small.home / "live", root / "old-live")  # as a person starting over would
    return small


def account(home: Path) -> tuple[dict[str, float], float, list[tuple]]:
    ledger = Ledger.at_home(Home(home), 1.0, create=False)
    ledger.verify()
    positions = ledger.positions()
    trades = applied_trades(home)[["date", "symbol", "side", "shares", "price"]]
    return positions.shares.to_dict(), positions.cash, list(trades.itertuples(index=False))


def together(processes, small: SmallHome, first: str, second: str) -> tuple[Ended, Ended]:
    """`daily --date first`, then `daily --date second` started while the first holds the lock."""
    from prefect.settings import PREFECT_API_URL

    env = {**os.environ, "PREFECT_API_URL": PREFECT_API_URL.value()}
    lock = small.home / LOCK_FILE
    with tempfile.TemporaryDirectory() as tmp:
        release = Path(tmp, "release")
        # the first run holds the lock at its first step until the second is seen waiting
        held = {**env, HOLD_AT: "task:preflight", RELEASE_FILE: str(release)}
        children = []
        for n, day in enumerate((first, second)):
            out, err = Path(tmp, f"out{n}"), Path(tmp, f"err{n}")
            child = processes.Process(
                target=_redirected,
                args=(
                    cli(small, "daily", "--date", day),
                    held if n == 0 else env,
                    str(out),
                    str(err),
                ),
            )
            child.start()
            children.append((child, out, err))
            if n == 0:  # the second starts once the first holds the lock
                wait_for(
                    lambda c=child: lock.exists() and f'"pid": {c.pid}' in lock.read_text(),
                    120,
                    "the first run to hold the home lock",
                    interval=0.05,
                )
        wait_for(
            lambda: any(f.exists() and "waiting up to" in f.read_text() for f in (out, err)),
            120,
            "the second run to wait for the lock",
            interval=0.05,
        )
        release.touch()
        ended = []
        for child, out, err in children:
            child.join(300)
            assert child.exitcode is not None, "a run did not end in 300 s"
            ended.append(Ended(child.exitcode, out.read_text(), err.read_text()))
    return ended[0], ended[1]


def one_after_the_other(small: SmallHome, first: str, second: str) -> list[int]:
    runner = CliRunner()
    return [
        runner.invoke(app, cli(small, "daily", "--date", day)).exit_code for day in (first, second)
    ]


@pytest.mark.parametrize("order", ["earlier date first", "later date first"])
def test_runs_started_together_end_as_if_run_one_after_the_other(
    fresh: SmallHome, processes, order: str, tmp_path: Path
):
    first, second = (fresh.first, fresh.day)
    if order == "later date first":
        first, second = second, first
    raced = copy_home(fresh, tmp_path / "raced")
    calm = copy_home(fresh, tmp_path / "calm")

    a, b = together(processes, raced, first, second)
    codes = one_after_the_other(calm, first, second)

    assert [a.returncode, b.returncode] == codes
    assert "waiting up to" in b.stderr + b.stdout  # the second run waited for the first
    assert account(raced.home) == account(calm.home)
    if order == "later date first":  # the earlier date cannot go behind an applied one
        assert "forward in time only" in b.stderr
    else:
        assert codes == [0, 0] and len(account(raced.home)[2]) > 0
    assert (raced.home / LOCK_FILE).read_text() == ""  # released by both
