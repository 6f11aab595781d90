"""Research tasks: features, research plan, tuning, candidate training and the factor tear sheet.

Saving the candidates and loading the model to score with are in `tasks.champion`.
"""

from __future__ import annotations

from importlib.metadata import version
from pathlib import Path
from typing import Any

import pandas as pd
from prefect import get_run_logger

from settings.research import ModelingSettings
from settings.runtime import OrchestrationSettings
from tasks.feature_cache import SUFFIX, FeatureFile, FeatureFileLost
from tasks.options import cached, step
from tasks.sections import ModelSetup
from trading_core.data.market import MarketData
from trading_core.features.guard import assert_point_in_time
from trading_core.features.labels import effective_execution, execution_delay
from trading_core.features.library import Feature, feature_set, skipped
from trading_core.home import Home
from trading_core.ml.dataset import Dataset, build_dataset
from trading_core.ml.optuna_search import tune
from trading_core.ml.research import (
    CandidateResult,
    ResearchPlan,
    combine_ensemble,
    plan_research,
    require_history,
    require_universe,
    research_history,
    run_candidate,
)
from trading_core.ml.train import ModelTrainer
from trading_core.reporting.factor_report import FactorEvidence, factor_evidence
from trading_core.selection.champion import best_candidate

LIBRARIES = ("lightgbm", "xgboost-cpu", "scikit-learn", "skops", "optuna", "numpy", "pandas")


def trainer_for(setup: ModelSetup) -> ModelTrainer:
    """The model trainer with each model family's configured parameters and the seed."""
    m = setup.modeling
    return ModelTrainer(
        lightgbm=m.lightgbm.model_dump(),
        xgboost=m.xgboost.model_dump(),
        random_forest=m.random_forest.model_dump(),
        seed=setup.seed,
        n_jobs=m.n_jobs,
    )


def library_versions() -> dict[str, str]:
    """The installed version of each library a model's results depend on."""
    return {name: version(name) for name in LIBRARIES}


def dataset_for(
    data: MarketData,
    setup: ModelSetup,
    features: list[Feature] | None = None,
    last: int | None = None,
) -> Dataset:
    """The dataset the feature and modeling settings describe (no look-ahead check: see below).

    `features` replaces the configured feature set (a test adds a leaking one); `last` keeps the
    rows of the last that many sessions only.
    """
    m = setup.modeling
    if features is None:
        features = feature_set(**setup.features.model_dump())
    return build_dataset(
        data,
        features,
        m.label_horizon,
        m.label_transform,
        tuple(m.inputs),
        setup.execution,
        last=last,
    )


def features_key(data: MarketData, setup: ModelSetup, sessions: int | None) -> str:
    """Features are reused for the same data (fingerprint, as-of date), settings (the whole
    settings fingerprint) and row span."""
    span = sessions or "all"
    return f"features-{data.fingerprint()}-{data.last_date:%Y%m%d}-{setup.fingerprint}-{span}"


def build_features(
    data: MarketData,
    setup: ModelSetup,
    orchestration: OrchestrationSettings,
    home: Home,
    sessions: int | None = None,
) -> Dataset:
    """The feature step, cached as `orchestration` says (`tasks.options.cached` on
    `features_key`).

    A cached build is saved as an Arrow file under `<home>/cache/features`, named by its key
    (`tasks.feature_cache`); should that file be gone or torn, the features are built again.
    """
    if not orchestration.cache:
        return compute_features(data, setup, sessions).load()
    key = features_key(data, setup, sessions)
    build = cached(compute_features, orchestration, home, lambda _parameters: key)
    file = home.cache.resolve() / "features" / f"{key}{SUFFIX}"
    keep = orchestration.cache_expiration_hours
    try:
        return build(data, setup, sessions, file, keep).load()
    except FeatureFileLost as exc:
        get_run_logger().warning("%s: building the features again", exc)
        return build.with_options(refresh_cache=True)(data, setup, sessions, file, keep).load()


@step("build-features")
def compute_features(
    data: MarketData,
    setup: ModelSetup,
    sessions: int | None = None,
    save_to: Path | None = None,
    keep_hours: float = 0.0,
) -> FeatureFile:
    """Feature rows, training labels and forward returns known by the data's last date (saved
    to `save_to` when given, for the cache, where saved builds older than `keep_hours` go).

    With `sessions`, only the rows of the last that many sessions are built, from just the
    history their longest feature window needs (a daily run scores one date and monitors a few
    weeks: no need to compute ten years of features). Values match a full build to float32
    rounding (a test pins it). The look-ahead guard runs on full builds, the ones a model may
    be trained on; a recent build only scores the last date, where no later data exists.
    """
    features = feature_set(**setup.features.model_dump())
    if sessions is None:
        assert_point_in_time(data, features)
    else:
        lookback = max(f.lookback for f in features)
        data = data.since(data.dates[max(0, len(data.dates) - sessions - lookback)])
    dataset = dataset_for(data, setup, last=sessions)
    missing = skipped(features, data)
    logger = get_run_logger()
    logger.info(
        "%d feature columns on %d rows; %d labeled rows (horizon %d sessions, from the %s fill)%s",
        dataset.rows.shape[1],
        len(dataset.rows),
        int(dataset.labels.notna().sum()),
        dataset.horizon,
        dataset.execution,
        f"; skipped for lack of data: {', '.join(missing)}" if missing else "",
    )
    if dataset.execution != setup.execution:
        logger.warning(
            "backtest.execution is %s but the data has no open prices: labels and backtests "
            "use %s instead",
            setup.execution,
            dataset.execution,
        )
    if save_to is None:
        return FeatureFile(dataset)
    return FeatureFile.save(dataset, save_to, keep_hours)


def plan_for(dataset: Dataset, modeling: ModelingSettings) -> ResearchPlan:
    """The research plan the modeling settings describe."""
    m = modeling
    return plan_research(
        dataset,
        m.test_sessions,
        m.cv.folds,
        m.cv.validation_sessions,
        m.cv.embargo_sessions,
        m.cv.train_sessions if m.cv.window == "rolling" else None,
        m.sample_stride,
    )


def check_trainable(data: MarketData, setup: ModelSetup) -> None:
    """Refuse, before any work, history shorter than the research settings need or a universe
    too small for cross-sectional metrics (one line naming the settings or the symbols)."""
    m = setup.modeling
    needed = research_history(
        m.label_horizon,
        m.test_sessions,
        m.cv.folds,
        m.cv.validation_sessions,
        m.cv.embargo_sessions,
        execution_delay(effective_execution(setup.execution, data.open)),
    )
    require_history(data.dates, needed, "training")
    require_universe(data.close)


@step("plan-research")
def plan(dataset: Dataset, modeling: ModelingSettings) -> ResearchPlan:
    """Walk-forward folds, the pre-test window and the untouched test period."""
    research = plan_for(dataset, modeling)
    get_run_logger().info("research plan: %s", research.describe())
    return research


@step("tune-candidate")
def tune_candidate(
    name: str,
    dataset: Dataset,
    research: ResearchPlan,
    data: MarketData,
    setup: ModelSetup,
    home: Path,
) -> dict[str, Any]:
    """Optuna search for `name` on the walk-forward folds (never the test period); the study is
    stored in `home`'s optuna.db unless `modeling.tuning.storage` names another."""
    logger = get_run_logger()
    t = setup.modeling.tuning
    storage = (
        t.storage.get_secret_value()
        if t.storage
        else f"sqlite:///{Path(home).resolve() / 'optuna.db'}"
    )
    study = t.study_name or f"{name}-{data.fingerprint()}-{setup.research_fingerprint}"
    result = tune(
        name,
        dataset,
        research,
        trainer_for(setup),
        t.trials,
        t.timeout_seconds,
        storage,
        study,
        setup.seed,
        stride=t.sample_stride,
        progress=logger.info,
    )
    logger.info(
        "%s: best CV rank IC %.4f after %d complete and %d pruned trials (study %s)",
        name,
        result.best_value,
        result.trials_complete,
        result.trials_pruned,
        study,
    )
    return result.to_dict()


@step("train-candidate")
def train_candidate(
    name: str,
    params: dict[str, Any] | None,
    dataset: Dataset,
    research: ResearchPlan,
    setup: ModelSetup,
) -> CandidateResult:
    """Walk-forward and test-period evaluation of one candidate."""
    logger = get_run_logger()
    result = run_candidate(name, dataset, research, trainer_for(setup), params, logger.info)
    logger.info(
        "%s: test rank IC %.4f (CV %.4f)",
        name,
        result.test_metrics["rank_ic"],
        result.cv_metrics["rank_ic"],
    )
    return result


@step("combine-ensemble")
def ensemble(members: list[CandidateResult], dataset: Dataset) -> CandidateResult:
    """Rank-average the trained members' predictions (no re-fitting)."""
    result = combine_ensemble("ensemble", members, dataset)
    get_run_logger().info(
        "ensemble of %s: test rank IC %.4f",
        ", ".join(m.name for m in members),
        result.test_metrics["rank_ic"],
    )
    return result


def provenance(
    data: MarketData,
    dataset: Dataset,
    setup: ModelSetup,
    dates: pd.DatetimeIndex,
    features_skipped: list[str],
) -> dict[str, Any]:
    """What a person needs to know about where a model came from."""
    return {
        "train_start": f"{dates[0]:%Y-%m-%d}",
        "trained_through": f"{dates[-1]:%Y-%m-%d}",
        "data_through": f"{data.last_date:%Y-%m-%d}",
        "label_horizon": dataset.horizon,
        "execution": dataset.execution,
        "label_transform": setup.modeling.label_transform,
        "features_skipped": features_skipped,
        "data_source": data.source,
        "data_fingerprint": data.fingerprint(),
        "settings_fingerprint": setup.fingerprint,
        "seed": setup.seed,
        "libraries": library_versions(),
    }


@step("factor-tear-sheet")
def candidate_factors(
    results: list[CandidateResult], dataset: Dataset, data: MarketData
) -> FactorEvidence:
    """Out of sample, the factor tear sheet of the candidate with the best test-period rank IC
    and every candidate's compact factor row."""
    return factor_evidence(results, best_candidate(results).name, dataset, data)
