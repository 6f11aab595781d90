"""SafetyValidator: the last gate. A clean run passes every check; each broken rule fails by name
and says which symbol broke it."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from trading_core.live.safety_checks import SafetyValidator

CAP = 0.15
STALE = 5
SYMBOLS = ["AAA", "BBB", "CCC", "DDD", "EEE", "FFF", "GGG", "HHH"]
CLEAN = pd.Series([0.15, 0.15, 0.12, 0.10, 0.10, 0.08], index=SYMBOLS[:6])


@pytest.fixture
def close() -> pd.DataFrame:
    """30 sessions of closes that move every day."""
    rng = np.random.default_rng(3)
    returns = rng.normal(0.0, 0.01, (30, len(SYMBOLS)))
    dates = pd.bdate_range("2025-03-03", periods=30, name="date")
    return pd.DataFrame(50 * np.cumprod(1 + returns, axis=0), index=dates, columns=SYMBOLS)


def trades_for(symbols: list[str]) -> pd.DataFrame:
    return pd.DataFrame({"symbol": symbols, "side": "BUY", "shares": 10.0})


def validator() -> SafetyValidator:
    return SafetyValidator(max_weight=CAP, max_stale_sessions=STALE)


def check(verdict, name: str):
    return next(c for c in verdict.checks if c.name == name)


def test_a_clean_portfolio_passes_every_check(close):
    verdict = validator().validate(CLEAN, trades_for(["AAA", "CCC"]), close, held=["GGG"])

    assert verdict.passed
    assert verdict.violations == []
    assert {c.name for c in verdict.checks} == {
        "weights_defined",
        "long_only",
        "position_cap",
        "gross_exposure",
        "prices_valid",
        "prices_fresh",
    }
    assert all(c.passed for c in verdict.checks)
    assert verdict.to_dict()["passed"] is True


@pytest.mark.parametrize(
    ("symbol", "weight", "rule"),
    [
        pytest.param("DDD", 0.16, "position_cap", id="above-cap"),
        pytest.param("EEE", -0.02, "long_only", id="negative"),
    ],
)
def test_a_bad_weight_fails_its_rule_naming_the_symbol(close, symbol, weight, rule):
    weights = CLEAN.copy()
    weights[symbol] = weight

    verdict = validator().validate(weights, trades_for([]), close, held=[])

    assert not verdict.passed
    assert not check(verdict, rule).passed
    violation = next(v for v in verdict.violations if v.startswith(rule))
    assert symbol in violation
    assert len(verdict.violations) == 1


def test_weights_summing_above_one_fail_gross_exposure(close):
    weights = pd.Series(0.15, index=SYMBOLS[:7])  # 7 x 15% = 105%, every name within its cap

    verdict = validator().validate(weights, trades_for([]), close, held=[])

    assert not verdict.passed
    assert [v.split(":")[0] for v in verdict.violations] == ["gross_exposure"]
    assert "1.0500" in verdict.violations[0]


def test_a_weight_just_at_the_cap_passes(close):
    weights = pd.Series(CAP, index=SYMBOLS[:6])

    assert validator().validate(weights, trades_for([]), close, held=[]).passed


def test_a_nan_weight_fails_the_portfolio_checks(close):
    weights = CLEAN.copy()
    weights["FFF"] = np.nan

    verdict = validator().validate(weights, trades_for([]), close, held=[])

    assert not verdict.passed
    assert any("FFF" in v for v in verdict.violations)


@pytest.mark.parametrize("bad", [np.nan, 0.0], ids=["nan", "zero"])
@pytest.mark.parametrize("role", ["target", "traded", "held"])
def test_a_missing_or_zero_last_price_fails_prices_valid(close, bad, role):
    symbol = {"target": "BBB", "traded": "HHH", "held": "GGG"}[role]
    close.iloc[-1, close.columns.get_loc(symbol)] = bad

    verdict = validator().validate(CLEAN, trades_for(["AAA", "HHH"]), close, held=["GGG"])

    assert not check(verdict, "prices_valid").passed
    assert symbol in check(verdict, "prices_valid").detail
    assert check(verdict, "prices_fresh").passed  # an invalid price is not also called stale


def test_a_symbol_the_run_does_not_touch_may_have_a_bad_price(close):
    close.iloc[-1, close.columns.get_loc("HHH")] = np.nan

    assert validator().validate(CLEAN, trades_for(["AAA"]), close, held=[]).passed


def test_a_close_unchanged_for_max_stale_sessions_fails_prices_fresh(close):
    close.iloc[-(STALE + 1) :, close.columns.get_loc("CCC")] = 42.0  # STALE sessions without change

    verdict = validator().validate(CLEAN, trades_for([]), close, held=[])

    assert not check(verdict, "prices_fresh").passed
    assert "CCC" in check(verdict, "prices_fresh").detail
    assert check(verdict, "prices_valid").passed


def test_a_close_unchanged_for_one_session_fewer_is_still_fresh(close):
    close.iloc[-STALE:, close.columns.get_loc("CCC")] = 42.0  # STALE - 1 sessions without change

    assert check(validator().validate(CLEAN, trades_for([]), close, held=[]), "prices_fresh").passed
