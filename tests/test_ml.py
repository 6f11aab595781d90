"""Models learn a planted signal out of sample and invent none; IC is what pandas says it is; the
registry gives back the same model or refuses, before deserializing anything, to load a changed one."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from trading_core.data.synthetic import SyntheticMarket, generate_synthetic_market
from trading_core.errors import ModelError
from trading_core.features.library import feature_set
from trading_core.ml.dataset import Dataset, build_dataset
from trading_core.ml.metrics import daily_ic, ic_summary
from trading_core.ml.registry import load_model, save_model
from trading_core.ml.train import ModelTrainer, TrainedModel
from trading_core.selection.champion import CandidateResult, best_candidate, evaluate_candidates

FEATURES = feature_set(
    momentum_windows=[5, 20, 60, 120, 250],
    reversal_window=5,
    volatility_windows=[20, 60],
    volume_window=20,
)
HORIZON = 5
HOLDOUT = 252


class OneThreadTrainer(ModelTrainer):
    """The product's candidates on one thread: OpenMP on a busy 2-core machine stalls for seconds."""

    def make(self, name: str):
        return super().make(name).set_params(n_jobs=1)


TRAINER = OneThreadTrainer(n_estimators=100, learning_rate=0.05, min_child_samples=200, seed=1)


def holdout_result(market: SyntheticMarket) -> CandidateResult:
    dataset = build_dataset(market.data, FEATURES, horizon=HORIZON)
    (result,) = evaluate_candidates(dataset, ["lightgbm"], TRAINER, holdout=HOLDOUT)
    return result


@pytest.fixture(scope="module")
def signal_market() -> SyntheticMarket:
    return generate_synthetic_market(symbols=60, years=4, seed=6, ic=0.1, horizon=HORIZON)


@pytest.fixture(scope="module")
def null_market() -> SyntheticMarket:
    return generate_synthetic_market(symbols=60, years=4, seed=6, ic=0.0, horizon=HORIZON)


def test_lightgbm_learns_the_planted_signal_on_a_purged_holdout(signal_market):
    result = holdout_result(signal_market)

    assert result.rank_ic["days"] == HOLDOUT
    assert result.rank_ic["mean"] > 0
    assert result.rank_ic["mean"] > 0.3 * signal_market.oracle_ic_horizon
    assert result.rank_ic["t_stat"] > 3
    dates = signal_market.data.dates
    purged = (dates > result.train_end) & (dates < result.holdout_start)
    assert purged.sum() >= HORIZON  # no training label reaches into the holdout


def test_lightgbm_finds_nothing_in_a_market_without_signal(null_market):
    result = holdout_result(null_market)

    assert abs(result.rank_ic["mean"]) < 0.03


def test_best_candidate_is_the_highest_mean_rank_ic_and_ties_go_to_the_first():
    def candidate(name: str, mean: float) -> CandidateResult:
        stamp = pd.Timestamp("2020-01-02")
        return CandidateResult(name, {"mean": mean}, {}, pd.Series(dtype=float), *[stamp] * 4)

    results = [candidate("a", 0.02), candidate("b", 0.05), candidate("c", 0.05)]

    assert best_candidate(results).name == "b"


# ---------------------------------------------------------------------------------------------
# metrics


@pytest.fixture(scope="module")
def scored() -> tuple[pd.Series, pd.Series]:
    """Scores and labels on 30 dates x 12 symbols, with gaps and one thin date."""
    rng = np.random.default_rng(4)
    dates = pd.bdate_range("2024-01-01", periods=30)
    symbols = [f"S{i:02d}" for i in range(12)]
    index = pd.MultiIndex.from_product([dates, symbols], names=["date", "symbol"])
    labels = pd.Series(rng.normal(size=len(index)), index=index)
    scores = 0.3 * labels + pd.Series(rng.normal(size=len(index)), index=index)
    scores = scores.round(1)  # ties, ranked as averages
    scores[rng.random(len(index)) < 0.1] = np.nan
    thin = index.get_level_values("date") == dates[7]
    labels[thin & index.get_level_values("symbol").isin(symbols[4:])] = np.nan  # 4 left: too few
    return scores, labels


@pytest.mark.parametrize(("rank", "method"), [(True, "spearman"), (False, "pearson")])
def test_daily_ic_is_the_per_date_correlation_pandas_computes(scored, rank, method):
    scores, labels = scored

    ic = daily_ic(scores, labels, rank=rank, min_names=5)

    joined = pd.DataFrame({"s": scores, "l": labels}).dropna()
    by_date = joined.groupby(level="date")
    expected = by_date.apply(lambda g: g["s"].corr(g["l"], method=method))[by_date.size() >= 5]
    pd.testing.assert_series_equal(ic, expected, check_names=False, rtol=1e-12)
    assert pd.Timestamp("2024-01-10") not in ic.index  # the thin date is left out
    assert len(ic) == 29


def test_ic_summary_reports_mean_std_and_t_statistic():
    ic = pd.Series([0.1, 0.0, 0.2, 0.1])

    summary = ic_summary(ic)

    assert summary["mean"] == pytest.approx(0.1)
    assert summary["std"] == pytest.approx(ic.std())
    assert summary["t_stat"] == pytest.approx(0.1 / ic.std() * 2)
    assert summary["days"] == 4


# ---------------------------------------------------------------------------------------------
# registry


@pytest.fixture(scope="module")
def small_dataset() -> Dataset:
    market = generate_synthetic_market(symbols=20, years=1.2, seed=8, ic=0.1)
    return build_dataset(market.data, FEATURES, horizon=HORIZON)


@pytest.fixture(scope="module", params=["lightgbm", "xgboost_default"])
def model(request, small_dataset) -> TrainedModel:
    trainer = OneThreadTrainer(n_estimators=20, min_child_samples=20, seed=1)
    return trainer.fit(request.param, small_dataset.rows, small_dataset.labels)


@pytest.fixture
def saved(tmp_path, model) -> Path:
    save_model(model, tmp_path, "candidate", {"trained_through": "2013-03-01"})
    return tmp_path


def model_file(folder: Path) -> Path:
    meta = json.loads((folder / "candidate_metadata.json").read_text())
    return folder / meta["model_file"]


def test_a_saved_model_loads_back_and_predicts_identically(saved, model, small_dataset):
    loaded = load_model(saved, "candidate")

    pd.testing.assert_series_equal(
        loaded.predict(small_dataset.rows), model.predict(small_dataset.rows), check_exact=True
    )
    assert loaded.features == model.features
    assert loaded.name == model.name
    assert loaded.metadata["trained_through"] == "2013-03-01"


def test_a_tampered_model_file_is_refused_by_checksum_before_deserializing(saved, monkeypatch):
    import lightgbm
    import xgboost

    path = model_file(saved)
    payload = bytearray(path.read_bytes())
    payload[len(payload) // 2] ^= 0x01
    path.write_bytes(bytes(payload))
    deserialized = []
    monkeypatch.setattr(lightgbm, "Booster", lambda *a, **k: deserialized.append("lightgbm"))
    monkeypatch.setattr(xgboost, "Booster", lambda *a, **k: deserialized.append("xgboost"))

    with pytest.raises(ModelError, match="checksum"):
        load_model(saved, "candidate")

    assert deserialized == []


def test_a_missing_model_file_is_a_model_error(saved):
    model_file(saved).unlink()

    with pytest.raises(ModelError, match="missing"):
        load_model(saved, "candidate")


def test_missing_metadata_is_a_model_error(tmp_path):
    with pytest.raises(ModelError, match="candidate_metadata.json"):
        load_model(tmp_path, "candidate")


@pytest.mark.parametrize(
    "text", ["{ not json", "[]", '{"kind": "lightgbm"}'], ids=["garbage", "a-list", "no-file-named"]
)
def test_unreadable_metadata_is_a_model_error(saved, text):
    (saved / "candidate_metadata.json").write_text(text)

    with pytest.raises(ModelError, match="unreadable"):
        load_model(saved, "candidate")


def test_metadata_naming_a_file_outside_the_folder_is_refused(saved):
    meta_path = saved / "candidate_metadata.json"
    meta = json.loads(meta_path.read_text())
    meta["model_file"] = "../elsewhere.txt"
    meta_path.write_text(json.dumps(meta))

    with pytest.raises(ModelError):
        load_model(saved, "candidate")


def test_predicting_without_a_feature_the_model_needs_names_it(saved, small_dataset):
    loaded = load_model(saved, "candidate")

    with pytest.raises(ModelError, match="vol_60_rank"):
        loaded.predict(small_dataset.rows.drop(columns="vol_60_rank"))
