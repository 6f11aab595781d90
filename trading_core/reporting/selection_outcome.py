"""One champion selection as the selection reports read it: the facts and the words about them.

Implements `SelectionOutcome`: the finished backtest grid, its selection and deflated Sharpe
ratios, the weights and thresholds they were judged by, and what the reports add (the date,
caveat, incumbent, fill convention), with the views every selection file shares: combinations in
grid order, matrix cells as text, the top combinations, regime rows, and why the champion won or
why nothing was promoted. `regime_rows` gives one backtest's regime table as plain rows.

It lives with the reports, not in `trading_core.selection`: the domain's result is the
`Selection` and `GridEvaluation`; this is how the files present them (their wording, the matrix
text, how many combinations are drawn), and only the report writers use it.

A combination is named `"{model}+{optimizer}"` (`evaluate.combination`), the `Candidate.name` in
the ranking; pass another `key` if the candidates were named otherwise.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date

from trading_core.backtest.walk_forward import WalkForwardResult
from trading_core.reporting.selection_text import threshold_rules
from trading_core.selection.evaluate import champion_reason, combination
from trading_core.selection.grid import BacktestGrid
from trading_core.selection.scoring import Evaluation, Selection, Thresholds, Weights
from trading_core.selection.sharpe_stats import DeflatedSharpe

TOP = 5  # combinations drawn in the equity chart and shown in the reports' regime tables

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
        """The regime rows of a ranked combination (see `regime_rows`)."""
        return regime_rows(self.result(name))

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


def regime_rows(result: WalkForwardResult) -> list[dict[str, object]]:
    """One backtest's regime table as rows: regime, avg_return, sharpe, win_rate, days."""
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
