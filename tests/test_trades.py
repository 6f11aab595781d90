"""Trade generation: whole shares, full exits, skipped small changes, a daily cap, never short of
cash, costs from the one cost model; and the positions file that trades start from."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from trading_core.costs import CostModel
from trading_core.errors import DataError
from trading_core.live.positions import load_positions, positions_csv
from trading_core.live.trade_generator import TradeGenerator, turnover

PRICES = pd.Series(
    {
        "AAA": 101.37,
        "BBB": 47.13,
        "CCC": 233.9,
        "DDD": 12.07,
        "EEE": 88.8,
        "FFF": 59.99,
        "GGG": 311.2,
    }
)
HELD = pd.Series({"AAA": 1000.0, "BBB": 2000.0, "CCC": 300.0})
CAPITAL = 1_000_000.0
CASH = CAPITAL - float((HELD * PRICES[HELD.index]).sum())
# CCC leaves; BBB stays almost where it is (0.0942 vs 0.09426 held); AAA grows; DDD-FFF are new
TARGET = pd.Series({"AAA": 0.15, "BBB": 0.0942, "DDD": 0.15, "EEE": 0.15, "FFF": 0.15})
FULL = pd.Series(0.2, index=["AAA", "BBB", "DDD", "EEE", "FFF"])  # 100% invested: costs need cash
COSTS = CostModel(commission_bps=5.0, slippage_bps=7.0)


def generate(target=TARGET, held=HELD, prices=PRICES, cash=CASH, **limits) -> pd.DataFrame:
    generator = TradeGenerator(COSTS, **limits)
    return generator.generate_trades(held, target, prices, CAPITAL, cash)


def proposed(trades: pd.DataFrame) -> pd.DataFrame:
    return trades[trades["status"] == "proposed"]


def cash_after(trades: pd.DataFrame, cash: float = CASH) -> float:
    """Cash once every proposed trade is done and paid for."""
    done = proposed(trades)
    sells = done.loc[done["side"] == "SELL", "notional"].sum()
    buys = done.loc[done["side"] == "BUY", "notional"].sum()
    return cash + sells - buys - done["commission_est"].sum() - done["slippage_est"].sum()


def test_shares_are_whole_by_default_and_fractional_on_request():
    whole = generate()
    fractional = generate(fractional_shares=True)

    assert (whole["shares"] == np.floor(whole["shares"])).all()
    assert not (fractional["shares"] == np.floor(fractional["shares"])).all()
    buys = proposed(fractional).query("side == 'BUY'").set_index("symbol")
    np.testing.assert_allclose(
        buys["shares"] * buys["price"] / CAPITAL,
        TARGET[buys.index] - HELD.reindex(buys.index, fill_value=0) * PRICES[buys.index] / CAPITAL,
        rtol=1e-12,
    )


def test_a_name_leaving_the_target_is_sold_in_full():
    trades = generate().set_index("symbol")

    exit_ = trades.loc["CCC"]
    assert (exit_["side"], exit_["shares"], exit_["reason"]) == ("SELL", HELD["CCC"], "exit")
    assert exit_["status"] == "proposed"
    assert exit_["target_weight"] == 0.0


def test_a_small_exit_is_still_a_full_sell_even_below_min_trade_size():
    held = pd.Series({"AAA": 1000.0, "GGG": 1.0})  # GGG is 0.03% of the account

    trades = generate(held=held, min_trade_size=0.01).set_index("symbol")

    assert trades.loc["GGG", "shares"] == 1.0 and trades.loc["GGG", "status"] == "proposed"


def test_changes_below_min_trade_size_are_reported_as_skipped():
    trades = generate(min_trade_size=0.005).set_index("symbol")

    assert trades.loc["BBB", "status"].startswith("skipped")
    assert abs(trades.loc["BBB", "weight_change"]) < 0.005
    others = trades.drop(index="BBB")
    assert (others["status"] == "proposed").all()


def test_max_daily_trades_keeps_the_largest_weight_changes():
    everything = proposed(generate())

    trades = generate(max_daily_trades=2)

    kept = proposed(trades)
    largest = everything.loc[everything["weight_change"].abs().nlargest(2).index, "symbol"]
    assert sorted(kept["symbol"]) == sorted(largest)
    dropped = trades[~trades["symbol"].isin(kept["symbol"])]
    assert dropped["status"].str.startswith("skipped").all()


@pytest.mark.parametrize("cash", [CASH, 50_000.0, 0.0])
@pytest.mark.parametrize(
    "target", [TARGET, FULL, FULL * 1.3], ids=["partly-invested", "fully-invested", "130%"]
)
def test_cash_is_never_negative_after_the_proposed_trades_and_their_costs(cash, target):
    trades = generate(target=target, cash=cash)

    assert cash_after(trades, cash) >= 0.0
    assert (trades["shares"] >= 0).all()


def test_buys_are_reduced_in_whole_shares_when_cash_runs_short():
    trades = generate(target=FULL)

    buys = proposed(trades).query("side == 'BUY'")
    assert buys["reason"].str.endswith("(reduced: cash)").all()
    assert (buys["shares"] == np.floor(buys["shares"])).all()
    assert 0.0 <= cash_after(trades) < buys["price"].sum() * (1 + COSTS.rate)


def test_costs_are_notional_times_commission_plus_slippage_bps():
    trades = generate()

    notional = trades["shares"] * trades["price"]
    np.testing.assert_allclose(trades["notional"], notional, rtol=1e-12)
    np.testing.assert_allclose(trades["commission_est"], notional * 5.0 / 1e4, rtol=1e-12)
    np.testing.assert_allclose(trades["slippage_est"], notional * 7.0 / 1e4, rtol=1e-12)
    total = trades["commission_est"] + trades["slippage_est"]
    np.testing.assert_allclose(total, COSTS.total(notional.to_numpy()), rtol=1e-12)
    np.testing.assert_allclose(total, notional * (5.0 + 7.0) / 1e4, rtol=1e-12)


def test_turnover_is_the_traded_fraction_of_the_account():
    trades = generate()

    done = proposed(trades)
    assert turnover(trades) == pytest.approx(done["weight_change"].abs().sum(), rel=1e-12)
    assert turnover(trades) == pytest.approx(done["notional"].sum() / CAPITAL, rel=1e-12)


def test_weight_change_matches_the_shares_traded_even_when_buys_are_reduced_for_cash():
    trades = generate(target=FULL)

    done = proposed(trades)
    assert done["reason"].str.contains("reduced: cash").any()
    signed = np.where(done["side"] == "BUY", 1, -1) * done["notional"] / CAPITAL
    np.testing.assert_allclose(done["weight_change"], signed, rtol=0, atol=1e-12)


@pytest.mark.parametrize(
    "bad", [np.nan, 0.0, -5.0, None], ids=["nan", "zero", "negative", "absent"]
)
def test_a_held_symbol_without_a_valid_price_is_named(bad):
    prices = PRICES.copy()
    if bad is None:
        prices = prices.drop("CCC")
    else:
        prices["CCC"] = bad

    with pytest.raises(DataError, match="CCC"):
        generate(prices=prices)


def test_the_trade_list_sells_first_and_has_one_row_per_symbol():
    trades = generate()

    sides = trades["side"].tolist()
    assert sides == sorted(sides, key=lambda side: side != "SELL")
    assert trades["symbol"].is_unique


# ---------------------------------------------------------------------------------------------
# positions file


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "current_positions.csv"
    path.write_text(text)
    return path


def test_no_positions_file_means_all_cash_at_the_initial_capital(tmp_path):
    positions = load_positions(tmp_path / "current_positions.csv", initial_capital=250_000.0)

    assert positions.cash == 250_000.0
    assert positions.shares.empty
    assert positions.value(PRICES) == 250_000.0


def test_a_positions_file_round_trips_and_values_at_prices(tmp_path):
    path = write(tmp_path, "symbol,quantity\nAAA,10\nBBB,2.5\nCASH,1000\n")

    positions = load_positions(path, initial_capital=CAPITAL)

    assert positions.cash == 1000.0
    assert positions.shares.to_dict() == {"AAA": 10.0, "BBB": 2.5}
    assert positions.value(PRICES) == pytest.approx(1000 + 10 * 101.37 + 2.5 * 47.13)
    again = load_positions(write(tmp_path, positions_csv(positions)), CAPITAL)
    assert again.cash == positions.cash
    pd.testing.assert_series_equal(again.shares, positions.shares)


@pytest.mark.parametrize(
    ("text", "named"),
    [
        pytest.param("symbol,quantity\nAAA,10\nBBB,-5\n", ["row 3", "BBB"], id="negative"),
        pytest.param("symbol,quantity\nAAA,ten\nCASH,5\n", ["row 2", "AAA"], id="non-numeric"),
        pytest.param("symbol,quantity\nAAA,10\nBBB,1\nAAA,3\n", ["AAA"], id="duplicate-symbol"),
        pytest.param("symbol,shares\nAAA,10\n", ["symbol,quantity"], id="wrong-columns"),
    ],
)
def test_a_malformed_positions_file_names_the_row_or_symbol(tmp_path, text, named):
    path = write(tmp_path, text)

    with pytest.raises(DataError) as error:
        load_positions(path, initial_capital=CAPITAL)

    for word in named:
        assert word in str(error.value)
