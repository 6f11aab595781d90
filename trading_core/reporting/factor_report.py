"""The factor tear sheet as the reports show it: one candidate in depth, every candidate in a row.

Implements:

- `FactorEvidence`: the tear sheet (`performance.factor.FactorTearSheet`) of one featured
  candidate and the compact row (`factor_summary_row`) of every candidate.
- `factor_evidence`: builds it from the candidates' test-period predictions
  (`CandidateResult.test_predictions`), the dataset's forward returns and the market's prices.
- `factor_context`: the evidence as a template shows it, numbers formatted and figures (see
  `reporting.factor_plots`) as data URIs; the selection page and the training page both use it.
- `training_factor_html`: the page `alphapilot train` writes (`TRAINING_FACTOR_FILE`).

The scores are each candidate's out-of-sample predictions on the final test period, which no
candidate was tuned or early-stopped on, against raw forward returns over the label horizon from
the fill the labels use. Every statistic comes from `trading_core.performance.factor`; this module
only chooses, formats and lays them out.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pandas as pd

from trading_core.features.labels import EXECUTION_MEANING
from trading_core.performance.factor import (
    LABELS,
    FactorTearSheet,
    factor_summary_row,
    factor_tear_sheet,
)
from trading_core.reporting.factor_plots import rank_ic_chart, returns_chart
from trading_core.reporting.formatting import fixed, percent
from trading_core.reporting.plots import png_data_uri
from trading_core.reporting.templating import environment

if TYPE_CHECKING:  # annotations only: the reports need not import the training libraries
    from trading_core.data.market import MarketData
    from trading_core.ml.dataset import Dataset
    from trading_core.ml.research import CandidateResult

TRAINING_FACTOR_FILE = "training_factor_report.html"
SUMMARY_COLUMNS = ("ic_mean", "ic_t_stat", "annualized_spread", "rank_autocorrelation")
FIGURE_TITLES = {
    "returns": "Mean forward return by score quintile and the cumulative top minus bottom return",
    "rank_ic": "Rank IC by month, its distribution, its decay over horizons and the score rank "
    "autocorrelation",
}
DECAY_COLUMNS = ("ic_mean", "ic_t_stat", "ic_p_value", "ic_hit_rate", "ic_days")


def _decimals(places: int) -> Callable[[float], str]:
    return lambda value: fixed(value, places)


# how each figure reads (the keys of `performance.factor.LABELS`); any other: 3 decimals
FORMATS: dict[str, Callable[[float], str]] = {
    "ic_t_stat": _decimals(2),
    "ic_hit_rate": lambda value: percent(value, 1),
    "ic_days": _decimals(0),
    "annualized_spread": lambda value: percent(value, 1, signed=True),
    "rank_autocorrelation": _decimals(2),
    "mean_return": lambda value: percent(value, 3, signed=True),
    "std_err": lambda value: percent(value, 3),
    "dates": _decimals(0),
}


@dataclass(frozen=True)
class FactorEvidence:
    """The featured candidate's tear sheet and every candidate's compact row (`SUMMARY_COLUMNS`).

    `rows` keep the candidates' order; `start`, `end` and `sessions` describe the featured
    candidate's test period.
    """

    featured: str
    sheet: FactorTearSheet
    rows: dict[str, dict[str, float]]
    start: pd.Timestamp
    end: pd.Timestamp
    sessions: int


def factor_evidence(
    results: Sequence[CandidateResult],
    featured: str,
    dataset: Dataset,
    data: MarketData,
    rows: dict[str, dict[str, float]] | None = None,
) -> FactorEvidence:
    """The tear sheet of candidate `featured` and the compact row of each of `results`.

    `rows` reuses compact rows already computed for the same candidates and dataset. Prices are
    cut to the test period onward (a forward return needs only later prices), so a long history
    costs nothing here.
    """
    scores = next(r.test_predictions for r in results if r.name == featured)
    dates = pd.DatetimeIndex(scores.index.get_level_values("date").unique()).sort_values()
    opens = None if data.open is None else data.open.loc[dates[0] :]
    sheet = factor_tear_sheet(
        scores, data.close.loc[dates[0] :], dataset.horizon, opens, dataset.execution
    )
    if rows is None:
        rows = {r.name: _summary_row(r.test_predictions, dataset) for r in results}
    return FactorEvidence(featured, sheet, rows, dates[0], dates[-1], len(dates))


def _summary_row(scores: pd.Series, dataset: Dataset) -> dict[str, float]:
    returns = dataset.forward_returns.reindex(scores.index)
    return factor_summary_row(scores, returns, dataset.horizon)


def factor_context(evidence: FactorEvidence, who: str) -> dict[str, object]:
    """What the factor macros of the templates show; `who` says why this candidate is featured."""
    sheet = evidence.sheet
    return {
        "featured": evidence.featured,
        "who": who,
        "period": f"{evidence.start:%Y-%m-%d} to {evidence.end:%Y-%m-%d}",
        "sessions": evidence.sessions,
        "horizon": sheet.horizon,
        "fill": EXECUTION_MEANING[sheet.execution],
        "quantiles": _table(sheet.quantiles, ("mean_return", "std_err", "dates")),
        "ic_table": [
            {"label": LABELS[k], "value": _figure(k, v)} for k, v in sheet.ic_table.items()
        ],
        "decay": _table(sheet.ic_decay, DECAY_COLUMNS),
        "candidates": _candidates(evidence),
        "figures": {
            "returns": {"alt": FIGURE_TITLES["returns"], "uri": png_data_uri(returns_chart(sheet))},
            "rank_ic": {"alt": FIGURE_TITLES["rank_ic"], "uri": png_data_uri(rank_ic_chart(sheet))},
        },
    }


def training_factor_html(evidence: FactorEvidence, data_through: pd.Timestamp) -> str:
    """The training run's factor page: the best candidate's tear sheet and every candidate's row."""
    who = "The candidate with the best test-period rank IC"
    context = {
        "title": f"alphapilot training factor tear sheet {data_through:%Y-%m-%d}",
        "brand": "training",
        "heading": f"Training factor tear sheet, data through {data_through:%Y-%m-%d}",
        "factor": factor_context(evidence, who),
    }
    return environment().get_template("training_factor_report.html").render(context)


def _figure(key: str, value: float) -> str:
    return FORMATS.get(key, _decimals(3))(value)


def _table(frame: pd.DataFrame, columns: Sequence[str]) -> dict[str, object]:
    """Column labels and one row per index value (its label first), every figure formatted."""
    return {
        "columns": [LABELS[frame.index.name], *(LABELS[c] for c in columns)],
        "rows": [[str(i), *(_figure(c, row[c]) for c in columns)] for i, row in frame.iterrows()],
    }


def _candidates(evidence: FactorEvidence) -> dict[str, object]:
    return {
        "columns": [LABELS[c] for c in SUMMARY_COLUMNS],
        "rows": [
            {
                "name": name,
                "featured": name == evidence.featured,
                "cells": [_figure(c, row[c]) for c in SUMMARY_COLUMNS],
            }
            for name, row in evidence.rows.items()
        ],
    }
