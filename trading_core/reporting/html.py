"""The daily report: one self-contained HTML page for one trading session.

Implements `DailyReportData` (everything the page shows: the run's own results, typed as the
domain produced them) and `render_daily_report` (the page as a string). The page has no external
assets and no JavaScript; charts are inline base64 PNGs.

Each section's view model is built from those results by `daily_safety` (the verdict banner and
the kill switch), `daily_tables` (trades, target portfolio, scores, account history) and
`daily_sections` (monitoring, model); this module adds the key figures and the charts. The paper
account's tear sheet at the end of the page is `tear_sheet.tear_sheet`, laid out by
templates/_tear_sheet.html. When the kill switch has halted trading, a banner at the top says since
when, why, and the command that releases it. Every string from the data is HTML-escaped by the
template engine (jinja2 autoescape), including symbols, model metadata, warnings and safety
violations.

Numbers are formatted in the view models, with `trading_core.reporting.formatting` (thousands
separators, weights as percent; each trade row by `trades_table.trade_row`, as the Prefect
artifact shows it), so the template only lays them out. The output depends on the input only: no
clock, no locale, no random state, so the same data renders to the same bytes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import pandas as pd

from trading_core.live.kill_switch import KillSwitchStatus
from trading_core.live.monitoring_report import MonitoringReport
from trading_core.live.safety_checks import SafetyVerdict
from trading_core.ml.model_info import ModelInfo
from trading_core.reporting import plots
from trading_core.reporting.daily_safety import check_rows, kill_switch_view, verdict_banner
from trading_core.reporting.daily_sections import model_view, monitoring_view
from trading_core.reporting.daily_tables import (
    AccountHistory,
    PortfolioView,
    TradesView,
    account_history,
    portfolio_view,
    scores_view,
    trades_view,
)
from trading_core.reporting.formatting import finite_number, money, percent
from trading_core.reporting.tear_sheet import tear_sheet
from trading_core.reporting.templating import environment as _environment
from trading_core.reporting.trades_table import as_recorded

TEMPLATE_NAME = "daily_report.html"
_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_REGIME_CSS = {"risk-off": "risk-off", "normal": "normal", "risk-on": "risk-on"}


@dataclass(frozen=True)
class DailyReportData:
    """Everything the daily report shows for one session; weights and changes are fractions.

    `verdict`, `kill_switch` and `model_info` are the run's own objects (`kill_switch` None when
    it was not read). `monitoring` is the `MonitoringReport` of `OpsMonitor.report` (the live
    IC, notes and drift check have their own places; its other scalar figures are listed in
    words) and `ic_series` the daily rank IC it was computed from. `equity_curve` is the account value per run date, this session's last (one
    point on the first run); `benchmark_history` the benchmark's closes over the account's life,
    for the tear sheet (None: `benchmark` is used). `ledger_status` is what the paper account
    recorded for the run: `applied`, `proposed` (awaiting approval) or `blocked`; None when the
    run was not recorded (its trades are then only "ready"). `dry_run` means only that no broker
    is involved.
    """

    run_date: date
    generated_by: str
    dry_run: bool
    regime: str
    regime_source: str
    exposure: float
    model_info: ModelInfo
    scores: pd.Series
    weights: pd.DataFrame
    trades: pd.DataFrame
    verdict: SafetyVerdict
    monitoring: MonitoringReport
    warnings: list[str]
    benchmark: pd.Series | None
    regime_history: pd.Series | None
    portfolio_value: float
    notes: list[str] = field(default_factory=list)
    kill_switch: KillSwitchStatus | None = None
    ic_series: pd.Series | None = None
    equity_curve: pd.Series | None = None
    ledger_status: str | None = None
    benchmark_history: pd.Series | None = None


def render_daily_report(data: DailyReportData) -> str:
    """Self-contained HTML (no external assets, no JavaScript, plots inline as base64 PNG)."""
    trades = trades_view(as_recorded(data.trades, data.ledger_status))
    portfolio = portfolio_view(data.weights)
    equity = account_history(data.equity_curve)
    banner = verdict_banner(
        data.verdict,
        data.kill_switch,
        trades.going_ahead,
        data.ledger_status,
        data.run_date,
        data.dry_run,
    )
    context = {
        "title": f"alphapilot daily report {data.run_date.isoformat()}",
        "run_date": data.run_date.isoformat(),
        "weekday": _WEEKDAYS[data.run_date.weekday()],
        "generated_by": str(data.generated_by),
        "dry_run": bool(data.dry_run),
        "verdict": banner,
        "kill": kill_switch_view(data.kill_switch),
        "equity": equity,
        "figures": _key_figures(data, trades, portfolio, equity),
        "warnings": [str(w) for w in data.warnings],
        "notes": [str(n) for n in data.notes],
        "trades": trades,
        "portfolio": portfolio,
        "scores": scores_view(data.scores, data.weights),
        "checks": check_rows(data.verdict),
        "monitoring": monitoring_view(data.monitoring),
        "model": model_view(data.model_info),
        "charts": _charts(data),
        "tear": tear_sheet(
            data.equity_curve,
            data.benchmark if data.benchmark_history is None else data.benchmark_history,
            data.regime_source,
        ),
    }
    return _environment().get_template(TEMPLATE_NAME).render(context)


def _key_figures(
    data: DailyReportData, trades: TradesView, portfolio: PortfolioView, equity: AccountHistory
) -> list[dict[str, str]]:
    """The five cards under the banner: regime, trades, turnover, costs, portfolio value."""
    exposure = finite_number(data.exposure)
    cash = None if exposure is None else 1.0 - exposure
    value = finite_number(data.portfolio_value)
    cost = trades.cost_total
    cost_sub = "commission + slippage"
    if cost is not None and value:
        cost_sub = f"{cost / value * 1e4:,.1f} bps of portfolio value"
    return [
        {
            "label": "Regime",
            "value": str(data.regime),
            "css": _REGIME_CSS.get(str(data.regime).strip().lower(), ""),
            "sub": f"{percent(exposure, 0)} invested \u00b7 {percent(cash, 0)} cash",
            "sub2": f"measured on {data.regime_source}",
        },
        {
            "label": "Trades",
            "value": f"{trades.n_buy + trades.n_sell:,}",
            "css": "",
            "sub": f"{trades.n_buy:,} buy \u00b7 {trades.n_sell:,} sell"
            + (f" \u00b7 {trades.n_skipped:,} skipped" if trades.n_skipped else ""),
            "sub2": f"positions {portfolio.n_current:,} \u2192 {portfolio.n_target:,}",
        },
        {
            "label": "Turnover",
            "value": percent(trades.turnover, 1),
            "css": "",
            "sub": "one-way, \u00bd \u03a3|weight change|",
            "sub2": f"{money(trades.notional_total, 0)} traded",
        },
        {
            "label": "Estimated costs",
            "value": money(cost, 0 if cost is not None and abs(cost) >= 1000 else 2),
            "css": "",
            "sub": cost_sub,
            "sub2": "",
        },
        {
            "label": "Portfolio value",
            "value": money(value, 0),
            "css": "",
            "sub": equity.figure_sub,
            "sub2": "",
        },
    ]


def _charts(data: DailyReportData) -> dict[str, dict[str, str | None]]:
    """Each chart as a data URI, or the reason there is none."""
    drift = data.monitoring.drift
    kill = data.kill_switch  # halted since `engaged_since`, None when not halted
    regime_reason = "No chart: no benchmark closes were supplied."
    if data.regime_source:
        regime_reason += f" The regime was measured on: {data.regime_source}."
    charts = {
        "regime": (
            plots.regime_chart(data.benchmark, data.regime_history),
            regime_reason,
        ),
        "weights": (
            plots.weights_chart(data.weights),
            "No chart: no symbol is held now or in the target portfolio.",
        ),
        "ic": (
            plots.ic_chart(
                data.ic_series,
                window=drift.window if drift.window >= 1 else plots.IC_ROLLING_WINDOW,
                threshold=finite_number(drift.threshold),
                below_since=drift.since if drift.drift else None,
            ),
            "No chart: there is no daily IC history yet.",
        ),
        "equity": (
            plots.equity_chart(data.equity_curve, kill.engaged_since if kill else None),
            "",
        ),
    }
    return {
        name: {"uri": plots.png_data_uri(png), "reason": None if png else reason}
        for name, (png, reason) in charts.items()
    }
