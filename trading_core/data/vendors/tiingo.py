"""Tiingo's end-of-day REST API as a `Vendor`: raw daily bars, with the splits and dividends.

One request per symbol: `GET {base_url}/tiingo/daily/{symbol}/prices?startDate=&endDate=` with the
key in the `Authorization: Token` header (never in the URL, so no log line or error can quote it).
Tiingo answers a JSON list, one object per session: the raw `open`..`volume` as traded, the same
CRSP-adjusted (`adjOpen`..`adjVolume`, not used here: trading_core.data.adjust derives adjusted
series), and `divCash` (cash per share, ex-date) and `splitFactor` (new shares per old, 1.0 = none).

Answers map onto base's errors: 429 -> RateLimited (with Retry-After), 404 with Tiingo's
`{"detail": "Error: Ticker ... not found"}` -> SymbolNotFound, 5xx or a network failure ->
VendorError, 401/403 -> ConfigError (a rejected key stops the whole fetch), and a 200 that is not
the documented list -> MalformedResponse.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from datetime import date
from urllib.parse import quote

import httpx
import pandas as pd
from pydantic import SecretStr

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
from trading_core.errors import ConfigError
from trading_core.redaction import redact

KEY_SETTING = "data.tiingo.api_key (environment: ALPHAPILOT__DATA__TIINGO__API_KEY)"
ROW_FIELDS = (*BAR_FIELDS, "divCash", "splitFactor")  # the numbers read from each row
DETAIL_CHARS = 200  # how much of a vendor's error text an error message quotes


@dataclass(frozen=True)
class TiingoVendor:
    """Tiingo end-of-day prices for one symbol at a time (`history`); `api_key` is the account
    token, kept out of repr, comparisons, URLs, logs and error messages."""

    api_key: SecretStr | None = field(default=None, compare=False, repr=False)
    base_url: str = "https://api.tiingo.com"
    timeout_seconds: float = 30.0
    name: str = field(default="tiingo", init=False)

    def history(self, symbol: str, start: date, end: date) -> SymbolHistory:
        """Sessions of `symbol` from `start` to `end` inclusive, raw bars plus actions."""
        key = self._key()
        window = f"{symbol} {start.isoformat()}..{end.isoformat()}"
        ticker = quote(share_class_ticker(symbol), safe="")
        url = f"{self.base_url.rstrip('/')}/tiingo/daily/{ticker}/prices"
        params = {
            "startDate": start.isoformat(),
            "endDate": end.isoformat(),
            "format": "json",
            "resampleFreq": "daily",
        }
        headers = {"Authorization": f"Token {key}", "Content-Type": "application/json"}
        try:
            with httpx.Client(timeout=self.timeout_seconds) as client:
                response = client.get(url, params=params, headers=headers)
        except httpx.TransportError as exc:
            said = redact(f"{type(exc).__name__}: {exc}", [key])
            raise VendorError(f"Tiingo: {said} for {window}") from None
        _raise_for_status(response, symbol, window, key)
        return parse_prices(symbol, response.content)

    def _key(self) -> str:
        """The token, or ConfigError before any request when none is set."""
        key = self.api_key.get_secret_value().strip() if self.api_key is not None else ""
        if not key:
            raise ConfigError(f"Tiingo API key is missing: set {KEY_SETTING}")
        return key


def _raise_for_status(response: httpx.Response, symbol: str, window: str, key: str) -> None:
    """Raise the error a non-200 answer means; vendor text is quoted with the key redacted."""
    status = response.status_code
    if status == 200:
        return
    detail = redact(_detail(response), [key])
    said = f"HTTP {status}" + (f": {detail}" if detail else "")
    if status == 429:
        retry_after = _retry_after(response.headers.get("Retry-After"))
        raise RateLimited(f"Tiingo rate limit for {window} ({said})", retry_after)
    if status in (401, 403):
        raise ConfigError(f"Tiingo rejected the API key ({said}): check {KEY_SETTING}")
    if status == 404 and "ticker" in detail.lower():
        raise SymbolNotFound(f"Tiingo does not know {symbol} ({said})")
    if status == 404:  # not Tiingo's ticker answer: a wrong base_url must not read as a delisting
        raise VendorError(f"Tiingo: {said} (no ticker message) for {window}; check base_url")
    raise VendorError(f"Tiingo: {said} for {window}")


def _detail(response: httpx.Response) -> str:
    """Tiingo's `detail` text from an error body (JSON `{"detail": ...}` or plain text), cut short."""
    try:
        body = response.json()
        text = body.get("detail", "") if isinstance(body, dict) else ""
    except ValueError:
        text = "" if "html" in response.headers.get("content-type", "") else response.text
    text = " ".join(str(text).split())
    return text if len(text) <= DETAIL_CHARS else text[:DETAIL_CHARS] + "..."


def _retry_after(value: str | None) -> float | None:
    """Seconds to wait from a Retry-After header in delta-seconds; None when absent or an HTTP
    date (then the fetch loop's own backoff applies)."""
    try:
        return max(float(value), 0.0) if value else None
    except ValueError:
        return None


def parse_prices(symbol: str, content: bytes) -> SymbolHistory:
    """A SymbolHistory from the body of a 200 answer; MalformedResponse if it is not Tiingo's list
    of daily rows (naming the symbol, and the date when the row has one)."""
    try:
        rows = json.loads(content)
    except ValueError:
        raise MalformedResponse(f"Tiingo answer for {symbol} is not JSON") from None
    if not isinstance(rows, list):
        shown = redact(" ".join(str(rows).split())[:DETAIL_CHARS])
        raise MalformedResponse(f"Tiingo answer for {symbol} is not a list of days: {shown}")
    dates, values = [], []
    for row in rows:
        session, numbers = _parse_row(symbol, row)
        dates.append(session)
        values.append(numbers)
    index = pd.DatetimeIndex(dates, name="date")
    table = pd.DataFrame(values, index=index, columns=list(ROW_FIELDS), dtype="float64")
    table = table.fillna({"divCash": 0.0, "splitFactor": 1.0})
    acted = table[(table["splitFactor"] != 1.0) | (table["divCash"] != 0.0)]
    actions = pd.DataFrame(
        {"split": acted["splitFactor"], "dividend": acted["divCash"]},
        index=acted.index,
        columns=list(ACTION_FIELDS),
    )
    return SymbolHistory(symbol, table[list(BAR_FIELDS)], actions)


def _parse_row(symbol: str, row: object) -> tuple[pd.Timestamp, list[float]]:
    """The session date (tz-naive, normalized) and the ROW_FIELDS numbers of one row; null stands
    for absent in every field but `close`; a split factor is positive."""
    if not isinstance(row, dict) or not isinstance(row.get("date"), str):
        raise MalformedResponse(f"Tiingo answer for {symbol} has a row without a date: {row!r:.80}")
    try:
        session = pd.Timestamp(row["date"])
    except ValueError:
        raise MalformedResponse(
            f"Tiingo date {row['date']!r:.40} for {symbol} is not a date"
        ) from None
    if session.tzinfo is not None:  # Tiingo writes sessions as midnight UTC
        session = session.tz_convert("UTC").tz_localize(None)
    session = session.normalize()
    where = f"{symbol} on {session.date().isoformat()}"
    numbers = []
    for name in ROW_FIELDS:
        if name not in row:
            raise MalformedResponse(f"Tiingo answer has no {name} for {where}")
        value = row[name]
        if value is None and name != "close":
            numbers.append(math.nan)
            continue
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
        ):
            raise MalformedResponse(f"Tiingo {name} for {where} is not a number: {value!r:.40}")
        if name == "splitFactor" and value <= 0:
            raise MalformedResponse(f"Tiingo splitFactor for {where} is not positive: {value!r}")
        numbers.append(float(value))
    return session, numbers
