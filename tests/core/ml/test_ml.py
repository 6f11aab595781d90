"""Candidates fit, predict and repeat themselves bit for bit; the registry gives back the same model
or refuses, before deserializing anything, to load a changed or foreign one; research splits keep
every training label out of the period it is judged on; the candidate loop trains what is asked.

Unit level: a small seeded market (50 stocks x 3 years) and small models on one thread.
"""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import zipfile
from dataclasses import dataclass, replace
from itertools import pairwise
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from trading_core.data.synthetic import generate_synthetic_market
from trading_core.errors import DataError, ModelError
from trading_core.features.library import feature_set
from trading_core.ml import registry, tree_scorer
from trading_core.ml.cv import walk_forward_splits
from trading_core.ml.dataset import Dataset, build_dataset
from trading_core.ml.registry import load_model, save_model
from trading_core.ml.registry import member_files as files_of
from trading_core.ml.research import (
    ResearchPlan,
    plan_research,
    thin,
)
from trading_core.ml.train import (
    BASE_CANDIDATES,
    EnsembleModel,
    ModelTrainer,
    TrainedModel,
    as_matrix,
)
from trading_core.ml.tree_scorer import TreeScorer

HORIZON = 5
SEED = 11
ENSEMBLE_MEMBERS = ["lightgbm", "xgboost_default", "random_forest"]
SMALL_MODELS = {
    "lightgbm": {
        "n_estimators": 60,
        "learning_rate": 0.1,
        "num_leaves": 15,
        "min_child_samples": 50,
        "subsample": 0.8,
        "colsample_bytree": 0.8,
        "early_stopping_rounds": 10,
    },
    "xgboost": {
        "n_estimators": 40,
        "learning_rate": 0.1,
        "max_depth": 3,
        "subsample": 0.8,
        "colsample_bytree": 0.8,
    },
    "random_forest": {
        "n_estimators": 20,
        "max_depth": 6,
        "min_samples_leaf": 20,
        "max_features": 0.3,
        "max_samples": 0.5,
    },
}


def small_trainer(seed: int = SEED) -> ModelTrainer:
    """The product's trainer with small models, on one thread (fast on a busy 2-core machine)."""
    return ModelTrainer(**SMALL_MODELS, seed=seed, n_jobs=1)


@dataclass(frozen=True)
class Sample:
    """Thinned labeled training rows, and later rows (after a purge gap) to score."""

    rows: pd.DataFrame
    labels: pd.Series
    later: pd.DataFrame


@pytest.fixture(scope="module")
def dataset() -> Dataset:
    market = generate_synthetic_market(symbols=50, years=3, seed=5, ic=0.1, horizon=HORIZON)
    return build_dataset(market.data, feature_set(), HORIZON, "zscore", ("z",))


@pytest.fixture(scope="module")
def sample(dataset) -> Sample:
    dates = dataset.labeled_dates
    train = dataset.on(thin(dates[:480], 5), labeled=True)
    later = dataset.on(dates[490:], labeled=True)
    return Sample(dataset.rows[train], dataset.labels[train], dataset.rows[later])


@pytest.fixture(scope="module")
def models(sample) -> dict[str, TrainedModel]:
    """Each candidate, plus the forest grown by scikit-learn (`engine: sklearn`, saved by skops)."""
    trainer = small_trainer()
    fitted = {name: trainer.fit(name, sample.rows, sample.labels) for name in BASE_CANDIDATES}
    sklearn = {**SMALL_MODELS["random_forest"], "engine": "sklearn"}
    fitted["sklearn_forest"] = trainer.fit("random_forest", sample.rows, sample.labels, sklearn)
    return fitted


def ensemble_of(models: dict[str, TrainedModel]) -> EnsembleModel:
    return EnsembleModel("ensemble", [models[name] for name in ENSEMBLE_MEMBERS])


# ---------------------------------------------------------------------------------------------
# training


@pytest.mark.parametrize("name", BASE_CANDIDATES)
def test_every_candidate_fits_and_gives_one_finite_score_per_row(models, sample, name):
    model = models[name]

    scores = model.predict(sample.later)

    assert model.name == name
    assert model.features == list(sample.rows.columns)
    assert scores.index.equals(sample.later.index)
    assert np.isfinite(scores.to_numpy()).all()
    assert scores.nunique() > 1


def test_lightgbm_stops_early_on_a_validation_set_whose_labels_are_noise(sample):
    rng = np.random.default_rng(0)
    noise = pd.Series(rng.normal(size=len(sample.later)), index=sample.later.index)
    ceiling = SMALL_MODELS["lightgbm"]["n_estimators"]

    model = small_trainer().fit(
        "lightgbm", sample.rows, sample.labels, validation=(sample.later, noise)
    )

    assert model.best_iteration is not None
    assert 1 <= model.best_iteration < ceiling
    assert model.estimator.booster_.current_iteration() < ceiling  # training stopped, too


def test_without_a_validation_set_lightgbm_uses_every_tree(models):
    assert models["lightgbm"].best_iteration is None
    assert (
        models["lightgbm"].estimator.booster_.current_iteration()
        == SMALL_MODELS["lightgbm"]["n_estimators"]
    )


def test_an_unknown_candidate_is_a_model_error_that_lists_the_choices(sample):
    with pytest.raises(ModelError, match=r"'catboost'.*lightgbm.*random_forest"):
        small_trainer().fit("catboost", sample.rows, sample.labels)


def test_fitting_on_no_rows_is_a_model_error(sample):
    with pytest.raises(ModelError, match="no labeled rows"):
        small_trainer().fit("lightgbm", sample.rows.iloc[:0], sample.labels.iloc[:0])


@pytest.mark.parametrize("name", BASE_CANDIDATES)
def test_the_same_seed_and_rows_give_bit_identical_predictions(models, sample, name):
    again = small_trainer().fit(name, sample.rows, sample.labels)

    assert np.array_equal(
        again.predict(sample.later).to_numpy(), models[name].predict(sample.later).to_numpy()
    )


def test_a_fit_on_a_window_binned_once_is_the_estimators_fit_bit_for_bit(sample):
    """Optuna's trials reuse each fold's binned matrix; the models must not change."""
    from trading_core.ml.binned import BinnedWindows

    trainer = small_trainer()
    binned = BinnedWindows(trainer)
    reads = []

    def rows():
        reads.append(1)
        return sample.rows, sample.labels

    for params in ({"n_estimators": 30, "max_depth": 3}, {"n_estimators": 20, "gamma": 0.5}):
        params = {**trainer.params("xgboost_tuned"), **params}
        direct = trainer.fit("xgboost_tuned", sample.rows, sample.labels, params)
        again = binned.fit("xgboost_tuned", "fold 1", rows, params)
        assert np.array_equal(
            again.predict(sample.later).to_numpy(), direct.predict(sample.later).to_numpy()
        )
    assert len(reads) == 1  # the window was binned once for both fits
    with pytest.raises(ValueError, match="not an XGBoost candidate"):
        binned.fit("lightgbm", "fold 1", rows, trainer.params("lightgbm"))


@pytest.mark.parametrize("name", ["lightgbm", "xgboost_default", "random_forest"])
def test_a_different_seed_gives_different_predictions(models, sample, name):
    other = small_trainer(seed=SEED + 1).fit(name, sample.rows, sample.labels)

    assert not np.array_equal(
        other.predict(sample.later).to_numpy(), models[name].predict(sample.later).to_numpy()
    )


@pytest.mark.parametrize("engine", ["lightgbm", "sklearn"])
def test_a_random_forest_on_two_threads_scores_the_same_rows_bit_identically(sample, engine):
    model = ModelTrainer(**SMALL_MODELS, seed=SEED, n_jobs=2).fit(
        "random_forest",
        sample.rows,
        sample.labels,
        {**SMALL_MODELS["random_forest"], "engine": engine},
    )

    first = model.predict(sample.later).to_numpy()

    assert all(np.array_equal(first, model.predict(sample.later).to_numpy()) for _ in range(10))


def test_the_lightgbm_forest_is_the_forest_the_settings_describe(models):
    forest, settings = models["random_forest"], SMALL_MODELS["random_forest"]
    grown = forest.estimator.get_params()

    assert (forest.kind, grown["boosting_type"]) == ("lightgbm", "rf")
    assert grown["n_estimators"] == forest.estimator.booster_.current_iteration()
    assert (grown["max_depth"], grown["num_leaves"]) == (6, 64)  # leaf for leaf as deep
    assert grown["min_child_samples"] == settings["min_samples_leaf"]
    assert grown["colsample_bynode"] == settings["max_features"]
    assert (grown["subsample"], grown["subsample_freq"]) == (settings["max_samples"], 1)
    assert models["sklearn_forest"].kind == "sklearn"


def test_the_ensemble_scores_the_mean_of_its_members_per_date_percentile_ranks(models, sample):
    ensemble = ensemble_of(models)

    scores = ensemble.predict(sample.later)

    wide_ranks = [
        models[name].predict(sample.later).unstack("symbol").rank(axis=1, pct=True)
        for name in ENSEMBLE_MEMBERS
    ]
    expected = (sum(wide_ranks) / len(wide_ranks)).stack().reindex(scores.index)
    pd.testing.assert_series_equal(scores, expected, check_names=False, rtol=1e-12)
    assert scores.between(0, 1).all()
    assert ensemble.features == list(sample.rows.columns)


# ---------------------------------------------------------------------------------------------
# registry


@pytest.fixture(
    params=["lightgbm", "xgboost_default", "random_forest", "sklearn_forest", "ensemble"]
)
def candidate(request, models) -> TrainedModel | EnsembleModel:
    return ensemble_of(models) if request.param == "ensemble" else models[request.param]


@pytest.fixture
def saved(tmp_path, candidate) -> Path:
    folder = tmp_path / "registry"
    save_model(candidate, folder, {"trained_through": "2014-12-31"})
    return folder


def metadata_of(folder: Path) -> dict:
    return json.loads((folder / "metadata.json").read_text())


def member_files(folder: Path) -> list[Path]:
    """Every file the metadata names: native models and their Treelite checkpoints."""
    return [folder / name for member in metadata_of(folder)["members"] for name in files_of(member)]


def rewrite_metadata(folder: Path, change) -> None:
    metadata = metadata_of(folder)
    change(metadata)
    (folder / "metadata.json").write_text(json.dumps(metadata))


def test_a_saved_model_loads_back_and_predicts_bit_identically(saved, candidate, sample):
    loaded = load_model(saved)

    # exact for every kind: XGBoost's Booster on a DMatrix and the sklearn wrapper's in-place
    # prediction run the same float32 trees on the same float32 matrix
    assert np.array_equal(
        loaded.predict(sample.later).to_numpy(), candidate.predict(sample.later).to_numpy()
    )
    assert loaded.name == candidate.name
    assert loaded.features == candidate.features
    assert loaded.metadata["trained_through"] == "2014-12-31"


def test_metadata_records_each_member_file_and_its_sha256(saved, candidate):
    members = candidate.members if isinstance(candidate, EnsembleModel) else [candidate]

    recorded = metadata_of(saved)["members"]

    assert [m["name"] for m in recorded] == [m.name for m in members]
    for entry in recorded:
        payload = (saved / entry["file"]).read_bytes()
        assert entry["sha256"] == hashlib.sha256(payload).hexdigest()
        assert entry["file"].startswith(f"{entry['name']}-{entry['sha256'][:8]}.")


def scored_members(folder: Path) -> list[object]:
    return [member.scorer for member in load_model(folder).members]


def test_every_tree_model_is_saved_with_a_treelite_checkpoint_and_scored_through_it(
    saved, candidate, sample
):
    members = candidate.members if isinstance(candidate, EnsembleModel) else [candidate]

    recorded = metadata_of(saved)["members"]

    for entry, member in zip(recorded, members, strict=True):
        if member.kind == "xgboost":  # Treelite sums XGBoost's float32 trees in another order:
            assert "scorer" not in entry  # 1 ulp off on the probe, so it loads natively
            continue
        payload = (saved / entry["scorer"]["file"]).read_bytes()
        assert entry["scorer"]["sha256"] == hashlib.sha256(payload).hexdigest()
        assert entry["scorer"]["file"] == Path(entry["file"]).with_suffix(".tl").name
        checkpoint = TreeScorer.load(payload).predict(as_matrix(sample.later, member.features))
        assert np.array_equal(checkpoint, member.predict(sample.later).to_numpy())
    assert [isinstance(b, TreeScorer) for b in scored_members(saved)] == [
        m.kind != "xgboost" for m in members
    ]


def test_a_checkpoint_this_treelite_cannot_read_leaves_the_member_scored_natively(
    tmp_path, models, sample
):
    save_model(models["lightgbm"], tmp_path, {})
    (entry,) = metadata_of(tmp_path)["members"]
    unreadable = b"a checkpoint of another Treelite format"
    (tmp_path / entry["scorer"]["file"]).write_bytes(unreadable)
    rewrite_metadata(
        tmp_path,
        lambda m: m["members"][0]["scorer"].update(sha256=hashlib.sha256(unreadable).hexdigest()),
    )

    loaded = load_model(tmp_path)

    assert loaded.members[0].scorer is None
    assert np.array_equal(
        loaded.predict(sample.later).to_numpy(), models["lightgbm"].predict(sample.later).to_numpy()
    )


def test_more_rows_than_a_day_are_scored_by_the_native_model_with_the_same_scores(
    tmp_path, models, sample, monkeypatch
):
    save_model(models["lightgbm"], tmp_path, {})
    (member,) = load_model(tmp_path).members
    day = sample.later.iloc[:5]
    monkeypatch.setattr(registry, "SCORER_ROWS", len(day))

    by_checkpoint = member.predict(day)
    assert "native" not in vars(member)  # a day's rows never load LightGBM's model
    by_native = member.predict(sample.later)

    assert "native" in vars(member)
    assert np.array_equal(by_checkpoint, by_native.iloc[:5])
    assert np.array_equal(by_native, models["lightgbm"].predict(sample.later))


def test_a_model_its_checkpoint_would_score_differently_is_saved_without_one(
    tmp_path, models, sample, monkeypatch
):
    scores = tree_scorer._scores
    monkeypatch.setattr(tree_scorer, "_scores", lambda model, matrix: scores(model, matrix) + 1e-15)

    save_model(models["lightgbm"], tmp_path, {})

    assert "scorer" not in metadata_of(tmp_path)["members"][0]
    assert list(tmp_path.glob("*.tl")) == []
    assert np.array_equal(
        load_model(tmp_path).predict(sample.later).to_numpy(),
        models["lightgbm"].predict(sample.later).to_numpy(),
    )


def test_a_lightgbm_model_cut_to_its_first_trees_checkpoints_only_those_trees(
    tmp_path, models, sample
):
    model = models["lightgbm"]
    shorter = replace(model, trees=20)

    save_model(shorter, tmp_path, {})

    (booster,) = scored_members(tmp_path)
    rows = as_matrix(sample.later, model.features)
    assert np.array_equal(booster.predict(rows), shorter.predict(sample.later).to_numpy())
    assert not np.array_equal(booster.predict(rows), model.predict(sample.later).to_numpy())


@pytest.fixture
def deserialized(monkeypatch) -> list[bytes]:
    """Every payload a model library is asked to read (the calls still go through)."""
    import lightgbm
    import skops.io
    import treelite
    import xgboost

    seen: list[bytes] = []
    booster, load, untrusted, loads, checkpoint = (
        lightgbm.Booster,
        xgboost.Booster.load_model,
        skops.io.get_untrusted_types,
        skops.io.loads,
        treelite.Model.deserialize_bytes,
    )

    def lightgbm_booster(*args, model_str=None, **kwargs):
        seen.append(model_str.encode() if model_str is not None else repr(args).encode())
        return booster(*args, model_str=model_str, **kwargs)

    def xgboost_load(self, source):
        seen.append(bytes(source))
        return load(self, source)

    def skops_untrusted(*args, data=None, **kwargs):
        seen.append(bytes(data))
        return untrusted(*args, data=data, **kwargs)

    def skops_loads(data, *args, **kwargs):
        seen.append(bytes(data))
        return loads(data, *args, **kwargs)

    def treelite_checkpoint(payload):
        seen.append(bytes(payload))
        return checkpoint(payload)

    monkeypatch.setattr(lightgbm, "Booster", lightgbm_booster)
    monkeypatch.setattr(treelite.Model, "deserialize_bytes", treelite_checkpoint)
    monkeypatch.setattr(xgboost.Booster, "load_model", xgboost_load)
    monkeypatch.setattr(skops.io, "get_untrusted_types", skops_untrusted)
    monkeypatch.setattr(skops.io, "loads", skops_loads)
    return seen


def flip_one_byte(path: Path) -> bytes:
    payload = bytearray(path.read_bytes())
    payload[len(payload) // 2] ^= 0x01
    path.write_bytes(bytes(payload))
    return bytes(payload)


def test_a_tampered_member_file_is_refused_by_checksum_before_it_is_deserialized(
    saved, deserialized
):
    for path in member_files(saved):
        original = path.read_bytes()
        tampered = flip_one_byte(path)

        with pytest.raises(ModelError, match=f"{path.name} does not match the checksum"):
            load_model(saved)

        assert tampered not in deserialized
        path.write_bytes(original)
    load_model(saved)  # the restored files load, and the spy sees what scores read
    scoring = [
        saved / (member["scorer"]["file"] if "scorer" in member else member["file"])
        for member in metadata_of(saved)["members"]
    ]
    assert all(path.read_bytes() in deserialized for path in scoring)


def test_a_tampered_single_model_reaches_no_library_loader_at_all(tmp_path, models, deserialized):
    for name in ENSEMBLE_MEMBERS:
        folder = tmp_path / name
        save_model(models[name], folder, {})
        deserialized.clear()  # saving reads the model back to check its checkpoint
        for path in member_files(folder):  # the native file, then the checkpoint, if any
            original = path.read_bytes()
            flip_one_byte(path)
            with pytest.raises(ModelError, match="checksum"):
                load_model(folder)
            path.write_bytes(original)

        assert deserialized == []


def test_a_missing_member_file_is_a_model_error_naming_it(saved):
    path = member_files(saved)[-1]
    path.unlink()

    with pytest.raises(ModelError, match=f"{path.name} .*is missing"):
        load_model(saved)


def test_missing_metadata_is_a_model_error_naming_the_file(tmp_path):
    with pytest.raises(ModelError, match="no model metadata at .*champion_metadata.json"):
        load_model(tmp_path, "champion_metadata.json")


@pytest.mark.parametrize(
    "text",
    ["{ not json", "[]", '{"model_name": "x"}', '{"members": []}', '{"members": [{"name": "x"}]}'],
    ids=["garbage", "a-list", "no-members", "empty-members", "member-without-file"],
)
def test_unreadable_metadata_is_a_model_error(saved, text):
    (saved / "metadata.json").write_text(text)

    with pytest.raises(ModelError, match="metadata.json is unreadable"):
        load_model(saved)


@pytest.mark.parametrize("where", ["parent", "absolute"])
def test_metadata_naming_a_file_outside_the_folder_is_refused(saved, where):
    outside = saved.parent / member_files(saved)[0].name
    shutil.copy(member_files(saved)[0], outside)  # a real file with the right checksum
    named = f"../{outside.name}" if where == "parent" else str(outside)
    rewrite_metadata(saved, lambda m: m["members"][0].update(file=named))

    with pytest.raises(ModelError, match="unsupported model"):
        load_model(saved)


def double(x):
    """A module-level function: skops stores it by name, as a type outside scikit-learn."""
    return 2 * x


def test_a_skops_file_holding_a_type_outside_scikit_learn_is_refused_by_name(tmp_path, sample):
    from sklearn.ensemble import RandomForestRegressor
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer

    pipeline = make_pipeline(FunctionTransformer(double), RandomForestRegressor(n_estimators=2))
    pipeline.fit(sample.rows.fillna(0).to_numpy("float32")[:500], sample.labels[:500])
    foreign = TrainedModel("random_forest", "sklearn", pipeline, list(sample.rows.columns))
    save_model(foreign, tmp_path, {})

    with pytest.raises(
        ModelError, match=rf"types that are not trusted: .*{double.__module__}\.double"
    ):
        load_model(tmp_path)


def crafted_skops(module: str, function: str, argument: str) -> bytes:
    """A skops file whose only node calls `module.function(argument)` when it is loaded."""
    import skops.io

    reference = json.loads(zipfile.ZipFile(io.BytesIO(skops.io.dumps([1]))).read("schema.json"))
    text = {"__class__": "str", "__module__": "builtins", "__loader__": "JsonNode"}
    schema = {
        "__class__": function,
        "__module__": module,
        "__loader__": "ConstructorFromReduceNode",
        "content": {
            "__class__": "tuple",
            "__module__": "builtins",
            "__loader__": "TupleNode",
            "content": [{**text, "content": json.dumps(argument), "is_json": True, "__id__": 1}],
            "__id__": 2,
        },
        "__id__": 3,
        "protocol": reference["protocol"],
        "_skops_version": reference["_skops_version"],
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("schema.json", json.dumps(schema))
    return buffer.getvalue()


def test_a_skops_file_that_calls_builtins_exec_is_refused_before_running_it(
    tmp_path, models, monkeypatch
):
    monkeypatch.setenv("ALPHAPILOT_TEST_EXEC_RAN", "no")
    save_model(models["sklearn_forest"], tmp_path, {})
    path = member_files(tmp_path)[0]
    payload = crafted_skops(
        "builtins", "exec", "import os; os.environ['ALPHAPILOT_TEST_EXEC_RAN'] = 'yes'"
    )
    path.write_bytes(payload)  # whoever can write the file can write its checksum, too
    checksum = hashlib.sha256(payload).hexdigest()
    # and drop the checkpoint, so that loading has skops read the file
    rewrite_metadata(tmp_path, lambda m: m["members"][0].update(sha256=checksum, scorer=None))

    try:
        with pytest.raises(ModelError, match="builtins.exec"):
            load_model(tmp_path)
    finally:
        import os

        assert os.environ["ALPHAPILOT_TEST_EXEC_RAN"] == "no", "load_model ran the file's code"


def test_predicting_without_a_feature_the_model_needs_names_it(saved, sample):
    loaded = load_model(saved)

    with pytest.raises(ModelError, match="needs feature.*: vol_60_z"):
        loaded.predict(sample.later.drop(columns="vol_60_z"))


# ---------------------------------------------------------------------------------------------
# research plan


def sessions_strictly_between(sessions: pd.DatetimeIndex, first, last) -> int:
    return int(((sessions > first) & (sessions < last)).sum())


@pytest.mark.parametrize(("gap", "train"), [(0, None), (5, None), (8, 100)])
def test_walk_forward_folds_are_ordered_disjoint_and_purged_by_gap_sessions(dataset, gap, train):
    sessions = pd.DatetimeIndex(dataset.dates.unique())

    folds = walk_forward_splits(sessions, folds=4, validation=50, gap=gap, train=train)

    assert folds[-1].validation[-1] == sessions[-1]
    for fold in folds:
        assert len(fold.validation) == 50
        assert sessions_strictly_between(sessions, fold.train[-1], fold.validation[0]) == gap
        assert train is None or len(fold.train) == train
    for earlier, later in pairwise(folds):
        assert earlier.validation[-1] < later.validation[0]


def test_walk_forward_with_too_few_dates_for_the_folds_is_refused(dataset):
    sessions = pd.DatetimeIndex(dataset.dates.unique())[:200]

    with pytest.raises(ValueError, match="too few dates for 4 folds"):
        walk_forward_splits(sessions, folds=4, validation=50, gap=5)


@pytest.mark.parametrize(("embargo", "rolling"), [(0, None), (3, None), (0, 200)])
def test_every_training_label_ends_before_the_window_it_is_judged_on(dataset, embargo, rolling):
    sessions = pd.DatetimeIndex(dataset.dates.unique())  # trading sessions, not calendar days

    plan: ResearchPlan = plan_research(
        dataset, 126, folds=3, validation_sessions=63, embargo=embargo, rolling_train=rolling
    )

    assert plan.gap == HORIZON + embargo
    for fold in plan.folds:
        assert sessions_strictly_between(sessions, fold.train[-1], fold.validation[0]) >= plan.gap
        assert fold.train.is_monotonic_increasing and fold.validation.is_monotonic_increasing
        assert fold.train[-1] < fold.validation[0]
        if rolling:
            assert len(fold.train) == rolling
    for earlier, later in pairwise(plan.folds):
        assert earlier.validation[-1] < later.validation[0]  # ordered, hence disjoint
    assert len(plan.test) == 126
    assert sessions_strictly_between(sessions, plan.pre_test[-1], plan.test[0]) >= plan.gap
    before_test = plan.pre_test.union(
        pd.DatetimeIndex([d for f in plan.folds for d in f.train.append(f.validation)])
    )
    assert not before_test.isin(plan.test).any()
    assert before_test.max() == plan.pre_test[-1]


def test_too_little_history_for_the_plan_is_a_data_error_naming_the_settings(dataset):
    with pytest.raises(
        DataError, match=r"not enough history.*modeling\.test_sessions.*modeling\.cv"
    ):
        plan_research(dataset, 600, folds=3, validation_sessions=63)


@pytest.mark.parametrize("length", [1, 4, 5, 6, 12, 23])
def test_thin_keeps_the_last_date_and_every_fifth_before_it(dataset, length):
    dates = dataset.labeled_dates[:length]

    kept = thin(dates, 5)

    assert kept[-1] == dates[-1]
    assert list(kept) == list(dates[::-1][::5][::-1])


def test_a_dataset_as_of_a_date_equals_one_built_from_the_data_cut_there():
    market = generate_synthetic_market(symbols=20, years=2, seed=3, horizon=HORIZON)
    full = build_dataset(market.data, feature_set(), HORIZON, "zscore", ("z",))
    for cut in market.data.dates[[300, 301, 450]]:
        built = build_dataset(market.data.as_of(cut), feature_set(), HORIZON, "zscore", ("z",))
        known = full.as_of(cut)

        pd.testing.assert_frame_equal(known.rows, built.rows)
        pd.testing.assert_series_equal(known.labels, built.labels)
        pd.testing.assert_series_equal(known.forward_returns, built.forward_returns)
        assert known.labeled_dates[-1] < cut  # the last HORIZON sessions have no label yet


def test_features_of_recent_sessions_built_from_their_lookback_match_a_full_build():
    from settings import load_settings
    from tasks.research import dataset_for
    from tasks.sections import ModelSetup

    settings = load_settings()
    market = generate_synthetic_market(symbols=20, years=3, seed=4)
    full = dataset_for(market.data, ModelSetup.of(settings))
    lookback = max(f.lookback for f in feature_set(**settings.features.model_dump()))
    keep = 40
    recent = dataset_for(
        market.data.since(market.data.dates[-(keep + lookback)]), ModelSetup.of(settings)
    )

    last = market.data.dates[-keep:]
    a, b = full.rows[full.dates.isin(last)], recent.rows[recent.dates.isin(last)]
    assert a.shape == b.shape and (a.isna() == b.isna()).all().all()
    np.testing.assert_allclose(a.to_numpy(), b.to_numpy(), rtol=0, atol=1e-6)
    short = dataset_for(
        market.data.since(market.data.dates[-(keep + 100)]), ModelSetup.of(settings)
    )
    c = short.rows[short.dates.isin(last)]
    assert c.isna().sum().sum() > a.isna().sum().sum()  # the comparison can tell short history
