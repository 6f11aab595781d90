"""The reports as a person sees them: opened in headless Chromium, nothing broken, nothing fetched.

Each page is loaded from its file:// URL with every other request refused and recorded. A test
fails on a console error, an uncaught page error, a dialog (a hostile text that ran as script), a
request that left the file, a chart that did not decode, or a table row that is missing. A
full-page screenshot is saved in the test's temporary folder for a person to look at.

Needs Playwright for Python and Debian's Chromium at /usr/bin/chromium (the helpers of
tests/support/headless_browser.py).
"""

from __future__ import annotations

import dataclasses
import math
from datetime import date

import headless_browser as browsing
import numpy as np
import pandas as pd
from headless_browser import (
    HOSTILE,
    SELECTION_FIGURES,
    assert_clean,
    assert_screenshot,
    images,
    sync_api,
    visit,
)
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

pytestmark = browsing.needs_chromium  # skipped without Chromium
browser = browsing.browser  # one headless Chromium for the module (a fixture)
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
