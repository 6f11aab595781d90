"""Incremental vendor updates into the store, against a Tiingo-format server on 127.0.0.1.

The server answers Tiingo's prices endpoint from a table of "true" raw bars and events, which a
test can change between updates (a new session, a late split correction), and records the windows
it was asked for, so the tests see what a real update asks and what the store then holds.
"""

from __future__ import annotations

import dataclasses
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from prefect_artifacts import table
from pydantic import SecretStr
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from trading_core.data.calendar import sessions_between
from trading_core.data.quality import QualityPolicy
from trading_core.data.source import DataSource
from trading_core.data.store import MarketStore
from trading_core.data.vendors.fetching import RetryPolicy
from trading_core.data.vendors.provider import VendorProvider
from trading_core.data.vendors.tiingo import TiingoVendor
from trading_core.errors import ConfigError, DataError

KEY = "0123456789abcdef0123456789abcdef01234567"
SYMBOLS = ("AAA", "BBB", "SPY", "BRK-B")
DAYS = sessions_between("2024-01-02", "2024-03-28")


@dataclass
class FakeTiingo:
    """Tiingo's daily prices endpoint over a table of true bars; `asked` logs (symbol, start)."""

    closes: dict[str, pd.Series]
    splits: dict[tuple[str, str], float] = field(default_factory=dict)
    dividends: dict[tuple[str, str], float] = field(default_factory=dict)
    last: pd.Timestamp = DAYS[40]
    failing: set[str] = field(default_factory=set)
    asked: list[tuple[str, str]] = field(default_factory=list)

    def handle(self, request: Request) -> Response:
        symbol = request.path.split("/")[3]
        start, end = request.args["startDate"], request.args["endDate"]
        self.asked.append((symbol, start))
        if symbol in self.failing:
            return Response("upstream error", status=502)
        series = self.closes[symbol].loc[start:end].loc[: self.last]
        rows = [
            {
                "date": f"{day:%Y-%m-%d}T00:00:00.000Z",
                "open": close,
                "high": close * 1.01,
                "low": close * 0.99,
                "close": close,
                "volume": 1_000_000,
                "adjClose": close,
                "adjHigh": close,
                "adjLow": close,
                "adjOpen": close,
                "adjVolume": 1_000_000,
                "divCash": self.dividends.get((symbol, f"{day:%Y-%m-%d}"), 0.0),
                "splitFactor": self.splits.get((symbol, f"{day:%Y-%m-%d}"), 1.0),
            }
            for day, close in series.items()
        ]
        return Response(json.dumps(rows), content_type="application/json")


@pytest.fixture
def tiingo(httpserver: HTTPServer) -> FakeTiingo:
    rng = np.random.default_rng(5)
    closes = {
        s: pd.Series(100 * np.exp(np.cumsum(rng.normal(0, 0.01, len(DAYS)))), index=DAYS)
        for s in SYMBOLS
    }
    closes["AAA"].loc[DAYS[30] :] /= 4  # traded price after a 4-for-1 split on DAYS[30]
    fake = FakeTiingo(closes, splits={("AAA", f"{DAYS[30]:%Y-%m-%d}"): 4.0})
    fake.dividends[("BBB", f"{DAYS[20]:%Y-%m-%d}")] = 0.5
    httpserver.expect_request(re.compile(r"/tiingo/daily/[\w-]+/prices")).respond_with_handler(
        fake.handle
    )
    return fake


def provider(server: HTTPServer) -> VendorProvider:
    vendor = TiingoVendor(api_key=SecretStr(KEY), base_url=server.url_for("").rstrip("/"))
    return VendorProvider(
        "tiingo",
        vendor=vendor,
        symbols=("AAA", "BBB"),
        benchmark="SPY",
        history_start=DAYS[0].date(),
        overlap_sessions=3,
        pause_seconds=0,
        retry=RetryPolicy(retries=1, delay_seconds=0.0),
    )


def update(store: MarketStore, server: HTTPServer, end: pd.Timestamp):
    fetched = provider(server).update(store.raw(), end=end, sleep=lambda _: None)
    source = DataSource.of(provider(server))
    return fetched, store.update(fetched.data, QualityPolicy(), source, raw=fetched.raw)


def files(root: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(root.glob("*"))}


def test_the_first_update_keeps_raw_prices_and_derives_adjusted_ones(httpserver, tiingo, tmp_path):
    store = MarketStore(tmp_path / "data")
    fetched, result = update(store, httpserver, tiingo.last)

    assert {start for _, start in tiingo.asked} == {f"{DAYS[0]:%Y-%m-%d}"}
    assert fetched.revised == []  # events new to the store are not revisions
    data = store.load()
    assert data.symbols == ["AAA", "BBB"] and data.benchmark is not None
    raw = store.raw().bars.set_index(["symbol", "date"])["close"]
    before_split = DAYS[29]
    # the adjusted close is continuous across the split: the raw one before it divided by 4
    assert data.close.at[before_split, "AAA"] == pytest.approx(raw[("AAA", before_split)] / 4)
    assert raw[("AAA", before_split)] == pytest.approx(tiingo.closes["AAA"][before_split])
    # a dividend scales the earlier closes by (1 - dividend / close before the ex-date)
    bbb = raw.loc["BBB"]
    factor = 1 - 0.5 / bbb[DAYS[19]]
    assert data.close.at[DAYS[5], "BBB"] == pytest.approx(bbb[DAYS[5]] * factor)
    assert data.close.at[DAYS[25], "BBB"] == pytest.approx(bbb[DAYS[25]])
    assert [a["symbol"] for a in result.quality.adjustments] == ["AAA", "BBB"]
    split_jump = [j for j in result.quality.jumps if j.symbol == "AAA"]
    assert split_jump == [] or split_jump[0].verdict.startswith("accepted")


def test_a_later_update_asks_only_for_new_sessions_and_a_few_before(httpserver, tiingo, tmp_path):
    store = MarketStore(tmp_path / "data")
    update(store, httpserver, tiingo.last)
    tiingo.asked.clear()
    tiingo.last = DAYS[45]

    _, result = update(store, httpserver, DAYS[45])

    assert {start for _, start in tiingo.asked} == {f"{DAYS[37]:%Y-%m-%d}"}  # 3 before DAYS[40]
    assert result.changed and not result.history_revised and result.rows_added == 10
    assert store.load().last_date == DAYS[45]
    again = update(store, httpserver, DAYS[45])[1]
    assert not again.changed  # idempotent


def test_a_late_split_correction_revises_history_explicitly(httpserver, tiingo, tmp_path):
    store = MarketStore(tmp_path / "data")
    update(store, httpserver, tiingo.last)
    before = store.load().close["BBB"].copy()
    day = DAYS[39]  # inside the overlap: the vendor corrects it
    tiingo.closes["BBB"].loc[day:] /= 2
    tiingo.splits[("BBB", f"{day:%Y-%m-%d}")] = 2.0

    fetched, result = update(store, httpserver, tiingo.last)

    assert fetched.revised == ["BBB"]
    assert result.history_revised
    after = store.load().close["BBB"]
    assert after[DAYS[10]] == pytest.approx(before[DAYS[10]] / 2)  # earlier history rescaled
    assert {"symbol": "BBB", "date": f"{day:%Y-%m-%d}", "split": 2.0} in result.quality.adjustments


def test_a_share_class_is_asked_for_in_the_vendors_spelling_and_stored_in_the_users(
    httpserver, tiingo, tmp_path
):
    asked = dataclasses.replace(provider(httpserver), symbols=("AAA", "BRK.B"))

    fetched = asked.update(None, end=tiingo.last, sleep=lambda _: None)

    assert ("BRK-B", f"{DAYS[0]:%Y-%m-%d}") in tiingo.asked
    assert fetched.data.symbols == ["AAA", "BRK.B"]


def test_a_symbol_that_keeps_failing_stops_the_update_and_leaves_the_store(
    httpserver, tiingo, tmp_path
):
    store = MarketStore(tmp_path / "data")
    update(store, httpserver, tiingo.last)
    before = files(tmp_path / "data")
    tiingo.failing.add("BBB")
    tiingo.last = DAYS[45]

    with pytest.raises(
        DataError, match=r"tiingo failed for 1 of 3 symbols .*BBB.*Nothing was written"
    ):
        update(store, httpserver, DAYS[45])

    assert files(tmp_path / "data") == before


@pytest.mark.slow
@pytest.mark.usefixtures("prefect_server")
def test_the_cli_updates_from_tiingo_with_the_key_from_the_environment(
    httpserver, tiingo, tmp_path, monkeypatch
):
    from typer.testing import CliRunner

    from app.cli import app

    tiingo.last = DAYS[50]
    sectors = tmp_path / "sectors.csv"
    sectors.write_text("symbol,sector\nAAA,Energy\nBBB,Utilities\n")
    config = tmp_path / "settings.yaml"
    settings = (
        "data:\n"
        "  vendor:\n    symbols: [AAA, BBB]\n    history_start: '2024-01-02'\n"
        "    pause_seconds: 0\n"
        f"    sectors: {sectors}\n"
        f"  tiingo:\n    base_url: {httpserver.url_for('').rstrip('/')}\n"
    )
    config.write_text(settings)
    monkeypatch.setenv("ALPHAPILOT__DATA__TIINGO__API_KEY", KEY)
    home = tmp_path / "home"

    def update():
        return CliRunner().invoke(
            app,
            [
                "data",
                "update",
                "--provider",
                "tiingo",
                "--home",
                str(home),
                "--config",
                str(config),
            ],
        )

    result = update()

    assert result.exit_code == 0, result.output
    assert "market data updated from tiingo: 2 symbols" in result.stdout
    assert "data quality: 2 symbols x" in result.stdout and "2 adjustment(s)" in result.stdout
    report = json.loads((home / "data" / "quality.json").read_text())
    assert {a["symbol"] for a in report["adjustments"]} == {"AAA", "BBB"}
    assert KEY not in result.output
    manifest = json.loads((home / "data" / "manifest.json").read_text())
    assert manifest["provider"] == {"name": "tiingo"} and "raw" in manifest["files"]
    stored = MarketStore(home / "data").load()
    assert stored.sectors.to_dict() == {"AAA": "Energy", "BBB": "Utilities"}

    # a bad tick refuses the next update; once the settings allow it, the same day's rerun takes
    # the vendor's answers from the cache and asks it nothing
    tiingo.closes["AAA"].loc[DAYS[55]] *= 50
    tiingo.last = DAYS[-1]
    refused = update()
    assert refused.exit_code != 0 and "close of AAA moves x" in refused.stderr
    asked = len(tiingo.asked)
    config.write_text(settings + "  max_daily_jump: 100\n")
    accepted = update()
    assert accepted.exit_code == 0, accepted.output
    assert len(tiingo.asked) == asked
    assert MarketStore(home / "data").load().last_date == DAYS[-1]
    # the quality table artifact lists the names with something to say: an event each
    rows = {row["symbol"]: row for row in table("data-quality")}
    assert {symbol: row["adjustments"] for symbol, row in rows.items()} == {"AAA": 1, "BBB": 1}


def test_a_vendor_without_symbols_is_a_one_line_settings_error(httpserver, tiingo):
    with pytest.raises(
        ConfigError, match="no symbols to fetch from tiingo: set data.vendor.symbols"
    ):
        dataclasses.replace(provider(httpserver), symbols=()).update(None, end=tiingo.last)
    assert tiingo.asked == []
