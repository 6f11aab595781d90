"""End to end through Prefect: the ledger, manual approval, the kill switch and the replay.

A replay of early 2020 on the bundled S&P 500 data must trip the kill switch on a crash day for a
daily loss and block that day and every later one; with manual approval, a day's trades are applied
once by `alphapilot approve`, never twice, and re-running an applied day changes nothing.
"""

from __future__ import annotations

import contextlib
import json
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from app.cli import app
from trading_core.data.calendar import sessions_between
from trading_core.data.folder import write_folder
from trading_core.data.providers import BundledProvider
from trading_core.data.synthetic import generate_synthetic_market
from trading_core.errors import SafetyViolation
from trading_core.home import Home
from trading_core.live.ledger import Ledger

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("prefect_server")]

FAST_MODEL = """
modeling:
  lightgbm: {n_estimators: 60}
"""
REPLAY = (date(2020, 1, 2), date(2020, 4, 30))


@pytest.fixture(scope="module")
def config(tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp("config") / "fast.yaml"
    path.write_text(FAST_MODEL)
    return str(path)


def day_log(home: Path, day: str) -> dict:
    return json.loads((home / "live" / day / "monitoring_log.json").read_text())


@pytest.fixture(scope="module")
def replayed(tmp_path_factory, config) -> tuple[Path, SafetyViolation]:
    """A home with the bundled data since 2012, replayed over January to April 2020."""
    from flows.daily_replay import daily_replay
    from flows.data_update import data_update

    folder = tmp_path_factory.mktemp("sp500")
    write_folder(BundledProvider().fetch().since("2012-01-03"), folder, fmt="parquet")
    home = tmp_path_factory.mktemp("home")
    data_update(provider="folder", path=str(folder), home=str(home), config=config)
    with pytest.raises(SafetyViolation) as blocked:
        daily_replay(start=REPLAY[0], end=REPLAY[1], home=str(home), config=config)
    return home, blocked.value


def test_the_replay_runs_every_session_of_the_range(replayed):
    home, _ = replayed
    expected = [f"{d:%Y-%m-%d}" for d in sessions_between(*REPLAY)]

    folders = sorted(p.name for p in (home / "live").glob("????-??-??"))

    assert folders == expected
    ledger = Ledger.at_home(Home(home), 1_000_000.0)
    assert [f"{d:%Y-%m-%d}" for d in ledger.equity_curve().index] == expected
    ledger.verify()


def test_the_kill_switch_trips_on_a_crash_day_for_a_daily_loss_and_blocks_every_later_day(
    replayed,
):
    home, error = replayed
    days = [f"{d:%Y-%m-%d}" for d in sessions_between(*REPLAY)]
    logs = {day: day_log(home, day) for day in days}
    tripped = [d for d in days if logs[d]["kill_switch"]["engaged_since"] == d]

    assert len(tripped) == 1, "the switch engages once and stays engaged"
    first = tripped[0]
    switch = logs[first]["kill_switch"]
    assert "2020-02-20" <= first <= "2020-03-23", first
    assert switch["triggered"] and switch["reason"] == "daily_loss"
    assert switch["daily_return"] < -0.03
    assert first in str(error)
    ledger = Ledger.at_home(Home(home), 1_000_000.0)
    for day in days:
        trades = pd.read_csv(home / "live" / day / "trades.csv")
        status = ledger.run(date.fromisoformat(day)).status
        if day < first:
            assert status == "applied", day
        else:
            assert status == "blocked", day
            assert "proposed" not in set(trades["status"]), day
            assert logs[day]["kill_switch"]["engaged"], day
    before = ledger.positions(before=date.fromisoformat(first))
    after = ledger.positions()
    pd.testing.assert_series_equal(before.shares, after.shares)
    assert before.cash == after.cash


def test_a_blocked_day_cannot_be_approved_and_resume_needs_a_reason(replayed, config):
    from flows.daily_live import daily_live

    home, _ = replayed
    runner = CliRunner()

    refused = runner.invoke(app, ["approve", "--date", "2020-03-16", "--home", str(home)])
    empty = runner.invoke(app, ["resume", "--reason", " ", "--home", str(home)])
    released = runner.invoke(
        app, ["resume", "--reason", "crash reviewed, model unchanged", "--home", str(home)]
    )

    assert refused.exit_code == 4 and "blocked" in refused.output
    assert empty.exit_code == 4 and "reason" in empty.output
    assert released.exit_code == 0, released.output
    ledger = Ledger.at_home(Home(home), 1_000_000.0)
    assert ledger.kill_switch() is None
    release = ledger.kill_switch_history()[-1]
    assert release.reason == "crash reviewed, model unchanged"
    assert release.run_date == REPLAY[1]

    # the next session is judged on returns after the release, not on the crash that tripped it
    with contextlib.suppress(SafetyViolation):  # another rule may block it: not the switch
        daily_live(run_date=date(2020, 5, 1), home=str(home), config=config)
    switch = day_log(home, "2020-05-01")["kill_switch"]
    assert switch["rolling_sharpe"] is None  # 1 return since the release: not judged yet
    assert not switch["engaged"] and ledger.kill_switch() is None


@pytest.fixture()
def approval_home(tmp_path, config) -> tuple[Path, str, list[date]]:
    """A small synthetic home whose settings require manual approval."""
    from flows.data_update import data_update

    market = generate_synthetic_market(symbols=15, years=2, seed=3, ic=0.1)
    write_folder(market.data, tmp_path / "data")
    home = tmp_path / "home"
    manual = tmp_path / "manual.yaml"
    manual.write_text(FAST_MODEL + "live:\n  require_manual_approval: true\n")
    data_update(provider="folder", path=str(tmp_path / "data"), home=str(home), config=config)
    return home, str(manual), [d.date() for d in market.data.dates[-2:]]


def test_manual_approval_applies_a_day_once_and_a_rerun_never_applies_it_again(approval_home):
    from flows.daily_live import daily_live

    home, manual, (day, next_day) = approval_home
    runner = CliRunner()
    ledger = Ledger.at_home(Home(home), 1_000_000.0)

    proposed = daily_live(run_date=day, home=str(home), config=manual)
    assert proposed["ledger_status"] == "proposed"
    assert ledger.positions().cash == 1_000_000.0  # nothing applied before approval

    approve = ["approve", "--date", f"{day}", "--home", str(home), "--config", manual]
    first, second = runner.invoke(app, approve), runner.invoke(app, approve)
    assert first.exit_code == 0, first.output
    assert second.exit_code == 4 and "applied" in second.output
    held = ledger.positions()
    trades = pd.read_csv(home / "live" / f"{day}" / "trades.csv")
    bought = trades[trades["status"] == "proposed"].set_index("symbol")["shares"]
    pd.testing.assert_series_equal(
        held.shares.sort_index(), bought.sort_index(), check_names=False, check_dtype=False
    )
    exported = pd.read_csv(home / "live" / "current_positions.csv").set_index("symbol")
    assert exported.loc["CASH", "quantity"] == pytest.approx(held.cash, abs=0.01)

    rerun = daily_live(run_date=day, home=str(home), config=manual)
    assert rerun["ledger_status"] == "applied"
    pd.testing.assert_series_equal(ledger.positions().shares, held.shares)
    assert ledger.positions().cash == held.cash

    following = daily_live(run_date=next_day, home=str(home), config=manual)
    assert following["ledger_status"] == "proposed"
    log = day_log(home, f"{next_day}")
    assert log["summary"]["portfolio_value"] == pytest.approx(
        ledger.equity_curve().iloc[-1], rel=1e-9
    )


def test_a_daily_run_opens_the_ledger_once_and_passes_it_to_its_steps(approval_home, monkeypatch):
    from flows.daily_live import daily_live

    home, manual, (day, _) = approval_home
    opened = []
    open_file = Ledger.__init__

    def counted(self, path, *args, **kwargs):
        opened.append(path)
        open_file(self, path, *args, **kwargs)

    monkeypatch.setattr(Ledger, "__init__", counted)
    daily_live(run_date=day, home=str(home), config=manual)

    assert opened == [home / "live" / "ledger.sqlite"]
