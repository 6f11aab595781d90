"""The champion selection as files a person reads: matrix, detailed results, regimes, report, charts.

`selection_outputs` turns a finished backtest grid and its selection into the contents of
`<home>/reports/model_selection/`, as bytes keyed by file name (the caller writes them
atomically). Same input, same bytes. Formats:

- `backtest_comparison_matrix.csv`: a `model` column, then one column per optimizer; each cell is
  the combination's annualized Sharpe at full precision (Python's shortest round-trip repr) or a
  word, never empty or NaN: `failed` (the run raised; its error is in the detailed results and it
  is not ranked), `undefined` (the run completed but its Sharpe is NaN, e.g. zero volatility) or
  `missing` (the grid has no record of the combination).
- `backtest_detailed_results.json` (strict JSON, NaN written as null, sorted keys): the selection
  date, weights, thresholds, the turnover definition, the execution convention with the shown
  combination's Sharpe under each convention, number of trials, equal-weight baseline
  Sharpe, ranking, the champion (or null with `no_champion_reason`), the caveat, and per
  combination (grid order: models, then optimizers) its status (ok, failed or missing) and error, metrics, benchmark metrics, score breakdown, threshold
  failures, passed, rank, deflated Sharpe fields, regime rows and number of optimizer fallbacks.
- `regime_performance_breakdown.csv`: long format, one row per completed combination and regime:
  model, optimizer, regime, avg_return (mean daily), sharpe (annualized), win_rate, days; a regime
  never seen has 0 days and empty figures. Failed combinations have no rows.
- `model_selection_report.md`: the outcome and why, the matrix, the ranking with the score
  breakdown, each loser's failed thresholds, the winner's deflated Sharpe, the regime table of the
  top combinations, links to the figures, failed combinations and an optional caveat. Every
  untrusted string (model, optimizer, error, reason) is escaped with `markdown_text`.
- `model_selection_report.html`: the same evidence as one self-contained page for a browser, the
  two figures embedded and, when the candidates' test-period evidence is given, their factor tear
  sheet (see `trading_core.reporting.selection_html`); each loser's failed thresholds appear once.
- `equity_curves.png`, `champion_vs_benchmark.png`: see `trading_core.reporting.selection_plots`.

A combination is named `"{model}+{optimizer}"` (`evaluate.combination`), the `Candidate.name` in
the ranking; pass another `key` if the candidates were named otherwise. The equal-weight baseline
curve is the `benchmark_equity` of the combination drawn (every combination of a grid shares the
rebalance dates, so they share it).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from datetime import date

import pandas as pd

from trading_core.backtest.walk_forward import WalkForwardResult
from trading_core.features.labels import EXECUTION_MEANING
from trading_core.io import to_csv, to_json
from trading_core.reporting.factor_report import FactorEvidence
from trading_core.reporting.markdown import markdown_table, markdown_text
from trading_core.reporting.selection_html import selection_report_html
from trading_core.reporting.selection_plots import champion_chart, equity_curves_chart
from trading_core.reporting.selection_text import (
    CRITERION_TITLES,
    DSR_MEANING,
    RAW_FORMATS,
    against_baseline,
    deflated_facts,
    fills,
    number,
    same_targets,
    scored_lower,
    threshold_rules,
)
from trading_core.selection.evaluate import champion_reason, combination
from trading_core.selection.grid import BacktestGrid
from trading_core.selection.scoring import CRITERIA, Evaluation, Selection, Thresholds, Weights
from trading_core.selection.sharpe_stats import DeflatedSharpe
from trading_core.turnover import DEFINITION as TURNOVER_DEFINITION

MATRIX_FILE = "backtest_comparison_matrix.csv"
DETAILS_FILE = "backtest_detailed_results.json"
REGIMES_FILE = "regime_performance_breakdown.csv"
REPORT_FILE = "model_selection_report.md"
HTML_FILE = "model_selection_report.html"
EQUITY_FILE = "equity_curves.png"
CHAMPION_FILE = "champion_vs_benchmark.png"
FILES = (
    MATRIX_FILE,
    DETAILS_FILE,
    REGIMES_FILE,
    REPORT_FILE,
    HTML_FILE,
    EQUITY_FILE,
    CHAMPION_FILE,
)
TOP = 5  # combinations drawn in the equity chart and shown in the report's regime table
REGIME_CSV_COLUMNS = ["model", "optimizer", "regime", "avg_return", "sharpe", "win_rate", "days"]
FIGURE_TITLES = {  # each figure file as both reports describe it (markdown alt text, HTML alt)
    EQUITY_FILE: "Equity of the top combinations and the equal-weight baseline",
    CHAMPION_FILE: "The champion against the equal-weight baseline",
}

Key = Callable[[str, str], str]


@dataclass(frozen=True)
class SelectionOutcome:
    """Everything the selection files describe; `key` names a combination as the ranking does."""

    grid: BacktestGrid
    selection: Selection
    deflated: Mapping[str, DeflatedSharpe]
    weights: Weights
    thresholds: Thresholds
    baseline_sharpe: float
    selected_on: date
    caveat: str | None = None
    min_deflated_sharpe: float | None = None
    incumbent: str | None = None
    execution: str | None = None
    sharpe_by_execution: Mapping[str, float] | None = None  # of `shown`, per convention
    key: Key = combination

    def __post_init__(self) -> None:
        known = {self.key(m, o) for m, o in self.grid.results}
        unknown = [e.name for e in self.selection.ranking if e.name not in known]
        if unknown:
            raise ValueError(f"ranked candidate(s) {unknown} are not completed grid combinations")

    def combinations(self) -> list[tuple[str, str]]:
        """(model, optimizer) pairs: the grid's models x optimizers, then any other recorded."""
        pairs = [(m, o) for m in self.grid.models for o in self.grid.optimizers]
        extra = [p for p in [*self.grid.results, *self.grid.failures] if p not in pairs]
        return pairs + list(dict.fromkeys(extra))

    def evaluations(self) -> dict[str, tuple[int, Evaluation]]:
        """Rank (1 = best score) and evaluation per ranked combination name."""
        return {e.name: (i, e) for i, e in enumerate(self.selection.ranking, 1)}

    def axes(self) -> tuple[list[str], list[str]]:
        """The matrix's models (rows) and optimizers (columns), in `combinations` order."""
        pairs = self.combinations()
        return list(dict.fromkeys(m for m, _ in pairs)), list(dict.fromkeys(o for _, o in pairs))

    def top(self) -> list[Evaluation]:
        """The TOP best-scored combinations: drawn together and shown by regime."""
        return self.selection.ranking[:TOP]

    def result(self, name: str) -> WalkForwardResult:
        """The walk-forward result of a ranked combination."""
        return {self.key(m, o): r for (m, o), r in self.grid.results.items()}[name]

    def status(self, pair: tuple[str, str]) -> str:
        """`ok` (completed), `failed` (raised) or `missing` (never recorded)."""
        if pair in self.grid.results:
            return "ok"
        return "failed" if pair in self.grid.failures else "missing"

    def matrix_cell(self, pair: tuple[str, str]) -> str:
        """The Sharpe as full-precision text, or failed/undefined/missing."""
        status = self.status(pair)
        if status != "ok":
            return status
        sharpe = float(self.grid.results[pair].backtest.metrics.get("sharpe", math.nan))
        return repr(sharpe) if math.isfinite(sharpe) else "undefined"

    def regimes(self, name: str) -> list[dict[str, object]]:
        """The regime rows of a ranked combination (see `regime_breakdown`)."""
        return _regime_rows(self.result(name))

    def champion_reason(self) -> str:
        """Why the champion won, in one sentence ("" without a champion)."""
        beat = self.thresholds.beat_baseline
        return champion_reason(self.selection, self.baseline_sharpe, beat)

    def no_champion_reason(self) -> str:
        """Why nothing was promoted, and which model the daily run keeps scoring with."""
        stays = (
            f"the current champion ({self.incumbent}) stays"
            if self.incumbent
            else "there is no production champion yet (the daily run scores with the latest "
            "candidate)"
        )
        if not self.selection.ranking:
            return f"no combination completed its backtest; {stays}"
        return f"no combination passed every threshold; {stays}"

    def rules(self) -> str:
        """Every threshold a champion must pass, as one clause."""
        return threshold_rules(self.thresholds, self.baseline_sharpe, self.min_deflated_sharpe)

    @property
    def trials(self) -> int:
        """Combinations counted as trials by the deflated Sharpe (completed, finite Sharpe)."""
        if self.deflated:
            return max(d.trials for d in self.deflated.values())
        sharpes = [r.backtest.metrics.get("sharpe", math.nan) for r in self.grid.results.values()]
        return sum(math.isfinite(s) for s in sharpes)

    @property
    def shown(self) -> Evaluation | None:
        """The champion, or without one the top-ranked combination (None if nothing ranked)."""
        ranking = self.selection.ranking
        return self.selection.champion or (ranking[0] if ranking else None)


def selection_outputs(
    grid: BacktestGrid,
    selection: Selection,
    deflated: Mapping[str, DeflatedSharpe],
    *,
    weights: Weights | Mapping[str, float],
    thresholds: Thresholds | Mapping[str, float],
    baseline_sharpe: float,
    selected_on: date,
    caveat: str | None = None,
    min_deflated_sharpe: float | None = None,
    incumbent: str | None = None,
    execution: str | None = None,
    sharpe_by_execution: Mapping[str, float] | None = None,
    key: Key = combination,
    factors: FactorEvidence | None = None,
) -> dict[str, bytes]:
    """The seven files of `<home>/reports/model_selection/` (see the module docstring).

    `deflated` maps combination names to their deflated Sharpe (missing: reported as not
    computed); `incumbent` names the production champion that stays when nothing passes;
    `execution` is the backtests' fill convention and `sharpe_by_execution` the champion's (or
    without one the top-ranked combination's) Sharpe under every convention; `factors` is the
    candidates' factor tear sheet the HTML page shows (see `reporting.factor_report`).
    """
    outcome = SelectionOutcome(
        grid=grid,
        selection=selection,
        deflated=deflated,
        weights=weights if isinstance(weights, Weights) else Weights.from_dict(weights),
        thresholds=(
            thresholds if isinstance(thresholds, Thresholds) else Thresholds.from_dict(thresholds)
        ),
        baseline_sharpe=float(baseline_sharpe),
        selected_on=selected_on,
        caveat=caveat,
        min_deflated_sharpe=min_deflated_sharpe,
        incumbent=incumbent,
        execution=execution,
        sharpe_by_execution=sharpe_by_execution,
        key=key,
    )
    report = selection_report(outcome)
    figures = charts(outcome)
    title = f"alphapilot model selection {outcome.selected_on:%Y-%m-%d}"
    text = {
        MATRIX_FILE: to_csv(comparison_matrix(outcome)),
        DETAILS_FILE: to_json(detailed_results(outcome)),
        REGIMES_FILE: to_csv(regime_breakdown(outcome)),
        REPORT_FILE: report,
        HTML_FILE: selection_report_html(
            outcome, {alt: figures[name] for name, alt in FIGURE_TITLES.items()}, title, factors
        ),
    }
    return {**{name: body.encode("utf-8") for name, body in text.items()}, **figures}


# --- the matrix and the regime table ----------------------------------------------------------


def comparison_matrix(outcome: SelectionOutcome) -> pd.DataFrame:
    """Model rows, optimizer columns, Sharpe as full-precision text or failed/undefined/missing."""
    models, optimizers = outcome.axes()
    rows = []
    for model in models:
        row = {"model": model}
        for optimizer in optimizers:
            row[optimizer] = outcome.matrix_cell((model, optimizer))
        rows.append(row)
    return pd.DataFrame(rows, columns=["model", *optimizers], dtype=object)


def regime_breakdown(outcome: SelectionOutcome) -> pd.DataFrame:
    """One row per completed combination and regime (long format, REGIME_CSV_COLUMNS)."""
    rows = [
        {"model": m, "optimizer": o, **row}
        for m, o in outcome.combinations()
        if (m, o) in outcome.grid.results
        for row in _regime_rows(outcome.grid.results[(m, o)])
    ]
    frame = pd.DataFrame(rows, columns=REGIME_CSV_COLUMNS)
    return frame.astype({"days": "int64"})


def _regime_rows(result: WalkForwardResult) -> list[dict[str, object]]:
    table = result.backtest.regime_performance
    if table is None:
        return []
    return [
        {
            "regime": str(row["regime"]),
            "avg_return": float(row["avg_return"]),
            "sharpe": float(row["sharpe"]),
            "win_rate": float(row["win_rate"]),
            "days": int(row["days"]),
        }
        for _, row in table.iterrows()
    ]


# --- the detailed results ---------------------------------------------------------------------


def detailed_results(outcome: SelectionOutcome) -> dict[str, object]:
    """Every figure behind the selection, as a plain dict for strict JSON."""
    champion = outcome.selection.champion
    return {
        "selected_on": outcome.selected_on.isoformat(),
        "weights": asdict(outcome.weights),
        "thresholds": {
            **asdict(outcome.thresholds),
            "min_deflated_sharpe": outcome.min_deflated_sharpe,
        },
        "turnover_definition": (
            f"avg_turnover: mean {TURNOVER_DEFINITION}; annual_turnover: the same summed per year"
        ),
        "execution": _execution_entry(outcome),
        "trials": outcome.trials,
        "combinations_total": len(outcome.combinations()),
        "combinations_failed": len(outcome.grid.failures),
        "baseline": {
            "description": "equal-weight buy-and-hold of the universe, same dates and costs",
            "sharpe": outcome.baseline_sharpe,
        },
        "ranking": [e.name for e in outcome.selection.ranking],
        "champion": None if champion is None else _champion_entry(outcome, champion),
        "no_champion_reason": None if champion else outcome.no_champion_reason(),
        "incumbent": outcome.incumbent,
        "caveat": outcome.caveat,
        "combinations": [_combination_entry(outcome, pair) for pair in outcome.combinations()],
    }


def _execution_entry(outcome: SelectionOutcome) -> dict[str, object] | None:
    """The fill convention of every backtest, and the shown combination's Sharpe under each."""
    if outcome.execution is None:
        return None
    shown = outcome.shown
    return {
        "convention": outcome.execution,
        "meaning": EXECUTION_MEANING[outcome.execution],
        "combination": None if shown is None else shown.name,
        "sharpe_by_execution": dict(outcome.sharpe_by_execution or {}),
    }


def _champion_entry(outcome: SelectionOutcome, champion: Evaluation) -> dict[str, object]:
    model, optimizer = _pair_of(outcome, champion.name)
    return {
        "key": champion.name,
        "model": model,
        "optimizer": optimizer,
        "score": champion.breakdown.total,
        "sharpe": float(champion.candidate.metrics.get("sharpe", math.nan)),
        "reason": outcome.champion_reason(),
    }


def _pair_of(outcome: SelectionOutcome, name: str) -> tuple[str, str]:
    return next(p for p in outcome.grid.results if outcome.key(*p) == name)


def _combination_entry(outcome: SelectionOutcome, pair: tuple[str, str]) -> dict[str, object]:
    name = outcome.key(*pair)
    status = outcome.status(pair)
    entry: dict[str, object] = {
        "key": name,
        "model": pair[0],
        "optimizer": pair[1],
        "status": status,
        "error": outcome.grid.failures.get(pair) if status == "failed" else None,
        "metrics": None,
        "benchmark_metrics": None,
        "score": None,
        "threshold_failures": [],
        "passed": False,
        "rank": None,
        "champion": False,
        "deflated_sharpe": None,
        "regime_performance": [],
        "fallbacks": None,
        "rebalances": None,
        "start": None,
        "end": None,
    }
    if status != "ok":
        return entry
    result = outcome.grid.results[pair]
    backtest = result.backtest
    entry.update(
        metrics={k: float(v) for k, v in backtest.metrics.items()},
        benchmark_metrics={k: float(v) for k, v in backtest.benchmark_metrics.items()},
        regime_performance=_regime_rows(result),
        fallbacks=len(result.fallbacks),
        rebalances=len(result.weights),
        start=f"{backtest.equity.index[0]:%Y-%m-%d}" if len(backtest.equity) else None,
        end=f"{backtest.equity.index[-1]:%Y-%m-%d}" if len(backtest.equity) else None,
    )
    if name in outcome.deflated:
        entry["deflated_sharpe"] = asdict(outcome.deflated[name])
    ranked = outcome.evaluations().get(name)
    if ranked is not None:
        rank, evaluation = ranked
        entry.update(
            score=evaluation.breakdown.as_dict(),
            threshold_failures=list(evaluation.failures),
            passed=evaluation.passed,
            rank=rank,
            champion=evaluation is outcome.selection.champion,
        )
    return entry


# --- the report -------------------------------------------------------------------------------


def selection_report(outcome: SelectionOutcome) -> str:
    """The markdown report: outcome and reasons first, then the evidence behind them."""
    sections = [
        [f"# Model selection {outcome.selected_on:%Y-%m-%d}"],
        _caveat_section(outcome),
        _outcome_section(outcome),
        _matrix_section(outcome),
        _ranking_section(outcome),
        _failures_section(outcome),
        _deflated_section(outcome),
        _regime_section(outcome),
        _figures_section(),
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
    matrix = comparison_matrix(outcome)
    champion = outcome.selection.champion
    optimizers = list(matrix.columns[1:])
    rows = []
    for _, row in matrix.iterrows():
        cells = [markdown_text(row["model"])]
        for optimizer in optimizers:
            value = row[optimizer]
            cell = number(float(value), ".2f") if _is_number(value) else value
            if champion is not None and outcome.key(row["model"], optimizer) == champion.name:
                cell = f"**{cell}**"
            cells.append(cell)
        rows.append(cells)
    header = ["Model", *(markdown_text(o) for o in optimizers)]
    intro = (
        "Annualized Sharpe per model (rows) and optimizer (columns); the champion, if any, in bold."
    )
    return ["## Comparison matrix (Sharpe)", "", intro, "", *markdown_table(header, rows)]


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


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
            scored_lower(champion.name) if e.passed else "failed: " + "; ".join(e.failures)
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


def _figures_section() -> list[str]:
    lines = ["## Figures"]
    for name, title in FIGURE_TITLES.items():
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


# --- the charts -------------------------------------------------------------------------------


def charts(outcome: SelectionOutcome) -> dict[str, bytes]:
    """`equity_curves.png` (top combinations by score) and `champion_vs_benchmark.png`."""
    top = outcome.top()
    curves = {e.name: outcome.result(e.name).backtest.equity for e in top}
    shown = outcome.shown
    baseline = outcome.result(shown.name).backtest.benchmark_equity if shown else None
    if shown is None:
        title = "No completed combination"
    elif shown is outcome.selection.champion:
        title = f"Champion {shown.name} vs the equal-weight baseline"
    else:
        title = f"No champion: top-ranked {shown.name} (not promoted) vs the equal-weight baseline"
    return {
        EQUITY_FILE: equity_curves_chart(
            curves, baseline, f"Top {len(top)} combinations by score vs the equal-weight baseline"
        ),
        CHAMPION_FILE: champion_chart(
            shown.name if shown else "",
            outcome.result(shown.name).backtest.equity if shown else None,
            baseline,
            title,
        ),
    }
