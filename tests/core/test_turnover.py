"""Turnover has one definition, one-way ½ Σ|Δw| per rebalance, and the backtester, the trade
generator (its figure and its budget) and the safety check all measure it the same way."""

from __future__ import annotations

from functools import partial

import pandas as pd
import pytest

from trading_core.backtest import VectorizedBacktester
from trading_core.costs import CostModel
from trading_core.live.safety_checks import SafetyValidator
from trading_core.live.trade_generator import PROPOSED, TradeGenerator, turnover
from trading_core.turnover import one_way_turnover

# these tests pin the fill mechanics at one price per session: fills at the signal's close
SameClose = partial(VectorizedBacktester, execution="same_close")

FREE = CostModel(commission_bps=0.0, slippage_bps=0.0)
DAYS = pd.bdate_range("2024-01-01", periods=5)
PRICE = 100.0
CLOSE = pd.DataFrame(PRICE, index=DAYS, columns=["A", "B", "C"])  # flat: weights never drift
VALUE = 100_000.0
BEFORE = pd.Series({"A": 0.50, "B": 0.00, "C": 0.49})  # 1% in cash
AFTER = pd.Series({"A": 0.40, "B": 0.10, "C": 0.49})  # 10% of the book moved from A to B


def test_one_way_turnover_is_half_the_sum_of_absolute_weight_changes():
    assert one_way_turnover([-0.10, 0.10, 0.0]) == pytest.approx(0.10)
    assert one_way_turnover([-0.6, -0.4, 0.6, 0.4]) == pytest.approx(1.0)  # a full switch
    assert one_way_turnover([]) == 0.0


def test_a_tenth_of_the_book_moved_from_a_to_b_is_ten_percent_everywhere():
    # the backtester: the second rebalance moves A 50% -> 40% and B 0% -> 10%
    targets = pd.DataFrame([BEFORE, AFTER], index=[DAYS[0], DAYS[2]])
    backtest = SameClose(FREE, initial_capital=VALUE).run(targets, CLOSE)
    assert backtest.turnover.iloc[1] == pytest.approx(0.10, rel=1e-12)

    # the trade generator: sell 100 A, buy 100 B; a budget of 11% lets the whole move through
    held = pd.Series({"A": 500.0, "C": 490.0})  # BEFORE in shares
    generator = TradeGenerator(FREE, max_turnover=0.11)
    trades = generator.generate_trades(held, AFTER, CLOSE.iloc[-1], VALUE, cash=0.01 * VALUE)
    done = trades[trades["status"] == PROPOSED].set_index("symbol")
    assert done["shares"].to_dict() == {"A": 100.0, "B": 100.0}
    assert not done["reason"].str.contains("partial").any()
    assert turnover(trades) == pytest.approx(0.10, rel=1e-12)

    # the safety check: within an 11% limit, above a 9% one, and it shows 10%
    def turnover_check(limit: float):
        checks = SafetyValidator(max_weight=1.0, max_turnover=limit).validate_trades(
            trades, VALUE, CLOSE, held=list(held.index)
        )
        return next(c for c in checks if c.name == "turnover")

    assert turnover_check(0.11).passed
    assert not turnover_check(0.09).passed
    assert "one-way turnover 10.00%" in turnover_check(0.11).detail


def test_investing_from_all_cash_turns_over_half_the_amount_invested():
    targets = pd.DataFrame([BEFORE], index=[DAYS[0]])
    backtest = SameClose(FREE, initial_capital=VALUE).run(targets, CLOSE)
    trades = TradeGenerator(FREE).generate_trades(
        pd.Series(dtype="float64"), BEFORE, CLOSE.iloc[-1], VALUE, cash=VALUE
    )

    assert backtest.turnover.iloc[0] == pytest.approx(0.99 / 2, rel=1e-12)
    assert turnover(trades) == pytest.approx(0.99 / 2, rel=1e-12)
