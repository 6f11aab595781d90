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
from tasks.sections import ModelSetup
from trading_core.data.market import MarketData
from trading_core.home import Home
from trading_core.ml.dataset import Dataset
from trading_core.ml.research import CandidateResult, require_defined_metrics
from trading_core.ml.training_plan import (
    base_candidates,
    ensemble_inputs,
    named_results,
    training_calls,
    tuning_plan,
    with_tuning,
)
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
    home, setup = Home(settings.home), ModelSetup.of(settings)
    data = load_market_data(home, as_of)
    check_trainable(data, setup)
    dataset = build_features(data, setup, settings.orchestration, home)
    research = plan(dataset, settings.modeling)
    common = {"dataset": share(runner, dataset), "research": research, "setup": setup}
    names, members = settings.model_selection.candidates, settings.model_selection.ensemble_members
    base = base_candidates(names, members)
    tuned = tuning_plan(base)
    tuning_calls = [
        {"name": name, "data": share(runner, data), "home": settings.home, **common}
        for name in tuned
    ]
    tunings = dict(
        zip(tuned, fan_out(runner, tune_candidate, tuning_calls, "tune candidates"), strict=True)
    )
    calls = [{"name": n, "params": p, **common} for n, p in training_calls(base, tunings)]
    trained = with_tuning(
        base, fan_out(runner, train_candidate, calls, "train candidates"), tunings
    )
    inputs = ensemble_inputs(names, members, trained)
    results = named_results(names, trained, ensemble(inputs, dataset) if inputs else None)
    require_defined_metrics(results, dataset)
    factors = candidate_factors(results, dataset, data)
    comparison = save_candidates(results, research, dataset, data, factors, setup, home)
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
    command = f"train-candidates {as_of or 'all data'}"
    lock = home_lock(settings.home, settings.orchestration, command, get_run_logger().info)
    with lock, task_runner_for(settings.orchestration, settings.modeling.n_jobs) as runner:
        return train_all(settings, as_of, runner).comparison
