"""The reports as a person sees them: opened in headless Chromium, nothing broken, nothing fetched.

Each page is loaded from its file:// URL with every other request refused and recorded. A test
fails on a console error, an uncaught page error, a dialog (a hostile text that ran as script), a
request that left the file, a chart that did not decode, or a table row that is missing. A
full-page screenshot is saved in the test's temporary folder for a person to look at.

Needs Playwright for Python and Debian's Chromium at /usr/bin/chromium (`make test` installs it
when missing); Playwright's own browser download is not used.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from test_report_html import MONITORING
from test_selection_outputs import outputs

from trading_core.backtest.engine import VectorizedBacktester
from trading_core.backtest.walk_forward import backtest_scores
from trading_core.costs import CostModel
from trading_core.data.synthetic import generate_synthetic_market
from trading_core.io import atomic_write_bytes, atomic_write_text
from trading_core.live.safety_checks import Check, SafetyVerdict
from trading_core.ml.model_info import ModelInfo
from trading_core.performance.statistics import LABELS
from trading_core.portfolio.policy import PortfolioPolicy
from trading_core.reporting.html import DailyReportData, render_daily_report
from trading_core.reporting.selection_files import HTML_FILE
from trading_core.selection.grid import BacktestGrid
from trading_core.selection.scoring import Thresholds

sync_api = pytest.importorskip(
    "playwright.sync_api", reason="Playwright for Python is not installed (the dev extra has it)"
)
CHROMIUM = Path("/usr/bin/chromium")
pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason=f"no Chromium at {CHROMIUM} (Debian: apt-get install chromium)"
)

HOSTILE = "<script>alert(1)</script>"
SYMBOLS = ["AAPL", "MSFT", "JPM", "XOM", "NVDA", "BRK.B"]  # a hostile symbol is refused at import
WARNING = f"sector {HOSTILE} has no cap"  # hostile text can still come in through a sector name
DAILY_CHARTS = [
    "Current vs target weights",
    "Account value and drawdown",
    "Benchmark and market regime",
    "Daily rank IC and its rolling mean",
    "Cumulative return and drawdowns",
    "Rolling 6-month Sharpe ratio, volatility and beta",
    "Monthly returns, yearly returns and daily-return histogram",
]
ACCOUNT_SESSIONS = 200  # enough returns for every tear-sheet figure, the rolling ones included
SELECTION_FIGURES = [
    "Equity of the top combinations and the equal-weight baseline",
    "The champion against the equal-weight baseline",
]
MIN_SCREENSHOT_BYTES = 20_000


@dataclass
class Visit:
    """An open page and everything that went wrong while loading it."""

    page: sync_api.Page
    errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)


@pytest.fixture(scope="module")
def browser() -> Iterator[sync_api.Browser]:
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=["--no-sandbox", "--disable-gpu"], headless=True
        )
        yield browser
        browser.close()


def visit(browser: sync_api.Browser, path: Path) -> Visit:
    """`path` loaded offline: requests other than file: and data: are refused and recorded."""
    page = browser.new_page(viewport={"width": 1200, "height": 900})
    seen = Visit(page)

    def route(route: sync_api.Route) -> None:
        if route.request.url.startswith(("file:", "data:")):
            route.continue_()
        else:
            seen.requests.append(route.request.url)
            route.abort()

    def console(message: sync_api.ConsoleMessage) -> None:
        if message.type == "error":
            seen.errors.append(f"console: {message.text}")

    def dialog(dialog: sync_api.Dialog) -> None:
        seen.errors.append(f"dialog: {dialog.message}")
        dialog.dismiss()

    page.route("**/*", route)
    page.on("console", console)
    page.on("pageerror", lambda error: seen.errors.append(f"page error: {error}"))
    page.on("dialog", dialog)
    page.goto(path.as_uri(), wait_until="load")
    return seen


def images(page: sync_api.Page) -> dict[str, int]:
    """Natural width of every image by its alt text (0: not decoded)."""
    pairs = page.eval_on_selector_all(
        "img", "imgs => imgs.map(i => [i.alt, i.complete ? i.naturalWidth : 0])"
    )
    return dict(pairs)


def assert_clean(seen: Visit) -> None:
    assert seen.errors == []
    assert seen.requests == [], "the page must need no network"


def assert_screenshot(page: sync_api.Page, path: Path) -> None:
    page.screenshot(path=path, full_page=True)
    png = path.read_bytes()
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > MIN_SCREENSHOT_BYTES


# --- the daily report ---------------------------------------------------------------------------


def daily_report_data() -> DailyReportData:
    """A session with six trades, a warning naming a hostile sector, an account history long
    enough for the whole tear sheet, and every chart."""
    rng = np.random.default_rng(11)
    dates = pd.bdate_range("2023-01-02", periods=260)
    benchmark = pd.Series(4000 * np.exp(np.cumsum(rng.normal(0, 0.01, 260))), index=dates)
    current = [0.20, 0.15, 0.25, 0.20, 0.00, 0.00]
    target = [0.25, 0.00, 0.20, 0.15, 0.15, 0.10]
    change = np.subtract(target, current)
    price = [208.33, 400.0, 170.0, 110.0, 800.0, 20.0]
    equity = pd.Series(
        1_000_000 * np.exp(np.cumsum(rng.normal(0, 0.008, ACCOUNT_SESSIONS))),
        dates[-ACCOUNT_SESSIONS:],
    )
    notional = np.abs(change) * equity.iloc[-1]
    trades = pd.DataFrame(
        {
            "symbol": SYMBOLS,
            "side": np.where(change > 0, "BUY", "SELL"),
            "shares": np.round(notional / price),
            "price": price,
            "notional": notional,
            "weight_change": change,
            "commission_est": notional * 1e-4,
            "slippage_est": notional * 5e-4,
            "reason": ["score up", "left the top quantile", "trim", "trim", "new entry", "new"],
            "status": "proposed",
        }
    )
    return DailyReportData(
        run_date=date(2024, 1, 2),
        generated_by="alphapilot test",
        dry_run=True,
        regime="Normal",
        regime_source="benchmark",
        exposure=0.85,
        model_info=ModelInfo(
            "lgbm-ranker", date(2023, 12, 29), [f"feature_{i}" for i in range(12)]
        ),
        scores=pd.Series(rng.normal(size=len(SYMBOLS)), index=SYMBOLS),
        weights=pd.DataFrame({"current_weight": current, "target_weight": target}, SYMBOLS),
        trades=trades,
        verdict=SafetyVerdict([Check("turnover", True, "")]),
        monitoring=dataclasses.replace(MONITORING, live_ic=0.02),
        ic_series=pd.Series(rng.normal(0.02, 0.1, 40), index=dates[-40:]),
        warnings=[WARNING],
        benchmark=benchmark,
        regime_history=pd.Series(np.repeat([1, 0, 1, 2], 65), index=dates),
        portfolio_value=float(equity.iloc[-1]),
        equity_curve=equity,
    )


def test_daily_report_opens_offline_with_its_charts_and_every_trade(browser, tmp_path):
    report = tmp_path / "report.html"
    atomic_write_text(report, render_daily_report(daily_report_data()))

    seen = visit(browser, report)
    page = seen.page

    assert_clean(seen)
    decoded = images(page)
    assert sorted(decoded) == sorted(DAILY_CHARTS)
    for alt in DAILY_CHARTS:
        sync_api.expect(page.get_by_alt_text(alt)).to_be_visible()
        assert decoded[alt] > 0, f"{alt}: the image did not decode"
    table = page.locator("#trades")
    sync_api.expect(table).to_be_visible()
    sync_api.expect(table.locator("tbody tr")).to_have_count(len(SYMBOLS))
    assert table.locator("tbody td.sym").all_inner_texts() == SYMBOLS
    assert page.locator(".warnings li").all_inner_texts() == [WARNING]  # hostile shown as text
    headline = page.locator("#tear-headline")
    sync_api.expect(headline).to_be_visible()
    sync_api.expect(headline.locator("tbody tr")).to_have_count(len(LABELS))
    sync_api.expect(page.locator("#tear-drawdowns tbody tr")).to_have_count(5)
    assert_screenshot(page, tmp_path / "report.png")
    page.close()


# --- the selection report -----------------------------------------------------------------------


def selection_files() -> dict[str, bytes]:
    """The selection's files for a planted signal and a hostile-named noise model, 1 optimizer."""
    market = generate_synthetic_market(symbols=8, years=1, seed=5, ic=0.15)
    close = market.data.close
    regimes = pd.Series(1, index=close.index)
    dates = close.index[40::10]
    signal = market.signal.loc[dates].stack().rename("score").rename_axis(["date", "symbol"])
    noise = pd.Series(np.random.default_rng(3).normal(size=len(signal)), signal.index)
    policy = PortfolioPolicy(
        "equal_weight",
        top_k={"risk_off": 3, "normal": 4, "risk_on": 4},
        exposure={"risk_off": 0.5, "normal": 1.0, "risk_on": 1.0},
        max_weight=0.3,
    )
    grid = BacktestGrid(["signal", HOSTILE], ["equal_weight"])
    for model, scores in {"signal": signal, HOSTILE: noise.rename("score")}.items():
        result = backtest_scores(
            scores, market.data, regimes, policy, VectorizedBacktester(CostModel()), pd.DataFrame()
        )
        grid.add(model, "equal_weight", result)
    thresholds = Thresholds(
        sharpe_min=-math.inf, max_drawdown_max=-1.0, calmar_min=-math.inf, turnover_max=2.0
    )
    return outputs(grid, thresholds)


def test_selection_report_opens_offline_with_its_ranking_and_figures(browser, tmp_path):
    for name, payload in selection_files().items():
        atomic_write_bytes(tmp_path / name, payload)

    seen = visit(browser, tmp_path / HTML_FILE)
    page = seen.page

    assert_clean(seen)
    assert page.title() == "alphapilot model selection 2024-06-28"
    decoded = images(page)
    assert sorted(decoded) == sorted(SELECTION_FIGURES)
    for alt in SELECTION_FIGURES:
        sync_api.expect(page.get_by_alt_text(alt)).to_be_visible()
        assert decoded[alt] > 0, f"{alt}: the image did not decode"
    ranking = page.locator("section", has=page.locator("h2", has_text="Ranking")).locator("table")
    sync_api.expect(ranking).to_be_visible()
    sync_api.expect(ranking.locator("tbody tr")).to_have_count(2)
    combinations = ranking.locator("tbody tr td:nth-child(2)").all_inner_texts()
    assert sorted(combinations) == sorted([f"{HOSTILE}+equal_weight", "signal+equal_weight"])
    assert_screenshot(page, tmp_path / "report.png")
    page.close()
