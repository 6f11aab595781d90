"""The selection's files: all seven, a complete matrix, strict JSON, long regime rows, fixed PNGs.

A small synthetic market is backtested without any model: the planted signal and seeded noise are
used as scores, under two optimizers, through the real walk-forward backtest (`backtest_scores`).
A third model "failed" under both optimizers, as when its walk-forward scoring raises. The
fixtures and helpers here also serve the reports' tests (test_selection_reports) and the browser
tests.
"""

from __future__ import annotations

import json
import math
import struct
from datetime import date
from io import StringIO

import numpy as np
import pandas as pd
import pytest

from trading_core.backtest.engine import VectorizedBacktester
from trading_core.backtest.walk_forward import WalkForwardResult, backtest_scores
from trading_core.costs import CostModel
from trading_core.data.providers import BUNDLED_NOTE
from trading_core.data.synthetic import generate_synthetic_market
from trading_core.portfolio.policy import PortfolioPolicy
from trading_core.reporting.selection_files import (
    CHAMPION_FILE,
    DETAILS_FILE,
    EQUITY_FILE,
    FILES,
    MATRIX_FILE,
    REGIME_CSV_COLUMNS,
    REGIMES_FILE,
    REPORT_FILE,
    selection_outputs,
)
from trading_core.reporting.selection_plots import EQUITY_SIZE
from trading_core.selection.grid import BacktestGrid
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
