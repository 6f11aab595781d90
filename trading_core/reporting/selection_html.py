"""The model selection report as one self-contained HTML page.

Implements `selection_report_html`: the selection's outcome (`reporting.selection_outcome`)
laid out by the jinja2 template `templates/selection_report.html`, in the daily report's style and
through the same environment (`reporting.templating`: autoescape, so every model, optimizer and
error text is shown as text). Reading order: the outcome, with each ranked combination's verdict
and the thresholds it failed (said once, here); key figures; the Sharpe matrix; the ranking with
its score breakdown; the deflated Sharpe ratio; the regime table; the equity figures; the factor
tear sheet of the featured model and every candidate's factor row (when given, see
`reporting.factor_report`); failed combinations. Figures are embedded as base64 PNG data URIs;
no JavaScript, no external assets; numbers are formatted here (`reporting.selection_text`, the
markdown report's words), and the same input gives the same bytes.
"""

from __future__ import annotations

from collections.abc import Mapping

from trading_core.reporting.factor_report import FactorEvidence, factor_context
from trading_core.reporting.plots import png_data_uri
from trading_core.reporting.selection_outcome import SelectionOutcome
from trading_core.reporting.selection_text import (
    CRITERION_TITLES,
    DSR_MEANING,
    RAW_FORMATS,
    against_baseline,
    deflated_facts,
    fills,
    matrix_sharpe,
    number,
    same_targets,
    scored_lower,
)
from trading_core.reporting.templating import environment
from trading_core.selection.scoring import CRITERIA
from trading_core.turnover import DEFINITION as TURNOVER_DEFINITION

TEMPLATE_NAME = "selection_report.html"


def selection_report_html(
    outcome: SelectionOutcome,
    figures: Mapping[str, bytes],
    title: str,
    factors: FactorEvidence | None = None,
) -> str:
    """The page; `figures` maps each figure's description (its alt text) to its PNG."""
    context = {
        "title": title,
        "brand": "model selection",
        "heading": f"Model selection {outcome.selected_on:%Y-%m-%d}",
        "caveat": outcome.caveat,
        "verdict": _verdict(outcome),
        "key_figures": _key_figures(outcome),
        "rules": outcome.rules(),
        "verdicts": _verdicts(outcome),
        "unranked": len(outcome.grid.failures),
        "matrix": _matrix(outcome),
        "ranking": _ranking(outcome),
        "turnover_definition": TURNOVER_DEFINITION,
        "deflated": _deflated(outcome),
        "regimes": _regimes(outcome),
        "figures": [{"alt": alt, "uri": png_data_uri(png)} for alt, png in figures.items()],
        "factor": None if factors is None else factor_context(factors, _featured(outcome)),
        "failed": [
            {"name": outcome.key(m, o), "error": error}
            for (m, o), error in outcome.grid.failures.items()
        ],
    }
    return environment().get_template(TEMPLATE_NAME).render(context)


def _verdict(outcome: SelectionOutcome) -> dict[str, object]:
    """The headline: who won and why, or why nothing was promoted; then the fill convention."""
    champion = outcome.selection.champion
    lines = []
    if champion is None:
        kind, headline, reason = "pending", "No new champion", outcome.no_champion_reason()
    else:
        kind, headline, reason = "ready", f"Champion: {champion.name}", outcome.champion_reason()
        sharpe = champion.candidate.metrics.get("sharpe")
        lines.append(against_baseline(sharpe, outcome.baseline_sharpe))
    if outcome.execution is not None:
        lines.append(_fills(outcome, outcome.execution))
    return {"kind": kind, "headline": headline, "detail": _sentence(reason), "lines": lines}


def _fills(outcome: SelectionOutcome, execution: str) -> str:
    line = f"Fills: {fills(execution)}"
    sharpes, shown = outcome.sharpe_by_execution or {}, outcome.shown
    if shown is not None and sharpes:
        line += " " + same_targets(shown.name, sharpes, execution)
    return line


def _sentence(text: str) -> str:
    return f"{text[:1].upper()}{text[1:]}." if text else ""


def _key_figures(outcome: SelectionOutcome) -> list[dict[str, str]]:
    shown = outcome.shown
    who = "Champion" if shown is outcome.selection.champion else "Top-ranked"
    deflated = outcome.deflated.get(shown.name) if shown else None
    ranked = len(outcome.selection.ranking)
    return [
        {
            "label": f"{who} Sharpe",
            "value": number(shown.candidate.metrics.get("sharpe") if shown else None, ".2f"),
            "sub": shown.name if shown else "nothing ranked",
        },
        {
            "label": "Baseline Sharpe",
            "value": number(outcome.baseline_sharpe, ".2f"),
            "sub": "equal-weight buy-and-hold",
        },
        {
            "label": "Deflated Sharpe",
            "value": number(deflated.dsr if deflated else None, ".3f"),
            "sub": f"against the best of {outcome.trials} trials by luck",
        },
        {
            "label": "Combinations",
            "value": f"{ranked} ranked",
            "sub": f"{len(outcome.grid.failures)} failed to backtest",
        },
    ]


def _verdicts(outcome: SelectionOutcome) -> list[dict[str, object]]:
    """Each ranked combination once: champion, passed (and scored lower) or the thresholds failed."""
    champion = outcome.selection.champion
    rows = []
    for rank, e in enumerate(outcome.selection.ranking, 1):
        if e is champion:
            status, note = "champion", "passed every threshold, with the highest score"
        elif e.passed:
            status, note = "passed", scored_lower(champion.name) if champion else ""
        else:
            status, note = "failed", ""
        rows.append(
            {
                "rank": rank,
                "name": e.name,
                "score": f"{e.breakdown.total:.3f}",
                "status": status,
                "note": note,
                "reasons": list(e.failures),
            }
        )
    return rows


def _matrix(outcome: SelectionOutcome) -> dict[str, object]:
    models, optimizers = outcome.axes()
    champion = outcome.selection.champion
    rows = []
    for model in models:
        cells = [
            {
                "text": matrix_sharpe(outcome.matrix_cell((model, optimizer))),
                "champion": champion is not None and outcome.key(model, optimizer) == champion.name,
            }
            for optimizer in optimizers
        ]
        rows.append({"model": model, "cells": cells})
    return {"optimizers": optimizers, "rows": rows}


def _ranking(outcome: SelectionOutcome) -> dict[str, object]:
    weights = outcome.weights
    columns = [f"{CRITERION_TITLES[c]} (w {getattr(weights, c):.2f})" for c in CRITERIA]
    rows = []
    for rank, e in enumerate(outcome.selection.ranking, 1):
        criteria = []
        for name in CRITERIA:
            c = e.breakdown.criteria[name]
            criteria.append(
                {
                    "raw": number(c.raw, RAW_FORMATS[name]),
                    "normalized": f"{c.normalized:.2f}",
                    "contribution": f"{c.contribution:.3f}",
                }
            )
        rows.append(
            {
                "rank": rank,
                "name": e.name,
                "score": f"{e.breakdown.total:.3f}",
                "criteria": criteria,
                "annual_turnover": number(e.candidate.metrics.get("annual_turnover"), ".0%"),
                "champion": e is outcome.selection.champion,
                "passed": "yes" if e.passed else "no",
            }
        )
    return {"columns": columns, "rows": rows}


def _deflated(outcome: SelectionOutcome) -> dict[str, object]:
    shown = outcome.shown
    if shown is None:
        return {"missing": "Not computed: no combination completed its backtest."}
    who = "the champion" if shown is outcome.selection.champion else "the top-ranked combination"
    d = outcome.deflated.get(shown.name)
    if d is None:
        return {"missing": f"Not computed for {who}, {shown.name}."}
    return {
        "missing": None,
        "who": f"For {who}, {shown.name}:",
        "facts": deflated_facts(d),
        "meaning": DSR_MEANING.format(trials=d.trials),
        "note": d.note,
    }


def _regimes(outcome: SelectionOutcome) -> dict[str, object]:
    top = outcome.top()
    rows = [
        {
            "name": e.name,
            "regime": str(row["regime"]),
            "avg_return": number(row["avg_return"], ".3%"),
            "sharpe": number(row["sharpe"], ".2f"),
            "win_rate": number(row["win_rate"], ".1%"),
            "days": str(row["days"]),
        }
        for e in top
        for row in outcome.regimes(e.name)
    ]
    return {"top": len(top), "rows": rows}


def _featured(outcome: SelectionOutcome) -> str:
    """Why the factor tear sheet shows the model it shows (the caller chose it so)."""
    shown = outcome.shown
    if shown is None:
        return "The candidate with the best test-period rank IC (no combination completed)"
    if shown is outcome.selection.champion:
        return f"The model of the champion, {shown.name}"
    return f"The model of the top-ranked combination, {shown.name} (not promoted)"
