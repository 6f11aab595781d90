"""Flow: train every candidate model, compare them out of sample, save them and the comparison."""

from dataclasses import dataclass
from datetime import date

from prefect import flow, get_run_logger
from prefect.task_runners import TaskRunner

from settings import Settings, load_settings
from tasks.champion import save_candidates
from tasks.components import home_lock
from tasks.data import load_market_data
from tasks.notify import alert_on_failure
from tasks.research import (
    build_features,
    candidate_factors,
    check_trainable,
    ensemble,
    plan,
    train_candidate,
    tune_candidate,
)
from tasks.runners import fan_out, share, task_runner_for
from trading_core.data.market import MarketData
from trading_core.ml.dataset import Dataset
from trading_core.ml.research import CandidateResult, require_defined_metrics, train_candidates
from trading_core.reporting.factor_report import FactorEvidence


@dataclass(frozen=True)
class TrainingRun:
    """What a training run produced, for the selection flow and the CLI."""

    settings: Settings
    data: MarketData
    dataset: Dataset
    results: list[CandidateResult]
    comparison: str
    factors: FactorEvidence  # out of sample: the best candidate's tear sheet, every one's row


def train_all(settings: Settings, as_of: date | None, runner: TaskRunner) -> TrainingRun:
    """The training steps, shared by the train and champion-selection flows.

    Tuning and then candidate training fan out through `runner` (threads or Dask).
    """
    data = load_market_data(settings, as_of)
    check_trainable(data, settings)
    dataset = build_features(data, settings)
    research = plan(dataset, settings)
    common = {"dataset": share(runner, dataset), "research": research, "settings": settings}
    selection = settings.model_selection
    results = train_candidates(
        list(selection.candidates),
        list(selection.ensemble_members),
        run=lambda calls: fan_out(
            runner,
            train_candidate,
            [{"name": name, "params": params, **common} for name, params in calls],
            "train candidates",
        ),
        tune=lambda names: fan_out(
            runner,
            tune_candidate,
            [{"name": name, "data": share(runner, data), **common} for name in names],
            "tune candidates",
        ),
        combine=lambda members: ensemble(members, dataset),
    )
    require_defined_metrics(results, dataset)
    factors = candidate_factors(results, dataset, data)
    comparison = save_candidates(results, research, dataset, data, factors, settings)
    return TrainingRun(settings, data, dataset, results, str(comparison), factors)


@flow(name="train-candidates", on_failure=[alert_on_failure], on_crashed=[alert_on_failure])
def train_candidates_flow(
    as_of: date | None = None, home: str | None = None, config: str | None = None
) -> str:
    """Train, tune and evaluate every candidate; write models/candidates/, the comparison CSV
    and the factor tear sheet page (reports/model_selection/training_factor_report.html).

    Args:
        as_of: use data up to the close of this date only (default: all stored data).
        home: alphapilot home directory (default $ALPHAPILOT_HOME or ./alphapilot_home).
        config: a YAML settings file layered over the defaults.
    """
    settings = load_settings(config, home)
    lock = home_lock(settings, f"train-candidates {as_of or 'all data'}", get_run_logger().info)
    with lock, task_runner_for(settings) as runner:
        return train_all(settings, as_of, runner).comparison
