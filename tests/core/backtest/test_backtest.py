"""VectorizedBacktester: drift, cash and costs computed by hand, no look-ahead, the same costs as
the live trade generator, missing prices that never silently lose money, and the benchmark."""

from __future__ import annotations

from functools import partial

import numpy as np
import pandas as pd
import pytest

from trading_core.backtest import VectorizedBacktester
from trading_core.costs import CostModel
from trading_core.errors import DataError
from trading_core.live.trade_generator import PROPOSED, TradeGenerator

# these tests pin the fill mechanics at one price per session: fills at the signal's close
SameClose = partial(VectorizedBacktester, execution="same_close")

FREE = CostModel(commission_bps=0.0, slippage_bps=0.0)
DAYS = pd.bdate_range("2024-01-01", periods=5)
# A rises 10% on d1, 1/11 more on d2, flat, then 10%; B falls 10% then rises 10% on d3; C +10% twice.
HAND_CLOSE = pd.DataFrame(
    {
        "A": [10.0, 11.0, 12.0, 12.0, 13.2],
        "B": [20.0, 18.0, 18.0, 19.8, 19.8],
        "C": [50.0, 50.0, 55.0, 55.0, 60.5],
    },
    index=DAYS,
)
HAND_TARGETS = pd.DataFrame(
    {"A": [0.5, 0.2], "B": [0.3, 0.2], "C": [0.0, 0.4]}, index=[DAYS[0], DAYS[2]]
)


def random_market(seed: int = 3, sessions: int = 60, symbols: int = 8) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    moves = 1 + rng.normal(0.0005, 0.02, size=(sessions, symbols))
    index = pd.bdate_range("2023-01-02", periods=sessions)
    columns = [f"S{i}" for i in range(symbols)]
    return pd.DataFrame(50 * np.cumprod(moves, axis=0), index=index, columns=columns)


def random_targets(close: pd.DataFrame, every: int = 5, seed: int = 4) -> pd.DataFrame:
    """Every `every` sessions, random long-only weights summing to 0.9 (10% cash)."""
    rng = np.random.default_rng(seed)
    dates = close.index[::every]
    raw = rng.random((len(dates), close.shape[1])) * (
        rng.random((len(dates), close.shape[1])) > 0.4
    )
    weights = 0.9 * raw / raw.sum(axis=1, keepdims=True)
    return pd.DataFrame(weights, index=dates, columns=close.columns)


def test_constant_weights_without_costs_match_a_hand_computation():
    result = SameClose(FREE, initial_capital=1000.0).run(HAND_TARGETS, HAND_CLOSE)
    # d0: 50 A (500), 15 B (300), cash 200. d1: 550 + 270 + 200. d2 before trading: 600 + 270 + 200
    # = 1070, then A 214 (17.833 sh), B 214 (11.889 sh), C 428 (7.782 sh), cash 214.
    # d3: A flat, B x 1.1 = 235.4. d4: A x 1.1 = 235.4, B flat, C x 1.1 = 470.8.
    expected = [1000.0, 1020.0, 1070.0, 214 + 235.4 + 428 + 214, 235.4 + 235.4 + 470.8 + 214]
    np.testing.assert_allclose(result.equity.to_numpy(), expected, rtol=1e-13)
    # one-way: half of what is bought and sold (800 bought from cash; 386 + 56 sold, 428 bought)
    np.testing.assert_allclose(result.turnover.to_numpy(), [0.4, (386 + 56 + 428) / 2 / 1070])
    assert result.costs.tolist() == [0.0, 0.0]
    np.testing.assert_allclose(result.positions.loc[DAYS[0]], [50.0, 15.0, 0.0])
    np.testing.assert_allclose(result.returns.iloc[1], 0.02)
    assert result.metrics["total_return"] == pytest.approx(0.1556, rel=1e-12)


def test_costs_come_out_of_cash_at_the_shared_rate():
    costs = CostModel(commission_bps=10.0, slippage_bps=5.0)
    result = SameClose(costs, initial_capital=1000.0).run(HAND_TARGETS, HAND_CLOSE)
    first = 800 * 0.0015  # 500 of A and 300 of B bought
    np.testing.assert_allclose(result.costs.iloc[0], first, rtol=1e-13)
    assert result.equity.iloc[0] == pytest.approx(1000 - first, rel=1e-13)
    # holdings are exactly target x value; the cost is the only difference from the free run
    assert result.equity.iloc[1] == pytest.approx(1020 - first, rel=1e-13)
    value = 1070 - first
    drifted = np.array([600.0, 270.0, 0.0]) / value
    turnover = np.abs(np.array([0.2, 0.2, 0.4]) - drifted).sum() / 2  # one-way
    assert result.turnover.iloc[1] == pytest.approx(turnover, rel=1e-13)
    assert result.costs.iloc[1] == pytest.approx(2 * turnover * value * 0.0015, rel=1e-13)
    # sells of A (600 - 0.2 V) and B (270 - 0.2 V) and the buy of C (0.4 V) add up to 870
    assert result.costs.iloc[1] == pytest.approx(870 * 0.0015, rel=1e-12)


def test_doubling_the_cost_rate_doubles_the_costs():
    close, targets = random_market(), random_targets(random_market())
    low = SameClose(CostModel(5.0, 5.0)).run(targets, close)
    high = SameClose(CostModel(10.0, 10.0)).run(targets, close)
    assert high.costs.iloc[0] == pytest.approx(2 * low.costs.iloc[0], rel=1e-14)
    for result, rate in ((low, 0.001), (high, 0.002)):
        before = result.equity.loc[result.costs.index] + result.costs
        traded = 2 * result.turnover * before  # buys plus sells
        np.testing.assert_allclose(result.costs / traded, rate, rtol=1e-12)
    # later turnover moves only through the equity the costs removed: a second-order effect
    assert high.metrics["cost_drag"] == pytest.approx(2 * low.metrics["cost_drag"], rel=1e-3)
    assert high.metrics["cost_drag"] > 0.001


def test_no_trades_when_targets_equal_the_drifted_weights():
    close = random_market()
    first = random_targets(close).iloc[:1]
    day = close.index[7]
    hold = SameClose(CostModel(10.0, 5.0)).run(first, close)
    value = hold.equity.loc[day]
    drifted = hold.positions.iloc[0] * close.loc[day] / value
    targets = pd.concat([first, drifted.to_frame(day).T])
    result = SameClose(CostModel(10.0, 5.0)).run(targets, close)
    assert result.turnover.loc[day] < 1e-14
    assert result.costs.loc[day] < 1e-14 * value
    np.testing.assert_allclose(result.equity, hold.equity, rtol=1e-13)


def test_prices_after_a_date_never_change_equity_up_to_it():
    close, targets = random_market(), random_targets(random_market())
    backtester = SameClose(CostModel(10.0, 5.0))
    base = backtester.run(targets, close)
    cut = close.index[22]  # between rebalances (20 and 25)
    shocked = close.copy()
    shocked.loc[close.index > cut] *= np.random.default_rng(9).uniform(0.5, 1.5, (37, 8))
    moved = backtester.run(targets, shocked)
    pd.testing.assert_series_equal(moved.equity.loc[:cut], base.equity.loc[:cut])
    pd.testing.assert_series_equal(moved.costs.loc[:cut], base.costs.loc[:cut])
    assert not moved.equity.loc[cut:].iloc[1:].equals(base.equity.loc[cut:].iloc[1:])


def test_a_target_on_a_date_never_changes_equity_before_it():
    close, targets = random_market(), random_targets(random_market())
    backtester = SameClose(CostModel(10.0, 5.0))
    base = backtester.run(targets, close)
    day = targets.index[4]
    changed = targets.copy()
    changed.loc[day] = changed.loc[day].iloc[::-1].to_numpy()
    moved = backtester.run(changed, close)
    before = close.index[close.index < day]
    pd.testing.assert_series_equal(moved.equity.loc[before], base.equity.loc[before])
    # on the day itself only the costs of the different trades differ
    difference = moved.equity.loc[day] - base.equity.loc[day]
    assert difference == pytest.approx(base.costs.loc[day] - moved.costs.loc[day], abs=1e-12)


def test_cash_earns_the_configured_rate_per_session():
    close = random_market(sessions=11)
    half = pd.DataFrame({"S0": [0.5]}, index=close.index[:1])
    result = SameClose(FREE, cash_rate=0.05).run(half, close)
    step = 1.05 ** (1 / 252)
    expected = 0.5 * close["S0"] / close["S0"].iloc[0] + 0.5 * step ** np.arange(11)
    np.testing.assert_allclose(result.equity.to_numpy(), expected.to_numpy(), rtol=1e-13)
    all_cash = pd.DataFrame({"S0": [0.0, 0.0]}, index=close.index[[0, 4]])
    idle = SameClose(FREE, cash_rate=0.05).run(all_cash, close)
    np.testing.assert_allclose(idle.equity.to_numpy(), step ** np.arange(11), rtol=1e-13)
    assert (SameClose(FREE).run(all_cash, close).equity == 1.0).all()


def test_benchmark_is_equal_weight_buy_and_hold_of_the_listed_universe():
    close = random_market()
    close.loc[: close.index[6], "S7"] = np.nan  # not listed yet on the first rebalance date (5)
    targets = random_targets(close).iloc[1:].drop(columns="S7")
    costs = CostModel(10.0, 5.0)
    result = SameClose(costs, initial_capital=100.0).run(targets, close)
    listed = close.loc[targets.index[0] :].drop(columns="S7")
    growth = (listed / listed.iloc[0]).mean(axis=1)
    expected = 100.0 * growth - 100.0 * costs.rate  # costs of the one purchase left in cash
    np.testing.assert_allclose(result.benchmark_equity, expected, rtol=1e-13)
    assert result.benchmark_equity.index.equals(result.equity.index)
    assert result.benchmark_metrics["avg_turnover"] == pytest.approx(0.5)  # one-way, from cash


def test_backtest_costs_equal_the_trade_generator_estimate():
    close = random_market() * 3.7
    targets = random_targets(close)
    costs = CostModel(commission_bps=5.0, slippage_bps=7.0)
    result = SameClose(costs, initial_capital=1_000_000.0).run(targets, close)
    day, held = targets.index[3], result.positions.iloc[2]
    value = result.equity.loc[day] + result.costs.loc[day]  # before the day's trades
    cash = value - float((held * close.loc[day]).sum())
    generator = TradeGenerator(
        costs, min_trade_size=0.0, max_daily_trades=100, fractional_shares=True
    )
    trades = generator.generate_trades(held, targets.loc[day], close.loc[day], value, cash)
    proposed = trades[trades["status"] == PROPOSED]
    live = float((proposed["commission_est"] + proposed["slippage_est"]).sum())
    assert len(proposed) > 3
    assert result.costs.loc[day] == pytest.approx(live, rel=1e-12)


def test_a_target_without_a_close_names_symbol_and_date():
    close = random_market()
    close.loc[close.index[5], "S3"] = np.nan
    targets = random_targets(close)
    targets.loc[close.index[5], "S3"] = 0.1
    with pytest.raises(DataError, match=r"S3 on 2023-01-09"):
        SameClose(FREE).run(targets, close)


def test_a_held_name_whose_close_goes_missing_keeps_its_last_value():
    close = random_market(sessions=12, symbols=3)
    close.loc[close.index[3] : close.index[6], "S1"] = np.nan  # missing for 4 sessions
    targets = pd.DataFrame(
        {"S0": [0.3, 0.3], "S1": [0.3, 0.0], "S2": [0.3, 0.3]}, index=close.index[[0, 5]]
    )
    result = SameClose(FREE).run(targets, close)
    shares = 0.3 / close.iloc[0]
    carried = close.ffill()
    expected = (shares * carried).sum(axis=1) + 0.1
    np.testing.assert_allclose(result.equity.iloc[:6], expected.iloc[:6], rtol=1e-13)
    # sold on day 5 at its last close (day 2): nothing lost, nothing invented
    assert result.positions.loc[close.index[5], "S1"] == 0.0
    assert result.stale_sessions.to_dict() == {"S0": 0.0, "S1": 3.0, "S2": 0.0}


def test_bad_inputs_are_refused_with_the_offending_item():
    close = random_market()
    targets = random_targets(close)
    with pytest.raises(DataError, match="2023-01-07 is not a session"):
        SameClose(FREE).run(
            targets.rename(index={targets.index[1]: pd.Timestamp("2023-01-07")}), close
        )
    with pytest.raises(DataError, match="ZZZ"):
        SameClose(FREE).run(targets.assign(ZZZ=0.1), close)
    negative = close.copy()
    negative.iloc[30, 2] = np.nan
    negative.iloc[40, 2] = -1.0
    with pytest.raises(DataError, match="S2 on 2023-02-27"):
        SameClose(FREE).run(targets.iloc[:1] * 0, negative)


def test_regime_breakdown_counts_the_sessions_of_each_regime():
    close = random_market()
    targets = random_targets(close)
    codes = np.tile([0, 1, 1, 2, 1], 12).astype(float)
    codes[:3] = np.nan  # warm-up without a label
    regimes = pd.Series(codes, index=close.index)
    result = SameClose(FREE).run(targets, close, regimes)
    table = result.regime_performance
    assert table["days"].to_dict() == {0: 11, 1: 34, 2: 12}
    assert table["regime"].tolist() == ["Risk-Off", "Normal", "Risk-On"]
    risk_on = result.returns[regimes == 2]
    assert table.loc[2, "avg_return"] == pytest.approx(risk_on.mean())
    assert table.loc[2, "win_rate"] == pytest.approx((risk_on > 0).mean())
    assert SameClose(FREE).run(targets, close).regime_performance is None
