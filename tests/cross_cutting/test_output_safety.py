"""Outputs safe to open: no symbol can carry a formula or markup, and no CSV cell runs as one.

- Every symbol is held at import to one pattern (letters, digits, `.`, `-`, `_`, `/`, starting
  with a letter or digit, at most 24 characters); `CASH`, in any case, is the cash row of
  current_positions.csv and is never a symbol. A refusal is one line naming the symbol (repr'd, so
  hostile characters show) and where it was found.
- `to_csv`, the writer of every CSV alphapilot writes, prefixes a `'` to a text cell that starts
  with `=`, `+`, `-`, `@`, tab or CR (OWASP's rule); numbers stay numbers; `read_csv` gives every
  text back unchanged, one that already starts with a quote included.
"""

from __future__ import annotations

import csv
from datetime import UTC, date, datetime
from io import StringIO
from pathlib import Path

import pandas as pd
import pytest

from trading_core.data.folder import read_folder, write_folder
from trading_core.data.market import MarketData
from trading_core.data.store import MarketStore
from trading_core.data.synthetic import generate_synthetic_market
from trading_core.data.validation import validate_market_data, validate_prices
from trading_core.errors import DataError
from trading_core.io import read_csv, to_csv
from trading_core.live.ledger import Ledger
from trading_core.live.positions import load_positions, positions_csv
from trading_core.live.trade_generator import TRADE_COLUMNS

HOSTILE = {
    "formula": "=cmd|' /C calc'!A0",
    "plus": "+1+1",
    "at": "@SUM(A1)",
    "minus": "-2+3",
    "tab": "\tAAPL",
    "cr": "\rAAPL",
    "25-chars": "A" * 25,
    "markup": "<script>alert(1)</script>",
    "empty": "",
}
RESERVED = ["CASH", "cash", "Cash"]
LEGAL = ["BRK.B", "BRK-B", "BF/B", "A_1"]
RENAMED = "S3"  # the synthetic symbol each case renames
DANGEROUS = ["=", "+", "-", "@", "\t", "\r"]


@pytest.fixture(scope="module")
def data() -> MarketData:
    return generate_synthetic_market(symbols=8, years=0.5, seed=5).data


def renamed(data: MarketData, names: dict[str, str]) -> MarketData:
    """`data` with symbols renamed in every frame and in the sectors."""
    frames = {name: frame.rename(columns=names) for name, frame in data.frames().items()}
    sectors = data.sectors.rename(index=names)
    return MarketData(**frames, sectors=sectors, benchmark=data.benchmark, source="vendor")


def long_rows(data: MarketData, symbol: str) -> tuple[pd.DataFrame, int]:
    """The long rows with RENAMED called `symbol`, and the CSV file row of its first price."""
    long = data.to_long()
    long["date"] = long["date"].dt.strftime("%Y-%m-%d")
    long["symbol"] = long["symbol"].astype("object")
    first = int((long["symbol"] == RENAMED).to_numpy().argmax())
    long.loc[long["symbol"] == RENAMED, "symbol"] = symbol
    return long, first + 2


def folder_with(data: MarketData, folder: Path, symbol: str) -> int:
    """A CSV data folder with RENAMED called `symbol` (every cell quoted, as a spreadsheet exports
    such a text); returns the file row of its first price."""
    write_folder(data, folder)
    prices, row = long_rows(data, symbol)
    prices.to_csv(folder / "prices.csv", index=False, quoting=csv.QUOTE_ALL)
    return row


def named(symbol: str) -> str:
    """How a refusal names `symbol`: repr'd (an empty cell is reported as such)."""
    return repr(symbol) if symbol else "symbol is empty"


# --- symbols at import --------------------------------------------------------------------------


@pytest.mark.parametrize("symbol", HOSTILE.values(), ids=HOSTILE.keys())
def test_validate_prices_refuses_a_hostile_symbol_naming_it_and_its_row(data, symbol):
    prices, row = long_rows(data, symbol)

    with pytest.raises(DataError) as refused:
        validate_prices(prices, source="prices.csv")

    message = str(refused.value)
    assert named(symbol) in message and message.endswith(f"(prices.csv row {row})")
    assert "\n" not in message and "\r" not in message


@pytest.mark.parametrize("symbol", HOSTILE.values(), ids=HOSTILE.keys())
def test_the_folder_provider_refuses_a_hostile_symbol_naming_it_and_its_row(data, tmp_path, symbol):
    row = folder_with(data, tmp_path, symbol)

    with pytest.raises(DataError) as refused:
        read_folder(tmp_path)

    assert named(symbol) in str(refused.value)
    assert str(refused.value).endswith(f"(prices.csv row {row})")


@pytest.mark.parametrize("symbol", HOSTILE.values(), ids=HOSTILE.keys())
def test_validate_market_data_refuses_a_hostile_symbol_naming_it_and_the_source(data, symbol):
    with pytest.raises(DataError) as refused:
        validate_market_data(renamed(data, {RENAMED: symbol}))

    message = str(refused.value)
    assert message.startswith(f"symbol {symbol!r} is not allowed: use letters, digits")
    assert message.endswith("(vendor data)")


def test_a_hostile_symbol_in_the_sectors_is_refused_naming_the_sectors_row(data, tmp_path):
    write_folder(data, tmp_path)
    (tmp_path / "sectors.csv").write_text("symbol,sector\nS0,Tech\n@SUM(A1),Tech\n")
    with pytest.raises(DataError, match=r"'@SUM\(A1\)' is not allowed.*\(sectors.csv row 3\)$"):
        read_folder(tmp_path)

    sectors = pd.Series({"S0": "Tech", "=1+1": "Tech"})
    with pytest.raises(DataError, match=r"'=1\+1'.*\(sectors of vendor data\)$"):
        validate_market_data(MarketData(close=data.close, sectors=sectors, source="vendor"))


def test_a_long_symbol_is_shown_cut_so_the_message_stays_short(data):
    with pytest.raises(DataError) as refused:
        validate_market_data(renamed(data, {RENAMED: "X" * 10_000}))

    assert f"{'X' * 40!r}..." in str(refused.value) and len(str(refused.value)) < 200


@pytest.mark.parametrize("symbol", RESERVED)
def test_cash_in_any_case_is_reserved_for_the_cash_row(data, tmp_path, symbol):
    row = folder_with(data, tmp_path, symbol)
    reason = f"symbol {symbol!r} is reserved: CASH is the cash row of current_positions.csv"

    with pytest.raises(DataError) as refused:
        read_folder(tmp_path)

    assert str(refused.value) == f"{reason} (prices.csv row {row})"
    with pytest.raises(DataError, match=reason):
        validate_market_data(renamed(data, {RENAMED: symbol}))


def test_a_hand_written_positions_file_may_not_hold_a_cash_symbol_or_a_formula(tmp_path):
    path = tmp_path / "current_positions.csv"
    path.write_text("symbol,quantity\nAAA,10\ncash,5\nCASH,1000\n")
    with pytest.raises(DataError, match=r"row 3: symbol 'cash' is reserved"):
        load_positions(path, 1.0)

    path.write_text("symbol,quantity\n+1+1,10\nCASH,1000\n")
    with pytest.raises(DataError, match=r"row 2: symbol '\+1\+1' is not allowed"):
        load_positions(path, 1.0)


def test_legal_symbols_go_through_the_folder_the_store_and_the_ledger(data, tmp_path):
    legal = renamed(data, dict(zip(data.symbols[: len(LEGAL)], LEGAL, strict=True)))
    write_folder(legal, tmp_path / "folder")
    loaded = read_folder(tmp_path / "folder")
    assert set(LEGAL) <= set(loaded.symbols)

    store = MarketStore(tmp_path / "store")
    store.update(loaded)
    assert store.load().fingerprint() == loaded.fingerprint()

    ledger = Ledger(
        tmp_path / "live" / "ledger.sqlite",
        100_000.0,
        now=lambda: datetime(2024, 1, 2, 21, 30, tzinfo=UTC),
    )
    buys = [buy(symbol, shares=10.0 * (i + 1), price=10.0) for i, symbol in enumerate(LEGAL)]
    trades = pd.DataFrame(buys, columns=TRADE_COLUMNS)
    ledger.record_run(date(2024, 1, 2), trades, pd.Series(10.0, index=LEGAL), apply=True)

    exported = load_positions(ledger.positions_file, 1.0)
    assert exported.shares.to_dict() == {s: 10.0 * (i + 1) for i, s in enumerate(LEGAL)}
    assert ledger.positions_file.read_text() == positions_csv(ledger.positions())
    assert ledger.positions_file.read_text().startswith("symbol,quantity\nA_1,40.0\nBF/B,30.0\n")
    ledger.verify()


def buy(symbol: str, shares: float, price: float) -> dict:
    return {
        "symbol": symbol,
        "side": "BUY",
        "shares": shares,
        "price": price,
        "notional": shares * price,
        "current_weight": 0.0,
        "target_weight": 0.01,
        "weight_change": 0.01,
        "commission_est": 0.0,
        "slippage_est": 0.0,
        "reason": "new",
        "status": "proposed",
    }


# --- CSV cells ----------------------------------------------------------------------------------


@pytest.mark.parametrize("char", DANGEROUS, ids=repr)
def test_a_text_cell_starting_like_a_formula_is_neutralised_and_read_back_unchanged(char):
    frame = pd.DataFrame({"sector": [f"{char}1+1", "Tech"], "weight": [-0.05, 0.1]})

    text = to_csv(frame)

    rows = list(csv.reader(StringIO(text, newline="")))
    assert rows[1] == [f"'{char}1+1", "-0.05"]  # what a spreadsheet shows: text, and a number
    assert pd.read_csv(StringIO(text))["weight"].tolist() == [-0.05, 0.1]
    pd.testing.assert_frame_equal(read_csv(StringIO(text)), frame)


def test_numbers_and_safe_texts_are_written_as_before():
    frame = pd.DataFrame(
        {"symbol": ["AAA", "BRK-B"], "weight": [-0.05, 0.25], "shares": [-3, 4]},
        index=pd.Index(["x", "y"], name="key"),
    )

    assert to_csv(frame) == "symbol,weight,shares\nAAA,-0.05,-3\nBRK-B,0.25,4\n"
    assert to_csv(frame, index=True) == frame.to_csv(lineterminator="\n")


def test_the_index_is_neutralised_when_written():
    frame = pd.DataFrame({"weight": [0.5]}, index=pd.Index(["@evil"], name="model"))

    text = to_csv(frame, index=True)

    assert text == "model,weight\n'@evil,0.5\n"
    pd.testing.assert_frame_equal(read_csv(StringIO(text), index_col="model"), frame)


QUOTED = ["'=x", "''+1", "'plain", "'", "''", "it's", "=", "-", "'\t", "a\rb", "\r"]


def test_texts_that_already_start_with_a_quote_round_trip_too():
    """Quotes then a dangerous character: one more quote on write, one fewer on read; a quote
    followed by anything else is written as it is. (A CR in any text quotes every text.)"""
    frame = pd.DataFrame({"text": QUOTED, "n": range(len(QUOTED))})

    text = to_csv(frame)

    written = pd.read_csv(StringIO(text), keep_default_na=False)["text"].tolist()
    assert written[:4] == ["''=x", "'''+1", "'plain", "'"]
    pd.testing.assert_frame_equal(read_csv(StringIO(text), keep_default_na=False), frame)
