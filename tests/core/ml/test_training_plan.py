"""The training plan: which candidates are tuned, trained with which parameters, and combined.

The flow fans the work out between these pure steps; here stub results stand in for the models.
"""

from __future__ import annotations

import pandas as pd

from trading_core.ml.research import CandidateResult
from trading_core.ml.training_plan import (
    base_candidates,
    ensemble_inputs,
    named_results,
    training_calls,
    tuning_plan,
    with_tuning,
)

MEMBERS = ["lightgbm", "xgboost_default", "random_forest"]
TUNED = {"best_params": {"max_depth": 3}, "trials_complete": 5}


def stub_result(name: str, params=None) -> CandidateResult:
    empty = pd.Series(dtype="float64")
    return CandidateResult(name, None, params or {}, cv_predictions=empty, test_predictions=empty)


def test_the_ensemble_brings_its_unlisted_members_after_the_named_models():
    base = base_candidates(["xgboost_tuned", "ensemble", "lightgbm"], MEMBERS)

    assert base == ["xgboost_tuned", "lightgbm", "xgboost_default", "random_forest"]


def test_only_the_tuned_candidate_is_tuned_and_it_trains_with_its_best_parameters():
    base = base_candidates(["xgboost_tuned", "ensemble", "lightgbm"], MEMBERS)

    assert tuning_plan(base) == ["xgboost_tuned"]
    assert training_calls(base, {"xgboost_tuned": TUNED}) == [
        ("xgboost_tuned", {"max_depth": 3}),
        ("lightgbm", None),
        ("xgboost_default", None),
        ("random_forest", None),
    ]


def test_results_keep_their_tuning_record_and_come_back_in_the_order_named():
    names = ["xgboost_tuned", "ensemble", "lightgbm"]
    base = base_candidates(names, MEMBERS)
    calls = training_calls(base, {"xgboost_tuned": TUNED})

    results = with_tuning(base, [stub_result(n, p) for n, p in calls], {"xgboost_tuned": TUNED})
    inputs = ensemble_inputs(names, MEMBERS, results)
    ordered = named_results(names, results, stub_result("ensemble"))

    assert [m.name for m in inputs] == MEMBERS
    assert [r.name for r in ordered] == names
    assert ordered[0].tuning == TUNED and ordered[2].tuning is None


def test_without_the_ensemble_only_the_named_models_train_and_nothing_is_combined():
    names = ["random_forest", "lightgbm"]
    base = base_candidates(names, MEMBERS)
    results = with_tuning(base, [stub_result(n, p) for n, p in training_calls(base, {})], {})

    assert tuning_plan(base) == []
    assert training_calls(base, {}) == [("random_forest", None), ("lightgbm", None)]
    assert ensemble_inputs(names, MEMBERS, results) == []
    assert [r.name for r in named_results(names, results)] == names
