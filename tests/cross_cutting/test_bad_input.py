"""Bad input through the public entry points: one clear line, a non-zero exit, nothing traded.

A synthetic home holds a champion and one applied day. Each case breaks one thing (a data folder,
the model, the config, the date, the ledger), then runs the `alphapilot` command a person would.
A refused run must leave the home byte for byte as it was; a blocked run may record the block
(with its reason) but must not change positions, cash or the trade history.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest
from homes import FAST, build_small_home
from typer.testing import CliRunner

from app.cli import app
from trading_core.data.folder import write_folder
from trading_core.data.market import MarketData
from trading_core.home import Home
from trading_core.live.ledger import Ledger

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("prefect_server")]

HELD = "S00"  # a symbol the fixture's applied day holds (asserted in the fixture)
runner = CliRunner()


@dataclass(frozen=True)
class Env:
    """What a case may break: the home, the config file, the market and the two last sessions."""

    home: Path
    config: Path
    data: MarketData
    first: str  # the applied day
    day: str  # the day the cases run
    tmp: Path

    def cli(self, *args: str) -> list[str]:
        return [*args, "--home", str(self.home), "--config", str(self.config)]

    def daily(self) -> list[str]:
        return self.cli("daily", "--date", self.day)

    def update_from(self, prices: pd.DataFrame, **files: pd.DataFrame | str | bytes) -> list[str]:
        """A data folder with these long prices (and files replaced), as a data update command."""
        folder = self.tmp / "folder"
        write_folder(self.data, folder)
        prices.to_csv(folder / "prices.csv", index=False)
        for name, content in files.items():
            path = folder / name.replace("_", ".")
            if isinstance(content, pd.DataFrame):
                content.to_csv(path, index=False)
            elif isinstance(content, bytes):
                path.write_bytes(content)
            else:
                path.write_text(content)
        return self.cli(
            "data", "update", "--replace", "--provider", "folder", "--path", str(folder)
        )

    def prices(self) -> pd.DataFrame:
        long = self.data.to_long()
        long["date"] = long["date"].dt.strftime("%Y-%m-%d")
        return long

    def at(self, prices: pd.DataFrame, symbol: str, day: str | None = None) -> pd.Series:
        return (prices["symbol"] == symbol) & (prices["date"] == (day or self.day))

    def config_text(self, text: str) -> list[str]:
        self.config.write_text(FAST + text)
        return self.daily()

    def champion(self) -> tuple[Path, dict]:
        folder = self.home / "production"
        return folder, json.loads((folder / "champion_metadata.json").read_text())

    def member_file(self) -> Path:
        folder, meta = self.champion()
        return folder / meta["members"][0]["file"]

    def ledger_sql(self, statement: str) -> list[str]:
        with sqlite3.connect(self.home / "live" / "ledger.sqlite") as db:
            db.execute(statement)
        return self.daily()


@dataclass(frozen=True)
class Case:
    """Break something, return the command to run; the error must name every `reason` part."""

    name: str
    prepare: Callable[[Env], list[str]]
    reason: tuple[str, ...]
    blocked: bool = False  # a blocked run (recorded with its reason) rather than a refusal


def _set(env: Env, symbol: str, column: str, value: object, day: str | None = None) -> list[str]:
    prices = env.prices().astype({column: "object"})
    prices.loc[env.at(prices, symbol, day), column] = value
    return env.update_from(prices)


def _rename(env: Env, symbol: str) -> list[str]:
    """The held symbol renamed in the prices (it then names a new stock)."""
    prices = env.prices()
    prices["symbol"] = prices["symbol"].replace({HELD: symbol})
    return env.update_from(prices)


def _jump(env: Env) -> list[str]:
    prices = env.prices()
    prices.loc[env.at(prices, HELD), "close"] *= 100
    return env.update_from(prices)


def _duplicate(env: Env) -> list[str]:
    prices = env.prices()
    return env.update_from(pd.concat([prices, prices[env.at(prices, HELD)]]))


def _saturday(env: Env) -> list[str]:
    prices = env.prices()
    row = prices[env.at(prices, HELD)].assign(date="2013-06-01")
    return env.update_from(pd.concat([prices, row]))


def _lose_ledger(env: Env, how: str, command: list[str] | None = None) -> list[str]:
    """The ledger file emptied or deleted, the exports and run folders left: no new account."""
    ledger = env.home / "live" / "ledger.sqlite"
    if how == "empty":
        ledger.write_bytes(b"")
    else:
        ledger.unlink()
    return command or env.daily()


def _updated(env: Env, prices: pd.DataFrame) -> list[str]:
    """The data update accepts these prices; the daily run is the case."""
    update = runner.invoke(app, env.update_from(prices))
    assert update.exit_code == 0, update.output
    return env.daily()


def _drop_symbol_on_day(env: Env) -> list[str]:
    prices = env.prices()
    return _updated(env, prices[~env.at(prices, HELD)])


def _stale(env: Env) -> list[str]:
    prices = env.prices()
    last = sorted(prices["date"].unique())[-7:]
    mine = (prices["symbol"] == HELD) & prices["date"].isin(last)
    prices.loc[mine, "close"] = prices.loc[mine, "close"].iloc[0]
    return _updated(env, prices)


def _benchmark_gap(env: Env) -> list[str]:
    bench = env.data.benchmark.rename("close").rename_axis("date").reset_index()
    bench["date"] = bench["date"].dt.strftime("%Y-%m-%d")
    return env.update_from(env.prices(), benchmark_csv=bench.drop(index=[100, 101, 102, 103]))


def _truncated_parquet(env: Env) -> list[str]:
    folder = env.tmp / "parquet"
    path = write_folder(env.data, folder, fmt="parquet")
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    return env.cli("data", "update", "--replace", "--provider", "folder", "--path", str(folder))


def _one_name(env: Env) -> list[str]:
    prices = env.prices()
    one = Env(env.tmp / "one-name", env.config, env.data, env.first, env.day, env.tmp)
    return _updated(one, prices[prices["symbol"] == "S00"])


def _rewrite_member(env: Env, payload: bytes, fix_checksum: bool = False) -> list[str]:
    import hashlib

    path = env.member_file()
    path.write_bytes(payload)
    if fix_checksum:  # and no Treelite checkpoint to score with: the file must be read
        folder, meta = env.champion()
        meta["members"][0]["sha256"] = hashlib.sha256(payload).hexdigest()
        meta["members"][0].pop("scorer", None)
        (folder / "champion_metadata.json").write_text(json.dumps(meta))
    return env.daily()


def _tamper(env: Env) -> list[str]:
    payload = bytearray(env.member_file().read_bytes())
    payload[len(payload) // 2] ^= 0xFF
    return _rewrite_member(env, bytes(payload))


def _tamper_checkpoint(env: Env) -> list[str]:
    folder, meta = env.champion()
    path = folder / meta["members"][0]["scorer"]["file"]
    payload = bytearray(path.read_bytes())
    payload[len(payload) // 2] ^= 0xFF
    path.write_bytes(bytes(payload))
    return env.daily()


def _metadata(env: Env, change: Callable[[dict], None]) -> list[str]:
    folder, meta = env.champion()
    change(meta)
    (folder / "champion_metadata.json").write_text(json.dumps(meta))
    return env.daily()


def _features(meta: dict) -> None:
    meta["features"] = [*meta["features"][:-1], "momentum_999"]
    for member in meta["members"]:
        member.pop("features", None)


def _edit_positions_csv(env: Env) -> list[str]:
    path = env.home / "live" / "current_positions.csv"
    table = pd.read_csv(path)
    table.loc[table["symbol"] == HELD, "quantity"] += 100
    table.to_csv(path, index=False)
    return env.daily()


def _approve_with(env: Env, statement: str) -> list[str]:
    env.config.write_text(FAST + "live: {require_manual_approval: true}\n")
    proposed = runner.invoke(app, env.daily())
    assert proposed.exit_code == 0, proposed.output
    with sqlite3.connect(env.home / "live" / "ledger.sqlite") as db:
        db.execute(statement)
    return env.cli("approve", "--date", env.day)


def _approve_twice(env: Env) -> list[str]:
    """A proposal approved by hand, then the second approval is the case."""
    env.config.write_text(FAST + "live: {require_manual_approval: true}\n")
    assert runner.invoke(app, env.daily()).exit_code == 0
    assert runner.invoke(app, env.cli("approve", "--date", env.day)).exit_code == 0
    return env.cli("approve", "--date", env.day)


CASES = [
    # -- the data folder (data update) --
    Case("nan-close", lambda e: _set(e, HELD, "close", ""), ("close is NaN", HELD)),
    Case("zero-close", lambda e: _set(e, HELD, "close", 0), ("close is 0", HELD)),
    Case("negative-close", lambda e: _set(e, HELD, "close", -12.5), ("close is -12.5", HELD)),
    Case("x100-jump", _jump, ("moves x", HELD, "max_daily_jump")),
    Case("negative-volume", lambda e: _set(e, HELD, "volume", -1), ("volume is -1", HELD)),
    Case("duplicate-row", _duplicate, ("duplicate row", HELD)),
    Case("not-a-session", _saturday, ("2013-06-01", "not an NYSE session", HELD)),
    Case("close-not-a-number", lambda e: _set(e, HELD, "close", "abc"), ("'abc'", HELD)),
    Case("date-not-a-date", lambda e: _set(e, HELD, "date", "2024-13-45"), ("'2024-13-45'",)),
    Case(
        "formula-symbol",
        lambda e: _rename(e, "=cmd|' /C calc'!A0"),
        ("symbol \"=cmd|' /C calc'!A0\" is not allowed", "prices.csv row"),
    ),
    Case(
        "cash-symbol", lambda e: _rename(e, "cash"), ("symbol 'cash' is reserved", "prices.csv row")
    ),
    Case(
        "wrong-column-names",
        lambda e: e.update_from(e.prices().rename(columns={"close": "price"})),
        ("lacks column(s) close", "price"),
    ),
    Case(
        "empty-file",
        lambda e: e.update_from(e.prices(), prices_csv=b""),
        ("prices.csv is empty",),
    ),
    Case(
        "empty-universe",
        lambda e: e.update_from(e.prices().iloc[:0]),
        ("no rows", "universe is empty"),
    ),
    Case("truncated-parquet", _truncated_parquet, ("cannot read prices.parquet",)),
    Case(
        "benchmark-gaps",
        _benchmark_gap,
        ("close of benchmark is missing for 4 sessions", "data.max_gap_sessions 3"),
    ),
    Case(
        "benchmark-negative",
        lambda e: e.update_from(e.prices(), benchmark_csv="date,close\n2020-01-02,-3\n"),
        ("benchmark", "-3"),
    ),
    Case(
        "sectors-wrong-columns",
        lambda e: e.update_from(e.prices(), sectors_csv="ticker,industry\nS0,Tech\n"),
        ("sectors.csv needs columns symbol,sector",),
    ),
    Case(
        "folder-missing",
        lambda e: e.cli(
            "data", "update", "--replace", "--provider", "folder", "--path", str(e.tmp / "nope")
        ),
        ("data folder not found", "nope"),
    ),
    # -- the run date's data (the update passes; the daily run refuses or blocks) --
    Case("symbol-missing-on-run-date", _drop_symbol_on_day, ("no valid price on", HELD)),
    Case("stale-prices", _stale, ("close unchanged for 5 sessions", HELD), blocked=True),
    Case("one-name-universe", _one_name, ("only 1 symbol(s) (S00)",)),
    # -- the model --
    Case("model-missing", lambda e: (e.member_file().unlink(), e.daily())[1], ("is missing",)),
    Case(
        "model-truncated",
        lambda e: _rewrite_member(e, e.member_file().read_bytes()[:200]),
        ("does not match the checksum",),
    ),
    Case("model-tampered", _tamper, ("does not match the checksum",)),
    Case("checkpoint-tampered", _tamper_checkpoint, (".tl does not match the checksum",)),
    Case(
        "model-corrupt-with-matching-checksum",
        lambda e: _rewrite_member(e, b"\x00garbage" * 64, fix_checksum=True),
        ("cannot be loaded",),
    ),
    Case(
        "metadata-unreadable",
        lambda e: (
            e.champion()[0].joinpath("champion_metadata.json").write_text("{oops"),
            e.daily(),
        )[1],
        ("champion_metadata.json", "unreadable"),
    ),
    Case(
        "metadata-features-mismatch",
        lambda e: _metadata(e, _features),
        ("momentum_999",),
    ),
    # -- the settings --
    Case(
        "config-invalid-value",
        lambda e: e.config_text("portfolio: {max_weight: 1.5}\n"),
        ("portfolio.max_weight",),
    ),
    Case(
        "config-unknown-key",
        lambda e: e.config_text("portfolio: {max_wieght: 0.1}\n"),
        ("max_wieght",),
    ),
    Case(
        "config-wrong-type",
        lambda e: e.config_text("live: {initial_capital: lots}\n"),
        ("live.initial_capital",),
    ),
    Case(
        "config-not-yaml",
        lambda e: e.config_text("portfolio: [unclosed\n"),
        (".yaml",),
    ),
    Case(
        "config-missing",
        lambda e: [
            "daily",
            "--date",
            e.day,
            "--home",
            str(e.home),
            "--config",
            str(e.tmp / "x.yml"),
        ],
        ("x.yml",),
    ),
    Case("live-mode", lambda e: [*e.daily(), "--live"], ("live order placement",)),
    # -- the date --
    Case("date-not-a-date", lambda e: e.cli("daily", "--date", "28/12/2022"), ("--date",)),
    Case("date-is-a-path", lambda e: e.cli("daily", "--date", "../../x"), ("--date",)),
    Case("date-in-the-future", lambda e: e.cli("daily", "--date", "2099-01-05"), ("2099-01-05",)),
    Case("date-before-the-data", lambda e: e.cli("daily", "--date", "2001-03-05"), ("2001-03-05",)),
    Case(
        "date-beyond-the-stored-data",
        lambda e: e.cli("daily", "--date", f"{next_session(e.day)}"),
        ("no market data for",),
    ),
    # -- the ledger and the positions --
    Case("positions-csv-edited", _edit_positions_csv, ("current_positions.csv",)),
    Case(
        "ledger-position-edited",
        lambda e: e.ledger_sql(f"UPDATE positions SET shares = shares + 7 WHERE symbol = '{HELD}'"),
        ("inconsistent", HELD),
    ),
    Case(
        "ledger-cash-edited",
        lambda e: e.ledger_sql("UPDATE account SET cash = cash + 1000"),
        ("inconsistent", "cash"),
    ),
    Case(
        "ledger-not-a-database",
        lambda e: (
            e.home.joinpath("live", "ledger.sqlite").write_bytes(b"garbage" * 100),
            e.daily(),
        )[1],
        ("ledger.sqlite",),
    ),
    Case("ledger-emptied", lambda e: _lose_ledger(e, "empty"), ("LedgerMissing", "is empty")),
    Case("ledger-deleted", lambda e: _lose_ledger(e, "delete"), ("LedgerMissing", "is missing")),
    Case(
        "approve-after-the-ledger-was-deleted",
        lambda e: _lose_ledger(e, "delete", e.cli("approve", "--date", e.first)),
        ("LedgerMissing", "account new"),
    ),
    Case(
        "approve-with-an-edited-ledger",
        lambda e: _approve_with(e, "UPDATE account SET cash = cash - 5000"),
        ("inconsistent",),
    ),
    Case("approve-twice", _approve_twice, ("already applied",)),
    Case(
        "approve-a-day-without-a-run",
        lambda e: e.cli("approve", "--date", next_session(e.day)),
        ("no run",),
    ),
]


def next_session(day: str) -> str:
    from trading_core.data.calendar import sessions

    all_sessions = sessions()
    return f"{all_sessions[all_sessions > pd.Timestamp(day)][0]:%Y-%m-%d}"


def files(root: Path) -> dict[str, bytes]:
    """Every file under `root` but Prefect's result cache, the log and the data-quality report
    (written on a refusal too: it says what was found), with its bytes."""
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file()
        and not {"cache", "logs"} & set(p.relative_to(root).parts)
        and p.name != "quality.json"
    }


def account(home: Path) -> tuple[dict[str, float], float, pd.DataFrame]:
    ledger = Ledger.at_home(Home(home), 1.0)
    positions = ledger.positions()
    shares = positions.shares[positions.shares != 0].to_dict()
    trades = ledger.trades()
    return shares, positions.cash, trades[trades["run_status"] == "applied"]


@pytest.fixture(scope="module")
def base(tmp_path_factory) -> Env:
    """A home with the data, a promoted champion and one applied day; the next day left to run."""
    root = tmp_path_factory.mktemp("bad-input")
    small = build_small_home(root)
    assert HELD in account(small.home)[0], "the case symbol must be held for the cases to bite"
    return Env(small.home, small.config, small.data, small.first, small.day, root)


@pytest.fixture
def env(base: Env, tmp_path: Path) -> Env:
    """A private copy of the base home and config for one case."""
    home = tmp_path / "home"
    shutil.copytree(base.home, home)
    config = tmp_path / "fast.yaml"
    shutil.copy(base.config, config)
    return Env(home, config, base.data, base.first, base.day, tmp_path)


def test_the_unbroken_day_runs_and_trades(env: Env):
    """The harness can fail: the same command on unbroken input trades and changes the ledger."""
    before = account(env.home)
    result = runner.invoke(app, env.daily())
    assert result.exit_code == 0, result.output
    assert len(account(env.home)[2]) > len(before[2])


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_bad_input_is_refused_with_one_clear_line_and_nothing_traded(env: Env, case: Case):
    args = case.prepare(env)
    before_files = files(env.home)
    before_account = account(env.home) if case.blocked else None

    result = runner.invoke(app, args)

    assert result.exit_code != 0, f"{case.name} was accepted:\n{result.output}"
    lines = [line for line in result.output.splitlines() if line.strip()]
    error = [line for line in lines if "error" in line.lower() or "Invalid value" in line]
    assert error, f"no error line:\n{result.output}"
    message = " ".join(error)
    for part in case.reason:
        assert part in message, f"{part!r} not in {message!r}"
    assert "Traceback" not in result.output
    after_files = files(env.home)
    if case.blocked:  # recorded as blocked, with no change to the account
        shares, cash, trades = account(env.home)
        assert shares == before_account[0] and cash == before_account[1]
        assert trades.equals(before_account[2])
        report = (env.home / "live" / env.day / "report.html").read_text()
        assert "BLOCKED" in report.upper() and case.reason[-1] in report
    else:
        assert after_files == before_files
    production = {k: v for k, v in after_files.items() if k.startswith("production")}
    assert production == {k: v for k, v in before_files.items() if k.startswith("production")}
