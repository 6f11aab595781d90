"""Hyperparameter search with Optuna, scored on the walk-forward folds only — never the test period.

TPE sampler seeded from settings, median pruning after each fold, and a persistent study in any
Optuna storage (default `sqlite:///<home>/optuna.db`), so a search can be resumed or shared by
several machines. A study is named after the data and settings it searched on; re-running with a
budget of N trials only adds the trials still missing.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pandas as pd

from trading_core.errors import ModelError
from trading_core.ml.binned import BinnedWindows
from trading_core.ml.dataset import Dataset
from trading_core.ml.research import Progress, ResearchPlan, fit_on, fit_rows, mean_rank_ic
from trading_core.ml.train import KINDS, ModelTrainer


def xgboost_space(trial: Any) -> dict[str, Any]:
    """The seed plan's XGBoost search space, with shallow trees: daily returns are mostly noise."""
    return {
        "max_depth": trial.suggest_int("max_depth", 2, 6),
        "learning_rate": trial.suggest_float("learning_rate", 0.01, 0.3, log=True),
        "n_estimators": trial.suggest_int("n_estimators", 50, 300, step=50),
        "min_child_weight": trial.suggest_float("min_child_weight", 1.0, 50.0, log=True),
        "subsample": trial.suggest_float("subsample", 0.5, 1.0),
        "colsample_bytree": trial.suggest_float("colsample_bytree", 0.3, 1.0),
        "gamma": trial.suggest_float("gamma", 0.0, 5.0),
    }


def lightgbm_space(trial: Any) -> dict[str, Any]:
    """The LightGBM equivalents of the XGBoost space."""
    return {
        "num_leaves": trial.suggest_int("num_leaves", 4, 64, log=True),
        "learning_rate": trial.suggest_float("learning_rate", 0.01, 0.3, log=True),
        "n_estimators": trial.suggest_int("n_estimators", 50, 300, step=50),
        "min_child_samples": trial.suggest_int("min_child_samples", 20, 1000, log=True),
        "subsample": trial.suggest_float("subsample", 0.5, 1.0),
        "colsample_bytree": trial.suggest_float("colsample_bytree", 0.3, 1.0),
        "min_split_gain": trial.suggest_float("min_split_gain", 0.0, 5.0),
    }


SPACES: dict[str, Callable[[Any], dict[str, Any]]] = {
    "xgboost": xgboost_space,
    "lightgbm": lightgbm_space,
}


@dataclass(frozen=True)
class TuningResult:
    """The best parameters found and how the search went."""

    params: dict[str, Any]
    best_value: float
    trials_complete: int
    trials_pruned: int
    study_name: str
    storage: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "best_params": self.params,
            "best_cv_rank_ic": self.best_value,
            "trials_complete": self.trials_complete,
            "trials_pruned": self.trials_pruned,
            "study_name": self.study_name,
            "storage": self.storage,
        }


def tune(
    name: str,
    dataset: Dataset,
    plan: ResearchPlan,
    trainer: ModelTrainer,
    trials: int,
    timeout: float,
    storage: str,
    study_name: str,
    seed: int,
    stride: int | None = None,
    progress: Progress = lambda _: None,
) -> TuningResult:
    """Search parameters for candidate `name`, maximizing the mean validation rank IC over folds.

    Trials fit on every `stride`-th session (default: the plan's stride), which may be sparser
    than the final fits to keep the search affordable. XGBoost bins each fold once for all trials
    (`BinnedWindows`: the same models, without a third of their cost).
    """
    stride = stride or plan.stride
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    COMPLETE = optuna.trial.TrialState.COMPLETE  # noqa: N806
    space = SPACES[KINDS[name]]
    study = optuna.create_study(
        storage=storage,
        study_name=study_name,
        direction="maximize",
        load_if_exists=True,
        sampler=optuna.samplers.TPESampler(seed=seed),
        pruner=optuna.pruners.MedianPruner(n_startup_trials=5, n_warmup_steps=1),
    )
    # A resumed or shared study continues from a seed of its own: with the original seed, TPE's
    # random startup trials would repeat the parameter sets already tried. A fresh study keeps
    # `seed` exactly (reproducible).
    study.sampler = optuna.samplers.TPESampler(seed=seed + len(study.get_trials(deepcopy=False)))

    binned = BinnedWindows(trainer) if KINDS[name] == "xgboost" else None

    def fit(step: int, train: pd.DatetimeIndex, params: dict[str, Any]) -> Any:
        if binned is None:
            return fit_on(trainer, name, dataset, train, stride, params)
        return binned.fit(name, step, lambda: fit_rows(dataset, train, stride), params)

    def objective(trial: optuna.Trial) -> float:
        params = space(trial)
        scores = []
        for step, fold in enumerate(plan.folds):
            model = fit(step, fold.train, params)
            scores.append(mean_rank_ic(model, dataset, fold.validation))
            running = sum(scores) / len(scores)
            trial.report(running if math.isfinite(running) else -1.0, step)
            if trial.should_prune():
                raise optuna.TrialPruned()
        return sum(scores) / len(scores)

    def report(study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
        done = len(study.get_trials(deepcopy=False))
        complete = study.get_trials(deepcopy=False, states=(COMPLETE,))
        values = [t.value for t in complete if t.value is not None]  # one objective: all valued
        best = max(values) if values else float("nan")
        progress(f"{name}: trial {done}/{trials} {trial.state.name.lower()}, best {best:+.4f}")

    finished = (COMPLETE, optuna.trial.TrialState.PRUNED)
    remaining = trials - len(study.get_trials(deepcopy=False, states=finished))
    if remaining > 0:
        study.optimize(objective, n_trials=remaining, timeout=timeout, callbacks=[report])
    complete = study.get_trials(deepcopy=False, states=(COMPLETE,))
    pruned = study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.PRUNED,))
    if not complete:
        raise ModelError(f"no {name} trial completed within the tuning budget")
    return TuningResult(
        params={**trainer.params(name), **study.best_params},
        best_value=float(study.best_value),
        trials_complete=len(complete),
        trials_pruned=len(pruned),
        study_name=study_name,
        storage=without_password(storage),
    )


def without_password(url: str) -> str:
    """A storage URL safe to record: `postgresql://user:***@host/db` (metadata, logs)."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.netloc.rsplit("@", 1)[1]
    return urlunsplit(parts._replace(netloc=f"{parts.username}:***@{host}"))
