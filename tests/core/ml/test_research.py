"""The research protocol is honest: it finds a planted signal out of sample, invents none when the
market carries none, exposes a feature that peeks at the label, repeats itself bit for bit, and never
lets the Optuna search see the test period.

The protocol is the product's (`load_settings()` features, labels, purge gap, test period and
candidates, wired as `tasks.research` wires them) with smaller folds, trees and tuning budgets so
the file runs in a few minutes on 2 cores.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from settings import Settings, load_settings
from tasks.research import dataset_for, plan_for, trainer_for
from tasks.sections import ModelSetup
from trading_core.data.planted_signal import rank_ic
from trading_core.data.synthetic import (
    SyntheticMarket,
    ceiling_predictor,
    generate_synthetic_market,
)
from trading_core.errors import DataError
from trading_core.features.guard import assert_point_in_time
from trading_core.features.library import Feature, feature_set
from trading_core.ml import training_plan as steps
from trading_core.ml.dataset import Dataset
from trading_core.ml.optuna_search import tune
from trading_core.ml.research import (
    CandidateResult,
    ResearchPlan,
    combine_ensemble,
    run_candidate,
)
from trading_core.ml.train import ModelTrainer, TrainedModel
from trading_core.selection.champion import comparison_table

pytestmark = pytest.mark.slow

CANDIDATES = ["lightgbm", "xgboost_default", "xgboost_tuned", "random_forest", "ensemble"]
# the label itself, shifted into the past by mistake: known only 5 sessions after t
LEAK = Feature("leak", 1, lambda d: d.close.shift(-5) / d.close - 1)


@pytest.fixture(scope="module")
def settings() -> Settings:
    """The default protocol with 3 folds, 5 trials and fewer trees."""
    return load_settings(
        modeling={
            "cv": {"folds": 3},
            "lightgbm": {"n_estimators": 200},
            "xgboost": {"n_estimators": 100},
            "random_forest": {"n_estimators": 30},
            "tuning": {"trials": 5},
        }
    )


def product_features(settings: Settings) -> list[Feature]:
    return feature_set(**settings.features.model_dump())


@contextmanager
def dates_touched() -> Iterator[list[pd.Timestamp]]:
    """Every date a model is fitted on, early-stopped on or asked to score while inside."""
    seen: list[pd.Timestamp] = []
    fit, predict = ModelTrainer.fit, TrainedModel.predict

    def spy_fit(self, name, rows, labels, params=None, validation=None):
        seen.extend(rows.index.unique("date"))
        if validation is not None:
            seen.extend(validation[0].index.unique("date"))
        return fit(self, name, rows, labels, params, validation)

    def spy_predict(self, rows):
        seen.extend(rows.index.unique("date"))
        return predict(self, rows)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(ModelTrainer, "fit", spy_fit)
        patch.setattr(TrainedModel, "predict", spy_predict)
        yield seen


@dataclass
class Run:
    """One pass of the candidate pipeline: results by name, and what the tuning touched."""

    results: dict[str, CandidateResult]
    tuning_dates: pd.DatetimeIndex


def run_pipeline(
    dataset: Dataset,
    plan: ResearchPlan,
    settings: Settings,
    storage: str,
    names: list[str] = CANDIDATES,
) -> Run:
    """Tune, train and evaluate `names` as the research flow does, with a study in `storage`."""
    trainer, tuning = trainer_for(ModelSetup.of(settings)), settings.modeling.tuning
    seen: list[pd.Timestamp] = []

    def tune_step(name: str) -> dict:
        with dates_touched() as dates:
            result = tune(
                name,
                dataset,
                plan,
                trainer,
                tuning.trials,
                tuning.timeout_seconds,
                storage,
                f"{name}-study",
                settings.seed,
            )
        seen.extend(dates)
        return result.to_dict()

    members = list(settings.model_selection.ensemble_members)
    base = steps.base_candidates(names, members)
    tuned = steps.tuning_plan(base)
    tunings = dict(zip(tuned, [tune_step(name) for name in tuned], strict=True))
    calls = steps.training_calls(base, tunings)
    trained = [run_candidate(n, dataset, plan, trainer, p) for n, p in calls]
    results = steps.with_tuning(base, trained, tunings)
    inputs = steps.ensemble_inputs(names, members, results)
    combined = combine_ensemble("ensemble", inputs, dataset) if inputs else None
    results = steps.named_results(names, results, combined)
    return Run({r.name: r for r in results}, pd.DatetimeIndex(seen).unique())


def sqlite_in(folder: Path) -> str:
    return f"sqlite:///{folder / 'optuna.db'}"


def out_of_sample_ic(result: CandidateResult) -> float:
    """The candidate's mean daily rank IC over the test period."""
    return result.test_metrics["rank_ic"]


# ---------------------------------------------------------------------------------------------
# the shared market: 300 stocks x 6 years with a planted signal of 1-day IC 0.05 and no market
# drift, so no stock earns a premium for its beta and the planted signal is the ceiling


@pytest.fixture(scope="module")
def market() -> SyntheticMarket:
    return generate_synthetic_market(symbols=300, years=6, seed=7, ic=0.05, market_drift=0.0)


@pytest.fixture(scope="module")
def dataset(market, settings) -> Dataset:
    return dataset_for(market.data, ModelSetup.of(settings), product_features(settings))


@pytest.fixture(scope="module")
def plan(dataset, settings) -> ResearchPlan:
    return plan_for(dataset, settings.modeling)


@pytest.fixture(scope="module")
def signal_run(dataset, plan, settings, tmp_path_factory) -> Run:
    return run_pipeline(dataset, plan, settings, sqlite_in(tmp_path_factory.mktemp("signal")))


@pytest.fixture(scope="module")
def null_run(settings, tmp_path_factory) -> Run:
    """The same market with nothing planted (ic 0, no drift): there is nothing to find."""
    null = generate_synthetic_market(symbols=300, years=6, seed=7, ic=0.0, market_drift=0.0)
    dataset = dataset_for(null.data, ModelSetup.of(settings), product_features(settings))
    plan = plan_for(dataset, settings.modeling)
    return run_pipeline(dataset, plan, settings, sqlite_in(tmp_path_factory.mktemp("null")))


def test_the_pipeline_labels_from_the_fill_a_live_run_gets(dataset, settings):
    assert settings.backtest.execution == "next_open"
    assert dataset.execution == "next_open"
    assert dataset.known_after == settings.modeling.label_horizon + 1


def oracle_on_test_period(market: SyntheticMarket, dataset: Dataset, plan: ResearchPlan) -> float:
    """The ceiling's rank IC (`ceiling_predictor`: the best linear use of what the planted model
    makes known at t) against the labels the candidates are judged on, over the test period."""
    forward = dataset.forward_returns.unstack("symbol").loc[plan.test]
    ceiling = ceiling_predictor(market, dataset.execution)
    return rank_ic(ceiling.loc[plan.test], forward)


def standard_error(result: CandidateResult) -> float:
    """Of the mean daily rank IC, corrected for overlapping labels (see `ic_summary`)."""
    metrics = result.test_metrics
    return abs(metrics["rank_ic"] / metrics["rank_ic_t_stat"])


@pytest.mark.parametrize("name", CANDIDATES)
def test_every_candidate_finds_at_least_half_the_planted_signal_out_of_sample(
    market, dataset, plan, signal_run, name
):
    results = list(signal_run.results.values())
    oracle = oracle_on_test_period(market, dataset, plan)

    assert oracle > market.oracle("next_open")  # the ceiling is above the planted s_t alone
    assert out_of_sample_ic(signal_run.results[name]) >= 0.5 * oracle, comparison_table(
        results, name
    ).to_string()


def test_no_candidate_beats_the_oracle_by_more_than_its_standard_error(
    market, dataset, plan, signal_run
):
    oracle = oracle_on_test_period(market, dataset, plan)
    for name, result in signal_run.results.items():
        assert out_of_sample_ic(result) <= oracle + standard_error(result), (name, oracle)


def test_with_nothing_planted_no_candidate_finds_anything(null_run):
    # With no signal each test date's rank IC is ~ N(0, 1/sqrt(299)), sd 0.058, and the labels
    # overlap over 5 sessions, so the mean over 252 test days has a standard error of about
    # 0.058 / sqrt(252 / 5) = 0.008. A persistent premium the features can see (beta in a
    # drifting market: why this market has no drift) would show as an IC well above that.
    # The bound is 3 standard errors: at the former 0.01 (1.25 SE) each of the five candidates
    # failed by chance about one seed in five (LightGBM's forest: 0.0152 on this seed, 1.9 SE).
    ics = {name: out_of_sample_ic(r) for name, r in null_run.results.items()}

    assert set(ics) == set(CANDIDATES)
    assert all(abs(ic) < 3 * 0.008 for ic in ics.values()), ics
    assert abs(np.mean(list(ics.values()))) < 0.01, ics  # and no shared bias across them


# ---------------------------------------------------------------------------------------------
# a feature that peeks at the label


def test_a_feature_that_peeks_at_the_label_gives_an_implausibly_high_ic(market, settings):
    leaky = dataset_for(market.data, ModelSetup.of(settings), [*product_features(settings), LEAK])

    result = run_candidate(
        "lightgbm", leaky, plan_for(leaky, settings.modeling), trainer_for(ModelSetup.of(settings))
    )

    assert out_of_sample_ic(result) > 0.5


def test_the_look_ahead_guard_names_the_peeking_feature_and_passes_the_product_features(
    market, settings
):
    with pytest.raises(DataError, match=r"look-ahead: feature\(s\) leak change"):
        assert_point_in_time(market.data, [*product_features(settings), LEAK])

    assert_point_in_time(market.data, product_features(settings))  # raises nothing


# ---------------------------------------------------------------------------------------------
# repeatability and the Optuna search, on a smaller market


@pytest.fixture(scope="module")
def small_dataset(settings) -> Dataset:
    market = generate_synthetic_market(symbols=60, years=4, seed=3, ic=0.05)
    return dataset_for(market.data, ModelSetup.of(settings), product_features(settings))


@pytest.fixture(scope="module")
def small_plan(small_dataset, settings) -> ResearchPlan:
    return plan_for(small_dataset, settings.modeling)


REPEATED = ["lightgbm", "xgboost_tuned", "random_forest"]


@pytest.fixture(scope="module")
def twice(small_dataset, small_plan, settings, tmp_path_factory) -> tuple[Run, Run]:
    """The pipeline run twice on the same data, each with a fresh Optuna study."""
    return tuple(
        run_pipeline(
            small_dataset, small_plan, settings, sqlite_in(tmp_path_factory.mktemp(run)), REPEATED
        )
        for run in ("first", "second")
    )


def predictions(run: Run, name: str) -> pd.Series:
    return run.results[name].test_predictions


@pytest.mark.parametrize("name", ["lightgbm", "xgboost_tuned"])
def test_the_pipeline_run_twice_gives_bit_identical_test_predictions(twice, name):
    first, second = twice

    assert predictions(first, name).index.equals(predictions(second, name).index)
    assert np.array_equal(predictions(first, name).to_numpy(), predictions(second, name).to_numpy())
    assert first.results[name].params == second.results[name].params
    if name == "xgboost_tuned":
        assert first.results[name].tuning["trials_complete"] == 5


def test_the_random_forest_run_twice_grows_bit_identical_trees(twice):
    first, second = (run.results["random_forest"].model.estimator for run in twice)

    # LightGBM's forest (the default engine): every tree, split and leaf value, as text
    assert first.booster_.model_to_string() == second.booster_.model_to_string()
    assert first.booster_.num_trees() == first.get_params()["n_estimators"]


def test_the_random_forest_run_twice_gives_bit_identical_test_predictions(
    twice, small_dataset, small_plan
):
    rows = small_dataset.rows[small_dataset.on(small_plan.test)]
    scores = [predictions(run, "random_forest").to_numpy() for run in twice]
    # scored again a few times: one pair of calls agrees by chance now and then
    scores += [run.results["random_forest"].model.predict(rows).to_numpy() for run in twice * 4]

    assert all(np.array_equal(scores[0], other) for other in scores[1:])


def test_the_optuna_search_never_fits_or_scores_on_the_test_period(signal_run, plan):
    touched = signal_run.tuning_dates

    assert set(plan.folds[-1].validation) <= set(touched)  # the spy sees the scoring
    assert not touched.isin(plan.test).any()
    assert touched.max() <= plan.pre_test[-1]


def test_a_persistent_study_resumes_and_only_adds_the_missing_trials(
    small_dataset, small_plan, settings, tmp_path
):
    trainer, storage = trainer_for(ModelSetup.of(settings)), sqlite_in(tmp_path)
    progress: list[list[str]] = []

    def search(trials: int):
        progress.append([])
        return tune(
            "xgboost_tuned",
            small_dataset,
            small_plan,
            trainer,
            trials,
            600,
            storage,
            "resumed",
            settings.seed,
            progress=progress[-1].append,
        )

    first = search(3)
    again = search(3)
    more = search(4)

    assert first.trials_complete + first.trials_pruned == 3
    assert len(progress[0]) == 3
    assert again.trials_complete + again.trials_pruned == 3
    assert progress[1] == []  # the second call ran no trial
    assert again.params == first.params
    assert more.trials_complete + more.trials_pruned == 4
    assert len(progress[2]) == 1
