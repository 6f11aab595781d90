"""The selection's files: a complete matrix, strict JSON, long regime rows, an honest report, PNGs.

A small synthetic market is backtested without any model: the planted signal and seeded noise are
used as scores, under two optimizers, through the real walk-forward backtest (`backtest_scores`).
A third model "failed" under both optimizers, as when its walk-forward scoring raises.
"""

from __future__ import annotations

import base64
import json
import math
import re
import struct
from datetime import date
from io import StringIO

import markupsafe
import numpy as np
import pandas as pd
import pytest
from test_factor_report import factor_inputs

from trading_core.backtest.engine import VectorizedBacktester
from trading_core.backtest.walk_forward import WalkForwardResult, backtest_scores
from trading_core.costs import CostModel
from trading_core.data.providers import BUNDLED_NOTE
from trading_core.data.synthetic import generate_synthetic_market
from trading_core.portfolio.policy import PortfolioPolicy
from trading_core.reporting.factor_report import FIGURE_TITLES as FACTOR_FIGURES
from trading_core.reporting.factor_report import factor_evidence
from trading_core.reporting.markdown import markdown_text
from trading_core.reporting.selection_plots import CHAMPION_SIZE, EQUITY_SIZE
from trading_core.selection.grid import BacktestGrid
from trading_core.selection.outputs import (
    CHAMPION_FILE,
    DETAILS_FILE,
    EQUITY_FILE,
    FILES,
    HTML_FILE,
    MATRIX_FILE,
    REGIME_CSV_COLUMNS,
    REGIMES_FILE,
    REPORT_FILE,
    selection_outputs,
)
from trading_core.selection.scoring import (
    CRITERIA,
    Candidate,
    Selection,
    Thresholds,
    Weights,
    select_champion,
)
from trading_core.selection.sharpe_stats import deflated_sharpe

MODELS = ["signal", "noise"]
OPTIMIZERS = ["equal_weight", "inverse_vol"]
BROKEN = "broken"
ERROR = "DataError: no labeled sessions to train the model scoring from 2019-01-02"
SELECTED_ON = date(2024, 6, 28)
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def results() -> dict[tuple[str, str], WalkForwardResult]:
    """Real walk-forward backtests of the planted signal and of noise, weekly, 12 stocks, 3 years.

    Regimes are read from the benchmark's 20-session move (above +3% Risk-On, below -3%
    Risk-Off), so all three occur.
    """
    market = generate_synthetic_market(symbols=12, years=3, seed=5, ic=0.1)
    close = market.data.close
    move = market.data.benchmark.pct_change(20)
    regimes = pd.Series(np.where(move > 0.03, 2, np.where(move < -0.03, 0, 1)), index=close.index)
    dates = close.index[60::5]
    signal = market.signal.loc[dates].stack().rename("score").rename_axis(["date", "symbol"])
    noise = pd.Series(np.random.default_rng(3).normal(size=len(signal)), signal.index)
    scores = {"signal": signal, "noise": noise.rename("score")}
    out = {}
    for optimizer in OPTIMIZERS:
        policy = PortfolioPolicy(
            optimizer,
            top_k={"risk_off": 4, "normal": 6, "risk_on": 6},
            exposure={"risk_off": 0.5, "normal": 1.0, "risk_on": 1.0},
            max_weight=0.3,
        )
        for model in MODELS:
            out[(model, optimizer)] = backtest_scores(
                scores[model],
                market.data,
                regimes,
                policy,
                VectorizedBacktester(CostModel()),
                pd.DataFrame(),
            )
    return out


def make_grid(results, rename: dict[str, str] | None = None, error: str = ERROR) -> BacktestGrid:
    rename = rename or {}
    grid = BacktestGrid([rename.get(m, m) for m in [*MODELS, BROKEN]], list(OPTIMIZERS))
    for (model, optimizer), result in results.items():
        grid.add(rename.get(model, model), optimizer, result)
    for optimizer in OPTIMIZERS:
        grid.failures[(rename.get(BROKEN, BROKEN), optimizer)] = error
    return grid


def sharpe(results, model: str, optimizer: str) -> float:
    return results[(model, optimizer)].backtest.metrics["sharpe"]


def signal_only(results) -> Thresholds:
    """Thresholds the signal combinations pass and the noise ones fail on Sharpe alone."""
    noise = max(sharpe(results, "noise", o) for o in OPTIMIZERS)
    signal = min(sharpe(results, "signal", o) for o in OPTIMIZERS)
    assert signal > noise, "the planted signal should beat noise on this seed"
    return Thresholds(
        sharpe_min=(noise + signal) / 2, max_drawdown_max=-0.5, calmar_min=0.0, turnover_max=2.0
    )


def outputs(grid: BacktestGrid, thresholds: Thresholds, **extra) -> dict[str, bytes]:
    """Score, deflate and select as the flow does, then render every file."""
    names = {f"{m}+{o}": r for (m, o), r in grid.results.items()}
    trial_sharpes = [r.backtest.metrics["sharpe"] for r in names.values()]
    deflated = {n: deflated_sharpe(r.backtest.returns, trial_sharpes) for n, r in names.items()}
    baseline = (
        next(iter(names.values())).backtest.benchmark_metrics["sharpe"] if names else math.nan
    )
    candidates = [
        Candidate(n, r.backtest.metrics, r.backtest.regime_performance, deflated[n].dsr)
        for n, r in names.items()
    ]
    selection = select_champion(candidates, Weights(), thresholds, baseline)
    return selection_outputs(
        grid,
        selection,
        deflated,
        weights=Weights(),
        thresholds=thresholds,
        baseline_sharpe=baseline,
        selected_on=SELECTED_ON,
        **extra,
    )


def strict_json(payload: bytes) -> dict:
    def refuse(constant: str) -> None:
        raise ValueError(f"non-standard JSON constant {constant}")

    return json.loads(payload, parse_constant=refuse)


def png_size(png: bytes) -> tuple[int, int]:
    assert png.startswith(PNG_SIGNATURE)
    return struct.unpack(">II", png[16:24])


def table_lines(markdown: str, header_start: str) -> list[str]:
    """The lines of the pipe table whose header starts with `header_start`."""
    lines = markdown.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(header_start))
    end = next((i for i in range(start, len(lines)) if not lines[i].startswith("|")), len(lines))
    return lines[start:end]


def cells(line: str) -> int:
    """Columns of a table line: pipes that are not escaped with a backslash, minus one."""
    return len([i for i, ch in enumerate(line) if ch == "|" and line[i - 1 : i] != "\\"]) - 1


# --- files --------------------------------------------------------------------------------------


def test_every_file_is_produced(results):
    files = outputs(make_grid(results), signal_only(results))
    assert sorted(files) == sorted(FILES)
    assert all(isinstance(body, bytes) and body for body in files.values())


def test_matrix_has_every_model_and_optimizer_and_no_nan(results):
    files = outputs(make_grid(results), signal_only(results))
    matrix = pd.read_csv(
        StringIO(files[MATRIX_FILE].decode()), dtype=str, keep_default_na=False
    ).set_index("model")
    assert list(matrix.index) == [*MODELS, BROKEN]
    assert list(matrix.columns) == OPTIMIZERS
    assert (matrix != "").all().all()
    assert list(matrix.loc[BROKEN]) == ["failed", "failed"]
    for model in MODELS:
        for optimizer in OPTIMIZERS:  # full precision: the exact float survives the round trip
            assert float(matrix.loc[model, optimizer]) == sharpe(results, model, optimizer)


def test_detailed_results_are_strict_json_with_every_combination(results):
    details = strict_json(outputs(make_grid(results), signal_only(results))[DETAILS_FILE])
    combos = {c["key"]: c for c in details["combinations"]}
    assert len(combos) == 6
    ok = [c for c in combos.values() if c["status"] == "ok"]
    failed = [c for c in combos.values() if c["status"] == "failed"]
    assert len(ok) == 4 and len(failed) == 2
    assert sorted(c["rank"] for c in ok) == [1, 2, 3, 4]
    for c in ok:
        result = results[(c["model"], c["optimizer"])]
        assert c["metrics"]["sharpe"] == result.backtest.metrics["sharpe"]
        assert set(c["metrics"]) == set(result.backtest.metrics)
        assert set(c["benchmark_metrics"]) == set(result.backtest.benchmark_metrics)
        criteria = c["score"]["criteria"]
        assert set(criteria) == set(CRITERIA)
        assert set(criteria["sharpe"]) == {"raw", "normalized", "weight", "contribution"}
        assert math.isclose(
            c["score"]["total"], sum(v["contribution"] for v in criteria.values()), abs_tol=1e-12
        )
        assert c["deflated_sharpe"]["trials"] == 4
        assert 0 <= c["deflated_sharpe"]["dsr"] <= c["deflated_sharpe"]["psr"] <= 1
        assert [r["regime"] for r in c["regime_performance"]] == ["Risk-Off", "Normal", "Risk-On"]
        assert c["fallbacks"] == 0
        assert c["passed"] == (c["model"] == "signal")
        assert c["passed"] or any(f.startswith("Sharpe") for f in c["threshold_failures"])
    for c in failed:
        assert c["error"] == ERROR and c["rank"] is None and c["metrics"] is None
    assert details["ranking"] == [c["key"] for c in sorted(ok, key=lambda c: c["rank"])]
    assert details["trials"] == 4 and details["combinations_failed"] == 2
    assert details["selected_on"] == "2024-06-28"
    assert details["thresholds"]["sharpe_min"] == signal_only(results).sharpe_min
    assert details["weights"]["sharpe"] == Weights().sharpe
    assert (
        details["baseline"]["sharpe"]
        == results[("signal", "equal_weight")].backtest.benchmark_metrics["sharpe"]
    )
    champion = details["champion"]
    top_passer = next(k for k in details["ranking"] if combos[k]["passed"])
    assert champion["key"] == top_passer and combos[top_passer]["champion"]
    assert champion["model"] == "signal"
    assert details["no_champion_reason"] is None


def test_regime_breakdown_has_one_row_per_completed_combination_and_regime(results):
    files = outputs(make_grid(results), signal_only(results))
    regimes = pd.read_csv(StringIO(files[REGIMES_FILE].decode()))
    assert list(regimes.columns) == REGIME_CSV_COLUMNS
    assert len(regimes) == 4 * 3
    assert set(zip(regimes["model"], regimes["optimizer"], strict=True)) == set(results)
    assert BROKEN not in set(regimes["model"])
    row = regimes[(regimes["model"] == "signal") & (regimes["optimizer"] == "inverse_vol")]
    expected = results[("signal", "inverse_vol")].backtest.regime_performance
    assert list(row["days"]) == list(expected["days"])
    assert list(row["sharpe"]) == list(expected["sharpe"])


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


def test_a_grid_where_nothing_completed_still_writes_every_file():
    grid = BacktestGrid(["a", "b"], ["hrp", "max_sharpe"])
    grid.add("a", "hrp", ValueError("solver failed"))
    grid.add("b", "hrp", ValueError("solver failed"))
    grid.add("a", "max_sharpe", ValueError("solver failed"))  # b x max_sharpe never recorded
    files = selection_outputs(
        grid,
        Selection([], None),
        {},
        weights=Weights(),
        thresholds=Thresholds(),
        baseline_sharpe=math.nan,
        selected_on=SELECTED_ON,
    )
    assert sorted(files) == sorted(FILES)
    assert (
        files[MATRIX_FILE].decode() == "model,hrp,max_sharpe\na,failed,failed\nb,failed,missing\n"
    )
    details = strict_json(files[DETAILS_FILE])
    assert details["champion"] is None and details["trials"] == 0
    assert "no combination completed its backtest" in files[REPORT_FILE].decode()
    assert files[REGIMES_FILE].decode() == ",".join(REGIME_CSV_COLUMNS) + "\n"
    assert png_size(files[EQUITY_FILE]) == tuple(int(v * 100) for v in EQUITY_SIZE)


# --- the charts ---------------------------------------------------------------------------------


def test_charts_are_pngs_of_fixed_size_and_every_file_is_reproducible(results):
    grid, thresholds = make_grid(results), signal_only(results)
    first = outputs(grid, thresholds, caveat=BUNDLED_NOTE)
    second = outputs(make_grid(results), thresholds, caveat=BUNDLED_NOTE)
    assert png_size(first[EQUITY_FILE]) == (800, 500) == tuple(int(v * 100) for v in EQUITY_SIZE)
    assert png_size(first[CHAMPION_FILE]) == (800, 420)
    assert first == second


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
