"""Research tasks: the feature/label dataset, candidate evaluation, champion promotion and loading."""

from __future__ import annotations

import pandas as pd
from prefect import get_run_logger, task
from prefect.artifacts import create_progress_artifact, update_progress_artifact
from prefect.cache_policies import NO_CACHE

from settings import Settings
from trading_core.data.market import MarketData
from trading_core.features.library import feature_set
from trading_core.home import Home
from trading_core.ml.dataset import Dataset, build_dataset
from trading_core.ml.registry import RegisteredModel, load_model, save_model
from trading_core.ml.train import ModelTrainer, TrainedModel
from trading_core.selection.champion import (
    CandidateResult,
    best_candidate,
    evaluate_candidates,
    fit_production,
)

CHAMPION = "champion"


def trainer_for(settings: Settings) -> ModelTrainer:
    m = settings.modeling
    return ModelTrainer(
        n_estimators=m.n_estimators,
        learning_rate=m.learning_rate,
        num_leaves=m.num_leaves,
        min_child_samples=m.min_child_samples,
        seed=settings.seed,
    )


@task(name="build-features", cache_policy=NO_CACHE)
def build_features(data: MarketData, settings: Settings) -> Dataset:
    """Feature rows and forward-return labels known by the data's last date."""
    dataset = build_dataset(
        data,
        feature_set(**settings.features.model_dump()),
        settings.modeling.label_horizon,
        settings.modeling.excess_label,
    )
    get_run_logger().info(
        "%d features on %d rows; %d labeled rows (horizon %d sessions)%s",
        dataset.rows.shape[1],
        len(dataset.rows),
        len(dataset.labels),
        dataset.horizon,
        "" if data.has_volume else "; no volume in the data: volume features skipped",
    )
    return dataset


@task(name="evaluate-candidates", cache_policy=NO_CACHE)
def evaluate(dataset: Dataset, settings: Settings) -> list[CandidateResult]:
    """Fit each candidate before a purged holdout and measure its out-of-sample rank IC."""
    logger = get_run_logger()
    candidates = list(settings.model_selection.candidates)
    progress = create_progress_artifact(0.0, description="candidates trained")
    done = []

    def report(message: str) -> None:
        logger.info(message)
        update_progress_artifact(progress, 100.0 * len(done) / len(candidates))
        done.append(message)

    results = evaluate_candidates(
        dataset,
        candidates,
        trainer_for(settings),
        settings.modeling.holdout_sessions,
        settings.modeling.train_sessions,
        progress=report,
    )
    update_progress_artifact(progress, 100.0)
    for r in results:
        logger.info(
            "%s: holdout %s..%s rank IC %.4f (ICIR %.3f, %d days)",
            r.name,
            f"{r.holdout_start:%Y-%m-%d}",
            f"{r.holdout_end:%Y-%m-%d}",
            r.rank_ic["mean"],
            r.rank_ic["icir"],
            r.rank_ic["days"],
        )
    return results


def model_metadata(
    dataset: Dataset, data: MarketData, settings: Settings, train_dates: pd.DatetimeIndex
) -> dict:
    """What a person needs to know about a trained model: its data, dates and settings."""
    return {
        "train_start": f"{train_dates[0]:%Y-%m-%d}",
        "trained_through": f"{train_dates[-1]:%Y-%m-%d}",
        "data_through": f"{data.last_date:%Y-%m-%d}",
        "label_horizon": dataset.horizon,
        "excess_label": settings.modeling.excess_label,
        "data_source": data.source,
        "data_fingerprint": data.fingerprint(),
        "settings_fingerprint": settings.fingerprint(),
        "seed": settings.seed,
    }


@task(name="promote-champion", cache_policy=NO_CACHE)
def promote_champion(
    dataset: Dataset, data: MarketData, results: list[CandidateResult], settings: Settings
) -> dict:
    """Refit the best candidate on the latest labeled dates and store it as the champion."""
    logger = get_run_logger()
    winner = best_candidate(results)
    model, dates = fit_production(
        dataset, winner.name, trainer_for(settings), settings.modeling.train_sessions
    )
    metadata = {
        **model_metadata(dataset, data, settings, dates),
        "selected_by": "highest mean holdout rank IC",
        "candidates": {
            r.name: {
                "holdout_rank_ic": r.rank_ic,
                "holdout_ic": r.ic,
                "train": [f"{r.train_start:%Y-%m-%d}", f"{r.train_end:%Y-%m-%d}"],
                "holdout": [f"{r.holdout_start:%Y-%m-%d}", f"{r.holdout_end:%Y-%m-%d}"],
            }
            for r in results
        },
    }
    path = save_model(model, Home(settings.home).production, CHAMPION, metadata)
    logger.info(
        "champion %s trained through %s saved to %s", winner.name, metadata["trained_through"], path
    )
    return {"model": winner.name, "metadata_path": str(path), **metadata}


@task(name="load-champion", cache_policy=NO_CACHE)
def load_champion(
    dataset: Dataset, data: MarketData, settings: Settings
) -> tuple[RegisteredModel | TrainedModel, dict, list[str]]:
    """The production model, or a LightGBM trained on the spot (and said so) when none exists."""
    logger = get_run_logger()
    production = Home(settings.home).production
    if (production / f"{CHAMPION}_metadata.json").exists():
        model = load_model(production, CHAMPION)
        logger.info(
            "scoring with champion %s trained through %s",
            model.name,
            model.metadata["trained_through"],
        )
        return model, model.metadata, []
    warning = (
        "no production model yet: a LightGBM was trained on the spot for this run and not "
        "promoted (run `alphapilot select`)"
    )
    logger.warning(warning)
    model, dates = fit_production(
        dataset, "lightgbm", trainer_for(settings), settings.modeling.train_sessions
    )
    metadata = {
        **model_metadata(dataset, data, settings, dates),
        "model_name": model.name,
        "features": model.features,
    }
    return model, metadata, [warning]
