"""Portfolio construction: top-K by score, capped long-only weights, and honest fallbacks."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from trading_core.portfolio.construct import construct_portfolio, select_top
from trading_core.portfolio.optimizers import cap_weights, equal_weight, inverse_vol

SYMBOLS = [f"S{i:02d}" for i in range(20)]


@pytest.fixture(scope="module")
def close() -> pd.DataFrame:
    """120 sessions of closes in which S00 is the calmest name and volatility rises with the index."""
    rng = np.random.default_rng(0)
    vols = np.linspace(0.005, 0.04, len(SYMBOLS))
    returns = rng.normal(0.0, 1.0, (120, len(SYMBOLS))) * vols
    dates = pd.bdate_range("2024-01-01", periods=120, name="date")
    return pd.DataFrame(100 * np.cumprod(1 + returns, axis=0), index=dates, columns=SYMBOLS)


@pytest.fixture(scope="module")
def scores() -> pd.Series:
    return pd.Series(np.random.default_rng(1).normal(size=len(SYMBOLS)), index=SYMBOLS)


# ---------------------------------------------------------------------------------------------
# cap_weights


@pytest.mark.parametrize(
    ("n", "exposure", "cap"),
    [
        (10, 1.0, 0.15),
        (5, 1.0, 0.15),
        (10, 0.6, 0.15),
        (3, 0.2, 0.5),
        (8, 1.0, 0.125),
        (1, 1.0, 1.0),
    ],
)
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_cap_weights_sum_to_exposure_or_n_caps_with_no_name_above_the_cap(n, exposure, cap, seed):
    raw = pd.Series(np.random.default_rng(seed).lognormal(0, 1, n), index=SYMBOLS[:n])

    weights = cap_weights(raw, exposure, cap)

    assert weights.sum() == pytest.approx(min(exposure, n * cap), abs=1e-12)
    assert (weights <= cap + 1e-12).all()
    assert (weights >= 0).all()
    assert list(weights.index) == list(raw.index)


def test_cap_weights_share_the_rest_in_proportion_among_uncapped_names():
    raw = pd.Series([10.0, 6.0, 1.0, 2.0, 3.0, 1.0, 1.0], index=SYMBOLS[:7])

    weights = cap_weights(raw, exposure=1.0, max_weight=0.25)

    capped = weights >= 0.25 - 1e-12
    assert capped.sum() >= 2  # the two big names are held at the cap
    ratios = (weights[~capped] / raw[~capped]).to_numpy()
    np.testing.assert_allclose(ratios, ratios[0], rtol=1e-12)
    assert weights.sum() == pytest.approx(1.0, abs=1e-12)


def test_cap_weights_scale_without_changing_proportions_when_no_cap_binds():
    raw = pd.Series([1.0, 2.0, 3.0, 4.0], index=SYMBOLS[:4])

    weights = cap_weights(raw, exposure=0.5, max_weight=0.5)

    pd.testing.assert_series_equal(weights, raw / raw.sum() * 0.5)


def test_cap_weights_treat_negative_raw_weights_as_zero():
    raw = pd.Series([1.0, -5.0, 1.0], index=SYMBOLS[:3])

    weights = cap_weights(raw, exposure=0.5, max_weight=0.5)

    assert weights[SYMBOLS[1]] == 0.0
    assert weights.sum() == pytest.approx(0.5)


# ---------------------------------------------------------------------------------------------
# optimizers


def test_equal_weight_gives_every_name_the_same_weight():
    weights = equal_weight(SYMBOLS[:8], exposure=0.8, max_weight=0.15)

    np.testing.assert_allclose(weights, 0.1)


def test_inverse_vol_gives_calmer_names_higher_weights(close):
    chosen = SYMBOLS[::3]  # volatility rises with the symbol number

    weights = inverse_vol(close, chosen, exposure=1.0, max_weight=0.5, window=60)

    assert weights.is_monotonic_decreasing
    assert weights.iloc[0] > 2 * weights.iloc[-1]
    realized = close[chosen].pct_change().iloc[-60:].std()
    np.testing.assert_allclose(weights * realized, (weights * realized).iloc[0], rtol=1e-9)


def test_inverse_vol_refuses_names_without_a_volatility(close):
    with pytest.raises(ValueError, match="S03"):
        inverse_vol(close.iloc[:1], ["S01", "S03"], exposure=1.0, max_weight=0.5)


# ---------------------------------------------------------------------------------------------
# construct_portfolio


def test_select_top_takes_the_highest_scores_and_breaks_ties_by_symbol():
    scores = pd.Series({"B": 1.0, "A": 1.0, "C": 3.0, "D": np.nan, "E": -1.0})

    assert select_top(scores, 3) == ["C", "A", "B"]


@pytest.mark.parametrize("optimizer", ["equal_weight", "inverse_vol"])
@pytest.mark.parametrize(("top_k", "exposure"), [(10, 1.0), (10, 0.6), (5, 1.0)])
def test_construct_portfolio_holds_the_top_k_within_cap_and_exposure(
    close, scores, optimizer, top_k, exposure
):
    result = construct_portfolio(
        scores, close, exposure=exposure, optimizer=optimizer, top_k=top_k, max_weight=0.15
    )

    assert set(result.weights.index) == set(scores.nlargest(top_k).index)
    assert (result.weights <= 0.15 + 1e-12).all() and (result.weights > 0).all()
    assert result.weights.sum() == pytest.approx(min(exposure, top_k * 0.15), abs=1e-12)
    assert result.cash == pytest.approx(1 - min(exposure, top_k * 0.15), abs=1e-12)
    assert result.optimizer == optimizer and result.fallback_reason is None


def test_a_failing_optimizer_falls_back_and_says_why(close, scores):
    too_short = close.iloc[:1]  # one close: no returns, no volatility

    result = construct_portfolio(
        scores, too_short, exposure=1.0, optimizer="inverse_vol", top_k=10, max_weight=0.15
    )

    assert result.requested_optimizer == "inverse_vol"
    assert result.optimizer == "equal_weight"
    assert result.fallback_reason is not None and "inverse_vol" in result.fallback_reason
    assert (result.weights <= 0.15 + 1e-12).all()
    assert result.weights.sum() == pytest.approx(1.0)


def test_an_unknown_optimizer_is_refused(close, scores):
    with pytest.raises(ValueError, match="hrp"):
        construct_portfolio(scores, close, exposure=1.0, optimizer="hrp")
