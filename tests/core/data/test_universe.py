"""Point-in-time universe: a name is scored, held and backtested only inside its membership.

universe.csv is read and refused row by row; the membership mask is exact on a small example; on a
small synthetic market where one name leaves the universe and another stops trading while held,
the dataset has no rows (so no scores) outside membership, the backtest sells both at the first
rebalance after (the delisted one at its last close), the daily run sells a held name that left
with the reason, and the survivorship caveat appears exactly when no membership is given.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import tasks.live
from settings import load_settings
from trading_core.backtest import VectorizedBacktester
from trading_core.backtest.walk_forward import backtest_scores
from trading_core.costs import CostModel
from trading_core.data.folder import read_folder, write_folder
from trading_core.data.market import MarketData
from trading_core.data.providers import BUNDLED_NOTE, SURVIVOR_NOTE, survivorship_note
from trading_core.data.synthetic import generate_synthetic_market
from trading_core.data.universe import (
    coverage_notes,
    left_universe,
    membership,
    read_universe,
    validate_members,
)
from trading_core.errors import DataError
from trading_core.features.library import Inputs, feature_set
from trading_core.live.corporate_actions import forced_exits
from trading_core.live.positions import Positions
from trading_core.live.trade_generator import PROPOSED, TradeGenerator
from trading_core.ml.dataset import build_dataset
from trading_core.portfolio.policy import PortfolioPolicy
from trading_core.regime import NORMAL, equal_weight_index

FREE = CostModel(commission_bps=0.0, slippage_bps=0.0)
FEATURES = feature_set(
    momentum_windows=(5, 20),
    volatility_windows=(20,),
    skew_windows=(20,),
    range_windows=(20,),
    ma_windows=(20,),
    ma_pairs=((5, 20),),
    beta_windows=(20,),
)


def write(folder: Path, text: str) -> Path:
    path = folder / "universe.csv"
    path.write_text(text)
    return path


# -- reading ------------------------------------------------------------------------------------


def test_spans_are_read_with_re_entries_open_ends_and_extra_columns_ignored(tmp_path):
    path = write(
        tmp_path,
        "symbol,start,end,sector\n"
        "MSFT,2020-01-02,,Tech\n"
        "NA,2019-03-01,2019-06-28,Mining\n"  # a real ticker that pandas would read as NaN
        "NA,2020-01-02,2020-12-31,Mining\n",
    )
    spans = read_universe(path)
    assert spans.columns.tolist() == ["symbol", "start", "end"]
    assert spans["symbol"].tolist() == ["MSFT", "NA", "NA"]
    assert str(spans["start"].dtype) == str(spans["end"].dtype) == "datetime64[ns]"
    assert pd.isna(spans.loc[0, "end"])
    assert spans.loc[2, "start"] == pd.Timestamp("2020-01-02")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "AAA,2020-01-02,\nBBB,2020-02-30,\n",
            "start '2020-02-30' is not a date for BBB (universe.csv row 3)",
        ),
        ("AAA,2020-01-02,soon\n", "end 'soon' is not a date for AAA (universe.csv row 2)"),
        ("AAA,,2020-01-02\n", "start is empty for AAA (universe.csv row 2)"),
        (
            "AAA,2020-05-01,2020-04-30\n",
            "end 2020-04-30 is before start 2020-05-01 for AAA (universe.csv row 2)",
        ),
        (
            "AAA,2020-01-02,2020-06-30\nBBB,2020-01-02,\nAAA,2020-06-30,\n",
            "membership of AAA from 2020-06-30 (universe.csv row 4) overlaps its membership "
            "2020-01-02..2020-06-30 (row 2)",
        ),
        (
            "AAA,2020-01-02,\nAAA,2021-01-04,2021-02-01\n",
            "membership of AAA from 2021-01-04 (universe.csv row 3) overlaps its membership "
            "2020-01-02..open (row 2)",
        ),
        ("AAA,2020-01-02,\n=HYPERLINK(1),2020-01-02,\n", "symbol '=HYPERLINK(1)' is not allowed"),
        ("AAA,2020-01-02,\ncash,2020-01-02,\n", "symbol 'cash' is reserved"),
    ],
)
def test_a_bad_row_is_refused_naming_the_row_and_the_symbol(tmp_path, text, message):
    with pytest.raises(DataError) as caught:
        read_universe(write(tmp_path, "symbol,start,end\n" + text))
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


def test_a_file_without_the_columns_or_rows_is_refused(tmp_path):
    with pytest.raises(DataError, match="needs columns symbol,start,end; lacks end"):
        read_universe(write(tmp_path, "symbol,start\nAAA,2020-01-02\n"))
    with pytest.raises(DataError, match="has no rows"):
        read_universe(write(tmp_path, "symbol,start,end\n"))


# -- membership ---------------------------------------------------------------------------------


def test_membership_is_inclusive_and_a_name_the_file_omits_is_never_a_member(tmp_path):
    spans = read_universe(
        write(
            tmp_path,
            "symbol,start,end\n"
            "A,2024-01-03,2024-01-04\n"
            "A,2024-01-08,\n"
            "B,2023-06-01,2024-01-02\n"
            "C,2024-01-06,2024-01-06\n",  # a Saturday: no session inside
        )
    )
    dates = pd.bdate_range("2024-01-02", "2024-01-09")
    mask = membership(spans, dates, ["A", "B", "C", "D"])
    expected = pd.DataFrame(
        {
            "A": [False, True, True, False, True, True],
            "B": [True, False, False, False, False, False],
            "C": [False] * 6,
            "D": [False] * 6,
        },
        index=dates,
    )
    assert mask.to_dict() == expected.to_dict()
    assert left_universe(spans, ["A", "B", "D"], pd.Timestamp("2024-01-05")) == {
        "A": pd.Timestamp("2024-01-04"),
        "B": pd.Timestamp("2024-01-02"),
    }  # D was never listed: it has not left anything
    assert left_universe(spans, ["A"], pd.Timestamp("2024-01-08")) == {}  # A came back


# -- the data folder ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def market():
    return generate_synthetic_market(symbols=12, years=2, seed=9, ic=0.1).data


def spans_for(data: MarketData, leaves: str, on: pd.Timestamp, joins: str, at: pd.Timestamp):
    """Every name a member from the first date, but `leaves` ends on `on` and `joins` starts at `at`."""
    spans = pd.DataFrame({"symbol": data.symbols, "start": data.first_date, "end": pd.NaT}).astype(
        {"symbol": "str", "end": "datetime64[ns]"}
    )
    spans.loc[spans["symbol"] == leaves, "end"] = on
    spans.loc[spans["symbol"] == joins, "start"] = at
    return spans


def test_a_folder_reads_its_universe_and_a_listed_name_without_prices_is_accepted(market, tmp_path):
    source = tmp_path / "source"
    write_folder(market, source)
    assert read_folder(source).universe is None
    spans = spans_for(market, "S03", market.dates[300], "S05", market.dates[200])
    spans = pd.concat(
        [spans, pd.DataFrame({"symbol": ["GONE"], "start": [market.first_date], "end": [pd.NaT]})]
    )
    write_folder(replace(market, universe=spans), source)
    data = read_folder(source)
    pd.testing.assert_frame_equal(
        data.universe, spans.sort_values(["symbol", "start"]).reset_index(drop=True)
    )
    assert "GONE" not in data.symbols
    assert coverage_notes(data.universe, [*data.symbols, "NEW"]) == [
        "1 name(s) of universe.csv have no prices: GONE",
        "1 priced name(s) are not in universe.csv, so never members (never scored or held): NEW",
    ]


def test_a_run_date_with_fewer_than_two_priced_members_is_refused(market):
    last = market.last_date
    few = market.symbols[:1]
    spans = pd.DataFrame({"symbol": few, "start": market.first_date, "end": pd.NaT})
    with pytest.raises(
        DataError,
        match=rf"only 1 member\(s\) of the universe \(S00\) have a close on {last:%Y-%m-%d}",
    ):
        validate_members(replace(market, universe=spans.astype({"end": "datetime64[ns]"})))
    validate_members(market)  # no universe: nothing to check


# -- research and backtest ----------------------------------------------------------------------

LEAVES, JOINS, STOPS = "S03", "S05", "S07"


@pytest.fixture(scope="module")
def pit(market) -> MarketData:
    """S03 leaves the universe at session 300 (its prices go on), S05 joins at session 200, and
    S07 stops trading after session 320 (every price field ends)."""
    spans = spans_for(market, LEAVES, market.dates[300], JOINS, market.dates[200])
    hidden = np.outer(market.dates > market.dates[320], market.close.columns == STOPS)
    frames = {name: frame.mask(hidden) for name, frame in market.frames().items()}
    return replace(market, universe=spans, **frames)


@pytest.fixture(scope="module")
def dataset(pit):
    return build_dataset(pit, FEATURES, horizon=5, execution="next_open")


def rows_of(dataset, symbol: str) -> pd.DatetimeIndex:
    dates = dataset.rows.index.get_level_values("date")
    return pd.DatetimeIndex(dates[dataset.rows.index.get_level_values("symbol") == symbol])


def test_the_dataset_holds_only_members_so_non_members_get_no_scores(market, pit, dataset):
    left, joined = pit.dates[300], pit.dates[200]
    assert rows_of(dataset, LEAVES).max() == left  # a member on its end date, none after
    assert rows_of(dataset, JOINS).min() == joined
    assert rows_of(dataset, STOPS).max() == pit.dates[320]
    # the same data without a universe has the rows: the mask is what removed them
    everything = build_dataset(replace(pit, universe=None), FEATURES, 5, execution="next_open")
    assert rows_of(everything, LEAVES).max() == pit.last_date
    # ranks compare the members of a date only (11 once S03 left); a joiner's features use its
    # earlier prices
    ranks = dataset.rows.xs(pit.dates[310], level="date")["ret_20_rank"]
    assert len(ranks) == 11 and ranks.min() == pytest.approx(1 / 11)
    assert dataset.rows.loc[(joined, JOINS), "ret_20"] == pytest.approx(
        pit.close.loc[joined, JOINS] / pit.close[JOINS].shift(20).loc[joined] - 1, rel=1e-6
    )
    # labels are transformed across members: a member-only z-score has mean 0 on each date
    labels = dataset.labels.xs(pit.dates[310], level="date")
    assert LEAVES not in labels.index and labels.mean() == pytest.approx(0.0, abs=1e-9)


def test_a_name_that_stops_trading_inside_the_horizon_is_labelled_to_its_last_close(pit, dataset):
    days, returns = pit.dates, dataset.forward_returns
    entry = pit.open.loc[days[319], STOPS]
    # decided on 318, bought at the open of 319, out at its last close (320), not dropped
    assert returns.loc[(days[318], STOPS)] == pytest.approx(
        pit.close.loc[days[320], STOPS] / entry - 1, rel=1e-6
    )
    assert np.isnan(returns.loc[(days[320], STOPS)])  # nothing to buy at the open of 321
    # known at the close of 320 + 1 already: the same label from the data cut there
    cut = build_dataset(pit.as_of(days[325]), FEATURES, horizon=5, execution="next_open")
    assert cut.forward_returns.loc[(days[318], STOPS)] == returns.loc[(days[318], STOPS)]


def favourite_scores(dataset, dates: pd.DatetimeIndex) -> pd.Series:
    """Scores on `dates` for every dataset row there, the leaving and stopping names best."""
    rows = dataset.rows[dataset.on(dates)]
    symbols = rows.index.get_level_values("symbol")
    preference = {LEAVES: 10.0, STOPS: 9.0, JOINS: 8.0}
    values = [preference.get(s, -int(s[1:])) for s in symbols]
    return pd.Series(values, index=rows.index, name="score")


def test_the_backtest_sells_a_leaver_and_a_stopped_name_at_the_next_rebalance(pit, dataset):
    rebalances = pit.dates[150::10]
    scores = favourite_scores(dataset, rebalances)
    policy = PortfolioPolicy(
        optimizer="equal_weight",
        top_k=dict.fromkeys(("risk_off", "normal", "risk_on"), 3),
        exposure=dict.fromkeys(("risk_off", "normal", "risk_on"), 1.0),
        max_weight=0.5,
        rank_buffer=5,  # a held name ranked just outside would stay: an unscored one must not
        rebalance_threshold=0.5,  # every held weight is within this band of its target
    )
    regimes = pd.Series(NORMAL, index=pit.dates)
    result = backtest_scores(
        scores, pit, regimes, policy, VectorizedBacktester(FREE), pd.DataFrame()
    )
    weights, positions = result.weights, result.backtest.positions
    assert (weights.loc[: pit.dates[300], LEAVES] > 0).all()
    assert (weights.loc[pit.dates[301] :, LEAVES] == 0).all()
    assert (weights.loc[: pit.dates[199], JOINS] == 0).all()
    assert weights[JOINS].iloc[-1] > 0  # the best member left at the end
    assert (weights.loc[pit.dates[321] :, STOPS] == 0).all()
    # held until the fill after the first rebalance past the exit, none from then on
    for symbol, last in ((LEAVES, 300), (STOPS, 320)):
        first_after = rebalances[rebalances > pit.dates[last]][0]
        fill = pit.dates[pit.dates.get_loc(first_after) + 1]  # next_open
        assert positions.loc[:first_after, symbol].iloc[-1] > 0
        assert (positions.loc[fill:, symbol] == 0).all()


def test_the_benchmark_and_the_regime_market_hold_only_members():
    days = pd.bdate_range("2024-01-01", periods=6)
    close = pd.DataFrame(
        {"IN": [10.0, 10, 11, 12, 13, 14], "OUT": [10.0, 10, 20, 40, 80, 160]}, index=days
    )
    members = pd.DataFrame({"IN": True, "OUT": False}, index=days)
    targets = pd.DataFrame({"IN": [1.0], "OUT": [0.0]}, index=days[:1])
    backtester = VectorizedBacktester(FREE, execution="next_close")

    everyone = backtester.run(targets, close).benchmark_equity
    only_members = backtester.run(targets, close, members=members).benchmark_equity

    assert only_members.iloc[-1] / only_members.iloc[0] == pytest.approx(14 / 10)
    assert everyone.iloc[-1] > 2 * only_members.iloc[-1]  # the non-member's run is left out
    assert equal_weight_index(close, members).iloc[-1] == pytest.approx(140.0)
    assert equal_weight_index(close).iloc[-1] > 400  # daily rebalanced into the doubling name


def test_the_features_market_without_a_benchmark_averages_members_only():
    days = pd.bdate_range("2024-01-01", periods=4)
    close = pd.DataFrame({"IN": [10.0, 11, 12, 13], "OUT": [10.0, 20, 40, 80]}, index=days)
    data = MarketData(close=close)
    members = pd.DataFrame({"IN": True, "OUT": False}, index=days)

    assert Inputs(data, members).market.iloc[1] == pytest.approx(0.1)
    assert Inputs(data).market.iloc[1] == pytest.approx((0.1 + 1.0) / 2)


def test_a_name_whose_prices_end_while_held_is_valued_and_sold_at_its_last_close():
    days = pd.bdate_range("2024-01-01", periods=8)
    close = pd.DataFrame(
        {
            "A": [10.0, 11.0, 12.0, np.nan, np.nan, np.nan, np.nan, np.nan],
            "B": [20.0, 21.0, 22.0, 23.0, 24.0, 25.0, 26.0, 27.0],
        },
        index=days,
    )
    open_ = close * 0.99  # A's open ends with its close
    targets = pd.DataFrame({"A": [0.5, 0.0], "B": [0.5, 0.5]}, index=days[[0, 4]])
    result = VectorizedBacktester(FREE, initial_capital=1000.0).run(targets, close, open_=open_)
    # filled at the open of day 1: 500 in each; A is then worth its last close (day 2) forever
    shares_a, shares_b = 500 / open_.iloc[1]["A"], 500 / open_.iloc[1]["B"]
    frozen = shares_a * 12.0
    np.testing.assert_allclose(
        result.equity.loc[days[3] : days[4]].to_numpy(),
        frozen + shares_b * close.loc[days[3] : days[4], "B"].to_numpy(),
    )
    # the target of day 4 fills at day 5's open: A is sold at 12.0, its last close
    assert result.positions.loc[days[5], "A"] == 0.0
    value = frozen + shares_b * open_.loc[days[5], "B"]
    kept_b = result.positions.loc[days[5], "B"]
    cash = value - kept_b * open_.loc[days[5], "B"]
    assert cash == pytest.approx(value / 2)  # half the account, A's sale included, is cash
    assert result.equity.loc[days[7]] == pytest.approx(cash + kept_b * 27.0)
    assert result.stale_sessions["A"] == 3  # days 3, 4 and 5 valued at the carried close


# -- the daily run ------------------------------------------------------------------------------


def test_a_held_name_that_left_is_sold_in_full_with_the_reason(pit, monkeypatch, caplog):
    session = pit.dates[330]
    data = pit.as_of(session)
    held = pd.Series({LEAVES: 100.0, STOPS: 50.0, "S01": 80.0}, name="shares")
    positions = Positions(shares=held, cash=1000.0)
    # S07 stopped trading and is not in live.delisted_symbols: still an error without a universe
    with pytest.raises(DataError, match=r"no valid price on .* for held symbol\(s\) S07"):
        forced_exits(data.close, held.index, [], {})
    # S07 leaves the universe where its prices end: the daily run then sells it at its last close
    spans = data.universe.copy()
    spans.loc[spans["symbol"] == STOPS, "end"] = pit.dates[320]
    data = replace(data, universe=spans)
    monkeypatch.setattr(tasks.live, "get_run_logger", lambda: logging.getLogger("daily"))
    with caplog.at_level(logging.WARNING, logger="daily"):
        priced, exits = tasks.live.close_delisted.fn(data, positions, load_settings().live)
    left, stopped = f"{pit.dates[300]:%Y-%m-%d}", f"{pit.dates[320]:%Y-%m-%d}"
    assert exits == {
        LEAVES: f"left the universe on {left}",
        STOPS: f"left the universe on {stopped}: sold at last close {stopped}",
    }
    assert f"{LEAVES} left the universe on {left}: sold in full" in caplog.text
    last = priced.close.iloc[-1]
    assert last[STOPS] == pit.close.loc[pit.dates[320], STOPS]
    assert last[LEAVES] == pit.close.loc[session, LEAVES]  # it still trades: its own close
    target = pd.Series({"S01": 0.1, LEAVES: 0.0})
    trades = TradeGenerator(FREE).generate_trades(
        held, target, last, positions.value(last), positions.cash, forced_exits=exits
    )
    sales = trades.set_index("symbol").loc[[LEAVES, STOPS]]
    assert (sales["side"] == "SELL").all() and (sales["status"] == PROPOSED).all()
    assert sales["shares"].tolist() == [100.0, 50.0]
    assert sales.loc[LEAVES, "reason"] == f"left the universe on {left}"
    assert left_universe(spans, held.index, session) == {
        LEAVES: pit.dates[300],
        STOPS: pit.dates[320],
    }


# -- the survivorship caveat ---------------------------------------------------------------------


def test_the_caveat_is_shown_exactly_when_no_membership_is_given(pit):
    folder = replace(pit, source="folder /data/prices")
    assert survivorship_note(replace(folder, universe=None)) == SURVIVOR_NOTE
    assert survivorship_note(folder) is None
    assert survivorship_note(replace(folder, universe=None, source="tiingo")) == SURVIVOR_NOTE
    assert (
        survivorship_note(replace(folder, universe=None, source="bundled S&P 500")) == BUNDLED_NOTE
    )
    assert survivorship_note(replace(folder, universe=None, source="synthetic")) is None
