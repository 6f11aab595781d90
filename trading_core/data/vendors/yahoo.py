"""Yahoo Finance through the yfinance client as a `Vendor`: daily bars as traded plus splits and
dividends.

One call per symbol: `yfinance.Ticker(symbol, session=...).history(start=..., interval="1d",
auto_adjust=False, actions=True)`, which asks Yahoo's v8 chart API (after its cookie and crumb
requests, and a one-session chart request for the exchange timezone the first time a symbol is
seen). yfinance is told to raise its errors (`yf.config.debug.hide_exceptions = False`, the
documented successor of the deprecated `raise_errors=True`) for the length of the call.

Yahoo's open/high/low/close and volume are adjusted for every split up to the day they are asked
for ("Close price adjusted for splits", says its own history page; dividends go only into `Adj
Close`, not used here), and so are its dividend amounts (AAPL's $3.29 of 2014-05-08 shows as
0.47 after the 7-for-1 split); yfinance with auto_adjust=False and repair=False passes them on. `history` turns them back into the numbers as traded: a session's prices are
multiplied, and its volume divided, by the product of the ratios of the splits whose ex-date is
after it; a dividend is multiplied by the same product for its ex-date. So that every split Yahoo
applied is in the same answer, the request runs from `start` to now, not to `end`, and the
answer is cut to [start, end] afterwards: a window in the past costs a longer answer, never a
wrong price.

Failures map onto base's errors (the session below turns HTTP failures into exceptions before
yfinance reads them as data):
- 429 anywhere, or yfinance's YFRateLimitError -> RateLimited;
- 404 from the chart API, YFTzMissingError (no timezone for the symbol) or Yahoo's "No data
  found, symbol may be delisted" -> SymbolNotFound;
- 5xx, a timeout or another network failure, or another Yahoo error message -> VendorError;
- an answer that is not Yahoo's chart format (not JSON, missing keys, no result) ->
  MalformedResponse, naming the symbol;
- no session in the window (Yahoo's result without timestamps, or its 400 "Data doesn't exist
  for startDate") -> empty bars, not an error.

yfinance keeps process-wide state: one shared session with its cookie and crumb, an in-memory
cache of timezone look-ups, and an on-disk cache of symbol timezones and the cookie, which
`cache_dir` moves out of ~/.cache. yfinance opens that cache on first use and keeps it, so the
first vendor to fetch in a process decides where it lives (a run is one process).
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yfinance as yf
from curl_cffi import requests as curl_requests
from curl_cffi.requests.exceptions import HTTPError, RequestException
from yfinance.exceptions import (
    YFException,
    YFPricesMissingError,
    YFRateLimitError,
    YFTzMissingError,
)

from trading_core.data.vendors.base import (
    ACTION_FIELDS,
    BAR_FIELDS,
    MalformedResponse,
    RateLimited,
    SymbolHistory,
    SymbolNotFound,
    VendorError,
    share_class_ticker,
)

CHART_PATH = "/v8/finance/chart/"
YAHOO_PRICES = {"Open": "open", "High": "high", "Low": "low", "Close": "close"}
NO_SESSIONS = "Data doesn't exist for startDate"  # Yahoo's 400 for a window without bars
UNKNOWN_SYMBOL = ("No data found", "delisted")  # Yahoo's 404 text for a symbol it does not know
DETAIL_CHARS = 200  # how much of an error's text a message quotes


class YahooSession(curl_requests.Session):
    """A curl_cffi session like yfinance's own (it impersonates Chrome, which Yahoo expects) that
    waits at most `timeout` seconds on any request (yfinance's fixed 10 and 30 s waits for the
    timezone, cookie and crumb included) and raises curl_cffi's HTTPError for the answers
    yfinance would otherwise read as data or as "possibly delisted": 429 and 5xx from any Yahoo
    host, and 404 from the chart API (Yahoo's answer for a symbol it does not know)."""

    def __init__(self, timeout: float = 30.0, **kwargs: Any) -> None:
        kwargs.setdefault("impersonate", "chrome")
        super().__init__(timeout=timeout, **kwargs)

    def request(self, method: Any, url: str, *args: Any, **kwargs: Any) -> Any:
        asked = kwargs.get("timeout")
        kwargs["timeout"] = (
            min(asked, self.timeout) if isinstance(asked, int | float) else self.timeout
        )
        response = super().request(method, url, *args, **kwargs)
        status = response.status_code
        if status == 429 or status >= 500 or (status == 404 and CHART_PATH in url):
            raise HTTPError(f"HTTP Error {status}: {response.reason}", 0, response)
        return response


@dataclass(frozen=True)
class YahooVendor:
    """Yahoo daily history for one symbol at a time (`history`) through yfinance.

    `cache_dir`: where yfinance keeps its timezone and cookie cache (a per-run folder under the
    home; created if missing). `timeout_seconds`: the longest wait for any one request.
    `session`: the transport (a YahooSession; by default a new one with `timeout_seconds`).
    """

    cache_dir: Path
    timeout_seconds: float = 30.0
    session: YahooSession | None = field(default=None, compare=False, repr=False)
    name: str = field(default="yfinance", init=False)

    def __post_init__(self) -> None:
        Path(self.cache_dir).mkdir(parents=True, exist_ok=True)
        yf.set_tz_cache_location(str(self.cache_dir))
        if self.session is None:
            object.__setattr__(self, "session", YahooSession(timeout=self.timeout_seconds))

    def history(self, symbol: str, start: date, end: date) -> SymbolHistory:
        """Sessions of `symbol` from `start` to `end` inclusive, bars as traded plus actions."""
        window = f"{symbol} {start.isoformat()}..{end.isoformat()}"
        ticker = yf.Ticker(share_class_ticker(symbol), session=self.session)
        try:
            with _errors_raised():
                frame = ticker.history(
                    start=start,
                    interval="1d",
                    auto_adjust=False,
                    back_adjust=False,
                    repair=False,
                    actions=True,
                    timeout=self.timeout_seconds,
                )
        except YFPricesMissingError as exc:
            if _no_sessions(ticker, exc):
                return SymbolHistory(symbol, _empty_bars())
            raise _vendor_error(exc, symbol, window) from exc
        except (YFException, RequestException, ValueError, LookupError, TypeError) as exc:
            raise _vendor_error(exc, symbol, window) from exc
        return as_traded(symbol, frame, start, end)


@contextmanager
def _errors_raised() -> Iterator[None]:
    """yfinance logs most failures and carries on (an empty frame, or a timezone lookup that
    ends as "possibly delisted") unless its config says to raise them. Its own deprecation
    warnings (pandas calls pandas 3 deprecates) say nothing about the data and are muted."""
    hidden = yf.config.debug.hide_exceptions
    yf.config.debug.hide_exceptions = False
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"yfinance\.")
            yield
    finally:
        yf.config.debug.hide_exceptions = hidden


def _no_sessions(ticker: yf.Ticker, exc: YFPricesMissingError) -> bool:
    """Whether Yahoo answered that no session falls in the window (rather than failing): its 400
    "Data doesn't exist for startDate", or a chart result with metadata but no timestamps."""
    if exc.yahoo_reason is not None:
        return exc.yahoo_reason.startswith(NO_SESSIONS)
    try:
        return "exchangeTimezoneName" in ticker.history_metadata
    except (LookupError, TypeError, ValueError):
        return False


def _vendor_error(exc: Exception, symbol: str, window: str) -> Exception:
    """The base error a yfinance or transport failure stands for."""
    said = _detail(exc)
    if isinstance(exc, YFRateLimitError):
        return RateLimited(f"Yahoo rate limit for {window}")
    if isinstance(exc, HTTPError) and exc.response is not None:
        status = exc.response.status_code
        if status == 429:
            return RateLimited(f"Yahoo rate limit for {window} (HTTP 429)")
        if status == 404:
            return SymbolNotFound(f"Yahoo does not know {symbol} (HTTP 404)")
        return VendorError(f"Yahoo: HTTP {status} for {window}")
    if isinstance(exc, RequestException):
        return VendorError(f"Yahoo: {said} for {window}")
    if isinstance(exc, YFTzMissingError):
        return SymbolNotFound(f"Yahoo does not know {symbol} ({said})")
    if isinstance(exc, YFPricesMissingError) and exc.yahoo_reason is not None:
        if any(text in exc.yahoo_reason for text in UNKNOWN_SYMBOL):
            return SymbolNotFound(f"Yahoo does not know {symbol} ({said})")
        return VendorError(f"Yahoo: {said} for {window}")
    if isinstance(exc, YFPricesMissingError):
        return MalformedResponse(f"Yahoo answer for {symbol} is not its chart format: no result")
    if isinstance(exc, YFException):
        return VendorError(f"Yahoo: {said} for {window}")
    return MalformedResponse(f"Yahoo answer for {symbol} is not its chart format: {said}")


def _detail(exc: Exception) -> str:
    """The exception's type and text on one line, cut short."""
    text = " ".join(f"{type(exc).__name__}: {exc}".split())
    return text if len(text) <= DETAIL_CHARS else text[:DETAIL_CHARS] + "..."


def as_traded(symbol: str, frame: pd.DataFrame, start: date, end: date) -> SymbolHistory:
    """A SymbolHistory from yfinance's daily frame (Open..Volume, Dividends, Stock Splits; index
    at midnight exchange time), converted to the numbers as traded and cut to [start, end]."""
    index = pd.DatetimeIndex(frame.index)
    if index.tz is not None:
        index = index.tz_localize(None)
    days = index.normalize().as_unit("ns").to_numpy()
    splits = frame["Stock Splits"].to_numpy("float64")
    splits = np.where(splits == 0.0, 1.0, splits)
    dividends = frame["Dividends"].to_numpy("float64")
    bad = ~np.isfinite(splits) | (splits <= 0) | ~np.isfinite(dividends) | (dividends < 0)
    if bad.any():
        day = pd.Timestamp(days[np.flatnonzero(bad)[0]]).date().isoformat()
        raise MalformedResponse(f"Yahoo split or dividend for {symbol} on {day} is not valid")
    factor = later_splits(days, splits)
    traded = {
        name: frame[column].to_numpy("float64") * factor for column, name in YAHOO_PRICES.items()
    }
    traded["volume"] = frame["Volume"].to_numpy("float64") / factor
    inside = (days >= np.datetime64(start)) & (days <= np.datetime64(end))
    sessions = inside & ~np.isnan(traded["close"])  # a row with only an event is no session
    bars = pd.DataFrame(
        {name: values[sessions] for name, values in traded.items()},
        index=pd.DatetimeIndex(days[sessions], name="date"),
        columns=list(BAR_FIELDS),
    )
    acted = inside & ((splits != 1.0) | (dividends != 0.0))
    actions = pd.DataFrame(
        {"split": splits[acted], "dividend": dividends[acted] * factor[acted]},
        index=pd.DatetimeIndex(days[acted], name="date"),
        columns=list(ACTION_FIELDS),
    )
    return SymbolHistory(symbol, bars, actions)


def later_splits(days: np.ndarray, splits: np.ndarray) -> np.ndarray:
    """For each of `days`, the product of the split ratios (new shares per old) of the events on
    later `days`: the factor that undoes Yahoo's split adjustment."""
    factor = np.ones(len(days))
    for ex_date, ratio in zip(days, splits, strict=True):
        if ratio != 1.0:
            factor[days < ex_date] *= ratio
    return factor


def _empty_bars() -> pd.DataFrame:
    return pd.DataFrame(
        {name: pd.Series(dtype="float64") for name in BAR_FIELDS},
        index=pd.DatetimeIndex([], name="date", dtype="datetime64[ns]"),
    )
