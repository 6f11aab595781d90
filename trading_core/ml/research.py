"""The research protocol: walk-forward validation, a final untouched test period, every candidate.

Dates with labels are split into a final test period (the last `test_sessions`) and the sessions
before it, separated by a purge gap of `horizon + embargo` sessions. Walk-forward folds on the
earlier sessions serve early stopping, tuning and the cross-validated metrics; the test period is
never used for any of them. Each candidate is then fitted once on all pre-test sessions and scored
on the test period: those out-of-sample figures are the ones candidates are compared on.

Refusals, each one line naming the cause, checked before any work (`require_history`,
`require_universe`) or right after evaluation (`require_defined_metrics`):
- history shorter than the settings need (`research_history`: the test period, every fold, two
  purge gaps, MIN_TRAIN_SESSIONS of training and the last label horizon);
- fewer than MIN_NAMES symbols priced on every session: cross-sectional IC is undefined;
- a candidate whose test-period rank IC is undefined (NaN): it cannot be compared or selected.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, overload

import numpy as np
import pandas as pd

from trading_core.errors import DataError, ModelError
from trading_core.ml.cv import Split, holdout_split, walk_forward_splits
from trading_core.ml.dataset import Dataset
from trading_core.ml.metrics import MIN_NAMES, daily_ic, evaluate_predictions
from trading_core.ml.train import EnsembleModel, ModelTrainer, TrainedModel, mean_rank

Progress = Callable[[str], None]
MIN_TRAIN_SESSIONS = 20  # labeled sessions the first walk-forward fold trains on, at least


def research_history(
    horizon: int,
    test_sessions: int,
    folds: int,
    validation_sessions: int,
    embargo: int = 0,
    delay: int = 0,
) -> tuple[int, str]:
    """Sessions of data the research protocol needs, and the sum spelled out in settings' names.

    A label is known `horizon + delay` sessions after its date (delay: the execution's, 1 for a
    fill in the next session), so the labeled sessions are the data's less that many.
    """
    known = horizon + delay
    gap = known + embargo
    needed = test_sessions + folds * validation_sessions + 2 * gap + MIN_TRAIN_SESSIONS + known
    label = f"modeling.label_horizon {horizon}" + (
        f" + {delay} session of execution delay" if delay else ""
    )
    why = (
        f"modeling.test_sessions {test_sessions} + modeling.cv.folds {folds} x "
        f"modeling.cv.validation_sessions {validation_sessions} + 2 purge gaps of {gap} "
        f"({label} + modeling.cv.embargo_sessions {embargo}) + "
        f"{MIN_TRAIN_SESSIONS} training sessions + {label}"
    )
    return needed, why


def fit_history(horizon: int, delay: int = 0) -> tuple[int, str]:
    """Sessions a single fit on every labeled session needs (a model trained on the spot)."""
    label = f"modeling.label_horizon {horizon}" + (
        f" + {delay} session of execution delay" if delay else ""
    )
    return MIN_TRAIN_SESSIONS + horizon + delay, f"{MIN_TRAIN_SESSIONS} training sessions + {label}"


def require_history(sessions: pd.DatetimeIndex, needed: tuple[int, str], task: str) -> None:
    """DataError naming the settings that need more history when `sessions` are too few."""
    count, why = needed
    if len(sessions) < count:
        span = f" ({sessions[0]:%Y-%m-%d}..{sessions[-1]:%Y-%m-%d})" if len(sessions) else ""
        raise DataError(
            f"history too short for {task}: {why} need {count} sessions, the data has "
            f"{len(sessions)}{span}; add history or lower these settings"
        )


def require_universe(close: pd.DataFrame) -> None:
    """DataError when no session has MIN_NAMES priced symbols: every daily IC would be NaN."""
    priced = close.notna().sum(axis=1)
    most = int(priced.max()) if len(priced) else 0
    if most < MIN_NAMES:
        names = ", ".join(map(str, close.columns[close.notna().any()])) or "none"
        raise DataError(
            f"universe too small to train: at most {most} symbol(s) priced on any session "
            f"({names}); cross-sectional IC and quintile metrics need at least {MIN_NAMES}"
        )


def require_defined_metrics(results: list[CandidateResult], dataset: Dataset) -> None:
    """ModelError naming the first candidate whose test-period rank IC is undefined (NaN)."""
    for result in results:
        if not pd.isna(result.test_metrics.get("rank_ic", np.nan)):
            continue
        joined = pd.DataFrame({"score": result.test_predictions, "label": dataset.labels}).dropna()
        names = joined.groupby(level="date").size()
        most = int(names.max()) if len(names) else 0
        raise ModelError(
            f"candidate {result.name} has undefined (NaN) test-period metrics: no test session "
            f"has {MIN_NAMES} scored and labeled names with differing scores (at most {most} "
            "names on one session); nothing was saved"
        )


@dataclass(frozen=True)
class ResearchPlan:
    """The dates of each role: walk-forward folds, the pre-test fit window, the test period."""

    folds: list[Split]
    pre_test: pd.DatetimeIndex
    test: pd.DatetimeIndex
    gap: int
    stride: int

    def describe(self) -> dict[str, Any]:
        span = lambda d: [f"{d[0]:%Y-%m-%d}", f"{d[-1]:%Y-%m-%d}"]  # noqa: E731
        return {
            "folds": [
                {"train": span(f.train), "validation": span(f.validation)} for f in self.folds
            ],
            "pre_test": span(self.pre_test),
            "test": span(self.test),
            "purge_gap_sessions": self.gap,
            "sample_stride": self.stride,
        }


def plan_research(
    dataset: Dataset,
    test_sessions: int,
    folds: int,
    validation_sessions: int,
    embargo: int = 0,
    rolling_train: int | None = None,
    stride: int = 1,
) -> ResearchPlan:
    """Split the labeled sessions into folds, a pre-test window and the test period."""
    dates = dataset.labeled_dates
    gap = dataset.known_after + embargo
    delay = dataset.known_after - dataset.horizon
    needed = (
        research_history(
            dataset.horizon, test_sessions, folds, validation_sessions, embargo, delay
        )[0]
        - dataset.known_after
    )
    if len(dates) < needed:
        raise DataError(
            f"not enough history for research: {len(dates)} labeled sessions, need at least "
            f"{needed} (test {test_sessions}, {folds} folds of {validation_sessions}, purge gap "
            f"{gap}); use more data or lower modeling.test_sessions / modeling.cv settings"
        )
    final = holdout_split(dates, holdout=test_sessions, gap=gap)
    splits = walk_forward_splits(final.train, folds, validation_sessions, gap, train=rolling_train)
    return ResearchPlan(
        folds=splits, pre_test=final.train, test=final.validation, gap=gap, stride=stride
    )


def thin(dates: pd.DatetimeIndex, stride: int) -> pd.DatetimeIndex:
    """Every `stride`-th date, ending with the last one (labels over the horizon overlap)."""
    return dates[(len(dates) - 1) % stride :: stride]


def fit_rows(
    dataset: Dataset, dates: pd.DatetimeIndex, stride: int
) -> tuple[pd.DataFrame, pd.Series]:
    """The labeled rows (and labels) a fit on `dates` uses: every `stride`-th session."""
    mask = dataset.on(thin(dates, stride), labeled=True)
    return dataset.rows[mask], dataset.labels[mask]


def fit_on(
    trainer: ModelTrainer,
    name: str,
    dataset: Dataset,
    dates: pd.DatetimeIndex,
    stride: int,
    params: dict[str, Any] | None = None,
    validation: pd.DatetimeIndex | None = None,
) -> TrainedModel:
    """Fit `name` on the (thinned) labeled rows of `dates`, optionally early-stopped on `validation`."""
    rows, labels = fit_rows(dataset, dates, stride)
    held_out = None
    if validation is not None:
        mask = dataset.on(validation, labeled=True)
        held_out = (dataset.rows[mask], dataset.labels[mask])
    return trainer.fit(name, rows, labels, params=params, validation=held_out)


def mean_rank_ic(model: Any, dataset: Dataset, dates: pd.DatetimeIndex) -> float:
    """Mean daily rank IC of `model` on `dates`."""
    rows = dataset.rows[dataset.on(dates)]
    ic = daily_ic(model.predict(rows), dataset.labels)
    return float(ic.mean()) if len(ic) else float("nan")


@dataclass(frozen=True)
class ResearchFit:
    """A model research fitted on `train` with its candidate's final parameters.

    A walk-forward segment trained on the same sessions would fit the same model bit for bit
    (the fits are seeded and deterministic), so it reuses this one instead (`fit_like`).
    """

    train: pd.DatetimeIndex
    model: TrainedModel


@dataclass
class CandidateResult:
    """One candidate's record: cross-validated and test-period predictions, metrics, final model.

    `fits` are the research models a walk-forward backtest may reuse: the final fit on the
    pre-test sessions, and each fold's fit when it used the final parameters (no early stopping).
    """

    name: str
    model: TrainedModel | EnsembleModel
    params: dict[str, Any]
    cv_predictions: pd.Series
    test_predictions: pd.Series
    cv_metrics: dict[str, float] = field(default_factory=dict)
    test_metrics: dict[str, float] = field(default_factory=dict)
    tuning: dict[str, Any] | None = None
    fits: list[ResearchFit] = field(default_factory=list)


def _metrics(dataset: Dataset, predictions: pd.Series) -> dict[str, float]:
    index = predictions.index
    return evaluate_predictions(
        predictions,
        dataset.labels.reindex(index),
        dataset.forward_returns.reindex(index),
        dataset.horizon,
    )


def final_fits(folds: list[ResearchFit], final_params: dict[str, Any]) -> list[ResearchFit]:
    """The fold fits that are fits of `final_params` as they are or by their first trees.

    An early-stopped fold stopped at its own tree count; one that grew at least the final count
    is, by its first trees, the fit of the final parameters. The others would need a refit.
    """
    kept = []
    for fold in folds:
        model, trees = fold.model, final_params.get("n_estimators")
        if model.best_iteration is None:
            if model.params == final_params:
                kept.append(fold)
        elif trees is not None and trees <= model.best_iteration:
            kept.append(ResearchFit(fold.train, model.first_trees(trees, final_params)))
    return kept


def run_candidate(
    name: str,
    dataset: Dataset,
    plan: ResearchPlan,
    trainer: ModelTrainer,
    params: dict[str, Any] | None = None,
    progress: Progress = lambda _: None,
) -> CandidateResult:
    """Walk-forward predictions fold by fold, then one fit on all pre-test sessions for the test."""
    params = trainer.params(name) if params is None else dict(params)
    cv_parts, iterations, fold_fits = [], [], []
    for i, fold in enumerate(plan.folds, 1):
        progress(f"{name}: fold {i}/{len(plan.folds)}")
        model = fit_on(trainer, name, dataset, fold.train, plan.stride, params, fold.validation)
        cv_parts.append(model.predict(dataset.rows[dataset.on(fold.validation)]))
        fold_fits.append(ResearchFit(fold.train, model))
        if model.best_iteration:
            iterations.append(model.best_iteration)
    final_params = dict(params)
    if iterations:  # early stopping chose the tree count per fold; the final fit uses their median
        final_params["n_estimators"] = int(np.median(iterations))
    progress(f"{name}: final fit on {plan.pre_test[0]:%Y-%m-%d}..{plan.pre_test[-1]:%Y-%m-%d}")
    final = fit_on(trainer, name, dataset, plan.pre_test, plan.stride, final_params)
    test_predictions = final.predict(dataset.rows[dataset.on(plan.test)])
    cv_predictions = pd.concat(cv_parts)
    reusable = final_fits(fold_fits, final_params)
    return CandidateResult(
        name=name,
        model=final,
        params=final_params,
        cv_predictions=cv_predictions,
        test_predictions=test_predictions,
        cv_metrics=_metrics(dataset, cv_predictions),
        test_metrics=_metrics(dataset, test_predictions),
        fits=[*reusable, ResearchFit(plan.pre_test, final)],
    )


def combine_ensemble(
    name: str, members: list[CandidateResult], dataset: Dataset
) -> CandidateResult:
    """The ensemble of already-trained members: mean of their per-date score ranks."""
    fitted = [m.model for m in members]
    single = [m for m in fitted if isinstance(m, TrainedModel)]
    if len(single) < len(fitted):  # the settings refuse it first; a guard for direct callers
        raise ModelError(f"ensemble {name}: a member is itself an ensemble")
    cv = mean_rank([m.cv_predictions for m in members])
    test = mean_rank([m.test_predictions for m in members])
    model = EnsembleModel(name=name, members=single)
    return CandidateResult(
        name=name,
        model=model,
        params={"members": [m.name for m in members]},
        cv_predictions=cv,
        test_predictions=test,
        cv_metrics=_metrics(dataset, cv),
        test_metrics=_metrics(dataset, test),
    )


@overload
def fit_like(
    template: TrainedModel,
    dataset: Dataset,
    trainer: ModelTrainer,
    dates: pd.DatetimeIndex,
    stride: int,
    reuse: Sequence[ResearchFit] = (),
) -> TrainedModel: ...


@overload
def fit_like(
    template: EnsembleModel,
    dataset: Dataset,
    trainer: ModelTrainer,
    dates: pd.DatetimeIndex,
    stride: int,
    reuse: Sequence[ResearchFit] = (),
) -> EnsembleModel: ...


def fit_like(
    template: TrainedModel | EnsembleModel,
    dataset: Dataset,
    trainer: ModelTrainer,
    dates: pd.DatetimeIndex,
    stride: int,
    reuse: Sequence[ResearchFit] = (),
) -> TrainedModel | EnsembleModel:
    """A model of the same candidate and parameters as `template`, fitted on `dates`.

    A research fit in `reuse` of the same candidate, parameters and sessions is that model
    already: it is returned instead of fitting again.
    """
    if isinstance(template, EnsembleModel):
        members = [fit_like(m, dataset, trainer, dates, stride, reuse) for m in template.members]
        return EnsembleModel(name=template.name, members=members)
    for fit in reuse:
        model = fit.model
        if (model.name, model.params) == (template.name, template.params) and fit.train.equals(
            dates
        ):
            return model
    return fit_on(trainer, template.name, dataset, dates, stride, template.params)


def research_fits(
    template: TrainedModel | EnsembleModel, results: Sequence[CandidateResult]
) -> list[ResearchFit]:
    """The research fits a walk-forward of `template` may reuse: its own, or its members'."""
    members = template.members if isinstance(template, EnsembleModel) else [template]
    names = {m.name for m in members}
    return [fit for r in results if r.name in names for fit in r.fits]


def refit(
    result: CandidateResult, dataset: Dataset, trainer: ModelTrainer, stride: int
) -> TrainedModel | EnsembleModel:
    """The candidate refitted on every labeled session with its final parameters (for production)."""
    return fit_like(result.model, dataset, trainer, dataset.labeled_dates, stride)
