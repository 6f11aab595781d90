"""Which model a daily run scores with: the champion, a candidate known by then, or a fit."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from trading_core.ml.champion_choice import (
    NO_PRODUCTION_MODEL,
    choose_model,
    known_before,
    latest_candidate,
)

CHAMPION = {"model_name": "lightgbm", "trained_through": "2021-01-29"}


def candidate(name: str, through: str, rank_ic: float | None) -> tuple[Path, dict]:
    meta = {"model_name": name, "trained_through": through, "test_metrics": {"rank_ic": rank_ic}}
    return Path(f"candidates/{name}"), meta


def test_the_champion_scores_outside_a_replay_and_before_its_labels_end():
    assert choose_model(CHAMPION, [], None).source == "champion"
    assert choose_model(CHAMPION, [], date(2021, 2, 1)).source == "champion"


def test_a_champion_that_saw_the_replayed_session_is_replaced_by_a_fit_never_a_candidate():
    choice = choose_model(CHAMPION, [candidate("xgb", "2020-06-30", 0.1)], date(2021, 1, 29))

    assert choice.source == "fit" and choice.folder is None
    assert choice.warning.startswith("the production model was trained through 2021-01-29, after")


def test_without_a_champion_the_latest_runs_best_candidate_stands_in():
    records = [
        candidate("old_best", "2020-06-30", 0.9),
        candidate("lightgbm", "2020-12-31", 0.05),
        candidate("xgboost", "2020-12-31", 0.08),
        candidate("undefined", "2020-12-31", float("nan")),
    ]

    choice = choose_model(None, records, None)

    assert choice.source == "candidate" and choice.folder == Path("candidates/xgboost")
    assert "scoring with candidate xgboost (trained through 2020-12-31" in choice.warning


def test_a_replay_takes_only_a_candidate_trained_before_its_first_session():
    records = [candidate("early", "2020-06-30", 0.01), candidate("late", "2020-12-31", 0.5)]

    assert latest_candidate(records, date(2020, 12, 31)) == Path("candidates/early")
    assert latest_candidate(records, date(2020, 6, 30)) is None


def test_with_nothing_to_load_a_model_is_fitted_on_the_spot():
    choice = choose_model(None, [candidate("late", "2020-12-31", 0.5)], date(2020, 1, 2))
    assert (choice.source, choice.warning) == ("fit", NO_PRODUCTION_MODEL)


def test_labels_through_the_session_itself_are_not_known_before_it():
    assert known_before("2021-01-28", date(2021, 1, 29))
    assert not known_before("2021-01-29", date(2021, 1, 29))
    assert known_before("2099-01-01", None)
