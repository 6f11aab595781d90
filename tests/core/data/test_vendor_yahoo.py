"""YahooVendor running the real yfinance client against recorded Yahoo answers on 127.0.0.1.

yfinance makes its usual requests (cookie, crumb, a timezone look-up, the v8 chart API); the
loopback session (tests/support/yahoo_loopback.py) sends them to pytest-httpserver, which answers
from tests/support/recorded/yahoo/. Scenarios go through `fetch_bars` where the loop's handling
matters: bars come back as traded (Yahoo's split adjustment undone), actions carry Yahoo's splits and
dividends, and each failure lands where the loop expects it.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pytest
from pytest_httpserver import HTTPServer
from yahoo_loopback import (
    RECORDED,
    TOO_MANY_REQUESTS,
    LoopbackSession,
    UnmappedHost,
    YahooLoopback,
    recorded,
)

from trading_core.data.vendors.base import (
    ACTION_FIELDS,
    BAR_FIELDS,
    MalformedResponse,
    SymbolNotFound,
    VendorError,
)
from trading_core.data.vendors.fetching import RetryPolicy, fetch_bars
from trading_core.data.vendors.yahoo import YahooVendor

ROOT = Path(__file__).resolve().parents[3]  # tests/core/data/ -> the repository
POLICY = RetryPolicy(retries=2, delay_seconds=1.0, max_delay_seconds=60.0)
MARCH = (date(2024, 3, 4), date(2024, 3, 8))
AUGUST = (date(2020, 8, 5), date(2020, 9, 2))
NEW_YORK = ZoneInfo("America/New_York")


def no_sleep(seconds: float) -> None:
    raise AssertionError(f"nothing should wait here (asked for {seconds}s)")


def recorded_bars(name: str) -> pd.DataFrame:
    """The bars of a recorded chart answer as Yahoo wrote them (split-adjusted), by session."""
    result = json.loads((RECORDED / name).read_text())["chart"]["result"][0]
    quote = result["indicators"]["quote"][0]
    sessions = [datetime.fromtimestamp(t, NEW_YORK).date() for t in result["timestamp"]]
    return pd.DataFrame(
        {field: quote[field] for field in BAR_FIELDS},
        index=pd.DatetimeIndex(sessions, name="date").as_unit("ns"),
        dtype="float64",
    )


def actions(rows: dict[str, tuple[float, float]]) -> pd.DataFrame:
    return pd.DataFrame(
        list(rows.values()),
        index=pd.DatetimeIndex(list(rows), name="date").as_unit("ns"),
        columns=list(ACTION_FIELDS),
        dtype="float64",
    )


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("yfinance-cache")


@pytest.fixture
def yahoo(httpserver_ipv4: HTTPServer):
    loopback = YahooLoopback(httpserver_ipv4)
    yield loopback
    assert not loopback.strays, f"chart requests without a recorded answer: {loopback.strays}"
    httpserver_ipv4.check_assertions()  # every request met a handler


@pytest.fixture
def vendor(yahoo: YahooLoopback, cache_dir: Path) -> YahooVendor:
    return YahooVendor(cache_dir, timeout_seconds=2.0, session=yahoo.session())


def test_a_normal_window_for_two_symbols_keeps_yahoos_numbers(yahoo, vendor):
    yahoo.answer("AAPL", recorded("AAPL_2024-03-04_2024-03-08.json"))
    yahoo.answer("MSFT", recorded("MSFT_2024-03-04_2024-03-08.json"))

    result = fetch_bars(
        vendor, {"AAPL": MARCH[0], "MSFT": MARCH[0]}, MARCH[1], POLICY, sleep=no_sleep
    )

    assert (result.failed, result.vanished, result.rate_limited) == ({}, [], 0)
    for symbol in ("AAPL", "MSFT"):
        history = result.histories[symbol]
        expected = recorded_bars(f"{symbol}_2024-03-04_2024-03-08.json")
        pd.testing.assert_frame_equal(history.bars, expected)
        assert history.actions.empty and list(history.actions.columns) == list(ACTION_FIELDS)
    assert result.histories["MSFT"].bars.loc["2024-03-08", "close"] == pytest.approx(406.22)
    (query,) = yahoo.history_requests("MSFT")
    start = datetime(2024, 3, 4, tzinfo=NEW_YORK).timestamp()
    assert (int(query["period1"]), query["interval"]) == (start, "1d")
    assert "splits" in query["events"] and "div" in query["events"]
    assert int(query["period2"]) > datetime(2025, 1, 1).timestamp()  # runs to now, not to `end`


def test_a_rate_limit_is_retried_once_after_the_policy_delay(yahoo, vendor):
    yahoo.answer("MSFT", TOO_MANY_REQUESTS, recorded("MSFT_2024-02-12_2024-02-16.json"))
    waits: list[float] = []

    result = fetch_bars(
        vendor, {"MSFT": date(2024, 2, 12)}, date(2024, 2, 16), POLICY, sleep=waits.append
    )

    assert waits == [POLICY.delay(1)] == [1.0]
    assert (result.rate_limited, result.failed, result.vanished) == (1, {}, [])
    history = result.histories["MSFT"]
    pd.testing.assert_frame_equal(history.bars, recorded_bars("MSFT_2024-02-12_2024-02-16.json"))
    pd.testing.assert_frame_equal(history.actions, actions({"2024-02-14": (1.0, 0.75)}))


def test_a_symbol_answering_500_fails_alone_and_the_others_are_fetched(yahoo, vendor):
    yahoo.answer("AAPL", recorded("AAPL_2024-03-04_2024-03-08.json"))
    yahoo.answer("PEP", recorded("internal_server_error.json", status=500))
    yahoo.answer("MSFT", recorded("MSFT_2024-03-04_2024-03-08.json"))
    waits: list[float] = []

    result = fetch_bars(
        vendor,
        dict.fromkeys(("AAPL", "PEP", "MSFT"), MARCH[0]),
        MARCH[1],
        POLICY,
        sleep=waits.append,
    )

    assert sorted(result.histories) == ["AAPL", "MSFT"]
    assert result.failed == {"PEP": "VendorError: Yahoo: HTTP 500 for PEP 2024-03-04..2024-03-08"}
    assert result.vanished == [] and result.rate_limited == 0
    assert waits == [1.0, 2.0]  # two retries, then PEP is given up
    assert len([s for s, _ in yahoo.chart_requests if s == "PEP"]) == 3


def test_a_4_for_1_split_gives_the_prices_as_traded_and_the_events(yahoo, vendor):
    yahoo.answer("AAPL", recorded("AAPL_2020-08-05_2020-09-02.json"))

    history = vendor.history("AAPL", *AUGUST)

    adjusted = recorded_bars("AAPL_2020-08-05_2020-09-02.json")
    before = adjusted.index < "2020-08-31"
    assert len(history.bars) == len(adjusted) == 21
    prices = ["open", "high", "low", "close"]
    np.testing.assert_array_equal(
        history.bars.loc[before, prices], 4 * adjusted.loc[before, prices]
    )
    np.testing.assert_array_equal(
        history.bars.loc[before, "volume"], adjusted.loc[before, "volume"] / 4
    )
    pd.testing.assert_frame_equal(history.bars[~before], adjusted[~before])
    # Tiingo's raw close for the session before the split, from another vendor's recording
    assert history.bars.loc["2020-08-28", "close"] == pytest.approx(499.23, rel=1e-6)
    # Yahoo shows the $0.82 dividend as 0.205 per post-split share; as traded it is 0.82
    expected = actions({"2020-08-07": (1.0, 0.82), "2020-08-31": (4.0, 0.0)})
    pd.testing.assert_frame_equal(history.actions, expected)


def test_a_window_ending_before_a_later_split_is_still_as_traded(yahoo, vendor):
    yahoo.answer("AAPL", recorded("AAPL_2020-08-05_2020-09-02.json"))

    history = vendor.history("AAPL", date(2020, 8, 5), date(2020, 8, 11))

    adjusted = recorded_bars("AAPL_2020-08-05_2020-09-02.json").loc[:"2020-08-11"]
    assert list(history.bars.index.strftime("%m-%d")) == [
        "08-05",
        "08-06",
        "08-07",
        "08-10",
        "08-11",
    ]
    np.testing.assert_array_equal(history.bars["close"], 4 * adjusted["close"])
    assert history.bars.loc["2020-08-07", "close"] == pytest.approx(444.44, rel=1e-6)
    pd.testing.assert_frame_equal(history.actions, actions({"2020-08-07": (1.0, 0.82)}))


def test_a_vanished_symbol_is_reported_as_such(yahoo, vendor):
    yahoo.answer("FRC", recorded("not_found.json", status=404))

    result = fetch_bars(vendor, {"FRC": MARCH[0]}, MARCH[1], POLICY, sleep=no_sleep)

    assert (result.vanished, result.failed, result.histories) == (["FRC"], {}, {})
    with pytest.raises(SymbolNotFound, match="Yahoo does not know FRC"):
        vendor.history("FRC", *MARCH)


def test_a_malformed_answer_stops_the_whole_fetch_naming_the_symbol(yahoo, vendor):
    yahoo.answer("AAPL", recorded("AAPL_2024-03-04_2024-03-08.json"))
    yahoo.answer("IBM", recorded("IBM_2024-03-04_2024-03-08_missing_close.json"))

    with pytest.raises(
        MalformedResponse, match=r"Yahoo answer for IBM is not its chart format"
    ) as caught:
        fetch_bars(vendor, {"AAPL": MARCH[0], "IBM": MARCH[0]}, MARCH[1], POLICY, sleep=no_sleep)

    assert "\n" not in str(caught.value) and "close" in str(caught.value)


def test_a_window_without_sessions_is_empty_not_an_error(yahoo, vendor):
    yahoo.answer("MSFT", recorded("MSFT_2024-03-29_no_sessions.json"))  # Good Friday

    history = vendor.history("MSFT", date(2024, 3, 29), date(2024, 3, 29))

    assert history.bars.empty and list(history.bars.columns) == list(BAR_FIELDS)
    assert history.actions.empty
    assert len(yahoo.history_requests("MSFT")) == 1


def test_yahoos_data_does_not_exist_answer_is_an_empty_window(yahoo, vendor):
    yahoo.answer(
        "MSFT",
        recorded("data_does_not_exist.json", status=400),
        timezone=recorded("MSFT_2024-03-29_no_sessions.json"),
    )

    history = vendor.history("MSFT", date(2024, 3, 29), date(2024, 3, 29))

    assert history.bars.empty and history.actions.empty
    assert yahoo.history_requests("MSFT")  # the 400 came from the window's request


def test_a_network_failure_is_a_vendor_error_naming_the_symbol(cache_dir):
    with socket.socket() as probe:  # a loopback port nobody listens on
        probe.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{probe.getsockname()[1]}"
    vendor = YahooVendor(cache_dir, timeout_seconds=2.0, session=LoopbackSession(closed))

    with pytest.raises(VendorError, match=r"Yahoo: .*for XOM 2024-03-04\.\.2024-03-08"):
        vendor.history("XOM", *MARCH)


def test_the_loopback_session_refuses_hosts_other_than_yahoos(yahoo):
    with pytest.raises(UnmappedHost, match="example.com"):
        yahoo.session().get("https://example.com/")


def test_yfinances_caches_live_in_the_given_folder_not_in_the_home(tmp_path):
    """In a fresh process, as a run starts: yfinance opens its caches once per process."""
    home, cache = tmp_path / "home", tmp_path / "run" / "yfinance"
    home.mkdir()
    script = (
        "import sys; from pathlib import Path; import yfinance as yf; "
        "from trading_core.data.vendors.yahoo import YahooVendor; "
        "YahooVendor(Path(sys.argv[1])); "
        "yf.cache.get_tz_cache().store('AAPL', 'America/New_York'); "
        "yf.cache.get_cookie_cache().store('curlCffi', None)"
    )
    env = {k: v for k, v in os.environ.items() if k != "XDG_CACHE_HOME"} | {"HOME": str(home)}
    subprocess.run(
        [sys.executable, "-c", script, str(cache)], env=env, cwd=ROOT, check=True, timeout=60
    )

    assert {"tkr-tz.db", "cookies.db"} <= {p.name for p in cache.iterdir()}
    assert not any(home.iterdir())
