"""TiingoVendor against recorded Tiingo answers on 127.0.0.1 (tests/support/recorded/tiingo/).

Each scenario goes through `fetch_bars` where the loop's handling matters (retries, vanished,
failed, stops): bars keep Tiingo's raw numbers, actions carry its splitFactor and divCash, and the
key travels only in the Authorization header, never in a URL, a log record or an error message.
"""

from __future__ import annotations

import json
import logging
import socket
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from pydantic import SecretStr
from pytest_httpserver import HTTPServer

from trading_core.data.vendors.base import (
    ACTION_FIELDS,
    BAR_FIELDS,
    MalformedResponse,
    SymbolNotFound,
    VendorError,
)
from trading_core.data.vendors.fetching import RetryPolicy, fetch_bars
from trading_core.data.vendors.tiingo import TiingoVendor, parse_prices
from trading_core.errors import ConfigError

RECORDED = Path(__file__).resolve().parents[2] / "support" / "recorded" / "tiingo"
KEY = "9f3c1e7a5b2d4c6e8a0b1c2d3e4f5a6b7c8d9e0f"  # shaped like a Tiingo token; never a real one
POLICY = RetryPolicy(retries=2, delay_seconds=1.0, max_delay_seconds=60.0)
MARCH = (date(2024, 3, 4), date(2024, 3, 8))


def recorded(name: str) -> str:
    return (RECORDED / name).read_text()


def serve(
    server: HTTPServer,
    symbol: str,
    start: date,
    end: date,
    body: str,
    status: int = 200,
    headers: dict[str, str] | None = None,
    once: bool = False,
) -> None:
    """Answer Tiingo's prices request for `symbol` over [start, end] with `body`."""
    expect = server.expect_oneshot_request if once else server.expect_request
    expect(
        f"/tiingo/daily/{symbol}/prices",
        method="GET",
        query_string={
            "startDate": start.isoformat(),
            "endDate": end.isoformat(),
            "format": "json",
            "resampleFreq": "daily",
        },
    ).respond_with_data(
        body, status=status, headers=headers, content_type="application/json; charset=utf-8"
    )


def no_sleep(seconds: float) -> None:
    raise AssertionError(f"nothing should wait here (asked for {seconds}s)")


@pytest.fixture
def server(httpserver_ipv4: HTTPServer) -> HTTPServer:
    return httpserver_ipv4


@pytest.fixture
def vendor(server: HTTPServer) -> TiingoVendor:
    return TiingoVendor(
        api_key=SecretStr(KEY), base_url=server.url_for("/").rstrip("/"), timeout_seconds=5
    )


def assert_equals_recorded(bars: pd.DataFrame, name: str) -> None:
    """`bars` hold exactly the raw numbers of the recorded file, on its session dates."""
    rows = json.loads(recorded(name))
    expected = pd.DataFrame(
        [[row[f] for f in BAR_FIELDS] for row in rows],
        index=pd.DatetimeIndex([row["date"][:10] for row in rows], name="date"),
        columns=list(BAR_FIELDS),
        dtype="float64",
    )
    pd.testing.assert_frame_equal(bars, expected)


def test_a_normal_window_for_two_symbols_keeps_tiingos_numbers_and_hides_the_key(
    server, vendor, caplog
):
    caplog.set_level(logging.DEBUG)
    serve(server, "AAPL", *MARCH, recorded("AAPL_2024-03-04_2024-03-08.json"))
    serve(server, "MSFT", *MARCH, recorded("MSFT_2024-03-04_2024-03-08.json"))

    result = fetch_bars(
        vendor, {"AAPL": MARCH[0], "MSFT": MARCH[0]}, MARCH[1], POLICY, sleep=no_sleep
    )

    assert (result.failed, result.vanished, result.rate_limited) == ({}, [], 0)
    assert_equals_recorded(result.histories["AAPL"].bars, "AAPL_2024-03-04_2024-03-08.json")
    assert_equals_recorded(result.histories["MSFT"].bars, "MSFT_2024-03-04_2024-03-08.json")
    assert result.histories["MSFT"].bars.loc["2024-03-08", "close"] == 406.22
    assert result.histories["AAPL"].bars.index.tz is None
    for history in result.histories.values():
        assert history.actions.empty and list(history.actions.columns) == list(ACTION_FIELDS)
    requests = [request for request, _ in server.log]
    assert len(requests) == 2
    assert all(r.headers["Authorization"] == f"Token {KEY}" for r in requests)
    assert not any(KEY in r.url for r in requests)
    assert caplog.records and KEY not in caplog.text
    assert KEY not in repr(vendor) and KEY not in str(vendor)


def test_a_rate_limit_is_waited_out_as_long_as_retry_after_says(server, vendor, caplog):
    caplog.set_level(logging.DEBUG)
    body = recorded("AAPL_2024-03-04_2024-03-08.json")
    serve(server, "AAPL", *MARCH, recorded("rate_limited.json"), 429, {"Retry-After": "7"}, True)
    serve(server, "AAPL", *MARCH, body)
    waits: list[float] = []

    result = fetch_bars(vendor, {"AAPL": MARCH[0]}, MARCH[1], POLICY, sleep=waits.append)

    assert waits == [7.0]  # longer than the policy's first delay (1 s): the vendor's word wins
    assert result.rate_limited == 1 and result.failed == {}
    assert_equals_recorded(result.histories["AAPL"].bars, "AAPL_2024-03-04_2024-03-08.json")
    assert "rate limit for AAPL" in caplog.text and KEY not in caplog.text


def test_a_symbol_the_server_keeps_failing_is_named_and_the_others_are_fetched(server, vendor):
    serve(server, "AAPL", *MARCH, '{"detail": "Internal Server Error"}', 500)
    serve(server, "MSFT", *MARCH, recorded("MSFT_2024-03-04_2024-03-08.json"))
    waits: list[float] = []

    result = fetch_bars(
        vendor, {"AAPL": MARCH[0], "MSFT": MARCH[0]}, MARCH[1], POLICY, sleep=waits.append
    )

    assert list(result.histories) == ["MSFT"]
    assert "HTTP 500" in result.failed["AAPL"] and "AAPL" in result.failed["AAPL"]
    assert waits == [1.0, 2.0]  # two retries with backoff, then given up
    assert sum("/AAPL/" in r.path for r, _ in server.log) == POLICY.retries + 1


def test_a_split_keeps_the_raw_prices_and_is_reported_as_an_action(server, vendor):
    start, end = date(2020, 8, 26), date(2020, 9, 2)
    serve(server, "AAPL", start, end, recorded("AAPL_2020-08-26_2020-09-02.json"))

    history = vendor.history("AAPL", start, end)

    assert_equals_recorded(history.bars, "AAPL_2020-08-26_2020-09-02.json")
    assert history.bars["close"].tolist() == [506.09, 500.04, 499.23, 129.04, 134.18, 131.40]
    expected = pd.DataFrame(
        {"split": [4.0], "dividend": [0.0]}, index=pd.DatetimeIndex(["2020-08-31"], name="date")
    )
    pd.testing.assert_frame_equal(history.actions, expected)


def test_a_dividend_is_reported_on_its_ex_date(server, vendor):
    start, end = date(2024, 2, 12), date(2024, 2, 16)
    serve(server, "MSFT", start, end, recorded("MSFT_2024-02-12_2024-02-16.json"))

    history = vendor.history("MSFT", start, end)

    expected = pd.DataFrame(
        {"split": [1.0], "dividend": [0.75]}, index=pd.DatetimeIndex(["2024-02-14"], name="date")
    )
    pd.testing.assert_frame_equal(history.actions, expected)
    assert history.bars.loc["2024-02-13", "close"] == 406.32  # not adjusted for the dividend


def test_a_ticker_tiingo_does_not_know_is_reported_vanished_without_retries(server, vendor):
    serve(server, "XYZQ", *MARCH, recorded("not_found.json"), 404)
    serve(server, "MSFT", *MARCH, recorded("MSFT_2024-03-04_2024-03-08.json"))

    result = fetch_bars(
        vendor, {"XYZQ": MARCH[0], "MSFT": MARCH[0]}, MARCH[1], POLICY, sleep=no_sleep
    )

    assert result.vanished == ["XYZQ"] and list(result.histories) == ["MSFT"]
    with pytest.raises(SymbolNotFound, match="XYZQ"):
        vendor.history("XYZQ", *MARCH)


def test_a_404_that_is_not_tiingos_ticker_answer_is_a_failure_not_a_delisting(server, vendor):
    server.expect_request("/tiingo/daily/AAPL/prices").respond_with_data(
        "<html><body>Not Found</body></html>", status=404, content_type="text/html"
    )

    with pytest.raises(VendorError, match="base_url") as raised:
        vendor.history("AAPL", *MARCH)
    assert not isinstance(raised.value, SymbolNotFound)


def test_a_malformed_answer_stops_the_fetch_naming_symbol_and_date(server, vendor):
    serve(server, "AAPL", *MARCH, recorded("malformed_missing_close.json"))
    serve(server, "MSFT", *MARCH, recorded("MSFT_2024-03-04_2024-03-08.json"))

    with pytest.raises(MalformedResponse, match="no close for AAPL on 2024-03-05"):
        fetch_bars(vendor, {"AAPL": MARCH[0], "MSFT": MARCH[0]}, MARCH[1], POLICY, sleep=no_sleep)
    assert len(server.log) == 1  # nothing more was asked once the vendor stopped making sense


def one_day(drop: str = "", **changes: object) -> bytes:
    """A body of the recorded AAPL 2024-03-04 row with `changes` (None is null), `drop` removed."""
    row = json.loads(recorded("AAPL_2024-03-04_2024-03-08.json"))[0] | changes
    row.pop(drop, None)
    return json.dumps([row]).encode()


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"<html>upstream error</html>", "AAPL is not JSON"),
        (b'{"detail": "Error: something went wrong"}', "AAPL is not a list of days"),
        (one_day(close="175.10"), "close for AAPL on 2024-03-04 is not a number: '175.10'"),
        (one_day(drop="close"), "no close for AAPL on 2024-03-04"),
        (one_day(close=None), "close for AAPL on 2024-03-04 is not a number: None"),
        (one_day(volume=True), "volume for AAPL on 2024-03-04 is not a number"),
        (one_day(splitFactor=0.0), "splitFactor for AAPL on 2024-03-04 is not positive"),
        (one_day(drop="date"), "AAPL has a row without a date"),
        (one_day(date="last tuesday"), "'last tuesday' for AAPL is not a date"),
    ],
)
def test_an_answer_off_the_documented_format_is_malformed(body, message):
    with pytest.raises(MalformedResponse, match=message):
        parse_prices("AAPL", body)


def test_a_null_volume_is_absent_not_malformed():
    bars = parse_prices("AAPL", one_day(volume=None)).bars

    assert bars["volume"].isna().all() and bars["close"].tolist() == [175.10]


def test_a_window_without_sessions_gives_empty_bars(server, vendor):
    serve(server, "AAPL", date(2024, 3, 9), date(2024, 3, 10), "[]")

    history = vendor.history("AAPL", date(2024, 3, 9), date(2024, 3, 10))

    assert history.bars.empty and list(history.bars.columns) == list(BAR_FIELDS)
    assert history.actions.empty


def test_a_rejected_key_stops_the_whole_fetch_and_says_where_the_key_is_set(server, vendor, caplog):
    caplog.set_level(logging.DEBUG)
    serve(server, "AAPL", *MARCH, recorded("invalid_token.json"), 401)
    serve(server, "MSFT", *MARCH, recorded("MSFT_2024-03-04_2024-03-08.json"))

    with pytest.raises(ConfigError, match="ALPHAPILOT__DATA__TIINGO__API_KEY") as raised:
        fetch_bars(vendor, {"AAPL": MARCH[0], "MSFT": MARCH[0]}, MARCH[1], POLICY, sleep=no_sleep)

    assert "Invalid token" in str(raised.value) and KEY not in str(raised.value)
    assert len(server.log) == 1 and KEY not in caplog.text


@pytest.mark.parametrize("key", [None, SecretStr(""), SecretStr("   ")])
def test_a_missing_key_is_refused_before_any_request(server, key):
    vendor = TiingoVendor(api_key=key, base_url=server.url_for("/").rstrip("/"))

    with pytest.raises(ConfigError, match="key is missing"):
        vendor.history("AAPL", *MARCH)
    assert server.log == []


def test_a_vendor_echoing_the_key_has_it_redacted_from_the_error(server, vendor):
    serve(server, "AAPL", *MARCH, json.dumps({"detail": f"Token {KEY} is over quota"}), 403)

    with pytest.raises(ConfigError) as raised:
        vendor.history("AAPL", *MARCH)
    assert KEY not in str(raised.value) and "over quota" in str(raised.value)


def test_an_unreachable_server_is_a_vendor_error_naming_the_symbol():
    with socket.socket() as probe:  # a loopback port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    vendor = TiingoVendor(api_key=SecretStr(KEY), base_url=f"http://127.0.0.1:{port}")

    with pytest.raises(VendorError, match="ConnectError.*AAPL 2024-03-04..2024-03-08"):
        vendor.history("AAPL", *MARCH)


def test_the_key_is_not_part_of_equality_or_repr():
    one = TiingoVendor(api_key=SecretStr(KEY))
    other = TiingoVendor(api_key=SecretStr("another-token"))

    assert one == other and KEY not in repr(one) and one.name == "tiingo"
