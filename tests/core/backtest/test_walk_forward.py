"""The walk-forward backtest never trades on a model that saw the future, and finds a planted edge.

A synthetic market with a planted signal is scored by models retrained per research fold or every
N months; the tests check the purge gap between each model's last label and the first date it
trades, that removing later data changes nothing before it, that the planted signal beats the
equal-weight benchmark while random scores do not, and that the regime sets the exposure.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pytest

from settings import Settings, load_settings
from tasks.backtest import candidate_scores, segments_for
from tasks.components import backtester_for, detector_for, policy_for
from tasks.research import dataset_for, plan_for, trainer_for
from tasks.sections import ModelSetup, TradingRules
from trading_core.backtest.walk_forward import (
    plan_segments,
    rebalance_from,
    run_walk_forward,
)
from trading_core.data.synthetic import generate_synthetic_market
from trading_core.ml.dataset import Dataset
from trading_core.ml.research import combine_ensemble, fit_on, research_fits, run_candidate
from trading_core.ml.train import ModelTrainer
from trading_core.regime import KEYS


def make_settings(retrain: str = "folds", **overrides) -> Settings:
    return load_settings(
        modeling={"lightgbm": {"n_estimators": 80}, "cv": {"folds": 3}},
        backtest={"retrain": retrain, "retrain_months": 6, "min_train_sessions": 252},
        **overrides,
    )


@pytest.fixture(scope="module")
def settings() -> Settings:
    return make_settings()


@pytest.fixture(scope="module")
def market():
    return generate_synthetic_market(symbols=60, years=5, seed=11, ic=0.08)


@pytest.fixture(scope="module")
def dataset(market, settings) -> Dataset:
    return dataset_for(market.data, ModelSetup.of(settings))


@dataclass
class RecordingFit:
    """Fits LightGBM on the dates it is given and remembers them."""

    dataset: Dataset
    settings: Settings
    seen: list[pd.DatetimeIndex]

    def __call__(self, dates: pd.DatetimeIndex):
        self.seen.append(dates)
        trainer = trainer_for(ModelSetup.of(self.settings))
        return fit_on(
            trainer, "lightgbm", self.dataset, dates, self.settings.modeling.sample_stride
        )


class RandomModel:
    """Scores with no information: a seeded random number per row."""

    def predict(self, rows: pd.DataFrame) -> pd.Series:
        rng = np.random.default_rng(len(rows))
        return pd.Series(rng.normal(size=len(rows)), index=rows.index, name="score")


def starts(dataset: Dataset, settings: Settings) -> list[pd.Timestamp]:
    """The first scored date of each model on the product's schedule."""
    return [
        segment.dates[0] for segment in segments_for(dataset, settings.modeling, settings.backtest)
    ]


def walk_forward(data, dataset, settings, fit, optimizer="inverse_vol", first_dates=None):
    dates = pd.DatetimeIndex(data.close.index)
    first_dates = first_dates or starts(dataset, settings)
    segments = plan_segments(dates, dataset.labeled_dates, first_dates, dataset.horizon)
    detector = detector_for(settings.regime)
    regimes = detector.history(data.benchmark)
    return run_walk_forward(
        dataset,
        data,
        regimes,
        segments,
        fit,
        policy_for(TradingRules.of(settings), data.sectors, optimizer),
        backtester_for(settings.backtest, TradingRules.of(settings)),
        settings.backtest.rebalance_sessions,
    )


@pytest.mark.parametrize("schedule", ["folds", "months"])
def test_every_model_stops_learning_a_purge_gap_before_its_first_scored_date(dataset, schedule):
    dates = pd.DatetimeIndex(dataset.dates.unique())
    segments = segments_for(
        dataset, make_settings(schedule).modeling, make_settings(schedule).backtest
    )

    assert len(segments) >= 3
    for segment in segments:
        last_label_ends = dates.get_loc(segment.train[-1]) + dataset.horizon
        assert last_label_ends < dates.get_loc(segment.dates[0]), segment.dates[0]
    scored = pd.DatetimeIndex(np.concatenate([s.dates for s in segments]))
    assert scored.is_unique and scored.is_monotonic_increasing
    assert scored[-1] == dates[-1]  # the last model scores up to the last session


def test_each_rebalance_is_scored_by_a_model_trained_before_it_minus_the_gap(
    market, dataset, settings
):
    fit = RecordingFit(dataset, settings, [])
    result = walk_forward(market.data, dataset, settings, fit)

    dates = pd.DatetimeIndex(market.data.close.index)
    assert len(fit.seen) == len(result.models)
    for trained, model in zip(fit.seen, result.models.itertuples(), strict=True):
        assert trained[-1] == model.train_end
        assert dates.get_loc(model.first_scored) - dates.get_loc(trained[-1]) > dataset.horizon
    rebalances = result.weights.index
    assert rebalances[0] == result.models["first_scored"].iloc[0]
    assert (np.diff(dates.get_indexer(rebalances)) == settings.backtest.rebalance_sessions).all()


def test_removing_later_data_changes_no_earlier_portfolio(market, dataset, settings):
    full_fit = RecordingFit(dataset, settings, [])
    first_dates = starts(dataset, settings)
    full = walk_forward(market.data, dataset, settings, full_fit, "max_sharpe", first_dates)

    cut = full.weights.index[len(full.weights) // 2]
    data = market.data.as_of(cut)
    truncated_dataset = dataset_for(data, ModelSetup.of(settings))
    kept = [s for s in first_dates if s <= cut]
    fit = RecordingFit(truncated_dataset, settings, [])
    truncated = walk_forward(data, truncated_dataset, settings, fit, "max_sharpe", kept)

    before = full.weights.loc[:cut]
    pd.testing.assert_frame_equal(truncated.weights, before, check_freq=False)
    equity = full.backtest.equity.loc[:cut]
    pd.testing.assert_series_equal(truncated.backtest.equity, equity, check_freq=False)


def test_the_planted_signal_beats_equal_weight_and_random_scores_do_not(market, dataset, settings):
    learned = walk_forward(market.data, dataset, settings, RecordingFit(dataset, settings, []))
    noise = walk_forward(market.data, dataset, settings, lambda _: RandomModel())

    edge = learned.backtest.metrics["cagr"] - learned.backtest.benchmark_metrics["cagr"]
    luck = noise.backtest.metrics["cagr"] - noise.backtest.benchmark_metrics["cagr"]
    assert edge > 0.05, f"planted signal: CAGR {edge:+.3f} over equal weight"
    assert edge > luck + 0.05, f"random scores: {luck:+.3f}, planted: {edge:+.3f}"
    assert learned.backtest.metrics["sharpe"] > noise.backtest.metrics["sharpe"]


def test_the_regime_on_each_rebalance_sets_the_exposure_and_the_number_of_names(
    market, dataset, settings
):
    tuned = make_settings(
        portfolio={"top_k": 10, "top_k_by_regime": {"risk_off": 5}, "max_weight": 0.15},
        regime={"exposure": {"risk_off": 0.5, "normal": 0.8, "risk_on": 1.0}},
        risk={"max_sector_weight": 1.0},  # sector caps would hold some portfolios below exposure
    )
    result = walk_forward(market.data, dataset, tuned, lambda _: RandomModel(), "equal_weight")

    log = result.portfolios
    assert log["regime"].nunique() >= 2, "the synthetic market should visit several regimes"
    for code, key in KEYS.items():
        rows = log[log["regime"] == code]
        exposure = getattr(tuned.regime.exposure, key)
        names = tuned.portfolio.top_k_for(key)
        assert np.allclose(rows["invested"], min(exposure, names * 0.15)), key
        assert (rows["names"] == names).all(), key
    assert result.fallbacks.empty


def test_rebalances_start_at_the_first_scored_session(dataset, settings, market):
    dates = pd.DatetimeIndex(market.data.close.index)
    segments = segments_for(dataset, settings.modeling, settings.backtest)

    rebalances = rebalance_from(segments, market.data.close, 5)

    assert rebalances[0] == segments[0].dates[0]
    assert rebalances[-1] > dates[-6]


def test_segments_on_research_windows_reuse_the_research_fits_and_score_the_same(
    market, dataset, monkeypatch
):
    """A walk-forward model on a research fold's sessions is that fold's model, bit for bit: the
    reuse saves the refit and changes no score, for the ensemble too (its members' fits)."""
    settings = load_settings(
        modeling={
            "lightgbm": {"n_estimators": 40},
            "xgboost": {"n_estimators": 20},
            "cv": {"folds": 3},
            "sample_stride": 10,
            "n_jobs": 1,  # two threads per fit crawl when the suite's other worker is busy
        },
        backtest={"retrain": "folds"},
    )
    plan = plan_for(dataset, settings.modeling)
    trainer = trainer_for(ModelSetup.of(settings))
    results = [run_candidate(n, dataset, plan, trainer) for n in ("lightgbm", "xgboost_default")]
    results.append(combine_ensemble("ensemble", results, dataset))
    segments = len(segments_for(dataset, settings.modeling, settings.backtest))
    assert segments == len(plan.folds) + 1

    fits = []
    fit = ModelTrainer.fit
    monkeypatch.setattr(ModelTrainer, "fit", lambda *a, **k: fits.append(a[1]) or fit(*a, **k))
    close = market.data.close
    refits = {}
    for result in results:
        fits.clear()
        reused = candidate_scores(
            result.model,
            dataset,
            close,
            ModelSetup.of(settings),
            settings.backtest,
            reuse=research_fits(result.model, results),
        )
        refits[result.name] = sorted(fits)
        if result.name != "ensemble":  # its members' scores are compared one by one
            fits.clear()
            fresh = candidate_scores(
                result.model, dataset, close, ModelSetup.of(settings), settings.backtest
            )
            assert len(fits) == segments  # without reuse every segment is fitted
            pd.testing.assert_series_equal(reused[0], fresh[0])
            pd.testing.assert_frame_equal(reused[1], fresh[1])

    # LightGBM's folds early-stop at their own tree counts; those that grew at least the final
    # count (the median fold among them) stand for the final fit by their first trees
    lightgbm_refits = len(plan.folds) + 1 - len(results[0].fits)
    assert 0 <= lightgbm_refits < len(plan.folds)
    assert refits == {
        "lightgbm": ["lightgbm"] * lightgbm_refits,
        "xgboost_default": [],
        "ensemble": ["lightgbm"] * lightgbm_refits,
    }
