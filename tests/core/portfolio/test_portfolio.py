"""Portfolio construction: top-K by score, capped long-only weights, and honest fallbacks."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from pypfopt import HRPOpt

from trading_core.portfolio import construct
from trading_core.portfolio.caps import Caps, cap_weights
from trading_core.portfolio.construct import construct_portfolio, select_top
from trading_core.portfolio.estimates import estimate, grinold_alphas
from trading_core.portfolio.optimizers import OPTIMIZERS, equal_weight, inverse_vol

SYMBOLS = [f"S{i:02d}" for i in range(20)]
SECTOR_NAMES = ("tech", "energy", "health", "banks")
# S07 has no known sector: it carries the name cap only.
SECTORS = pd.Series({s: SECTOR_NAMES[i % 4] for i, s in enumerate(SYMBOLS) if i != 7})


def planted_closes(vols: np.ndarray, sessions: int = 120, seed: int = 0) -> pd.DataFrame:
    """Closes of independent names with daily-return volatilities `vols`, one column each."""
    returns = np.random.default_rng(seed).normal(0.0, 1.0, (sessions, len(vols))) * vols
    dates = pd.bdate_range("2024-01-01", periods=sessions, name="date")
    columns = SYMBOLS[: len(vols)]
    return pd.DataFrame(100 * np.cumprod(1 + returns, axis=0), index=dates, columns=columns)


@pytest.fixture(scope="module")
def close() -> pd.DataFrame:
    """120 sessions of closes in which S00 is the calmest name and volatility rises with the index."""
    return planted_closes(np.linspace(0.005, 0.04, len(SYMBOLS)))


@pytest.fixture(scope="module")
def scores() -> pd.Series:
    return pd.Series(np.random.default_rng(1).normal(size=len(SYMBOLS)), index=SYMBOLS)


def most_the_caps_allow(symbols, max_weight, max_sector_weight) -> float:
    """Every name at its cap, every known sector at most at its cap (computed independently)."""
    if max_sector_weight is None:
        return len(symbols) * max_weight
    groups = SECTORS.reindex(symbols)
    in_sectors = sum(min(max_sector_weight, n * max_weight) for n in groups.value_counts())
    return in_sectors + groups.isna().sum() * max_weight


def sector_totals(weights: pd.Series) -> pd.Series:
    return weights.groupby(SECTORS.reindex(weights.index)).sum()


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


def test_cap_weights_leave_the_rest_in_cash_when_the_positive_names_are_full():
    raw = pd.Series([1.0, 0.0], index=["A", "B"])

    weights = cap_weights(raw, exposure=1.0, max_weight=0.5)

    assert weights.tolist() == [0.5, 0.0]


def test_sector_cap_holds_a_sector_at_its_cap_and_splits_it_like_the_raw_weights():
    # tech (A, B) would get 0.8 of 1.0 pro rata; it is held at 0.4 and split 6:2 -> 0.3, 0.1.
    # The other 0.6 goes to C (energy) and D (no sector), equal raw weights -> 0.3 each.
    raw = pd.Series({"A": 6.0, "B": 2.0, "C": 1.0, "D": 1.0})
    sectors = pd.Series({"A": "tech", "B": "tech", "C": "energy"})

    weights = cap_weights(raw, 1.0, max_weight=0.5, sectors=sectors, max_sector_weight=0.4)

    np.testing.assert_allclose(weights.to_numpy(), [0.3, 0.1, 0.3, 0.3], atol=1e-15)


def test_sector_cap_that_cannot_hold_the_exposure_leaves_cash():
    raw = pd.Series({"A": 1.0, "B": 1.0})
    sectors = pd.Series({"A": "tech", "B": "tech"})

    weights = cap_weights(raw, 1.0, max_weight=0.5, sectors=sectors, max_sector_weight=0.4)

    np.testing.assert_allclose(weights.to_numpy(), [0.2, 0.2], atol=1e-15)


def test_name_cap_binds_inside_a_full_sector():
    # tech is full at 0.4: A would take 0.36 of it but stops at its 0.3 cap, B takes the other 0.1;
    # C (no sector) is full at 0.3; 0.7 is all the caps allow, so 0.1 of the 0.8 stays in cash.
    raw = pd.Series({"A": 9.0, "B": 1.0, "C": 1.0})
    sectors = pd.Series({"A": "tech", "B": "tech"})

    weights = cap_weights(raw, 0.8, max_weight=0.3, sectors=sectors, max_sector_weight=0.4)

    np.testing.assert_allclose(weights.to_numpy(), [0.3, 0.1, 0.3], atol=1e-15)


@pytest.mark.parametrize(
    ("exposure", "cap", "sector_cap"), [(1.0, 0.15, 0.3), (0.6, 0.2, 0.15), (1.0, 0.1, 0.25)]
)
@pytest.mark.parametrize("seed", range(5))
def test_sector_capped_water_filling_respects_both_caps_and_fills_what_they_allow(
    exposure, cap, sector_cap, seed
):
    raw = pd.Series(np.random.default_rng(seed).lognormal(0, 1.5, 12), index=SYMBOLS[:12])

    weights = cap_weights(raw, exposure, cap, SECTORS, sector_cap)

    assert (weights >= 0).all() and (weights <= cap + 1e-12).all()
    assert (sector_totals(weights) <= sector_cap + 1e-12).all()
    allowed = most_the_caps_allow(SYMBOLS[:12], cap, sector_cap)
    assert weights.sum() == pytest.approx(min(exposure, allowed), abs=1e-12)


def test_names_in_an_uncapped_sector_keep_their_proportions():
    raw = pd.Series(np.random.default_rng(4).lognormal(0, 1, 12), index=SYMBOLS[:12])

    weights = cap_weights(raw, 1.0, 0.5, SECTORS, 0.3)

    free = sector_totals(weights) < 0.3 - 1e-12
    for sector in free[free].index:
        members = SECTORS.reindex(raw.index) == sector
        ratios = (weights[members] / raw[members]).to_numpy()
        np.testing.assert_allclose(ratios, ratios[0], rtol=1e-12)


def test_caps_check_names_the_broken_rule():
    caps = Caps(0.2, SECTORS, 0.3)

    with pytest.raises(ValueError, match="S01"):
        caps.check(pd.Series({"S00": 0.1, "S01": 0.25}), 0.35)
    with pytest.raises(ValueError, match="sector tech"):
        caps.check(pd.Series({"S00": 0.2, "S04": 0.2}), 0.4)
    with pytest.raises(ValueError, match="negative"):
        caps.check(pd.Series({"S00": 0.2, "S01": -0.1}), 0.1)
    with pytest.raises(ValueError, match="not finite"):
        caps.check(pd.Series({"S00": np.nan}), 0.0)
    with pytest.raises(ValueError, match="sum to"):
        caps.check(pd.Series({"S00": 0.1, "S01": 0.1}), 0.3)


# ---------------------------------------------------------------------------------------------
# estimates and optimizers


def test_expected_returns_follow_grinold_ic_times_vol_times_zscore():
    scores = pd.Series({"A": 2.0, "B": 1.0, "C": 0.0, "D": -3.0})
    vol = np.array([0.2, 0.4])

    alphas = grinold_alphas(scores, ["A", "B"], vol, score_ic=0.05)

    z = (np.array([2.0, 1.0]) - 0.0) / scores.std(ddof=0)
    np.testing.assert_allclose(alphas, 0.05 * vol * z, rtol=1e-12)
    assert (alphas > 0).all()


def test_equal_scores_give_no_expected_return():
    scores = pd.Series(1.0, index=SYMBOLS[:4])

    assert (grinold_alphas(scores, SYMBOLS[:2], np.array([0.2, 0.3]), 0.05) == 0).all()


def test_equal_weight_gives_every_name_the_same_weight():
    weights = equal_weight(SYMBOLS[:8], exposure=0.8, caps=Caps(0.15))

    np.testing.assert_allclose(weights, 0.1)


def test_inverse_vol_gives_calmer_names_higher_weights(close):
    chosen = SYMBOLS[::3]  # volatility rises with the symbol number

    weights = inverse_vol(close, chosen, exposure=1.0, caps=Caps(0.5), window=60)

    assert weights.is_monotonic_decreasing
    assert weights.iloc[0] > 2 * weights.iloc[-1]
    realized = close[chosen].pct_change().iloc[-60:].std()
    np.testing.assert_allclose(weights * realized, (weights * realized).iloc[0], rtol=1e-9)


def test_inverse_vol_refuses_names_without_a_volatility(close):
    with pytest.raises(ValueError, match="S03"):
        inverse_vol(close.iloc[:1], ["S01", "S03"], exposure=1.0, caps=Caps(0.5))


def test_min_volatility_has_lower_ex_ante_variance_than_equal_weight(close, scores):
    chosen = select_top(scores, 10)
    covariance = estimate(close, scores, chosen).covariance

    def variance(optimizer: str) -> float:
        result = construct_portfolio(scores, close, 1.0, optimizer, top_k=10, max_weight=0.5)
        assert result.optimizer == optimizer
        weights = result.weights.reindex(chosen).to_numpy()
        return float(weights @ covariance @ weights)

    assert variance("min_volatility") < 0.5 * variance("equal_weight")


def test_max_sharpe_puts_more_weight_on_a_name_with_a_higher_score_when_vols_are_equal():
    close = planted_closes(np.full(10, 0.02), sessions=260, seed=5)
    scores = pd.Series(np.linspace(-1.0, 1.0, 10), index=close.columns)
    scores["S03"] = 4.0  # planted: far above the rest

    result = construct_portfolio(scores, close, 1.0, "max_sharpe", top_k=10, max_weight=0.5)

    assert result.optimizer == "max_sharpe"
    others = result.weights.drop("S03")
    assert result.weights["S03"] > 1.5 * others.max()
    assert result.weights["S03"] > 0.1


def test_hrp_differs_from_equal_weight_and_respects_the_caps(close, scores):
    kwargs = dict(top_k=10, max_weight=0.15, sectors=SECTORS, max_sector_weight=0.35)

    hrp = construct_portfolio(scores, close, 1.0, "hrp", **kwargs)
    equal = construct_portfolio(scores, close, 1.0, "equal_weight", **kwargs)

    assert hrp.optimizer == "hrp"
    assert (hrp.weights - equal.weights).abs().max() > 0.02
    assert (hrp.weights <= 0.15 + 1e-12).all()
    assert (sector_totals(hrp.weights) <= 0.35 + 1e-12).all()
    assert hrp.weights.sum() == pytest.approx(1.0, abs=1e-9)


def test_hrp_matches_pypfopt_hrpopt_when_no_cap_binds(close, scores):
    chosen = select_top(scores, 10)
    returns = close[chosen].pct_change(fill_method=None).dropna()
    expected = pd.Series(HRPOpt(returns).optimize())

    result = construct_portfolio(scores, close, 1.0, "hrp", top_k=10, max_weight=1.0)

    pd.testing.assert_series_equal(
        result.weights, expected.rename("weight").rename_axis("symbol"), rtol=1e-10
    )


# ---------------------------------------------------------------------------------------------
# construct_portfolio


def test_select_top_takes_the_highest_scores_and_breaks_ties_by_symbol():
    scores = pd.Series({"B": 1.0, "A": 1.0, "C": 3.0, "D": np.nan, "E": -1.0})

    assert select_top(scores, 3) == ["C", "A", "B"]


@pytest.mark.parametrize("optimizer", OPTIMIZERS)
@pytest.mark.parametrize(
    ("top_k", "exposure", "max_weight", "max_sector_weight"),
    [
        (10, 1.0, 0.15, None),
        (10, 0.6, 0.15, 0.35),
        (20, 1.0, 0.10, 0.30),
        (5, 1.0, 0.25, 0.50),
        (8, 0.6, 0.20, 0.20),
        (6, 1.0, 0.15, None),  # infeasible: six names at 15% hold 90%
        (12, 1.0, 0.15, 0.20),  # infeasible: four sectors at 20% plus one name at 15%
    ],
)
def test_every_optimizer_holds_the_top_k_within_every_cap(
    close, scores, optimizer, top_k, exposure, max_weight, max_sector_weight
):
    result = construct_portfolio(
        scores,
        close,
        exposure,
        optimizer,
        top_k=top_k,
        max_weight=max_weight,
        sectors=SECTORS,
        max_sector_weight=max_sector_weight,
    )

    weights = result.weights
    top = scores.nlargest(top_k).index
    assert list(weights.index) == sorted(top)
    assert np.isfinite(weights).all() and (weights >= 0).all()
    assert (weights <= max_weight + 1e-12).all()
    if max_sector_weight is not None:
        assert (sector_totals(weights) <= max_sector_weight + 1e-12).all()
    allowed = most_the_caps_allow(top, max_weight, max_sector_weight)
    assert weights.sum() == pytest.approx(min(exposure, allowed), abs=1e-9)
    assert result.cash == pytest.approx(1 - min(exposure, allowed), abs=1e-9)
    assert result.optimizer == optimizer and result.fallback_reason is None


@pytest.mark.parametrize("optimizer", ["max_sharpe", "min_volatility"])
def test_a_sector_cap_that_cannot_hold_the_exposure_is_filled_and_the_rest_is_cash(
    close, scores, optimizer
):
    one_sector = pd.Series("tech", index=SYMBOLS)

    result = construct_portfolio(
        scores, close, 1.0, optimizer, top_k=10, sectors=one_sector, max_sector_weight=0.3
    )

    assert result.optimizer == optimizer and result.fallback_reason is None
    assert result.weights.sum() == pytest.approx(0.3, abs=1e-9)
    assert result.cash == pytest.approx(0.7, abs=1e-9)
    assert (result.weights <= 0.15 + 1e-12).all()


def test_max_sharpe_with_every_expected_return_below_the_risk_free_rate_falls_back(close, scores):
    result = construct_portfolio(
        scores, close, 1.0, "max_sharpe", top_k=10, max_weight=0.15, risk_free_rate=0.9
    )

    assert result.optimizer == "inverse_vol"
    assert "risk-free rate" in result.fallback_reason
    assert result.weights.sum() == pytest.approx(1.0, abs=1e-9)
    assert (result.weights <= 0.15 + 1e-12).all()


@pytest.mark.parametrize("optimizer", ["max_sharpe", "min_volatility"])
def test_a_solver_error_falls_back_and_names_the_solver(close, scores, optimizer):
    result = construct_portfolio(scores, close, 0.6, optimizer, top_k=10, solver="ECOS")

    assert result.optimizer == "inverse_vol"
    assert f"{optimizer} failed" in result.fallback_reason and "ECOS" in result.fallback_reason
    assert result.weights.sum() == pytest.approx(0.6, abs=1e-9)


@pytest.mark.parametrize("solver", ["CLARABEL", "OSQP", "SCS"])
@pytest.mark.parametrize("optimizer", ["max_sharpe", "min_volatility"])
def test_every_installed_solver_solves_within_the_caps(close, scores, optimizer, solver):
    kwargs = dict(top_k=12, max_weight=0.15, sectors=SECTORS, max_sector_weight=0.3)

    result = construct_portfolio(scores, close, 1.0, optimizer, solver=solver, **kwargs)
    reference = construct_portfolio(scores, close, 1.0, optimizer, **kwargs)

    assert result.optimizer == optimizer
    assert (result.weights - reference.weights).abs().max() < 1e-3


def test_weights_that_break_a_cap_count_as_a_failure(close, scores, monkeypatch):
    def reckless(estimates, exposure, caps):
        return pd.Series(exposure / 2, index=estimates.symbols[:2])  # 50% each, cap 15%

    monkeypatch.setattr(construct, "hrp", reckless)

    result = construct_portfolio(scores, close, 1.0, "hrp", top_k=10, max_weight=0.15)

    assert result.optimizer == "inverse_vol"
    assert "hrp failed" in result.fallback_reason and "above the cap" in result.fallback_reason
    assert (result.weights <= 0.15 + 1e-12).all()


def test_when_inverse_vol_fails_too_equal_weight_is_the_last_resort_and_both_reasons_are_kept(
    close, scores
):
    too_short = close.iloc[:1]  # one close: no returns, no volatility, no covariance

    result = construct_portfolio(scores, too_short, 1.0, "max_sharpe", top_k=10)

    assert result.optimizer == "equal_weight"
    assert "max_sharpe failed" in result.fallback_reason
    assert "inverse_vol failed" in result.fallback_reason
    assert (result.weights <= 0.15 + 1e-12).all()
    assert result.weights.sum() == pytest.approx(1.0)


@pytest.mark.parametrize("optimizer", ["max_sharpe", "min_volatility", "hrp"])
def test_names_without_a_full_price_window_are_left_out_and_noted(close, scores, optimizer):
    chosen = select_top(scores, 10)
    gappy = close.copy()
    gappy.iloc[-30, gappy.columns.get_loc(chosen[0])] = np.nan

    result = construct_portfolio(scores, gappy, 1.0, optimizer, top_k=10, max_weight=0.15)

    assert result.optimizer == optimizer
    assert result.weights[chosen[0]] == 0.0
    assert result.weights.sum() == pytest.approx(1.0, abs=1e-9)
    assert any(chosen[0] in note for note in result.notes)


@pytest.mark.parametrize("optimizer", OPTIMIZERS)
def test_zero_exposure_holds_nothing(close, scores, optimizer):
    result = construct_portfolio(scores, close, 0.0, optimizer, top_k=10)

    assert result.optimizer == optimizer
    assert (result.weights == 0).all() and result.cash == 1.0


@pytest.mark.parametrize("optimizer", OPTIMIZERS)
def test_the_same_inputs_give_identical_weights(close, scores, optimizer):
    kwargs = dict(top_k=12, max_weight=0.15, sectors=SECTORS, max_sector_weight=0.3)

    first = construct_portfolio(scores, close, 0.6, optimizer, **kwargs)
    second = construct_portfolio(scores.copy(), close.copy(), 0.6, optimizer, **kwargs)

    pd.testing.assert_series_equal(first.weights, second.weights, check_exact=True)


@pytest.mark.parametrize("optimizer", OPTIMIZERS)
def test_the_weights_are_named_weight_and_indexed_by_symbol_strings_in_order(
    close, scores, optimizer
):
    result = construct_portfolio(
        scores, close, 1.0, optimizer, top_k=10, sectors=SECTORS, max_sector_weight=0.3
    )

    weights = result.weights
    assert weights.name == "weight" and weights.index.name == "symbol"
    assert weights.index.dtype == pd.Index(SYMBOLS).dtype  # what pandas makes of strings
    assert weights.index.is_monotonic_increasing


def test_an_unknown_optimizer_is_refused(close, scores):
    with pytest.raises(ValueError, match="max_sharpe"):
        construct_portfolio(scores, close, exposure=1.0, optimizer="black_litterman")


def test_names_with_no_value_align_to_nan_even_when_nothing_is_known():
    from trading_core.portfolio.estimates import aligned, recent_closes

    assert np.isnan(aligned(pd.Series(dtype="float64"), ["AAA", "BBB"])).all()
    known = aligned(pd.Series({"AAA": 2.0}), ["BBB", "AAA"])
    assert np.isnan(known[0]) and known[1] == 2.0
    close = pd.DataFrame({"AAA": [1.0, 2.0, 3.0]})
    prices = recent_closes(close, ["ZZZ", "AAA"], 2)
    assert np.isnan(prices[:, 0]).all() and prices[:, 1].tolist() == [2.0, 3.0]
    assert recent_closes(close.iloc[:, :0], ["AAA"], 2).shape == (2, 1)
