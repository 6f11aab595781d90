"""End to end through Prefect: data update, champion selection and the daily run on real data."""

from __future__ import annotations

import json
import shutil
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from trading_core.data.folder import write_folder
from trading_core.data.providers import BundledProvider
from trading_core.data.synthetic import generate_synthetic_market
from trading_core.errors import DataError, ModelError, SafetyViolation

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("prefect_server")]

LAST = date(2022, 12, 28)
OUTPUTS = {
    "trades.csv",
    "portfolio_weights.csv",
    "signals.json",
    "report.html",
    "monitoring_log.json",
}
FAST_MODEL = """
modeling:
  test_sessions: 126
  cv: {folds: 2, validation_sessions: 126}
  lightgbm: {n_estimators: 60}
  xgboost: {n_estimators: 40}
  random_forest: {n_estimators: 20}
  tuning: {trials: 3}
model_selection:  # every combination passes: the champion is the top score of the grid
  thresholds:
    sharpe_min: -10
    max_drawdown_max: -1.0
    calmar_min: -10
    turnover_max: 10
    beat_baseline: false
"""


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under `folder` by relative path, with its bytes."""
    return {
        str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }


@pytest.fixture(scope="module")
def config(tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp("config") / "fast.yaml"
    path.write_text(FAST_MODEL)
    return str(path)


@pytest.fixture(scope="module")
def bundled_home(tmp_path_factory, config) -> Path:
    """A home holding the bundled S&P 500 data since 2012 and a champion selected on it."""
    from flows.champion_selection import champion_selection
    from flows.data_update import data_update

    folder = tmp_path_factory.mktemp("sp500")
    write_folder(BundledProvider().fetch().since("2012-01-03"), folder, fmt="parquet")
    home = tmp_path_factory.mktemp("home")
    data_update(provider="folder", path=str(folder), home=str(home), config=config)
    champion_selection(as_of=date(2022, 9, 1), home=str(home), config=config)
    return home


def test_data_update_twice_changes_nothing(bundled_home, config):
    from flows.data_update import data_update

    before = snapshot(bundled_home / "data")
    result = data_update(home=str(bundled_home), config=config)  # the recorded folder again
    assert not result.changed and result.source.startswith("folder ")
    assert snapshot(bundled_home / "data") == before


def test_champion_is_the_top_scoring_combination_saved_with_its_record(bundled_home):
    reports = bundled_home / "reports" / "model_selection"
    metadata = json.loads((bundled_home / "production" / "champion_metadata.json").read_text())
    details = json.loads((reports / "backtest_detailed_results.json").read_text())
    candidates = {"lightgbm", "xgboost_default", "xgboost_tuned", "random_forest", "ensemble"}
    optimizers = {"max_sharpe", "min_volatility", "hrp", "inverse_vol", "equal_weight"}

    assert metadata["model"] in candidates and metadata["optimizer"] in optimizers
    assert metadata["combination"] == details["champion"]["key"] == details["ranking"][0]
    scores = [c["score"]["total"] for c in details["combinations"]]
    assert metadata["weighted_score"] == max(scores)
    assert metadata["trials"] == len(scores) == 25
    assert 0 <= metadata["deflated_sharpe"]["dsr"] <= metadata["deflated_sharpe"]["psr"] <= 1
    assert metadata["trained_through"] < "2022-09-01"
    for member in metadata["members"]:
        assert (bundled_home / "production" / member["file"]).exists()
    for name in candidates:
        candidate = json.loads(
            (bundled_home / "models" / "candidates" / name / "metadata.json").read_text()
        )
        assert candidate["trained_through"] < candidate["research_plan"]["test"][0]
    matrix = pd.read_csv(reports / "backtest_comparison_matrix.csv").set_index("model")
    assert set(matrix.index) == candidates and set(matrix.columns) == optimizers
    assert matrix.notna().all().all()
    for name in ("equity_curves.png", "champion_vs_benchmark.png", "model_selection_report.md"):
        assert (reports / name).stat().st_size > 0
    report = (reports / "model_selection_report.md").read_text()
    assert "**Champion:" in report
    # a folder without universe.csv: the general survivorship caveat, not the bundled set's
    assert "survivor set" in report and "survived" not in report


def signals_optimizer(day: Path) -> str:
    """The optimizer the daily run used (the champion's, selected with its model)."""
    return json.loads((day / "signals.json").read_text())["optimizer"]


def test_daily_run_writes_five_outputs_within_caps_and_is_idempotent(bundled_home, config):
    from flows.daily_live import daily_live

    result = daily_live(run_date=LAST, home=str(bundled_home), config=config)
    day = bundled_home / "live" / "2022-12-28"
    assert {p.name for p in day.iterdir()} == OUTPUTS
    first = snapshot(day)

    weights = pd.read_csv(day / "portfolio_weights.csv")
    assert weights["target_weight"].max() <= 0.15 + 1e-9
    assert weights["target_weight"].sum() <= 1 + 1e-9
    assert 0 < (weights["target_weight"] > 0).sum() <= 10
    assert (
        signals_optimizer(day)
        == json.loads((bundled_home / "production" / "champion_metadata.json").read_text())[
            "optimizer"
        ]
    )
    trades = pd.read_csv(day / "trades.csv")
    assert (trades["status"] == "proposed").sum() == result["trades_proposed"] > 0
    assert (trades["shares"] == trades["shares"].round()).all()
    signals = json.loads((day / "signals.json").read_text())
    assert signals["date"] == "2022-12-28" and len(signals["scores"]) == 20
    log = json.loads((day / "monitoring_log.json").read_text())
    assert log["safety"]["passed"] is True
    assert log["monitoring"]["live_ic_sessions"] > 0
    assert "liquidity check skipped: no volume in the data" in log["warnings"]

    daily_live(run_date=LAST, home=str(bundled_home), config=config)
    assert snapshot(day) == first


def test_daily_run_on_a_holiday_says_market_closed_and_writes_nothing(bundled_home, config):
    from flows.daily_live import daily_live

    result = daily_live(run_date=date(2022, 12, 26), home=str(bundled_home), config=config)
    assert result["market_closed"] and "market closed" in result["reason"]
    assert not (bundled_home / "live" / "2022-12-26").exists()


def test_daily_run_past_the_data_fails_clearly(bundled_home, config):
    from flows.daily_live import daily_live

    with pytest.raises(DataError, match="no market data for 2023-01-03"):
        daily_live(run_date=date(2023, 1, 3), home=str(bundled_home), config=config)
    assert not (bundled_home / "live" / "2023-01-03").exists()


def test_without_a_champion_the_best_candidate_of_the_latest_training_scores_and_says_so(
    bundled_home, config, tmp_path
):
    from flows.daily_live import daily_live

    home = tmp_path / "home"
    shutil.copytree(bundled_home, home, ignore=shutil.ignore_patterns("production", "live"))
    comparison = pd.read_csv(home / "reports" / "model_selection" / "training_comparison.csv")
    best = comparison.sort_values("rank_ic").iloc[-1]

    daily_live(run_date=LAST, home=str(home), config=config)

    log = json.loads((home / "live" / f"{LAST}" / "monitoring_log.json").read_text())
    assert log["model"]["model_name"] == best["model"]
    assert any(f"scoring with candidate {best['model']}" in w for w in log["warnings"])


def test_tampered_champion_is_refused_and_nothing_is_written(bundled_home, config, tmp_path):
    from flows.daily_live import daily_live

    home = tmp_path / "home"
    shutil.copytree(bundled_home, home)
    metadata = json.loads((home / "production" / "champion_metadata.json").read_text())
    model = home / "production" / metadata["members"][0]["file"]
    payload = bytearray(model.read_bytes())
    payload[len(payload) // 2] ^= 0x01
    model.write_bytes(bytes(payload))
    with pytest.raises(ModelError, match="checksum"):
        daily_live(run_date=date(2022, 12, 27), home=str(home), config=config)
    assert not (home / "live" / "2022-12-27").exists()


def test_stale_price_of_a_held_name_blocks_every_trade_and_reports_why(tmp_path, config):
    from flows.daily_live import daily_live
    from flows.data_update import data_update

    market = generate_synthetic_market(symbols=15, years=2, seed=3, ic=0.1)
    close = market.data.close.copy()
    close.iloc[-6:, 0] = close.iloc[-7, 0]
    stale = close.columns[0]
    write_folder(
        type(market.data)(
            close=close,
            volume=market.data.volume,
            sectors=market.data.sectors,
            benchmark=market.data.benchmark,
            source="synthetic",
        ),
        tmp_path / "data",
    )
    home = tmp_path / "home"
    data_update(provider="folder", path=str(tmp_path / "data"), home=str(home), config=config)
    (home / "live").mkdir(parents=True)
    (home / "live" / "current_positions.csv").write_text(
        f"symbol,quantity\n{stale},100\nCASH,50000\n"
    )
    session = close.index[-1].date()

    with pytest.raises(SafetyViolation, match=f"prices_fresh.*{stale}"):
        daily_live(run_date=session, home=str(home), config=config)
    day = home / "live" / f"{session:%Y-%m-%d}"
    trades = pd.read_csv(day / "trades.csv")
    assert len(trades) > 0 and set(trades["status"]) == {"BLOCKED"}
    assert "BLOCKED" in (day / "report.html").read_text()
    log = json.loads((day / "monitoring_log.json").read_text())
    assert log["safety"]["passed"] is False
    # no champion was ever selected in this home: the run trained one on the spot and said so
    assert any("trained on the spot" in warning for warning in log["warnings"])
    assert not (home / "production").exists()
    assert (
        (home / "live" / "current_positions.csv")
        .read_text()
        .startswith(f"symbol,quantity\n{stale},100")
    )
