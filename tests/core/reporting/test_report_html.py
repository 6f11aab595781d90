"""The daily HTML report: escaped, honest about safety, deterministic, self-contained."""

from __future__ import annotations

import base64
import copy
import dataclasses
import re
from datetime import date
from html.parser import HTMLParser

import numpy as np
import pandas as pd
import pytest

from trading_core.live.kill_switch import KillSwitchState, KillSwitchStatus
from trading_core.live.monitoring_report import DriftCheck, MonitoringReport
from trading_core.live.safety_checks import Check, SafetyVerdict
from trading_core.ml.model_info import ModelInfo
from trading_core.performance.statistics import LABELS
from trading_core.reporting import plots
from trading_core.reporting.daily_sections import words
from trading_core.reporting.html import DailyReportData, render_daily_report

HOSTILE = "<script>alert(1)</script>"
HOSTILE_ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"
PNG_URI = re.compile(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"')
EQUITY_ALT = 'alt="Account value and drawdown"'
KILL_SWITCH_CLEAR = KillSwitchStatus(
    KillSwitchState(
        triggered=False,
        reason=None,
        daily_return=0.0042,
        rolling_sharpe=1.37,
        detail="last daily return +0.42%; 63-session Sharpe 1.37 "
        "(limits: daily loss 5.00%, Sharpe -1)",
    )
)
KILL_SWITCH_HALTED = KillSwitchStatus(
    KillSwitchState(
        triggered=True,
        reason="daily_loss",
        daily_return=-0.0731,
        rolling_sharpe=None,
        detail="TRIPPED on daily_loss: last daily return -7.31%; 12 of 63 returns for the rolling "
        "Sharpe (limits: daily loss 5.00%, Sharpe -1)",
    ),
    engaged_since=date(2024, 2, 21),
    engaged_reason="daily_loss",
)


NO_DRIFT = DriftCheck(
    window=20,
    threshold=0.0,
    sessions=40,
    rolling_ic=0.012,
    days_below=0,
    drift=False,
    since=None,
    drift_sessions=0,
)
MONITORING = MonitoringReport(
    live_ic=0.021,
    live_ic_sessions=40,
    live_ic_source="published signals",
    track_record_ic={"mean": 0.021, "days": 40},
    model_ic_since_cutoff={"mean": 0.0, "days": 0},
    ic_alert=False,
    drift=NO_DRIFT,
    signal_ic=None,
    top_quantile=None,
    feature_coverage=1.0,
    notes=[],
)


@pytest.fixture(scope="module")
def report_data() -> DailyReportData:
    rng = np.random.default_rng(7)
    dates = pd.bdate_range("2023-01-02", periods=300)
    benchmark = pd.Series(4000 * np.exp(np.cumsum(rng.normal(0, 0.01, 300))), index=dates)
    regime_history = pd.Series(np.repeat([1, 0, 1, 2, 1], 60), index=dates)
    ic_series = pd.Series(rng.normal(0.02, 0.1, 40), index=dates[-40:])
    equity = pd.Series(1_000_000 * np.exp(np.cumsum(rng.normal(0, 0.008, 30))), index=dates[-30:])
    symbols = ["AAPL", "MSFT", HOSTILE, "JPM", "XOM"]
    weights = pd.DataFrame(
        {
            "current_weight": [0.20, 0.15, 0.00, 0.25, 0.20],
            "target_weight": [0.25, 0.00, 0.10, 0.25, 0.20],
        },
        index=symbols,
    )
    trades = pd.DataFrame(
        {
            "symbol": ["MSFT", "AAPL", HOSTILE],
            "side": ["SELL", "BUY", "BUY"],
            "shares": [375, 240, 5000],
            "price": [400.0, 208.33, 20.0],
            "notional": [150000.0, 49999.2, 100000.0],
            "weight_change": [-0.15, 0.05, 0.10],
            "commission_est": [15.0, 5.0, 10.0],
            "slippage_est": [75.0, 25.0, 50.0],
            "reason": ["left the top quantile", "score up", "new entry"],
            "status": ["proposed", "proposed", "proposed"],
        }
    )
    return DailyReportData(
        run_date=date(2024, 2, 23),
        generated_by="alphapilot 0.1.0",
        dry_run=True,
        regime="Normal",
        regime_source="benchmark",
        exposure=0.8,
        model_info=ModelInfo(
            name="lgbm-ranker",
            trained_through=date(2023, 12, 29),
            features=["mom_252_21", "rev_5", "vol_63"],
            metadata={"train_start": "2015-01-02", "data_source": HOSTILE, "seed": 42},
        ),
        scores=pd.Series([0.9, -0.4, 0.7, 0.1, -0.8], index=symbols),
        weights=weights,
        trades=trades,
        verdict=SafetyVerdict(
            [
                Check("max position", True, "largest 25.0% <= 25%"),
                Check("turnover", True, "30.0% <= 60%"),
            ]
        ),
        monitoring=MONITORING,
        ic_series=ic_series,
        warnings=["no volume in data: liquidity checks skipped", HOSTILE],
        benchmark=benchmark,
        regime_history=regime_history,
        portfolio_value=1_000_000.0,
        notes=["Bundled S&P 500 data holds 20 survivors: backtests on it flatter the strategy."],
        kill_switch=KILL_SWITCH_CLEAR,
        equity_curve=equity,
    )


class _Tables(HTMLParser):
    """Cell texts of every table with an id: {id: [[cell, ...], ...]} (thead, tbody and tfoot)."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self._table: str | None = None
        self._cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        if tag == "table" and dict(attrs).get("id"):
            self._table = dict(attrs)["id"]
            self.tables[self._table] = []
        elif self._table and tag == "tr":
            self.tables[self._table].append([])
        elif self._table and tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag):
        if tag == "table":
            self._table = None
        elif self._table and tag in ("td", "th") and self._cell is not None:
            self.tables[self._table][-1].append("".join(self._cell).strip())
            self._cell = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


@pytest.fixture(scope="module")
def html(report_data) -> str:
    """The fixture's report, rendered once for the tests that only read it."""
    return render_daily_report(report_data)


def tables(html: str) -> dict[str, list[list[str]]]:
    parser = _Tables()
    parser.feed(html)
    return parser.tables


def test_hostile_text_appears_only_escaped(html):

    assert HOSTILE not in html
    assert "<script" not in html.lower()
    # symbol (trades, portfolio, scores), warning and model metadata each show it escaped
    assert html.count(HOSTILE_ESCAPED) >= 5
    warnings = html[html.index("<h2>Warnings</h2>") : html.index("</section>", html.index("Warn"))]
    assert HOSTILE_ESCAPED in warnings
    model = html[html.index("<h2>Model</h2>") :]
    assert HOSTILE_ESCAPED in model[: model.index("</section>")]


def test_hostile_violation_and_check_name_are_escaped(report_data):
    verdict = SafetyVerdict([Check(HOSTILE, False, f"detail {HOSTILE}")])
    html = render_daily_report(dataclasses.replace(report_data, verdict=verdict))

    assert HOSTILE not in html
    assert f"{HOSTILE_ESCAPED}: detail {HOSTILE_ESCAPED}" in verdict_banner(html)
    assert f"detail {HOSTILE_ESCAPED}" in section(html, "Safety checks")


def test_blocked_verdict_shows_blocked_and_every_violation(report_data):
    verdict = SafetyVerdict(
        [
            Check("max position", False, "AAPL 31.0% above max 25%"),
            Check("turnover", False, "140% above max 60%"),
            Check("cash", True, "20% >= 2%"),
        ]
    )
    html = render_daily_report(dataclasses.replace(report_data, verdict=verdict))

    banner = html[html.index('<section class="verdict') : html.index("</section>")]
    assert "verdict blocked" in banner
    assert "BLOCKED" in banner
    assert "max position: AAPL 31.0% above max 25%" in banner
    assert "turnover: 140% above max 60%" in banner
    assert "ready" not in banner
    assert html.count('class="mark fail"') == 2
    assert html.count('class="mark ok"') == 1


def test_passed_verdict_says_trades_are_ready(html):

    banner = html[html.index('<section class="verdict') : html.index("</section>")]
    assert "3 trades ready" in banner
    assert "BLOCKED" not in html


def verdict_banner(html: str) -> str:
    return html[html.index('<section class="verdict') : html.index("</section>")]


def trade_statuses(html: str) -> list[str]:
    """The Status cell of every trade row (the header and the totals left out)."""
    return [row[-1] for row in tables(html)["trades"][1:] if not row[0].startswith("Total")]


def test_a_run_applied_to_the_paper_account_says_so_and_no_trade_is_proposed(report_data):
    html = render_daily_report(dataclasses.replace(report_data, ledger_status="applied"))

    banner = verdict_banner(html)
    assert "3 trades applied to the paper account" in banner
    assert "Paper trading: no broker is involved." in banner
    assert "<h2>Trades applied to the paper account</h2>" in html
    assert trade_statuses(html) == ["applied"] * 3
    assert "recommendations only" not in html.lower()


def test_a_run_awaiting_approval_names_the_command_that_applies_it(report_data):
    html = render_daily_report(dataclasses.replace(report_data, ledger_status="proposed"))

    banner = verdict_banner(html)
    assert "verdict pending" in banner and "3 trades awaiting approval" in banner
    assert "alphapilot approve --date 2024-02-23" in banner
    assert "trades applied" not in html and "Trades applied" not in html
    assert trade_statuses(html) == ["proposed"] * 3


def test_a_blocked_run_says_nothing_was_applied_to_the_paper_account(report_data):
    failed = Check("turnover", False, "140% above 60%")
    verdict = SafetyVerdict([*report_data.verdict.checks, failed])
    blocked = dataclasses.replace(report_data, verdict=verdict, ledger_status="blocked")
    html = render_daily_report(blocked)

    assert "Nothing was applied to the paper account" in verdict_banner(html)
    assert "blocked, nothing applied" in html
    assert "trades applied" not in html and "Trades applied" not in html


def test_trades_table_lists_each_symbol_with_its_side(report_data, html):
    rows = tables(html)["trades"]
    body = [row for row in rows[1:] if not row[0].startswith("Total")]

    pairs = {(row[1], row[0]) for row in body}
    expected = set(zip(report_data.trades["symbol"], report_data.trades["side"], strict=False))
    assert pairs == expected
    assert len(body) == len(report_data.trades)


def test_trades_are_coloured_by_side(html):

    assert html.count('<span class="side buy">BUY</span>') == 2
    assert html.count('<span class="side sell">SELL</span>') == 1


def test_numbers_have_thousands_separators_and_weights_are_percent(html):
    found = tables(html)
    msft = next(row for row in found["trades"] if row[1] == "MSFT")
    aapl = next(row for row in found["portfolio"] if row[0] == "AAPL")
    cash = next(row for row in found["portfolio"] if row[0] == "Cash")

    assert msft[2:7] == ["375", "$400.00", "$150,000.00", "-15.00%", "$90.00"]
    assert aapl[1:4] == ["20.00%", "25.00%", "+5.00%"]
    assert cash[1:4] == ["20.00%", "20.00%", "0.00%"]


def test_key_figures_show_regime_turnover_costs_and_value(html):
    figures = html[html.index('<section class="figures">') :]
    figures = figures[: figures.index("</section>")]

    assert "Normal" in figures
    assert "80% invested" in figures and "20% cash" in figures
    assert "15.0%" in figures and "one-way" in figures  # turnover: (0.15 + 0.05 + 0.10) / 2
    assert "$180.00" in figures  # costs: commissions 30 + slippage 150
    assert "$1,000,000" in figures


def test_turnover_is_one_way_over_the_trades_not_skipped(report_data):
    skipped = report_data.trades.assign(status=["proposed", "proposed", "skipped: max_turnover"])
    page = render_daily_report(dataclasses.replace(report_data, trades=skipped))

    assert card(page, "Turnover") == "10.0%"  # (0.15 + 0.05) / 2


def card(page: str, label: str) -> str:
    """The value of one key-figure card."""
    found = re.search(rf'<div class="label">{label}</div>\s*<div class="value">([^<]*)</div>', page)
    assert found is not None, label
    return found.group(1)


def test_a_skipped_trade_moves_no_money_in_the_counts_costs_and_totals(report_data):
    skipped = report_data.trades.assign(status=["proposed", "proposed", "skipped: max_turnover"])
    page = render_daily_report(dataclasses.replace(report_data, trades=skipped))

    assert re.search(
        r'<div class="value">2</div>\s*<div class="sub">1 buy · 1 sell · 1 skipped', page
    )
    assert card(page, "Estimated costs") == "$120.00"  # 15 + 75 + 5 + 25: not the skipped 60
    total = page[page.index("<tfoot>") : page.index("</tfoot>")]
    assert "Total without the skipped (1 buy, 1 sell)" in total
    assert "$199,999.20" in total and "$120.00" in total


def test_rendering_twice_gives_identical_html(report_data, html):
    again = render_daily_report(copy.deepcopy(report_data))

    assert html == again


def charts_before_the_tear_sheet(html: str) -> list[str]:
    """The base64 of every chart above the tear sheet (its own figures are tested below)."""
    return PNG_URI.findall(html[: html.index('<section id="tear-sheet">')])


def test_charts_are_embedded_as_png_when_inputs_exist(html):
    images = PNG_URI.findall(html)

    assert len(charts_before_the_tear_sheet(html)) == 4  # weights, equity, regime, IC
    for encoded in images:
        assert base64.b64decode(encoded).startswith(b"\x89PNG\r\n\x1a\n")
    assert "No chart" not in html


def test_without_benchmark_the_report_says_why_there_is_no_regime_chart(report_data):
    html = render_daily_report(
        dataclasses.replace(report_data, benchmark=None, regime_history=None)
    )

    assert len(charts_before_the_tear_sheet(html)) == 3
    assert "No chart: no benchmark closes were supplied." in html


def test_without_ic_history_the_report_says_why_the_live_ic_is_unknown(report_data):
    monitoring = dataclasses.replace(
        report_data.monitoring, live_ic=None, live_ic_sessions=0, live_ic_source=None
    )
    html = render_daily_report(
        dataclasses.replace(report_data, monitoring=monitoring, ic_series=None)
    )

    assert "not known yet" in html
    assert "No chart: there is no daily IC history yet." in html
    assert len(charts_before_the_tear_sheet(html)) == 3


def test_dry_run_badge_only_in_dry_run(report_data, html):
    assert "DRY-RUN" in html
    assert 'title="Paper trading: no broker is involved"' in html
    assert "DRY-RUN" not in render_daily_report(dataclasses.replace(report_data, dry_run=False))


def test_report_is_self_contained(html):

    assert not re.search(r"""(?:src|href)=["']?(?:https?:)?//""", html)
    assert "<link" not in html
    assert " on" + "load=" not in html


def test_empty_trades_and_weights_render_without_charts_or_tables(report_data):
    empty = dataclasses.replace(
        report_data,
        trades=pd.DataFrame(columns=list(report_data.trades.columns)),
        weights=pd.DataFrame(columns=["current_weight", "target_weight"]),
    )
    html = render_daily_report(empty)

    assert "No trades" in html
    assert "No chart: no symbol is held now or in the target portfolio." in html
    assert 'id="trades"' not in html


def test_charts_skip_missing_input():
    assert plots.weights_chart(None) is None
    assert plots.weights_chart(pd.DataFrame(columns=["current_weight", "target_weight"])) is None
    assert plots.regime_chart(None, None) is None
    assert plots.regime_chart(pd.Series(dtype="float64"), None) is None
    assert plots.ic_chart(None) is None
    assert plots.ic_chart(pd.Series([np.nan, np.nan])) is None
    assert plots.equity_chart(None) is None
    assert plots.equity_chart(pd.Series([1e6], index=[pd.Timestamp("2024-02-23")])) is None
    assert plots.png_data_uri(None) is None


def test_chart_bytes_are_stable(report_data):
    first = plots.regime_chart(report_data.benchmark, report_data.regime_history)

    assert first == plots.regime_chart(report_data.benchmark, report_data.regime_history)
    assert b"Software" not in first


def test_dollar_signs_in_symbols_do_not_break_the_charts():
    weights = pd.DataFrame(
        {"current_weight": [0.1, 0.2], "target_weight": [0.2, 0.1]}, index=["$\\frac{", "A$B$"]
    )

    assert plots.weights_chart(weights).startswith(b"\x89PNG")


# ----------------------------------------------------------------------------- account value


def section(html: str, heading: str) -> str:
    """The <section> whose <h2> is `heading`."""
    start = html.rindex("<section", 0, html.index(f"<h2>{heading}</h2>"))
    return html[start : html.index("</section>", start)]


def test_equity_curve_and_drawdown_are_drawn_from_several_points(report_data, html):
    account = section(html, "Account value")
    images = PNG_URI.findall(account)
    curve = report_data.equity_curve
    drawdown = float((curve / curve.cummax() - 1).min())

    assert EQUITY_ALT in account
    assert len(images) == 1
    assert base64.b64decode(images[0]).startswith(b"\x89PNG")
    assert "history starts today" not in html
    assert f"{drawdown * 100:.2f}%" in account  # max drawdown figure beside the chart
    assert f"{curve.index[0]:%Y-%m-%d}" in account


def test_two_points_are_enough_for_an_equity_chart(report_data):
    curve = pd.Series([1_000_000.0, 990_000.0], index=pd.to_datetime(["2024-02-22", "2024-02-23"]))
    html = render_daily_report(dataclasses.replace(report_data, equity_curve=curve))

    assert EQUITY_ALT in html
    assert "-1.00%" in section(html, "Account value")


@pytest.mark.parametrize(
    "curve", [None, pd.Series([1_000_000.0], index=[pd.Timestamp("2024-02-23")])]
)
def test_one_point_says_the_history_starts_today(report_data, curve):
    html = render_daily_report(dataclasses.replace(report_data, equity_curve=curve))
    account = section(html, "Account value")

    assert "The account history starts today" in account
    assert EQUITY_ALT not in html
    assert len(PNG_URI.findall(html)) == 3  # weights, regime and IC only


# ----------------------------------------------------------------------------- kill switch


def test_halted_kill_switch_shows_a_banner_with_date_reason_and_resume_command(report_data):
    html = render_daily_report(dataclasses.replace(report_data, kill_switch=KILL_SWITCH_HALTED))
    banner = html[html.index('id="kill-switch-banner"') :]
    banner = banner[: banner.index("</section>")]

    assert "TRADING HALTED" in banner
    assert "2024-02-21" in banner
    assert "daily_loss" in banner and "daily loss larger than the limit" in banner
    assert "alphapilot resume --reason" in banner
    # at the top: before the verdict, and the verdict is blocked even though safety passed
    assert html.index('id="kill-switch-banner"') < html.index('<section class="verdict')
    verdict = html[html.index('<section class="verdict') :]
    assert "BLOCKED" in verdict[: verdict.index("</section>")]


def test_no_banner_when_the_kill_switch_is_released(report_data, html):
    assert 'id="kill-switch-banner"' not in html
    assert "TRADING HALTED" not in html
    bare = render_daily_report(dataclasses.replace(report_data, kill_switch=None))
    assert 'id="kill-switch-banner"' not in bare
    assert "The kill switch was not read for this run." in bare


def test_safety_section_shows_todays_kill_switch_reading(report_data, html):
    safety = section(html, "Safety checks")
    halted = section(
        render_daily_report(dataclasses.replace(report_data, kill_switch=KILL_SWITCH_HALTED)),
        "Safety checks",
    )

    assert "Kill switch today" in safety
    assert "not tripped" in safety
    assert "+0.42%" in safety  # daily return
    assert "1.37" in safety  # rolling Sharpe
    assert "63-session Sharpe 1.37" in safety  # detail
    assert "TRIPPED on a daily loss larger than the limit (daily_loss)" in halted
    assert "-7.31%" in halted
    assert "not judged yet" in halted  # rolling Sharpe None
    assert "engaged since 2024-02-21" in halted


def test_infinite_rolling_sharpe_is_shown_as_infinity(report_data):
    today = dataclasses.replace(KILL_SWITCH_CLEAR.today, rolling_sharpe=float("-inf"))
    kill = dataclasses.replace(KILL_SWITCH_CLEAR, today=today)
    html = render_daily_report(dataclasses.replace(report_data, kill_switch=kill))

    assert "\u2212\u221e" in section(html, "Safety checks")


def test_hostile_kill_switch_reason_and_symbol_are_escaped(report_data):
    today = dataclasses.replace(
        KILL_SWITCH_HALTED.today, reason=HOSTILE, detail=f"detail {HOSTILE}"
    )
    kill = dataclasses.replace(KILL_SWITCH_HALTED, today=today, engaged_reason=HOSTILE)
    html = render_daily_report(dataclasses.replace(report_data, kill_switch=kill))
    banner = html[html.index('id="kill-switch-banner"') :]
    banner = banner[: banner.index("</section>")]

    assert HOSTILE not in html
    assert "<script" not in html.lower()
    assert banner.count(HOSTILE_ESCAPED) == 1  # why
    assert f"detail {HOSTILE_ESCAPED}" in section(html, "Safety checks")
    assert [row[1] for row in tables(html)["trades"] if row[1] == HOSTILE] == [HOSTILE]


# ----------------------------------------------------------------------------- drift and notes


def test_drift_shows_rolling_ic_threshold_and_since(report_data):
    drift = dataclasses.replace(
        NO_DRIFT,
        threshold=0.01,
        rolling_ic=-0.004,
        days_below=11,
        drift=True,
        since=pd.Timestamp("2024-02-12"),
        drift_sessions=10,
    )
    monitoring = dataclasses.replace(report_data.monitoring, drift=drift)
    html = render_daily_report(dataclasses.replace(report_data, monitoring=monitoring))
    drift = html[html.index('id="drift"') :]
    drift = drift[: drift.index("</dl>")]

    assert "20-session mean IC" in drift
    assert "-0.004" in drift and "+0.010" in drift
    assert "DRIFT: below the threshold since 2024-02-12" in drift
    assert 'alt="Daily rank IC and its rolling mean"' in html


def test_drift_not_judged_before_a_full_window(report_data):
    drift = dataclasses.replace(NO_DRIFT, sessions=7, rolling_ic=float("nan"))
    monitoring = dataclasses.replace(report_data.monitoring, drift=drift)
    html = render_daily_report(dataclasses.replace(report_data, monitoring=monitoring))

    assert "not judged yet: needs 20 daily ICs, has 7" in html


def test_survivorship_note_is_shown_before_the_trades(html):
    assert html.index("20 survivors") < html.index('id="trades"')


# ----------------------------------------------------------------------------- determinism


def test_same_inputs_give_identical_bytes_with_every_section(report_data):
    full = dataclasses.replace(report_data, kill_switch=KILL_SWITCH_HALTED)

    first = render_daily_report(full).encode()
    second = render_daily_report(copy.deepcopy(full)).encode()

    assert first == second
    since = KILL_SWITCH_HALTED.engaged_since
    assert plots.equity_chart(full.equity_curve, since) == plots.equity_chart(
        full.equity_curve.copy(), since
    )


# ----------------------------------------------------------------------------- words, not keys


def listed(part: str) -> list[tuple[str, str]]:
    """(term, value) of every <dt>/<dd> pair in a part of the page."""
    return re.findall(r"<dt[^>]*>([^<]*)</dt>\s*<dd[^>]*>([^<]*)</dd>", part)


def test_monitoring_and_model_print_words_not_keys_or_booleans(report_data):
    drift = dataclasses.replace(NO_DRIFT, drift=True, since=pd.Timestamp("2024-02-12"))
    monitoring = dataclasses.replace(
        report_data.monitoring, drift=drift, top_quantile={"hit_rate": 0.6}
    )
    model = dataclasses.replace(
        report_data.model_info,
        metadata={"data_source": "bundled", "seed": 42, "cv_ic": 0.03, "members": [{"a": 1}]},
    )
    html = render_daily_report(
        dataclasses.replace(report_data, monitoring=monitoring, model_info=model)
    )
    pairs = listed(section(html, "Monitoring")) + listed(section(html, "Model"))

    assert ("Live IC measured on", "published signals") in pairs
    assert ("Live IC below the alert threshold", "No") in pairs
    assert ("Rolling IC below the drift threshold", "Yes") in pairs
    assert ("Symbols with every feature today", "100.0%") in pairs
    assert ("Training data from", "\u2014") in pairs  # not recorded
    assert ("Data source", "bundled") in pairs
    assert ("Random seed", "42") in pairs
    assert words("model_ic_days") == "Model IC days"  # an unknown key spelled out
    assert "CV IC" not in [term for term, _ in pairs]  # the model lists its provenance only
    for term, value in pairs:
        assert "_" not in term and not term[:1].islower(), term
        assert value not in ("True", "False", "None", "nan"), (term, value)


# ----------------------------------------------------------------------------- tear sheet


TEAR_ALTS = {
    "growth": 'alt="Cumulative return and drawdowns"',
    "rolling": 'alt="Rolling 6-month Sharpe ratio, volatility and beta"',
    "calendar": 'alt="Monthly returns, yearly returns and daily-return histogram"',
}


def tear(html: str) -> str:
    start = html.index('<section id="tear-sheet">')
    return html[start : html.index("</section>", start)]


def test_tear_sheet_shows_what_thirty_run_dates_allow_and_counts_down_the_rest(html):
    sheet = tear(html)
    found = tables(html)

    assert "<h2>Paper account tear sheet</h2>" in sheet
    assert found["tear-headline"][0] == ["", "Since inception"]
    assert found["tear-headline"][1] == ["Statistic", "Account", "Benchmark"]
    assert [row[0] for row in found["tear-headline"][2:]] == list(LABELS.values())
    assert "Last 3 months columns: needs" in sheet and "Last 12 months columns: needs" in sheet
    assert "Rolling 6-month Sharpe ratio, volatility and beta: needs 118 more sessions" in sheet
    assert TEAR_ALTS["growth"] in sheet and TEAR_ALTS["calendar"] in sheet
    assert TEAR_ALTS["rolling"] not in sheet
    assert found["tear-drawdowns"][0][:4] == ["Rank", "Start (peak)", "Trough", "Recovery"]


def test_two_years_of_history_fill_the_tear_sheet_with_the_benchmark_over_the_whole_life(
    report_data,
):
    rng = np.random.default_rng(3)
    dates = pd.bdate_range("2022-01-03", "2024-02-23")
    closes = pd.Series(4000 * np.exp(np.cumsum(rng.normal(0, 0.01, len(dates)))), dates)
    equity = pd.Series(1e6 * np.exp(np.cumsum(rng.normal(0, 0.008, len(dates)))), dates)
    two_years = dataclasses.replace(
        report_data, equity_curve=equity, benchmark=closes.iloc[-60:], benchmark_history=closes
    )
    html = render_daily_report(two_years)
    sheet = tear(html)
    headline = tables(html)["tear-headline"]

    assert headline[0] == ["", "Since inception", "Last 3 months", "Last 12 months"]
    life = f"{len(dates) - 1:,}"
    assert headline[-1][:3] == ["Sessions", life, life]  # benchmark_history, not the last 60
    for alt in TEAR_ALTS.values():
        assert alt in sheet
    assert "needs" not in sheet
    for encoded in PNG_URI.findall(sheet):
        assert base64.b64decode(encoded).startswith(b"\x89PNG\r\n\x1a\n")
    assert html == render_daily_report(copy.deepcopy(two_years))


def test_a_first_run_says_what_each_part_of_the_tear_sheet_needs(report_data):
    first = pd.Series([1_000_000.0], index=[pd.Timestamp("2024-02-23")])
    sheet = tear(render_daily_report(dataclasses.replace(report_data, equity_curve=first)))

    assert "Headline statistics: needs 2 more sessions" in sheet
    assert "Cumulative return and drawdowns: needs 2 more sessions" in sheet
    calendar = "Monthly returns, yearly returns and daily-return histogram: needs 1 more session"
    assert calendar in sheet
    assert "<img" not in sheet and 'id="tear-headline"' not in sheet


def test_safety_checks_are_named_in_words(report_data):
    verdict = SafetyVerdict(
        [
            Check("weights_defined", True, "every weight is a number"),
            Check("kill_switch", True, "last daily return -0.9%"),
            Check("liquidity_floor", True, "a check the page has no title for"),
        ]
    )
    page = render_daily_report(dataclasses.replace(report_data, verdict=verdict))
    names = re.findall(r'<span class="name wrap">([^<]*)</span>', section(page, "Safety checks"))

    assert names == ["Every weight defined", "Kill switch", "Liquidity floor"]
