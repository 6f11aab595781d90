"""The selection reports a person reads: the markdown report and the HTML page.

Both are rendered from the same real walk-forward backtests as the selection's files (the
fixtures and helpers of test_selection_outputs): the outcome and why first, every reason once,
hostile names and errors shown only as text, the figures embedded, the fill convention stated.
"""

from __future__ import annotations

import base64
import re
from io import StringIO

import markupsafe
import pandas as pd
import pytest
import test_selection_outputs as selection
from test_factor_report import factor_inputs
from test_selection_outputs import (
    BROKEN,
    ERROR,
    make_grid,
    outputs,
    png_size,
    signal_only,
    strict_json,
)

from trading_core.data.providers import BUNDLED_NOTE
from trading_core.reporting.factor_report import FIGURE_TITLES as FACTOR_FIGURES
from trading_core.reporting.factor_report import factor_evidence
from trading_core.reporting.markdown import markdown_text
from trading_core.reporting.selection_files import (
    CHAMPION_FILE,
    DETAILS_FILE,
    EQUITY_FILE,
    HTML_FILE,
    MATRIX_FILE,
    REPORT_FILE,
)
from trading_core.reporting.selection_plots import CHAMPION_SIZE
from trading_core.selection.scoring import Thresholds

results = selection.results  # real walk-forward backtests of signal and noise (a fixture)


def table_lines(markdown: str, header_start: str) -> list[str]:
    """The lines of the pipe table whose header starts with `header_start`."""
    lines = markdown.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(header_start))
    end = next((i for i in range(start, len(lines)) if not lines[i].startswith("|")), len(lines))
    return lines[start:end]


def cells(line: str) -> int:
    """Columns of a table line: pipes that are not escaped with a backslash, minus one."""
    return len([i for i, ch in enumerate(line) if ch == "|" and line[i - 1 : i] != "\\"]) - 1


# --- the report ---------------------------------------------------------------------------------


def test_report_shows_the_matrix_the_champion_and_why_each_loser_failed(results):
    files = outputs(make_grid(results), signal_only(results))
    details = strict_json(files[DETAILS_FILE])
    report = files[REPORT_FILE].decode()
    champion = details["champion"]["key"]

    matrix = table_lines(report, "| Model |")
    assert matrix[0] == "| Model | equal\\_weight | inverse\\_vol |"
    assert len(matrix) == 2 + 3
    assert matrix[-1] == "| broken | failed | failed |"
    assert f"**Champion: {markdown_text(champion)}**" in report
    assert "the highest weighted score" in report
    assert "Combinations it outscored" in report or "passed over" in report
    for c in details["combinations"]:
        if c["status"] == "ok" and not c["passed"]:
            reasons = markdown_text("failed: " + "; ".join(c["threshold_failures"]))
            assert f"- {markdown_text(c['key'])}: {reasons}" in report
    ranking = table_lines(report, "| Rank |")
    assert len(ranking) == 2 + 4
    assert ranking[0].endswith("| Turnover per year | Passed |")
    assert "one-way turnover (½ Σ|Δw|) per rebalance" in report
    assert details["turnover_definition"].startswith(
        "avg_turnover: mean one-way turnover (½ Σ|Δw|)"
    )
    for c in details["combinations"]:
        if c["status"] == "ok":
            row = next(line for line in ranking if f"| {markdown_text(c['key'])} |" in line)
            assert f"| {c['metrics']['annual_turnover']:.0%} |" in row
    assert "**champion**" in ranking[2 + details["ranking"].index(champion)]
    deflated = next(c for c in details["combinations"] if c["key"] == champion)["deflated_sharpe"]
    assert f"Deflated Sharpe ratio (DSR, against SR0): {deflated['dsr']:.3f}" in report
    assert f"Probabilistic Sharpe ratio (PSR, against 0): {deflated['psr']:.3f}" in report
    assert "4 unskilled trials" in report
    assert len(table_lines(report, "| Combination | Regime |")) == 2 + 4 * 3
    assert f"({EQUITY_FILE})" in report and f"({CHAMPION_FILE})" in report
    assert f"- broken\\+equal\\_weight: {markdown_text(ERROR)}" in report


def test_nothing_passing_keeps_the_current_champion_and_says_why(results):
    strict = Thresholds(turnover_max=0.05)  # every combination here turns over more
    files = outputs(make_grid(results), strict, incumbent="lightgbm+hrp")
    details = strict_json(files[DETAILS_FILE])
    report = files[REPORT_FILE].decode()
    assert details["champion"] is None
    assert details["no_champion_reason"].endswith("the current champion (lightgbm+hrp) stays")
    assert "**No new champion.**" in report
    assert markdown_text("current champion (lightgbm+hrp) stays") in report
    for c in details["combinations"]:
        if c["status"] == "ok":
            assert not c["passed"]
            assert any("turnover" in f for f in c["threshold_failures"])
            assert (
                f"- {markdown_text(c['key'])}: {markdown_text('; '.join(c['threshold_failures']))}"
                in report
            )
    assert "For the top-ranked combination" in report
    assert png_size(files[CHAMPION_FILE]) == tuple(int(v * 100) for v in CHAMPION_SIZE)


def test_untrusted_names_and_errors_are_escaped(results):
    evil = "<script>alert(1)</script>|x"
    error = "ValueError: bad | <script>alert(2)</script>\nsecond line"
    grid = make_grid(results, rename={"noise": evil, BROKEN: "<b>oops</b>"}, error=error)
    files = outputs(grid, signal_only(results))
    report = files[REPORT_FILE].decode()
    assert "<script>" not in report and "<b>" not in report
    assert "&lt;script&gt;alert\\(1\\)&lt;/script&gt;\\|x" in report
    for header in ("| Model |", "| Rank |", "| Combination | Regime |"):
        lines = table_lines(report, header)
        assert len({cells(line) for line in lines}) == 1, lines  # no cell broke its row
    details = strict_json(files[DETAILS_FILE])
    assert {c["model"] for c in details["combinations"]} >= {evil, "<b>oops</b>"}
    assert any(c["error"] == error for c in details["combinations"])  # raw in JSON, escaped in md
    matrix = pd.read_csv(StringIO(files[MATRIX_FILE].decode()), dtype=str).set_index("model")
    assert evil in matrix.index


def test_html_report_shows_hostile_names_only_as_text(results):
    grid = make_grid(results, rename={"noise": "<script>alert(1)</script>", BROKEN: "<b>oops</b>"})
    page = outputs(grid, signal_only(results))[HTML_FILE].decode()
    assert "<script" not in page and "<b>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;+equal_weight" in page
    assert "&lt;b&gt;oops&lt;/b&gt;" in page


def test_html_report_lays_out_the_outcome_then_the_evidence_with_the_figures_embedded(results):
    files = outputs(make_grid(results), signal_only(results), caveat=BUNDLED_NOTE)
    page = files[HTML_FILE].decode()
    assert page.startswith("<!DOCTYPE html>")
    assert "<title>alphapilot model selection 2024-06-28</title>" in page
    assert re.findall(r"<h1>(.+?)</h1>", page) == ["Model selection 2024-06-28"]
    assert re.findall(r"<h2>(.+?)</h2>", page) == [
        "Caveat",
        "Outcome",
        "Why each combination was or was not chosen",
        "Comparison matrix (Sharpe)",
        "Ranking",
        "Deflated Sharpe ratio",
        "Regime performance (top 4 by score)",
        "Figures",
        "Failed combinations",
    ]
    assert page.count("<table") == 4  # verdicts, matrix, ranking, regimes
    details = strict_json(files[DETAILS_FILE])
    champion = details["champion"]["key"]
    assert f'<div class="headline">Champion: {champion}</div>' in page
    reason = details["champion"]["reason"]
    assert f'<div class="detail">{reason[0].upper()}{reason[1:]}.</div>' in page
    sources = re.findall(r'<img class="chart" src="([^"]*)" alt="([^"]*)"', page)
    assert [alt for _, alt in sources] == [
        "Equity of the top combinations and the equal-weight baseline",
        "The champion against the equal-weight baseline",
    ]
    for (src, _), name in zip(sources, (EQUITY_FILE, CHAMPION_FILE), strict=True):
        assert base64.b64decode(src.removeprefix("data:image/png;base64,")) == files[name]
    assert not re.search(r'(href|src)="(?!data:)', page)  # no link or asset outside the file
    assert "Factor tear sheet" not in page  # no candidates' test predictions were given


@pytest.mark.parametrize("outcome", ["champion", "none"])
def test_html_report_gives_each_rejection_reason_once(results, outcome):
    thresholds = signal_only(results) if outcome == "champion" else Thresholds(turnover_max=0.05)
    files = outputs(make_grid(results), thresholds, incumbent="lightgbm+hrp")
    page = files[HTML_FILE].decode()
    ranked = [c for c in strict_json(files[DETAILS_FILE])["combinations"] if c["rank"]]
    reasons = [reason for c in ranked for reason in c["threshold_failures"]]
    assert reasons, "some combination must fail a threshold here"
    for reason in set(reasons):
        said = page.count(markupsafe.escape(reason))  # anywhere on the page
        assert said == reasons.count(reason), reason
    verdicts = page.split('id="verdicts"', 1)[1].split("</section>", 1)[0]
    assert len(re.findall(r'<span class="status failed">', verdicts)) == sum(
        not c["passed"] for c in ranked
    )


def test_html_report_shows_the_factor_tear_sheet_when_the_candidates_evidence_is_given(results):
    candidates, dataset, data = factor_inputs()
    evidence = factor_evidence(candidates, "signal", dataset, data)
    page = outputs(make_grid(results), signal_only(results), factors=evidence)[HTML_FILE].decode()
    headings = re.findall(r"<h2>(.+?)</h2>", page)
    figures = headings.index("Figures")
    assert headings[figures + 1 : figures + 3] == [
        "Factor tear sheet: signal",
        "Factor summary of every candidate",
    ]
    assert "The model of the champion, signal+" in page
    alts = re.findall(r'<img class="chart" src="data:image/png;base64,[^"]+" alt="([^"]+)"', page)
    assert alts[2:] == list(FACTOR_FIGURES.values())
    assert "<script" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;</td>" in page


def test_caveat_appears_only_when_given(results):
    grid, thresholds = make_grid(results), signal_only(results)
    with_caveat = outputs(grid, thresholds, caveat=BUNDLED_NOTE)
    without = outputs(grid, thresholds)
    assert markdown_text(BUNDLED_NOTE) in with_caveat[REPORT_FILE].decode()
    assert strict_json(with_caveat[DETAILS_FILE])["caveat"] == BUNDLED_NOTE
    assert "Caveat" not in without[REPORT_FILE].decode()
    assert strict_json(without[DETAILS_FILE])["caveat"] is None


@pytest.mark.parametrize(
    ("sharpes", "said"),
    [
        ({"next_open": 1.1, "next_close": 0.9, "same_close": 1.4}, "costs 0.30 of Sharpe"),
        ({"next_open": 1.4, "next_close": 1.4, "same_close": 1.4}, "costs no measurable Sharpe"),
        ({"next_open": 1.5, "next_close": 1.4, "same_close": 1.4}, "does better, by 0.10"),
    ],
)
def test_the_report_states_the_fill_and_the_cost_of_the_delay_first(results, sharpes, said):
    files = outputs(
        make_grid(results), signal_only(results), execution="next_open", sharpe_by_execution=sharpes
    )
    report = files[REPORT_FILE].decode()
    outcome = report.split("## Outcome", 1)[1].split("**Champion", 1)[0]
    assert "at the open of the session after the signal (next_open)" in outcome
    figures = f"{sharpes['next_open']:.2f} next_open, {sharpes['next_close']:.2f} next_close"
    assert figures in outcome and said in outcome
    details = strict_json(files[DETAILS_FILE])["execution"]
    assert details["convention"] == "next_open"
    assert details["sharpe_by_execution"] == sharpes
    assert details["combination"].startswith("signal+")  # the champion
