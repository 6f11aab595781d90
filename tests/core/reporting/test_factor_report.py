"""The factor tear sheet as the reports show it: performance.factor's numbers, drawn and laid out.

A seeded synthetic market with a planted signal: candidate "signal" scores with it, "noise" with
seeded noise and a third candidate has a hostile name. Their test-period predictions are the
TEST sessions before the last labeled one, as `CandidateResult.test_predictions` holds them, and
forward returns run over HORIZON sessions from the next open, as the dataset's labels do.
"""

from __future__ import annotations

import base64
import re
import struct

import numpy as np
import pandas as pd
import pytest

from trading_core.data.market import MarketData
from trading_core.data.synthetic import generate_synthetic_market
from trading_core.features.labels import forward_returns, stack_labels
from trading_core.ml.dataset import Dataset
from trading_core.ml.research import CandidateResult
from trading_core.performance.factor import LABELS, factor_summary_row, factor_tear_sheet
from trading_core.reporting.factor_plots import (
    RANK_IC_SIZE,
    RETURNS_SIZE,
    rank_ic_chart,
    returns_chart,
)
from trading_core.reporting.factor_report import (
    FIGURE_TITLES,
    FactorEvidence,
    factor_evidence,
    training_factor_html,
)

HORIZON = 5
TEST = 120
HOSTILE = "<script>alert(1)</script>"
CANDIDATES = ["signal", "noise", HOSTILE]


def candidate(name: str, scores: pd.Series) -> CandidateResult:
    """A trained candidate as the reports read it: only its predictions (no model is needed)."""
    return CandidateResult(
        name=name, model=None, params={}, cv_predictions=scores.iloc[:0], test_predictions=scores
    )


def factor_inputs() -> tuple[list[CandidateResult], Dataset, MarketData]:
    """The candidates' test predictions, the dataset's forward returns and the market."""
    market = generate_synthetic_market(symbols=12, years=1.5, seed=5, ic=0.1)
    data = market.data
    forward = stack_labels(
        forward_returns(data.close, HORIZON, open_=data.open, execution="next_open")
    )
    dataset = Dataset(
        rows=pd.DataFrame(index=forward.index),
        labels=forward,
        forward_returns=forward.rename("forward_return"),
        horizon=HORIZON,
        execution="next_open",
    )
    test = data.close.index[-TEST - HORIZON - 1 : -HORIZON - 1]
    signal = market.signal.loc[test].stack().rename("score").rename_axis(["date", "symbol"])
    noise = pd.Series(np.random.default_rng(3).normal(size=len(signal)), signal.index, name="score")
    scores = {"signal": signal, "noise": noise, HOSTILE: (signal + noise).rename("score")}
    return [candidate(n, scores[n]) for n in CANDIDATES], dataset, data


@pytest.fixture(scope="module")
def inputs() -> tuple[list[CandidateResult], Dataset, MarketData]:
    return factor_inputs()


@pytest.fixture(scope="module")
def evidence(inputs) -> FactorEvidence:
    results, dataset, data = inputs
    return factor_evidence(results, "signal", dataset, data)


def png_size(png: bytes) -> tuple[int, int]:
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    return struct.unpack(">II", png[16:24])


def pixels(size: tuple[float, float]) -> tuple[int, int]:
    return tuple(round(v * 100) for v in size)


# --- the evidence -------------------------------------------------------------------------------


def test_the_evidence_is_performance_factor_on_the_test_predictions(inputs, evidence):
    results, dataset, data = inputs
    signal = results[0].test_predictions
    full = factor_tear_sheet(signal, data.close, HORIZON, data.open, "next_open")
    sheet = evidence.sheet  # prices cut to the test period onward: the same numbers

    assert evidence.featured == "signal" and sheet.execution == "next_open"
    pd.testing.assert_frame_equal(sheet.quantiles, full.quantiles)
    pd.testing.assert_frame_equal(sheet.ic_decay, full.ic_decay)
    pd.testing.assert_series_equal(sheet.cumulative_spread, full.cumulative_spread)
    pd.testing.assert_series_equal(sheet.ic_by_month, full.ic_by_month)
    pd.testing.assert_series_equal(sheet.rank_autocorrelation, full.rank_autocorrelation)
    assert pd.Series(sheet.ic_table).equals(pd.Series(full.ic_table))
    assert list(evidence.rows) == CANDIDATES
    for r in results:
        returns = dataset.forward_returns.reindex(r.test_predictions.index)
        assert evidence.rows[r.name] == factor_summary_row(r.test_predictions, returns, HORIZON)
    dates = signal.index.get_level_values("date").unique()
    assert (evidence.start, evidence.end, evidence.sessions) == (dates[0], dates[-1], TEST)
    assert sheet.ic_table["ic_mean"] > 0.05 > abs(evidence.rows["noise"]["ic_mean"])


def test_rows_already_computed_are_reused_for_another_featured_candidate(inputs, evidence):
    results, dataset, data = inputs
    other = factor_evidence(results, "noise", dataset, data, rows=evidence.rows)
    assert other.rows is evidence.rows and other.featured == "noise"
    assert other.sheet.ic_table["ic_mean"] == evidence.rows["noise"]["ic_mean"]


# --- the figures --------------------------------------------------------------------------------


def test_the_figures_are_fixed_size_pngs_and_the_same_sheet_gives_the_same_bytes(inputs, evidence):
    results, dataset, data = inputs
    again = factor_evidence(results, "signal", dataset, data).sheet
    assert png_size(returns_chart(evidence.sheet)) == pixels(RETURNS_SIZE) == (800, 300)
    assert png_size(rank_ic_chart(evidence.sheet)) == pixels(RANK_IC_SIZE) == (800, 580)
    assert returns_chart(again) == returns_chart(evidence.sheet)
    assert rank_ic_chart(again) == rank_ic_chart(evidence.sheet)


def test_a_sheet_with_nothing_to_draw_still_renders_each_figure(inputs):
    _, _, data = inputs
    last = data.close.index[-3:]  # no forward return yet: no IC, no quintile return
    scores = data.close.loc[last].stack().rename_axis(["date", "symbol"])
    sheet = factor_tear_sheet(scores, data.close, HORIZON, data.open, "next_open")
    assert sheet.ic.empty and sheet.cumulative_spread.empty
    assert png_size(returns_chart(sheet)) == pixels(RETURNS_SIZE)
    assert png_size(rank_ic_chart(sheet)) == pixels(RANK_IC_SIZE)


# --- the training page --------------------------------------------------------------------------


def test_the_training_page_shows_the_featured_sheet_and_every_candidate_as_text(evidence):
    page = training_factor_html(evidence, pd.Timestamp("2013-06-28"))
    assert page.startswith("<!DOCTYPE html>")
    assert "<title>alphapilot training factor tear sheet 2013-06-28</title>" in page
    assert re.findall(r"<h2>(.+?)</h2>", page) == [
        "Factor tear sheet: signal",
        "Factor summary of every candidate",
    ]
    assert "<script" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    summary = page.split('id="factor-candidates"', 1)[1]
    names = re.findall(r'<td class="name">(.+?)</td>', summary)
    assert names == ["signal", "noise", "&lt;script&gt;alert(1)&lt;/script&gt;"]
    assert '<tr class="champion">\n        <td class="name">signal</td>' in summary
    for key in ("ic_mean", "ic_t_stat", "annualized_spread", "rank_autocorrelation"):
        assert LABELS[key] in summary
    images = dict(
        re.findall(r'<img class="chart" src="data:image/png;base64,([^"]+)" alt="([^"]+)"', page)
    )
    assert sorted(images.values()) == sorted(FIGURE_TITLES.values())
    drawn = {FIGURE_TITLES["returns"]: returns_chart, FIGURE_TITLES["rank_ic"]: rank_ic_chart}
    for encoded, alt in images.items():
        assert base64.b64decode(encoded) == drawn[alt](evidence.sheet)
    assert not re.search(r'(href|src)="(?!data:)', page)  # nothing outside the file
    assert page == training_factor_html(evidence, pd.Timestamp("2013-06-28"))


def test_the_training_comparison_gains_the_factor_figures_it_lacked(evidence):
    from tasks.champion import FACTOR_COLUMNS, with_factor_columns

    table = pd.DataFrame({"model": list(reversed(CANDIDATES)), "rank_ic": [0.1, 0.0, 0.2]})
    extended = with_factor_columns(table, evidence)
    assert list(extended.columns) == ["model", "rank_ic", *FACTOR_COLUMNS]
    for _, row in extended.iterrows():
        for column in FACTOR_COLUMNS:
            assert row[column] == evidence.rows[row["model"]][column]
