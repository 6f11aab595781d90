"""Corporate actions on the run date: an unadjusted split stops the run, a delisted holding is sold.

Core-level: the split guard on small close frames, the delisted names' last closes, and the trade
generator's forced exits. Through the CLI (one synthetic home, copied per case): a halved close of
a held name refuses `daily` with the ledger untouched, and a held name without rows from the run
date on is refused with the way out, then sold at its last close once listed in
`live.delisted_symbols`.
"""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from homes import FAST, SmallHome, build_small_home
from typer.testing import CliRunner

from app.cli import app
from settings.trading import LiveSettings
from trading_core.costs import CostModel
from trading_core.data.folder import write_folder
from trading_core.errors import DataError
from trading_core.home import Home
from trading_core.live.corporate_actions import (
    SPLIT_RATIOS,
    check_splits,
    delisted_closes,
    delisting_reason,
    with_last_close,
)
from trading_core.live.ledger import Ledger
from trading_core.live.trade_generator import PROPOSED, TradeGenerator

DAYS = pd.DatetimeIndex(["2024-03-01", "2024-03-04", "2024-03-05"])
TOLERANCE = LiveSettings().split_guard_tolerance  # the shipped default


def closes(move: float, symbol: str = "S03") -> pd.DataFrame:
    """Three sessions of two names; `symbol` moves by `move` on the last one."""
    frame = pd.DataFrame({"S03": [100.0, 102.3, 102.3], "S07": [50.0, 51.0, 50.5]}, index=DAYS)
    frame.loc[DAYS[-1], symbol] = frame.loc[DAYS[-2], symbol] * move
    return frame


@pytest.mark.parametrize("new, old", SPLIT_RATIOS, ids=lambda r: str(r))
def test_every_split_ratio_is_caught(new: int, old: int):
    with pytest.raises(DataError, match="S03"):
        check_splits(closes(old / new * 1.04), ["S03"], TOLERANCE)  # a 4% market move too


@pytest.mark.parametrize(
    "move, ratio",
    [(0.5, "2:1 split"), (2.0, "1:2 reverse split"), (2 / 3, "3:2 split"), (0.1, "10:1 split")],
)
def test_the_message_names_symbol_date_ratio_and_the_way_out(move: float, ratio: str):
    with pytest.raises(DataError) as caught:
        check_splits(closes(move), ["S03", "S07"], TOLERANCE)
    message = str(caught.value)
    assert f"close of S03 moves x{move:.4f} on 2024-03-05 (from 102.3 to " in message
    assert f"unadjusted {ratio}" in message
    assert "live.split_guard_tolerance: 0" in message and "\n" not in message


@pytest.mark.parametrize("move", [0.92, 0.60, 1.08, 1.40, 0.5 * 1.08])
def test_market_moves_away_from_a_ratio_pass(move: float):
    """-8%, a genuine -40% (not near 2/3 or 1/2), +8%, +40%, and 8% off a halving."""
    check_splits(closes(move), ["S03", "S07"], TOLERANCE)


def test_tolerance_zero_turns_the_guard_off():
    check_splits(closes(0.5), ["S03"], 0.0)


def test_a_split_of_a_name_neither_held_nor_targeted_is_not_the_guards_business():
    check_splits(closes(0.5, "S07"), ["S03"], TOLERANCE)


def test_a_recorded_split_passes_and_a_name_without_both_closes_is_not_judged():
    check_splits(closes(0.5), ["S03"], TOLERANCE, recorded={("S03", date(2024, 3, 5))})
    new_listing = closes(0.5).assign(S09=[None, None, 10.0])
    check_splits(new_listing, ["S09"], TOLERANCE)


def stopped() -> pd.DataFrame:
    """S03 trades through 2024-03-01 and then stops; S07 trades every day."""
    return pd.DataFrame({"S03": [100.0, None, None], "S07": [50.0, 51.0, 50.5]}, index=DAYS)


def test_a_held_name_without_a_close_says_how_to_close_it():
    with pytest.raises(DataError) as caught:
        delisted_closes(stopped(), ["S03", "S07"], [])
    assert str(caught.value) == (
        "no valid price on 2024-03-05 for held symbol(s) S03; if a name stopped trading, list it "
        "in live.delisted_symbols to sell it at its last close (S03 2024-03-01)"
    )


def test_a_listed_name_is_priced_at_its_last_close_and_a_trading_one_left_alone():
    found = delisted_closes(stopped(), ["S03", "S07"], ["S03", "S07"])
    assert found == {"S03": pd.Timestamp("2024-03-01")}  # S07 still trades: not closed
    filled = with_last_close(stopped(), found)
    assert filled.loc["2024-03-05"].to_dict() == {"S03": 100.0, "S07": 50.5}
    assert pd.isna(filled.loc["2024-03-04", "S03"])  # only the run date is filled
    assert delisting_reason(found["S03"]) == "delisted: sold at last close 2024-03-01"


def test_a_forced_exit_is_sold_in_full_past_every_trade_limit():
    """Turnover budget, volume limit and trade count would each hold back an ordinary exit."""
    generator = TradeGenerator(
        CostModel(10, 5), max_daily_trades=1, max_volume_pct=0.01, max_turnover=0.1
    )
    held = pd.Series({"A": 1000.0, "B": 1000.0})  # 100k each at 100
    prices = pd.Series({"A": 100.0, "B": 100.0, "C": 100.0})
    target = pd.Series({"A": 0.0, "B": 0.0, "C": 0.5})
    volume = pd.DataFrame({"A": [1000.0] * 20, "B": [1000.0] * 20, "C": [1000.0] * 20})
    reason = "delisted: sold at last close 2024-03-01"
    trades = generator.generate_trades(
        held, target, prices, 300_000.0, 100_000.0, volume=volume, forced_exits={"A": reason}
    )
    a = trades.set_index("symbol").loc["A"]
    assert (a["side"], a["shares"], a["status"], a["reason"]) == ("SELL", 1000.0, PROPOSED, reason)
    # A's third of the account (one-way 1/6) spent the 10% budget: the others are held back
    others = trades.set_index("symbol").drop("A")
    assert set(others.index) == {"B", "C"}
    assert (others["status"] == "skipped: max_turnover leaves it less than one share").all()


def test_a_forced_exit_takes_its_turnover_from_the_others_budget():
    generator = TradeGenerator(CostModel(0, 0), max_turnover=0.4)
    held = pd.Series({"A": 100.0, "B": 400.0})
    prices = pd.Series({"A": 100.0, "B": 100.0, "C": 100.0})
    target = pd.Series({"B": 0.0, "C": 0.5})
    trades = generator.generate_trades(
        held, target, prices, 100_000.0, 50_000.0, forced_exits={"A": "delisted"}
    )
    proposed = trades[trades["status"] == PROPOSED]
    # A's 10% sale is 5% one-way; B and C would need 45% more: they go part of the way
    assert proposed["weight_change"].abs().sum() / 2 <= 0.4 + 1e-9
    assert proposed.set_index("symbol").loc["A", "shares"] == 100.0
    assert proposed["reason"].str.contains("partial").sum() == 2


# -- through the CLI --------------------------------------------------------------------------

runner = CliRunner()


@pytest.fixture(scope="module")
def base(tmp_path_factory) -> SmallHome:
    small = build_small_home(tmp_path_factory.mktemp("corporate-actions"))
    assert account(small.home)[0], "the small home's applied day must hold names"
    return small


@pytest.fixture
def held_name(home: SmallHome) -> str:
    """A name held after the small home's applied day (the first, alphabetically)."""
    return min(account(home.home)[0])


@pytest.fixture
def home(base: SmallHome, tmp_path: Path) -> SmallHome:
    """A private copy of the small home and its config."""
    shutil.copytree(base.home, tmp_path / "home")
    shutil.copy(base.config, tmp_path / "fast.yaml")
    return SmallHome(tmp_path / "home", tmp_path / "fast.yaml", base.data, base.first, base.day)


def account(home: Path) -> tuple[dict[str, float], float, pd.DataFrame]:
    ledger = Ledger.at_home(Home(home), 1.0)
    positions = ledger.positions()
    trades = ledger.trades()
    held = positions.shares[positions.shares != 0].to_dict()
    return held, positions.cash, trades[trades["run_status"] == "applied"]


def cli(small: SmallHome, *args: str) -> list[str]:
    return [*args, "--home", str(small.home), "--config", str(small.config)]


def update(small: SmallHome, prices: pd.DataFrame, folder: Path) -> None:
    """Store `prices` (long rows) through a data folder update, which must accept them."""
    write_folder(small.data, folder)
    prices.to_csv(folder / "prices.csv", index=False)
    args = cli(small, "data", "update", "--replace", "--provider", "folder", "--path", str(folder))
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output


def long_prices(small: SmallHome) -> pd.DataFrame:
    long = small.data.to_long()
    long["date"] = long["date"].dt.strftime("%Y-%m-%d")
    return long


def error_lines(output: str) -> list[str]:
    return [line for line in output.splitlines() if "error" in line.lower()]


@pytest.mark.slow
@pytest.mark.usefixtures("prefect_server")
def test_a_halved_close_of_a_held_name_stops_daily_and_leaves_the_ledger(home, held_name, tmp_path):
    prices = long_prices(home)
    on_day = (prices["symbol"] == held_name) & (prices["date"] == home.day)
    prices.loc[on_day, "close"] = 0.5 * float(home.data.close.loc[home.first, held_name])
    update(home, prices, tmp_path / "folder")
    ledger = (home.home / "live" / "ledger.sqlite").read_bytes()

    result = runner.invoke(app, cli(home, "daily", "--date", home.day))

    assert result.exit_code != 0, result.output
    [line] = error_lines(result.output)
    assert f"close of {held_name} moves x0.5000 on {home.day}" in line
    assert "2:1 split" in line and "live.split_guard_tolerance" in line
    assert (home.home / "live" / "ledger.sqlite").read_bytes() == ledger


@pytest.mark.slow
@pytest.mark.usefixtures("prefect_server")
def test_a_name_that_stopped_trading_is_refused_then_sold_at_its_last_close(
    home, held_name, tmp_path
):
    prices = long_prices(home)
    update(
        home, prices[~((prices["symbol"] == held_name) & (prices["date"] >= home.day))], tmp_path
    )
    held, cash, applied = account(home.home)
    last_close = float(home.data.close.loc[home.first, held_name])

    refused = runner.invoke(app, cli(home, "daily", "--date", home.day))
    assert refused.exit_code != 0, refused.output
    [line] = error_lines(refused.output)
    assert f"no valid price on {home.day} for held symbol(s) {held_name}" in line
    assert f"live.delisted_symbols to sell it at its last close ({held_name} {home.first})" in line
    assert account(home.home)[0] == held

    home.config.write_text(FAST + f"live: {{delisted_symbols: [{held_name}]}}\n")
    result = runner.invoke(app, cli(home, "daily", "--date", home.day))

    assert result.exit_code == 0, result.output
    held_after, cash_after, applied_after = account(home.home)
    assert held_name not in held_after
    day = applied_after[
        (applied_after["date"] == pd.Timestamp(home.day)) & (applied_after["status"] == PROPOSED)
    ]
    sale = day.set_index("symbol").loc[held_name]
    assert (sale["side"], sale["shares"]) == ("SELL", held[held_name])
    assert sale["price"] == pytest.approx(last_close)
    assert sale["reason"] == f"delisted: sold at last close {home.first}"
    sign = day["side"].map({"SELL": 1.0, "BUY": -1.0})
    costs = day["commission_est"] + day["slippage_est"]
    assert cash_after == pytest.approx(cash + (sign * day["notional"] - costs).sum())
    assert len(applied_after) > len(applied)
