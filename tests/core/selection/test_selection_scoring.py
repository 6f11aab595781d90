"""Champion selection's core: weighted scores by hand, thresholds, the top passer, PSR and DSR."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from settings.selection import SelectionThresholds, SelectionWeights
from trading_core.backtest import metrics
from trading_core.errors import ConfigError
from trading_core.selection import scoring
from trading_core.selection.scoring import Candidate, Thresholds, Weights
from trading_core.selection.sharpe_stats import (
    deflated_sharpe,
    expected_maximum_sharpe,
    probabilistic_sharpe_ratio,
)

# Passes every default threshold: Sharpe 1.5 >= 1, drawdown -15% >= -20%, Calmar 0.6 >= 0.5,
# turnover 10% per rebalance <= 40%.
GOOD = {
    "sharpe": 1.5,
    "max_drawdown": -0.15,
    "calmar": 0.6,
    "avg_turnover": 0.10,
    "annual_turnover": 5.0,
}


def regime_table(sharpes: list[float], days: list[int]) -> pd.DataFrame:
    names = ["Risk-Off", "Normal", "Risk-On"][: len(sharpes)]
    return pd.DataFrame(
        {
            "regime": names,
            "avg_return": [s / 1000 for s in sharpes],
            "sharpe": sharpes,
            "win_rate": 0.5,
            "days": days,
        }
    )


# Sharpes 0.5 and 1.5 over enough days; Risk-On never seen (0 days, NaN figures).
REGIMES = regime_table([0.5, 1.5, math.nan], [120, 300, 0])


# --- scoring ---------------------------------------------------------------------------------


def test_weighted_score_equals_a_hand_computation():
    # sharpe        1.5 / 2                 = 0.75  x 0.35 = 0.2625
    # max drawdown  (-0.15 + 0.30) / 0.30   = 0.50  x 0.20 = 0.1000
    # calmar        0.6 / 1.5               = 0.40  x 0.20 = 0.0800
    # turnover      1 - 0.10 / 0.50         = 0.80  x 0.10 = 0.0800
    # regimes       share positive 2/2 = 1, std(0.5, 1.5) = 0.5 -> 1 / 1.5 = 2/3
    #                                       = 2/3   x 0.15 = 0.1000
    # total                                                  0.6225
    breakdown = scoring.score(GOOD, REGIMES, Weights())
    expected = {
        "sharpe": (0.75, 0.2625),
        "max_drawdown": (0.5, 0.1),
        "calmar": (0.4, 0.08),
        "turnover": (0.8, 0.08),
        "regime_consistency": (2 / 3, 0.1),
    }
    for name, (value, contribution) in expected.items():
        assert breakdown.criteria[name].normalized == pytest.approx(value)
        assert breakdown.criteria[name].contribution == pytest.approx(contribution)
    assert breakdown.total == pytest.approx(0.6225)
    assert breakdown.criteria["turnover"].raw == 0.10
    assert breakdown.as_dict()["total"] == pytest.approx(0.6225)


def test_score_accepts_the_settings_weights_as_a_dict():
    weights = SelectionWeights().model_dump()
    assert Weights.from_dict(weights) == Weights()
    assert scoring.score(GOOD, REGIMES, weights).total == pytest.approx(0.6225)
    assert Thresholds.from_dict(SelectionThresholds().model_dump()) == Thresholds()


def test_weights_that_do_not_sum_to_one_or_unknown_names_are_refused():
    with pytest.raises(ConfigError, match="sum to 1"):
        Weights(sharpe=0.5)
    with pytest.raises(ConfigError, match="non-negative"):
        Weights(sharpe=0.60, max_drawdown=-0.05)
    with pytest.raises(ConfigError, match="unknown"):
        Weights.from_dict({"sortino": 0.35})


def test_normalized_values_are_clipped_at_both_ends():
    best = scoring.normalized(
        {"sharpe": 3.0, "max_drawdown": 0.0, "calmar": 2.5, "avg_turnover": 0.0}, REGIMES
    )
    worst = scoring.normalized(
        {"sharpe": -1.0, "max_drawdown": -0.55, "calmar": -0.3, "avg_turnover": 0.9}, REGIMES
    )
    for name in ("sharpe", "max_drawdown", "calmar", "turnover"):
        assert best[name] == 1.0
        assert worst[name] == 0.0


def test_lower_turnover_per_rebalance_scores_higher_and_annual_turnover_is_ignored():
    low = scoring.normalized({**GOOD, "avg_turnover": 0.05, "annual_turnover": 50.0}, None)
    high = scoring.normalized({**GOOD, "avg_turnover": 0.30, "annual_turnover": 1.0}, None)
    assert low["turnover"] == pytest.approx(0.9)
    assert high["turnover"] == pytest.approx(0.4)


def test_an_undefined_or_missing_metric_scores_zero():
    values = scoring.normalized({"sharpe": math.nan, "max_drawdown": -0.1}, None)
    assert values["sharpe"] == 0.0
    assert values["calmar"] == 0.0
    assert values["turnover"] == 0.0
    assert values["max_drawdown"] == pytest.approx(2 / 3)


# --- regime consistency ---------------------------------------------------------------------


def test_regime_consistency_share_positive_times_dispersion_penalty():
    # Sharpes -0.5, 1.0, 2.0: share positive 2/3; population std of the three:
    # mean 5/6, squared deviations (16/9 + 1/36 + 49/36) / 3 = 19/18.
    table = regime_table([-0.5, 1.0, 2.0], [60, 300, 100])
    expected = (2 / 3) / (1 + math.sqrt(19 / 18))
    assert scoring.regime_consistency(table) == pytest.approx(expected)


def test_regimes_with_zero_or_too_few_days_are_ignored():
    assert scoring.regime_consistency(REGIMES) == pytest.approx(2 / 3)
    # Risk-Off with 5 sessions and a terrible Sharpe does not count below min_days=20.
    short = regime_table([-3.0, 1.0, 1.0], [5, 300, 100])
    assert scoring.regime_consistency(short) == pytest.approx(1.0)
    assert scoring.regime_consistency(short, min_days=5) < 0.5


def test_regime_consistency_is_zero_when_no_regime_qualifies_or_all_lose():
    assert scoring.regime_consistency(None) == 0.0
    assert scoring.regime_consistency(regime_table([1.0, 2.0, math.nan], [10, 19, 0])) == 0.0
    assert scoring.regime_consistency(regime_table([-1.0, -0.2], [100, 100])) == 0.0


def test_regime_consistency_reads_the_backtest_regime_table():
    dates = pd.bdate_range("2024-01-01", periods=120)
    rng = np.random.default_rng(3)
    returns = pd.Series(rng.normal(0.001, 0.01, len(dates)), index=dates)
    labels = pd.Series(np.where(np.arange(len(dates)) < 40, 0, 1), index=dates)  # no Risk-On
    table = metrics.regime_performance(returns, labels)
    assert table["days"].tolist() == [40, 80, 0]
    seen = table["sharpe"].iloc[:2].to_numpy()
    expected = (seen > 0).mean() / (1 + seen.std())
    assert scoring.regime_consistency(table) == pytest.approx(expected)


# --- thresholds -----------------------------------------------------------------------------


def test_a_combination_meeting_every_rule_has_no_failures():
    assert scoring.threshold_failures(GOOD, Thresholds(), baseline_sharpe=0.91) == []


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"sharpe": 0.84}, "Sharpe 0.84 < 1.00"),
        ({"max_drawdown": -0.241}, "max drawdown -24.1% worse than -20.0%"),
        ({"calmar": 0.42}, "Calmar 0.42 < 0.50"),
        ({"avg_turnover": 0.65}, "turnover per rebalance 65.0% > 60.0%"),
    ],
)
def test_each_threshold_fails_alone_with_a_readable_reason(change, reason):
    failures = scoring.threshold_failures({**GOOD, **change}, Thresholds(), baseline_sharpe=0.5)
    assert failures == [reason]


def test_thresholds_at_the_limit_pass():
    edge = {"sharpe": 1.0, "max_drawdown": -0.20, "calmar": 0.5, "avg_turnover": 0.40}
    assert scoring.threshold_failures(edge, Thresholds(), baseline_sharpe=None) == []


def test_the_equal_weight_baseline_must_be_beaten_strictly():
    metrics_ = {**GOOD, "sharpe": 1.2}
    assert scoring.threshold_failures(metrics_, Thresholds(), baseline_sharpe=1.3) == [
        "Sharpe 1.20 does not beat the equal-weight baseline 1.30"
    ]
    assert scoring.threshold_failures(metrics_, Thresholds(), baseline_sharpe=1.2) != []
    assert scoring.threshold_failures(metrics_, Thresholds(), baseline_sharpe=None) == []


def test_undefined_metrics_and_baseline_fail_with_their_own_reason():
    nan_metrics = dict.fromkeys(GOOD, math.nan)
    assert scoring.threshold_failures(nan_metrics, Thresholds(), baseline_sharpe=0.5) == [
        "Sharpe is undefined (NaN)",
        "max drawdown is undefined (NaN)",
        "Calmar is undefined (NaN)",
        "turnover per rebalance is undefined (NaN)",
    ]
    assert scoring.threshold_failures(GOOD, Thresholds(), baseline_sharpe=math.nan) == [
        "the equal-weight baseline Sharpe is undefined (NaN)"
    ]


def test_thresholds_from_a_dict_are_applied():
    strict = {"sharpe_min": 2.0, "max_drawdown_max": -0.2, "calmar_min": 0.5, "turnover_max": 0.4}
    assert scoring.threshold_failures(GOOD, strict, baseline_sharpe=None) == ["Sharpe 1.50 < 2.00"]


# --- ranking and the champion ---------------------------------------------------------------


def candidate(name: str, dsr: float = math.nan, **change: float) -> Candidate:
    return Candidate(name, {**GOOD, **change}, REGIMES, deflated_sharpe=dsr)


def test_the_champion_is_the_top_passer_not_the_top_scorer():
    reckless = candidate("lightgbm+max_sharpe", sharpe=2.5, max_drawdown=-0.28)
    steady = candidate("lightgbm+hrp")
    weak = candidate("rf+equal_weight", sharpe=1.1)
    selection = scoring.select_champion(
        [weak, steady, reckless], Weights(), Thresholds(), baseline_sharpe=0.9
    )
    assert [e.name for e in selection.ranking] == [
        "lightgbm+max_sharpe",
        "lightgbm+hrp",
        "rf+equal_weight",
    ]
    assert not selection.ranking[0].passed
    assert selection.champion is not None and selection.champion.name == "lightgbm+hrp"
    assert selection.reasons == {"lightgbm+max_sharpe": ["max drawdown -28.0% worse than -20.0%"]}


def test_nothing_passes_gives_no_champion_and_every_candidates_reasons():
    selection = scoring.select_champion(
        [candidate("a", sharpe=0.8), candidate("b", calmar=0.2), candidate("c", sharpe=1.05)],
        Weights(),
        Thresholds(),
        baseline_sharpe=1.1,
    )
    assert selection.champion is None
    assert selection.reasons == {
        "a": ["Sharpe 0.80 < 1.00", "Sharpe 0.80 does not beat the equal-weight baseline 1.10"],
        "b": ["Calmar 0.20 < 0.50"],
        "c": ["Sharpe 1.05 does not beat the equal-weight baseline 1.10"],
    }


def test_the_deflated_sharpe_gate_excludes_a_passer():
    top = candidate("top", dsr=0.60, sharpe=1.9)
    second = candidate("second", dsr=0.97)
    ungated = scoring.select_champion([top, second], Weights(), Thresholds(), 1.0)
    gated = scoring.select_champion(
        [top, second], Weights(), Thresholds(), 1.0, min_deflated_sharpe=0.95
    )
    assert ungated.champion.name == "top"
    assert gated.champion.name == "second"
    assert gated.reasons == {"top": ["deflated Sharpe 0.600 < 0.950"]}


def test_the_gate_fails_an_undefined_deflated_sharpe():
    ranking = scoring.rank([candidate("x")], Weights(), Thresholds(), None, min_deflated_sharpe=0.5)
    assert ranking[0].failures == ("deflated Sharpe is undefined (NaN)",)


def test_ties_keep_the_given_order_and_names_must_be_unique():
    ranking = scoring.rank([candidate("first"), candidate("second")], Weights(), Thresholds(), None)
    assert [e.name for e in ranking] == ["first", "second"]
    with pytest.raises(ValueError, match="unique"):
        scoring.rank([candidate("x"), candidate("x")], Weights(), Thresholds(), None)


# --- probabilistic and deflated Sharpe ------------------------------------------------------


def test_deflated_sharpe_matches_the_papers_worked_example():
    # Bailey & Lopez de Prado (2014): 5 years of daily returns, T = 1,250, i.e. 250 a year.
    days = 250
    sharpe = 2.5 / math.sqrt(days)
    sr0 = expected_maximum_sharpe(trials=100, sharpe_variance=0.5 / days)
    dsr = probabilistic_sharpe_ratio(sharpe, sr0, observations=1250, skewness=-3, kurtosis=10)
    assert sr0 == pytest.approx(0.1132, abs=1e-3)
    assert dsr == pytest.approx(0.9004, abs=1e-3)
    # Rounding-level agreement pins the convention: with 252 a year SR0 would be 0.1127.
    assert (sr0, dsr) == (pytest.approx(0.1132, abs=1e-4), pytest.approx(0.9004, abs=1e-4))
    # The same SR0 from the annualized variance, de-annualized afterwards.
    assert expected_maximum_sharpe(100, 0.5) / math.sqrt(days) == pytest.approx(sr0)


@pytest.mark.parametrize(
    "sharpe, benchmark, observations, skewness, kurtosis",
    [(0.5, 0.0, 2, 0.0, 3.0), (0.3, 0.1, 5, -1.0, 6.0), (0.2, 0.05, 12, 0.5, 4.0)],
)
def test_psr_scales_by_sqrt_of_t_minus_one_as_in_the_paper(
    sharpe, benchmark, observations, skewness, kurtosis
):
    # Bailey & Lopez de Prado (2014), eq. 2, worked here with scipy; few returns, so that
    # sqrt(T) and sqrt(T - 1) differ well beyond the tolerance (at T = 2: 0.681 against 0.748).
    spread = math.sqrt(1 - skewness * sharpe + (kurtosis - 1) / 4 * sharpe**2)
    z = (sharpe - benchmark) * math.sqrt(observations - 1) / spread
    by_hand = stats.norm.cdf(z)

    psr = probabilistic_sharpe_ratio(sharpe, benchmark, observations, skewness, kurtosis)

    assert psr == pytest.approx(by_hand, rel=1e-12)


def test_psr_of_two_normal_returns_is_the_papers_figure_not_the_sqrt_t_one():
    # z = 0.5 sqrt(2 - 1) / sqrt(1 + (3 - 1) / 4 0.25) = 0.4714; with sqrt(T) it would be 0.7475.
    assert probabilistic_sharpe_ratio(0.5, 0.0, 2) == pytest.approx(0.681324, abs=1e-6)


def test_psr_falls_as_the_benchmark_rises_and_is_one_half_at_the_benchmark():
    psrs = [probabilistic_sharpe_ratio(0.1, b, 500, -0.5, 5.0) for b in (0.0, 0.05, 0.1, 0.15)]
    assert psrs == sorted(psrs, reverse=True)
    assert psrs[2] == pytest.approx(0.5)


def test_psr_of_a_positive_sharpe_tends_to_one_with_many_normal_returns():
    assert probabilistic_sharpe_ratio(0.05, 0.0, 1_000_000, 0.0, 3.0) == pytest.approx(1.0)
    assert probabilistic_sharpe_ratio(0.05, 0.0, 100, 0.0, 3.0) < 0.7


def test_psr_is_nan_for_too_few_observations_or_a_negative_variance_term():
    assert math.isnan(probabilistic_sharpe_ratio(0.1, 0.0, 1, 0.0, 3.0))
    # 1 - 3 x 1 + (1 - 1) / 4 x 1 = -2 < 0
    assert math.isnan(probabilistic_sharpe_ratio(1.0, 0.0, 100, 3.0, 1.0))
    assert math.isnan(probabilistic_sharpe_ratio(math.nan, 0.0, 100, 0.0, 3.0))


def test_expected_maximum_sharpe_grows_with_trials_and_is_zero_for_one():
    assert expected_maximum_sharpe(1, 0.5) == 0.0
    values = [expected_maximum_sharpe(n, 0.5) for n in (2, 10, 100, 1000)]
    assert values == sorted(values)
    assert math.isnan(expected_maximum_sharpe(10, -0.1))


def test_deflated_sharpe_of_simulated_returns_agrees_with_the_functions():
    rng = np.random.default_rng(7)
    returns = pd.Series(rng.standard_t(5, 1000) * 0.01 + 0.0008)
    trials = [1.2, 0.4, -0.3, 0.9, math.nan, 1.6]  # one failed run
    result = deflated_sharpe(returns, trials, periods_per_year=252)

    annual = metrics.sharpe(returns)
    per_day = annual / math.sqrt(252)
    skew = stats.skew(returns)
    kurt = stats.kurtosis(returns, fisher=False)
    sr0 = expected_maximum_sharpe(5, np.var([1.2, 0.4, -0.3, 0.9, 1.6], ddof=1) / 252)
    assert result.sharpe_annual == pytest.approx(annual)
    assert result.sharpe_per_period == pytest.approx(per_day)
    assert (result.skewness, result.kurtosis) == (pytest.approx(skew), pytest.approx(kurt))
    assert (result.observations, result.trials) == (1000, 5)
    assert result.expected_max_sharpe_per_period == pytest.approx(sr0)
    assert result.expected_max_sharpe_annual == pytest.approx(sr0 * math.sqrt(252))
    assert result.psr == pytest.approx(probabilistic_sharpe_ratio(per_day, 0.0, 1000, skew, kurt))
    assert result.dsr == pytest.approx(probabilistic_sharpe_ratio(per_day, sr0, 1000, skew, kurt))
    assert result.dsr < result.psr
    assert result.note == ""


def test_deflated_sharpe_with_one_trial_falls_back_to_the_psr_and_says_so():
    returns = pd.Series(np.random.default_rng(1).normal(0.001, 0.01, 300))
    result = deflated_sharpe(returns, [1.4])
    assert result.expected_max_sharpe_per_period == 0.0
    assert result.dsr == result.psr
    assert "undefined" in result.note


def test_constant_or_too_short_returns_give_nan_not_an_exception():
    for returns in (pd.Series([0.001] * 50), pd.Series([0.01]), pd.Series([], dtype=float)):
        result = deflated_sharpe(returns, [1.0, 0.5, 0.2])
        assert math.isnan(result.sharpe_annual)
        assert math.isnan(result.psr) and math.isnan(result.dsr)
