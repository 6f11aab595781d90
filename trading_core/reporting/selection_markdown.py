"""The model selection report in markdown: the outcome and why first, then the evidence.

Implements `selection_report`: the text of `model_selection_report.md` from a
`SelectionOutcome` (`reporting.selection_outcome`). Sections, in reading order: an optional
caveat; the outcome (the fill convention and what the delay costs, the champion and why, or why
nothing was promoted with each candidate's failed thresholds); the Sharpe matrix (the champion
in bold); the ranking with its score breakdown; each loser's verdict against the thresholds; the
deflated Sharpe ratio of the champion (or the top-ranked combination); the regime table of the
top combinations; links to the figures; failed combinations. Every untrusted string (model,
optimizer, error, reason, caveat) is escaped with `markdown_text`; the words are those of the
HTML page (`reporting.selection_text`), and the same input gives the same text.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from trading_core.reporting.markdown import markdown_table, markdown_text
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
from trading_core.selection.scoring import CRITERIA, Evaluation
from trading_core.turnover import DEFINITION as TURNOVER_DEFINITION


def selection_report(outcome: SelectionOutcome, figures: Mapping[str, str]) -> str:
    """The markdown report; `figures` maps each figure's file name to its description."""
    sections = [
        [f"# Model selection {outcome.selected_on:%Y-%m-%d}"],
        _caveat_section(outcome),
        _outcome_section(outcome),
        _matrix_section(outcome),
        _ranking_section(outcome),
        _failures_section(outcome),
        _deflated_section(outcome),
        _regime_section(outcome),
        _figures_section(figures),
        _failed_runs_section(outcome),
    ]
    return "\n\n".join("\n".join(lines) for lines in sections if lines) + "\n"


def _caveat_section(outcome: SelectionOutcome) -> list[str]:
    if not outcome.caveat:
        return []
    return ["## Caveat", "", markdown_text(outcome.caveat)]


def _execution_line(outcome: SelectionOutcome) -> list[str]:
    """One line a reader cannot miss: when the backtests fill, and what the delay costs."""
    if outcome.execution is None:
        return []
    line = f"**Fills:** {fills(outcome.execution)}"
    sharpes = outcome.sharpe_by_execution or {}
    shown = outcome.shown
    if shown is not None and sharpes:
        line += " " + same_targets(markdown_text(shown.name), sharpes, outcome.execution)
    return [line, ""]


def _outcome_section(outcome: SelectionOutcome) -> list[str]:
    champion = outcome.selection.champion
    lines = ["## Outcome", "", *_execution_line(outcome)]
    if champion is None:
        reason = outcome.no_champion_reason()
        lines.append(f"**No new champion.** {markdown_text(reason[0].upper() + reason[1:])}.")
        lines += ["", "Why each candidate was not chosen:", ""]
        lines += [
            f"- {markdown_text(e.name)}: {markdown_text('; '.join(e.failures))}"
            for e in outcome.selection.ranking
        ]
        if outcome.grid.failures:
            lines.append(
                f"- {len(outcome.grid.failures)} combination(s) failed to backtest and were not "
                "ranked (see Failed combinations)."
            )
        return lines
    sharpe = float(champion.candidate.metrics.get("sharpe", math.nan))
    lines += [
        f"**Champion: {markdown_text(champion.name)}**: {outcome.champion_reason()}.",
        "",
    ]
    lines.append(against_baseline(sharpe, outcome.baseline_sharpe))
    position = outcome.selection.ranking.index(champion)
    above = outcome.selection.ranking[:position]
    below = outcome.selection.ranking[position + 1 :]
    if above:
        lines += ["", "Higher-scoring combinations it passed over, and why they were excluded:", ""]
        lines += [_scored_item(e, "; ".join(e.failures)) for e in above]
    if below:
        lines += ["", "Combinations it outscored:", ""]
        lines += [_scored_item(e, None) for e in below]
    return lines


def _scored_item(evaluation: Evaluation, why: str | None) -> str:
    text = f"- {markdown_text(evaluation.name)} (score {evaluation.breakdown.total:.3f})"
    return f"{text}: {markdown_text(why)}" if why else text


def _matrix_section(outcome: SelectionOutcome) -> list[str]:
    models, optimizers = outcome.axes()
    champion = outcome.selection.champion
    rows = []
    for model in models:
        cells = [markdown_text(model)]
        for optimizer in optimizers:
            cell = matrix_sharpe(outcome.matrix_cell((model, optimizer)))
            if champion is not None and outcome.key(model, optimizer) == champion.name:
                cell = f"**{cell}**"
            cells.append(cell)
        rows.append(cells)
    header = ["Model", *(markdown_text(o) for o in optimizers)]
    intro = (
        "Annualized Sharpe per model (rows) and optimizer (columns); the champion, if any, in bold."
    )
    return ["## Comparison matrix (Sharpe)", "", intro, "", *markdown_table(header, rows)]


def _ranking_section(outcome: SelectionOutcome) -> list[str]:
    ranking = outcome.selection.ranking
    if not ranking:
        return ["## Ranking", "", "No combination completed its backtest: nothing to rank."]
    weights = outcome.weights
    header = [
        "Rank",
        "Combination",
        "Score",
        *(f"{CRITERION_TITLES[c]} (w {getattr(weights, c):.2f})" for c in CRITERIA),
        "Turnover per year",
        "Passed",
    ]
    rows = []
    for rank, e in enumerate(ranking, 1):
        cells = [str(rank), markdown_text(e.name), f"{e.breakdown.total:.3f}"]
        for name in CRITERIA:
            c = e.breakdown.criteria[name]
            cells.append(
                f"{number(c.raw, RAW_FORMATS[name])} → {c.normalized:.2f} ({c.contribution:.3f})"
            )
        cells.append(number(e.candidate.metrics.get("annual_turnover"), ".0%"))
        status = "yes" if e.passed else "no"
        cells.append("**champion**" if e is outcome.selection.champion else status)
        rows.append(cells)
    intro = (
        "Each criterion: raw figure → normalized value in [0, 1] (weighted contribution to the "
        f"score). Turnover is the mean {TURNOVER_DEFINITION}, half the sum of absolute weight "
        "changes; Turnover per year is the same summed over a year (not scored)."
    )
    return ["## Ranking", "", intro, "", *markdown_table(header, rows)]


def _failures_section(outcome: SelectionOutcome) -> list[str]:
    champion = outcome.selection.champion
    others = [e for e in outcome.selection.ranking if e is not champion]
    items = [
        f"- {markdown_text(e.name)}: "
        + markdown_text(
            scored_lower(champion.name)
            if e.passed and champion is not None  # one passed: there is a champion
            else "failed: " + "; ".join(e.failures)
        )
        for e in others
    ]
    return [
        "## Thresholds",
        "",
        f"A champion needs: {outcome.rules()}.",
        "",
        *(items or ["No other ranked combination."]),
    ]


def _deflated_section(outcome: SelectionOutcome) -> list[str]:
    shown = outcome.shown
    lines = ["## Deflated Sharpe ratio", ""]
    if shown is None:
        return [*lines, "Not computed: no combination completed its backtest."]
    who = "the champion" if shown is outcome.selection.champion else "the top-ranked combination"
    d = outcome.deflated.get(shown.name)
    if d is None:
        return [*lines, f"Not computed for {who}, {markdown_text(shown.name)}."]
    lines += [
        f"For {who}, {markdown_text(shown.name)}:",
        "",
        *(f"- {fact}" for fact in deflated_facts(d)),
        "",
        DSR_MEANING.format(trials=d.trials),
    ]
    if d.note:
        lines += ["", f"Note: {markdown_text(d.note)}"]
    return lines


def _regime_section(outcome: SelectionOutcome) -> list[str]:
    top = outcome.top()
    header = ["Combination", "Regime", "Avg daily return", "Sharpe", "Win rate", "Days"]
    rows = [
        [
            markdown_text(e.name),
            markdown_text(row["regime"]),
            number(row["avg_return"], ".3%"),
            number(row["sharpe"], ".2f"),
            number(row["win_rate"], ".1%"),
            str(row["days"]),
        ]
        for e in top
        for row in outcome.regimes(e.name)
    ]
    title = f"## Regime performance (top {len(top)} by score)"
    if not rows:
        return [title, "", "No regime breakdown available."]
    return [title, "", *markdown_table(header, rows)]


def _figures_section(figures: Mapping[str, str]) -> list[str]:
    lines = ["## Figures"]
    for name, title in figures.items():
        lines += ["", f"![{title}]({name})"]
    return lines


def _failed_runs_section(outcome: SelectionOutcome) -> list[str]:
    lines = ["## Failed combinations", ""]
    if not outcome.grid.failures:
        return [*lines, "None: every combination completed its backtest."]
    lines.append("Excluded from the ranking:")
    lines.append("")
    lines += [
        f"- {markdown_text(outcome.key(m, o))}: {markdown_text(error)}"
        for (m, o), error in outcome.grid.failures.items()
    ]
    return lines
