"""The daily report: one self-contained HTML page for one trading session.

Implements `DailyReportData` (everything the page shows, gathered by the caller) and
`render_daily_report` (the page as a string). The page has no external assets and no JavaScript;
charts are inline base64 PNGs.
The paper account's tear sheet at the end of the page is `tear_sheet.tear_sheet` (statistics,
figures, and what each part still needs), laid out by templates/_tear_sheet.html.
When the kill switch has halted trading, a banner at the top says since when, why, and the command
that releases it. Every string from the data is HTML-escaped by the template engine
(jinja2 autoescape), including symbols, model metadata, warnings and safety violations.

Numbers are formatted here, with `trading_core.reporting.formatting` (thousands separators,
weights as percent; each trade row by `trades_table.trade_row`, as the Prefect artifact shows
it), so the template only lays them out. The output depends on the input only: no clock, no
locale, no random state, so the same data renders to the same bytes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pandas as pd

from trading_core.reporting import plots
from trading_core.reporting.formatting import (
    DASH,
    finite_number,
    money,
    percent,
    plain_text,
)
from trading_core.reporting.tear_sheet import tear_sheet
from trading_core.reporting.templating import environment as _environment
from trading_core.reporting.trades_table import as_recorded, trade_row
from trading_core.turnover import one_way_turnover

TEMPLATE_NAME = "daily_report.html"
TOP_SCORES = 10
_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_REGIME_CSS = {"risk-off": "risk-off", "normal": "normal", "risk-on": "risk-on"}
BLOCKED_TRADES = "Trades \u2014 blocked, nothing applied"


@dataclass(frozen=True)
class DailyReportData:
    """Everything the daily report shows for one session; weights and changes are fractions.

    `model` keys read: `name`, `trained_through`, `features` (a count or the list of names),
    `metadata` (a dict); other keys are listed as they are. `safety` keys: `passed`, `violations`,
    `checks` ({name, passed, detail}). `monitoring` keys: `live_ic`, `live_ic_sessions`,
    `ic_series` (date -> daily rank IC), `notes`, and optionally `live_ic_reason` (why the live IC
    is unknown), `drift` ({window, threshold, rolling_ic, sessions, drift, since}); other scalar
    keys are listed as they are. `kill_switch` is `KillSwitchStatus.to_dict()` (keys `engaged`,
    `engaged_since`, `engaged_reason`, `triggered`, `reason`, `daily_return`, `rolling_sharpe`,
    `detail`), None when it was not read. `equity_curve` is the account value per run date, this
    session's last (one point on the first run); `benchmark_history` the benchmark's closes over
    the account's life, for the tear sheet (None: `benchmark` is used). `ledger_status` is what
    the paper account recorded for the run: `applied`, `proposed` (awaiting approval) or
    `blocked`; None when the run was not recorded (its trades are then only "ready"). `dry_run`
    means only that no broker is involved.
    """

    run_date: date
    generated_by: str
    dry_run: bool
    regime: str
    regime_source: str
    exposure: float
    model: dict[str, object]
    scores: pd.Series
    weights: pd.DataFrame
    trades: pd.DataFrame
    safety: dict[str, object]
    monitoring: dict[str, object]
    warnings: list[str]
    benchmark: pd.Series | None
    regime_history: pd.Series | None
    portfolio_value: float
    notes: list[str] = field(default_factory=list)
    kill_switch: dict[str, object] | None = None
    equity_curve: pd.Series | None = None
    ledger_status: str | None = None
    benchmark_history: pd.Series | None = None


def render_daily_report(data: DailyReportData) -> str:
    """Self-contained HTML (no external assets, no JavaScript, plots inline as base64 PNG)."""
    trades = _trades(as_recorded(data.trades, data.ledger_status))
    portfolio = _portfolio(data.weights)
    kill = _kill_switch(data.kill_switch)
    equity = _equity(data.equity_curve)
    context = {
        "title": f"alphapilot daily report {data.run_date.isoformat()}",
        "run_date": data.run_date.isoformat(),
        "weekday": _WEEKDAYS[data.run_date.weekday()],
        "generated_by": str(data.generated_by),
        "dry_run": bool(data.dry_run),
        "verdict": _verdict(data, _proposed(trades["rows"]), kill),
        "kill": kill,
        "equity": equity,
        "figures": _key_figures(data, trades, portfolio, equity),
        "warnings": [str(w) for w in data.warnings],
        "notes": [str(n) for n in data.notes],
        "trades": trades,
        "portfolio": portfolio,
        "scores": _scores(data.scores, data.weights),
        "checks": _checks(data.safety),
        "monitoring": _monitoring(data.monitoring),
        "model": _model(data.model),
        "charts": _charts(data, kill),
        "tear": tear_sheet(
            data.equity_curve,
            data.benchmark if data.benchmark_history is None else data.benchmark_history,
            data.regime_source,
        ),
    }
    return _environment().get_template(TEMPLATE_NAME).render(context)


# ----------------------------------------------------------------------------- sections


def _proposed(rows: list[dict[str, object]]) -> int:
    """Trades that go ahead: status `proposed` or `applied`, or no status given at all."""
    return sum(1 for row in rows if row["status"] in ("proposed", "applied", "", DASH))


def _verdict(data: DailyReportData, n_trades: int, kill: dict[str, object]) -> dict[str, object]:
    """Banner: blocked (with the violations), or what the run did to the paper account.

    Applied to it, awaiting approval (with the command), or only ready when the run was not
    recorded. A halted kill switch blocks even when the safety record says passed (it should not).
    """
    safety = data.safety
    violations = [str(v) for v in _as_list(safety.get("violations"))]
    failed_checks = [
        f"{c['name']}: {c['detail']}" if c["detail"] else c["name"]
        for c in _checks(safety)
        if not c["passed"]
    ]
    if "passed" not in safety:
        return {
            "kind": "blocked",
            "headline": "BLOCKED \u2014 no safety verdict was recorded",
            "detail": "Do not apply these trades until the safety checks have run.",
            "items": violations or failed_checks,
            "trades_title": BLOCKED_TRADES,
        }
    if not _is_true(safety.get("passed")) or violations:
        return {
            "kind": "blocked",
            "headline": "BLOCKED \u2014 the safety checks failed",
            "detail": "Nothing was applied to the paper account, and nothing may be until every "
            "violation below is resolved.",
            "items": violations or failed_checks or ["no violation was listed; see the checks"],
            "trades_title": BLOCKED_TRADES,
        }
    if kill["halted"]:
        return {
            "kind": "blocked",
            "headline": "BLOCKED \u2014 trading is halted by the kill switch",
            "detail": "Nothing was applied to the paper account, and nothing may be until the "
            "kill switch is released.",
            "items": [],
            "trades_title": BLOCKED_TRADES,
        }
    broker = " Paper trading: no broker is involved." if data.dry_run else ""
    if n_trades == 0:
        return {
            "kind": "idle",
            "headline": "No trades \u2014 the portfolio is on target",
            "detail": "All safety checks passed; nothing to apply to the paper account." + broker,
            "items": [],
            "trades_title": "Trades",
        }
    trades = f"{n_trades} {'trade' if n_trades == 1 else 'trades'}"
    if data.ledger_status == "proposed":
        approve = f"alphapilot approve --date {data.run_date.isoformat()}"
        return {
            "kind": "pending",
            "headline": f"{trades} awaiting approval",
            "detail": "All safety checks passed. Nothing is applied to the paper account until "
            f"you run `{approve}`." + broker,
            "items": [],
            "trades_title": "Trades awaiting approval",
        }
    if data.ledger_status == "applied":
        return {
            "kind": "ready",
            "headline": f"{trades} applied to the paper account",
            "detail": "All safety checks passed." + broker,
            "items": [],
            "trades_title": "Trades applied to the paper account",
        }
    return {
        "kind": "ready",
        "headline": f"{trades} ready",
        "detail": "All safety checks passed." + broker,
        "items": [],
        "trades_title": "Trades",
    }


def _key_figures(
    data: DailyReportData,
    trades: dict[str, object],
    portfolio: dict[str, object],
    equity: dict[str, object],
) -> list[dict[str, str]]:
    exposure = finite_number(data.exposure)
    cash = None if exposure is None else 1.0 - exposure
    value = finite_number(data.portfolio_value)
    cost = trades["cost_total"]
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
            "value": f"{len(trades['rows']):,}",
            "css": "",
            "sub": f"{trades['n_buy']:,} buy \u00b7 {trades['n_sell']:,} sell",
            "sub2": f"positions {portfolio['n_current']:,} \u2192 {portfolio['n_target']:,}",
        },
        {
            "label": "Turnover",
            "value": percent(trades["turnover"], 1),
            "css": "",
            "sub": "one-way, \u00bd \u03a3|weight change|",
            "sub2": f"{money(trades['notional_total'], 0)} traded",
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
            "sub": equity["figure_sub"],
            "sub2": "",
        },
    ]


_KILL_REASONS = {
    "daily_loss": "a daily loss larger than the limit",
    "rolling_sharpe": "the rolling Sharpe ratio fell below the minimum",
}
RESUME_COMMAND = 'alphapilot resume --reason "why trading may resume"'


def _kill_switch(kill: dict[str, object] | None) -> dict[str, object]:
    """The halt banner (since, why, how to release) and today's reading for the safety section.

    Halted when `engaged` is True or an `engaged_since` date is given (as `KillSwitchStatus`).
    """
    if kill is None:
        return {"known": False, "halted": False}
    since = kill.get("engaged_since")
    halted = _is_true(kill.get("engaged")) or since is not None
    triggered = _is_true(kill.get("triggered"))
    today_reason = plain_text(kill.get("reason"), "")
    sharpe = kill.get("rolling_sharpe")
    return {
        "known": True,
        "halted": halted,
        "since": _scalar(since) if since is not None else "an unrecorded date",
        "since_date": since,
        "why": _kill_reason(kill.get("engaged_reason")),
        "resume": RESUME_COMMAND,
        "triggered": triggered,
        "status": f"TRIPPED on {_kill_reason(today_reason)}" if triggered else "not tripped",
        "daily_return": (
            percent(finite_number(kill.get("daily_return")), 2, signed=True)
            if finite_number(kill.get("daily_return")) is not None
            else "none yet (needs two account values)"
        ),
        "rolling_sharpe": _sharpe(sharpe),
        "detail": plain_text(kill.get("detail"), ""),
    }


def _kill_reason(reason: object) -> str:
    code = plain_text(reason, "")
    if not code:
        return "no reason recorded"
    text = _KILL_REASONS.get(code)
    return f"{text} ({code})" if text else code


def _sharpe(value: object) -> str:
    """A Sharpe ratio to two decimals; +/- infinity for a window of equal returns."""
    number = finite_number(value)
    if number is not None:
        return f"{number:.2f}"
    if isinstance(value, (float, np.floating)) and math.isinf(value):
        return "+\u221e" if value > 0 else "\u2212\u221e"
    return "not judged yet (too few returns, or no variation)"


def _equity(curve: pd.Series | None) -> dict[str, object]:
    """Account history figures: start, latest, total return, drawdowns; a sentence when too short."""
    values = plots.clean_series(curve)
    if len(values) < 2:
        when = f" ({values.index[-1]:%Y-%m-%d})" if len(values) else ""
        return {
            "points": len(values),
            "sentence": (
                f"The account history starts today{when}: equity curve and drawdown appear "
                "from the next run on."
            ),
            "rows": [],
            "figure_sub": "",
        }
    peak = values.cummax()
    drawdown = values / peak - 1.0
    worst = drawdown.idxmin()
    current = float(drawdown.iloc[-1])
    rows = [
        ("Start", f"{values.index[0]:%Y-%m-%d}: {money(float(values.iloc[0]), 0)}"),
        ("Latest", f"{values.index[-1]:%Y-%m-%d}: {money(float(values.iloc[-1]), 0)}"),
        ("Total return", percent(float(values.iloc[-1] / values.iloc[0] - 1.0), 2, signed=True)),
        ("Peak", f"{peak.idxmax():%Y-%m-%d}: {money(float(peak.max()), 0)}"),
        ("Current drawdown", percent(current, 2)),
        ("Max drawdown", f"{percent(float(drawdown.min()), 2)} on {worst:%Y-%m-%d}"),
        ("Run dates", f"{len(values):,}"),
    ]
    return {
        "points": len(values),
        "sentence": "",
        "rows": [{"key": k, "value": v} for k, v in rows],
        "figure_sub": "at its peak" if current >= 0 else f"{percent(-current, 1)} below its peak",
    }


def _trades(trades: pd.DataFrame | None) -> dict[str, object]:
    """Formatted trade rows (caller's order) and totals; missing columns show as a dash."""
    frame = trades if trades is not None else pd.DataFrame()
    rows = []
    for record in frame.to_dict("records"):
        row = trade_row(record)
        change = finite_number(record.get("weight_change")) or 0.0
        side_css = {"BUY": "buy", "SELL": "sell"}.get(row["side"], "other")
        rows.append({**row, "side_css": side_css, "weight_change_css": _sign_css(change)})
    sides = frame["side"].astype(str).str.upper() if "side" in frame.columns else pd.Series()
    return {
        "rows": rows,
        "n_buy": int((sides == "BUY").sum()),
        "n_sell": int((sides == "SELL").sum()),
        "turnover": _turnover(frame),
        "notional_total": _column_sum(frame, "notional", absolute=True),
        "cost_total": _cost_total(frame),
        "totals": {
            "notional": money(_column_sum(frame, "notional", absolute=True), 2),
            "weight_change": percent(_column_sum(frame, "weight_change", absolute=True), 2),
            "cost": money(_cost_total(frame), 2),
        },
    }


def _portfolio(weights: pd.DataFrame | None) -> dict[str, object]:
    """Current vs target rows for symbols held now or in the target, largest target first."""
    frame = plots.clean_weights(weights if weights is not None else pd.DataFrame())
    held = frame[(frame["current_weight"] != 0) | (frame["target_weight"] != 0)].copy()
    held["symbol"] = [str(s) for s in held.index]
    held = held.sort_values(
        ["target_weight", "current_weight", "symbol"],
        ascending=[False, False, True],
        kind="mergesort",
    )
    rows = [
        {
            "symbol": row.symbol,
            "current": percent(row.current_weight, 2),
            "target": percent(row.target_weight, 2),
            "change": percent(row.target_weight - row.current_weight, 2, signed=True),
            "change_css": _sign_css(row.target_weight - row.current_weight),
            "bar": f"{min(100.0, abs(row.target_weight) * 100):.1f}",
        }
        for row in held.itertuples(index=False)
    ]
    current_cash = 1.0 - float(frame["current_weight"].sum())
    target_cash = 1.0 - float(frame["target_weight"].sum())
    return {
        "rows": rows,
        "n_current": int((frame["current_weight"] != 0).sum()),
        "n_target": int((frame["target_weight"] != 0).sum()),
        "cash": {
            "current": percent(current_cash, 2),
            "target": percent(target_cash, 2),
            "change": percent(target_cash - current_cash, 2, signed=True),
        },
    }


def _scores(scores: pd.Series | None, weights: pd.DataFrame | None) -> dict[str, object]:
    """Top and bottom scores (no symbol in both lists) with their target weight."""
    if scores is None:
        scores = pd.Series(dtype="float64")
    values = pd.to_numeric(pd.Series(scores), errors="coerce").astype("float64")
    missing = int(values.isna().sum())
    values = values.dropna()
    frame = pd.DataFrame({"score": values.to_numpy(), "symbol": [str(s) for s in values.index]})
    frame = frame.sort_values(["score", "symbol"], ascending=[False, True], kind="mergesort")
    frame = frame.reset_index(drop=True)
    target = {}
    if weights is not None and "target_weight" in weights.columns:
        target = {str(k): v for k, v in plots.clean_weights(weights)["target_weight"].items()}
    n = min(TOP_SCORES, (len(frame) + 1) // 2)

    def rows(part: pd.DataFrame) -> list[dict[str, str]]:
        return [
            {
                "rank": f"{rank + 1:,}",
                "symbol": row.symbol,
                "score": f"{row.score:.4f}",
                "target": percent(target.get(row.symbol, 0.0), 2) if target else DASH,
            }
            for rank, row in zip(part.index, part.itertuples(index=False), strict=False)
        ]

    top = frame.iloc[:n]
    bottom = frame.iloc[max(n, len(frame) - n) :].iloc[::-1]
    return {"top": rows(top), "bottom": rows(bottom), "count": len(frame), "missing": missing}


def _checks(safety: dict[str, object]) -> list[dict[str, object]]:
    checks = []
    for check in _as_list(safety.get("checks")):
        if isinstance(check, dict):
            name, passed, detail = check.get("name"), check.get("passed"), check.get("detail")
        else:
            name, passed, detail = check, None, None
        checks.append(
            {"name": plain_text(name), "passed": _is_true(passed), "detail": plain_text(detail, "")}
        )
    return checks


def _monitoring(monitoring: dict[str, object]) -> dict[str, object]:
    known = {"live_ic", "live_ic_sessions", "ic_series", "notes", "live_ic_reason", "drift"}
    ic = finite_number(monitoring.get("live_ic"))
    sessions = finite_number(monitoring.get("live_ic_sessions"))
    sessions_text = f"{int(sessions):,}" if sessions is not None else "0"
    if ic is not None:
        reason = ""
        headline = f"{ic:+.3f}"
        sub = f"rank IC of the live model over {sessions_text} sessions"
    else:
        headline = "not known yet"
        sub = f"{sessions_text} live sessions with realised returns"
        reason = plain_text(
            monitoring.get("live_ic_reason"),
            "The live IC needs sessions whose next-day returns are known; "
            "there are not enough of them yet.",
        )
    extra = [
        {"key": _words(key), "value": _worded(key, value)}
        for key, value in monitoring.items()
        if key not in known
        and value is not None
        and not isinstance(value, (pd.Series, pd.DataFrame, dict, list))
    ]
    return {
        "ic": headline,
        "ic_css": "" if ic is None else _sign_css(ic),
        "sub": sub,
        "reason": reason,
        "notes": [str(n) for n in _as_list(monitoring.get("notes"))],
        "extra": extra,
        "drift": _drift(monitoring.get("drift")),
    }


def _drift(drift: object) -> dict[str, str] | None:
    """The rolling IC the drift check read, its threshold and since when it has been below."""
    if not isinstance(drift, dict):
        return None
    window = finite_number(drift.get("window"))
    window_text = f"{int(window):,}-session" if window is not None else "rolling"
    needed = f"{int(window):,}" if window is not None else "enough"
    threshold = finite_number(drift.get("threshold"))
    rolling = finite_number(drift.get("rolling_ic"))
    sessions = finite_number(drift.get("sessions"))
    if rolling is None:
        have = f"{int(sessions):,}" if sessions is not None else "too few"
        state = f"not judged yet: needs {needed} daily ICs, has {have}"
        css = ""
    elif _is_true(drift.get("drift")):
        since = drift.get("since")
        state = "DRIFT: below the threshold" + (f" since {_scalar(since)}" if since else "")
        css = "neg"
    else:
        state = "at or above the threshold"
        css = "pos"
    return {
        "label": f"{window_text} mean IC",
        "value": DASH if rolling is None else f"{rolling:+.3f}",
        "threshold": DASH if threshold is None else f"{threshold:+.3f}",
        "state": state,
        "css": css,
    }


def _model(model: dict[str, object]) -> dict[str, object]:
    features = model.get("features")
    if isinstance(features, (list, tuple, set, frozenset, pd.Index)):
        n_features = f"{len(features):,}"
    elif finite_number(features) is not None:
        n_features = f"{int(finite_number(features)):,}"
    else:
        n_features = plain_text(features)
    metadata = model.get("metadata")
    rows = []
    if isinstance(metadata, dict):
        rows = [{"key": _words(k), "value": _worded(k, v)} for k, v in metadata.items()]
    elif metadata is not None:
        rows = [{"key": "Metadata", "value": _scalar(metadata)}]
    known = {"name", "trained_through", "features", "metadata"}
    rows = [
        {"key": _words(k), "value": _worded(k, v)} for k, v in model.items() if k not in known
    ] + rows
    return {
        "name": plain_text(model.get("name")),
        "trained_through": _scalar(model.get("trained_through")),
        "features": n_features,
        "metadata": rows,
    }


def _charts(data: DailyReportData, kill: dict[str, object]) -> dict[str, dict[str, str | None]]:
    """Each chart as a data URI, or the reason there is none."""
    ic_series = data.monitoring.get("ic_series")
    if not isinstance(ic_series, pd.Series):
        ic_series = None
    drift = data.monitoring.get("drift")
    drift = drift if isinstance(drift, dict) else {}
    window = finite_number(drift.get("window"))
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
                ic_series,
                window=int(window) if window and window >= 1 else plots.IC_ROLLING_WINDOW,
                threshold=finite_number(drift.get("threshold")),
                below_since=drift.get("since") if _is_true(drift.get("drift")) else None,
            ),
            "No chart: there is no daily IC history yet.",
        ),
        "equity": (
            plots.equity_chart(
                data.equity_curve, kill.get("since_date") if kill["halted"] else None
            ),
            "",
        ),
    }
    return {
        name: {"uri": plots.png_data_uri(png), "reason": None if png else reason}
        for name, (png, reason) in charts.items()
    }


# ----------------------------------------------------------------------------- formatting


# Words for the monitoring and model keys a run records; other keys are spelled out by `_words`.
KEY_WORDS = {
    "live_ic_source": "Live IC measured on",
    "ic_alert": "Live IC below the alert threshold",
    "ic_drift": "Rolling IC below the drift threshold",
    "feature_coverage": "Symbols with every feature today",
    "train_start": "Training data from",
    "data_source": "Data source",
    "seed": "Random seed",
}
_PERCENT_KEYS = {"feature_coverage"}
_ACRONYMS = {"ic": "IC", "cv": "CV", "id": "ID", "ml": "ML"}


def _words(key: object) -> str:
    """A key as a reader says it: `KEY_WORDS`, else snake_case spelled out ("cv_ic" -> "CV IC")."""
    text = str(key)
    if text in KEY_WORDS:
        return KEY_WORDS[text]
    phrase = " ".join(_ACRONYMS.get(word.lower(), word) for word in text.split("_") if word)
    return phrase[:1].upper() + phrase[1:] if phrase else DASH


def _worded(key: object, value: object) -> str:
    """The value of a listed key: a share as a percentage, anything else as `_scalar` shows it."""
    if key in _PERCENT_KEYS:
        return percent(finite_number(value), 1)
    return _scalar(value)


def _scalar(value: object) -> str:
    """A value in words: Yes/No for booleans, ISO dates, floats to 6 significant digits."""
    if isinstance(value, (bool, np.bool_)):
        return "Yes" if value else "No"
    if isinstance(value, (date, pd.Timestamp)):
        return value.isoformat()[:10] if _is_midnight(value) else str(value)
    if isinstance(value, float):
        return f"{value:,.6g}" if math.isfinite(value) else str(value)
    if isinstance(value, (list, tuple)):
        return ", ".join(str(v) for v in value)
    return plain_text(value)


def _is_midnight(value: date | pd.Timestamp) -> bool:
    stamp = pd.Timestamp(value)
    return stamp == stamp.normalize()


def _sign_css(value: float) -> str:
    if value > 5e-7:
        return "pos"
    if value < -5e-7:
        return "neg"
    return ""


def _is_true(value: object) -> bool:
    """Only a real boolean True passes; "False", 1 or None never read as a pass."""
    return isinstance(value, (bool, np.bool_)) and bool(value)


def _as_list(value: object) -> list[object]:
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return list(value)
    return [value]


def _column_sum(frame: pd.DataFrame, column: str, absolute: bool = False) -> float | None:
    if column not in frame.columns or frame.empty:
        return 0.0 if frame.empty else None
    values = pd.to_numeric(frame[column], errors="coerce").astype("float64")
    if values.isna().all():
        return None
    return float((values.abs() if absolute else values).sum())


def _turnover(frame: pd.DataFrame) -> float | None:
    """One-way turnover (½ Σ|weight change|) of the rows that trade or were blocked, not skipped."""
    if frame.empty:
        return 0.0
    if "weight_change" not in frame.columns:
        return None
    traded = frame
    if "status" in frame.columns:
        traded = frame[~frame["status"].astype(str).str.startswith("skipped")]
    changes = pd.to_numeric(traded["weight_change"], errors="coerce")
    if len(changes) and changes.isna().all():
        return None
    return one_way_turnover(changes.dropna())


def _cost_total(frame: pd.DataFrame) -> float | None:
    parts = [_column_sum(frame, c) for c in ("commission_est", "slippage_est")]
    if all(p is None for p in parts):
        return None
    return sum(p for p in parts if p is not None)
