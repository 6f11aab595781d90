"""Yahoo's hosts on a loopback server, so the real yfinance code runs against recorded answers.

`LoopbackSession` is a YahooSession (the vendor's own transport) whose `request` sends every URL
of a Yahoo host to a pytest-httpserver on 127.0.0.1, path and query kept, and refuses any other
host loudly (UnmappedHost is not an OSError, so yfinance does not swallow it as a network
hiccup). `YahooLoopback` serves what yfinance asks for: fc.yahoo.com's cookie page (a 404, as
the real one), the crumb, the consent page, and the chart API from per-symbol queues of
recorded answers (tests/support/recorded/yahoo/).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from trading_core.data.vendors.yahoo import YahooSession

RECORDED = Path(__file__).parent / "recorded" / "yahoo"
YAHOO_HOSTS = frozenset(
    {
        "query1.finance.yahoo.com",
        "query2.finance.yahoo.com",
        "fc.yahoo.com",
        "finance.yahoo.com",
        "guce.yahoo.com",
        "consent.yahoo.com",
    }
)
CRUMB = "mZ4dQk1vJ2n"  # shaped like Yahoo's crumbs; the server does not check it
CONSENT_PAGE = "<!DOCTYPE html><html><head><title>Yahoo</title></head><body></body></html>"
JSON = "application/json;charset=utf-8"


class UnmappedHost(AssertionError):
    """A test made yfinance ask a host this loopback does not stand in for."""


class LoopbackSession(YahooSession):
    """A YahooSession that answers from `server_url` (http://127.0.0.1:PORT) instead of Yahoo."""

    def __init__(self, server_url: str, timeout: float = 2.0) -> None:
        super().__init__(timeout=timeout, trust_env=False)
        self.server_url = server_url.rstrip("/")

    def request(self, method: Any, url: str, *args: Any, **kwargs: Any) -> Any:
        parts = urlsplit(url)
        if parts.hostname not in YAHOO_HOSTS:
            raise UnmappedHost(f"a test tried to reach {url}")
        local = self.server_url + (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        return super().request(method, local, *args, **kwargs)


@dataclass(frozen=True)
class Answer:
    """One HTTP answer of the chart API."""

    status: int
    body: str
    content_type: str = JSON


def recorded(name: str, status: int = 200) -> Answer:
    return Answer(status, (RECORDED / name).read_text())


TOO_MANY_REQUESTS = Answer(429, "Too Many Requests\r\n", "text/plain;charset=utf-8")


class YahooLoopback:
    """Yahoo's endpoints on `server`. `answer(symbol, *answers)` queues the chart API's answers
    for a symbol, one per request, the last one repeating; the timezone look-up (range=1d) takes
    from the same queue unless `timezone` gives it its own answer. `chart_requests` lists
    (symbol, query) of every chart request, `strays` the symbols asked without answers."""

    def __init__(self, server: HTTPServer) -> None:
        self.server = server
        self.answers: dict[str, list[Answer]] = {}
        self.timezones: dict[str, Answer] = {}
        self.chart_requests: list[tuple[str, dict[str, str]]] = []
        self.strays: list[str] = []
        server.expect_request("/", method="GET").respond_with_data(
            "", status=404, content_type="text/html"
        )
        server.expect_request("/v1/test/getcrumb").respond_with_data(
            CRUMB, content_type="text/plain;charset=utf-8"
        )
        server.expect_request("/consent").respond_with_data(CONSENT_PAGE, content_type="text/html")
        server.expect_request(re.compile(r"^/v8/finance/chart/[^/]+$")).respond_with_handler(
            self._chart
        )

    def answer(self, symbol: str, *answers: Answer, timezone: Answer | None = None) -> None:
        self.answers[symbol] = list(answers)
        if timezone is not None:
            self.timezones[symbol] = timezone

    def session(self, timeout: float = 2.0) -> LoopbackSession:
        return LoopbackSession(self.server.url_for("/"), timeout=timeout)

    def history_requests(self, symbol: str) -> list[dict[str, str]]:
        """Queries of the chart requests for `symbol` that asked for a window (not the
        timezone look-up, which asks for range=1d)."""
        return [q for s, q in self.chart_requests if s == symbol and "period1" in q]

    def _chart(self, request: Request) -> Response:
        symbol = request.path.rsplit("/", 1)[1]
        self.chart_requests.append((symbol, dict(request.args)))
        queue = self.answers.get(symbol)
        if not queue:
            self.strays.append(symbol)
            return Response("no recorded answer", status=599)
        if "range" in request.args and symbol in self.timezones:
            answer = self.timezones[symbol]
        else:
            answer = queue.pop(0) if len(queue) > 1 else queue[0]
        return Response(answer.body, status=answer.status, content_type=answer.content_type)
