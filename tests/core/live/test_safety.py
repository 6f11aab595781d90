"""SafetyValidator: the last gate. A clean run passes every check; each broken rule fails by name
and says which symbol, sector or figure broke it. The kill switch trips on a daily loss or a weak
rolling Sharpe, and only judges the Sharpe once it has the history."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from trading_core.live.safety_checks import SafetyValidator

CAP = 0.15
STALE = 5
VALUE = 1_000_000.0
SYMBOLS = ["AAA", "BBB", "CCC", "DDD", "EEE", "FFF", "GGG", "HHH"]
CLEAN = pd.Series([0.15, 0.15, 0.12, 0.10, 0.10, 0.08], index=SYMBOLS[:6])  # sums to 0.70
EXPOSURE = 0.70  # the regime's target; six names at a 15% cap could hold 0.90


@pytest.fixture
def close() -> pd.DataFrame:
    """30 sessions of closes that move every day."""
    rng = np.random.default_rng(3)
    returns = rng.normal(0.0, 0.01, (30, len(SYMBOLS)))
    dates = pd.bdate_range("2025-03-03", periods=30, name="date")
    return pd.DataFrame(50 * np.cumprod(1 + returns, axis=0), index=dates, columns=SYMBOLS)


def trade(
    symbol: str,
    current: float,
    target: float,
    status: str = "proposed",
    cost_bps: float = 10.0,
    reason: str | None = None,
) -> dict:
    """One trade-list row moving `symbol` from `current` to `target` weight of VALUE."""
    notional = abs(target - current) * VALUE
    default = "exit" if target == 0 else "new" if current == 0 else "rebalance"
    return {
        "reason": reason or default,
        "symbol": symbol,
        "side": "BUY" if target > current else "SELL",
        "notional": notional,
        "current_weight": current,
        "target_weight": target,
        "weight_change": target - current,
        "commission_est": notional * cost_bps / 2e4,
        "slippage_est": notional * cost_bps / 2e4,
        "status": status,
    }


def trades_of(*rows: dict) -> pd.DataFrame:
    columns = list(trade("X", 0, 0))
    return pd.DataFrame(list(rows), columns=columns)


NO_TRADES = trades_of()


def validator(**limits) -> SafetyValidator:
    return SafetyValidator(max_weight=CAP, max_stale_sessions=STALE, **limits)


def verdict_for(close, weights=CLEAN, trades=NO_TRADES, held=(), **kwargs):
    options = {"target_exposure": EXPOSURE, "portfolio_value": VALUE} | kwargs
    return validator().validate(weights, trades, close, list(held), **options)


def check(checks, name: str):
    return next(c for c in getattr(checks, "checks", checks) if c.name == name)


def equity(returns: list[float], start: float = VALUE) -> pd.Series:
    """Daily account values compounding `returns` from `start`."""
    values = start * np.cumprod([1.0, *(1.0 + np.asarray(returns))])
    return pd.Series(values, index=pd.bdate_range("2025-01-02", periods=len(values)))


# ---------------------------------------------------------------------------------------------
# a clean run


def test_a_clean_run_passes_every_check(close):
    trades = trades_of(trade("AAA", 0.10, 0.15), trade("CCC", 0.05, 0.12))

    verdict = verdict_for(
        close, trades=trades, held=["AAA", "CCC", "GGG"], equity_curve=equity([0.001, 0.002] * 20)
    )

    assert verdict.passed
    assert verdict.violations == []
    assert [c.name for c in verdict.checks] == [
        "weights_defined",
        "long_only",
        "position_cap",
        "sector_cap",
        "gross_exposure",
        "target_exposure",
        "turnover",
        "trade_size",
        "estimated_cost",
        "prices_valid",
        "prices_fresh",
        "kill_switch",
    ]
    assert verdict.to_dict()["passed"] is True


# ---------------------------------------------------------------------------------------------
# portfolio


@pytest.mark.parametrize(
    ("symbol", "weight", "rule", "balance"),
    [
        pytest.param("DDD", 0.16, "position_cap", {"FFF": 0.02}, id="above-cap"),
        pytest.param("EEE", -0.02, "long_only", {"GGG": 0.12}, id="negative"),
    ],
)
def test_a_bad_weight_fails_its_rule_naming_the_symbol(close, symbol, weight, rule, balance):
    weights = CLEAN.copy()
    weights[symbol] = weight
    for name, value in balance.items():  # keep the total at the target so only `rule` breaks
        weights[name] = value

    verdict = verdict_for(close, weights)

    assert not check(verdict, rule).passed
    assert verdict.violations == [f"{rule}: {check(verdict, rule).detail}"]
    assert symbol in verdict.violations[0]


def test_weights_summing_above_one_fail_gross_exposure(close):
    weights = pd.Series(0.15, index=SYMBOLS[:7])  # 7 x 15% = 105%, every name within its cap

    verdict = verdict_for(close, weights, target_exposure=1.0)

    assert [v.split(":")[0] for v in verdict.violations] == ["gross_exposure", "target_exposure"]
    assert "1.0500" in verdict.violations[0]


def test_a_weight_just_at_the_cap_passes(close):
    weights = pd.Series(CAP, index=SYMBOLS[:6])

    assert verdict_for(close, weights, target_exposure=0.90).passed


def test_a_nan_weight_fails_the_portfolio_checks(close):
    weights = CLEAN.copy()
    weights["FFF"] = np.nan

    verdict = verdict_for(close, weights)

    assert not check(verdict, "weights_defined").passed
    assert "FFF" in check(verdict, "weights_defined").detail


@pytest.mark.parametrize(
    ("offset", "passes"), [(0.009, True), (-0.009, True), (0.011, False), (-0.011, False)]
)
def test_exposure_must_be_within_one_point_of_the_target(close, offset, passes):
    weights = CLEAN.copy()
    weights["FFF"] += offset

    result = check(validator().validate_portfolio(weights, EXPOSURE), "target_exposure")

    assert result.passed is passes
    assert f"{EXPOSURE + offset:.4f}" in result.detail


def test_a_target_the_caps_cannot_reach_is_judged_against_what_they_can_hold():
    five_at_cap = pd.Series(CAP, index=SYMBOLS[:5])  # 0.75: all five names can hold
    short = five_at_cap.copy()
    short["EEE"] = 0.10  # 0.70

    assert check(validator().validate_portfolio(five_at_cap, 1.0), "target_exposure").passed
    failed = check(validator().validate_portfolio(short, 1.0), "target_exposure")
    assert not failed.passed
    assert "reachable target 0.7500" in failed.detail


def test_the_reachable_exposure_counts_the_sector_cap():
    # three Tech names share a 30% sector cap; two names without a sector hold 15% each
    sectors = pd.Series({"AAA": "Tech", "BBB": "Tech", "CCC": "Tech"})
    weights = pd.Series([0.10, 0.10, 0.10, 0.15, 0.15], index=SYMBOLS[:5])  # 0.60
    capped = SafetyValidator(max_weight=CAP, max_sector_weight=0.30)

    assert check(capped.validate_portfolio(weights, 1.0, sectors), "target_exposure").passed
    assert not check(capped.validate_portfolio(weights, 1.0), "target_exposure").passed


def test_a_sector_above_its_cap_fails_naming_the_sector():
    sectors = pd.Series({"AAA": "Tech", "BBB": "Tech", "CCC": "Tech", "DDD": "Energy"})
    capped = SafetyValidator(max_weight=CAP, max_sector_weight=0.30)

    result = check(capped.validate_portfolio(CLEAN, EXPOSURE, sectors), "sector_cap")

    assert not result.passed
    assert "Tech 42.00%" in result.detail
    assert "Energy" not in result.detail


def test_a_sector_exactly_at_its_cap_passes():
    sectors = pd.Series({"AAA": "Tech", "BBB": "Tech", "CCC": "Energy"})
    capped = SafetyValidator(max_weight=CAP, max_sector_weight=0.30)

    assert check(capped.validate_portfolio(CLEAN, EXPOSURE, sectors), "sector_cap").passed


def test_names_without_a_known_sector_are_not_pooled_under_the_sector_cap():
    sectors = pd.Series({"AAA": "Tech"})  # the other five names (55% together) have no sector
    capped = SafetyValidator(max_weight=CAP, max_sector_weight=0.30)

    assert check(capped.validate_portfolio(CLEAN, EXPOSURE, sectors), "sector_cap").passed


def test_without_a_sector_map_the_sector_check_is_reported_as_skipped():
    capped = SafetyValidator(max_weight=CAP, max_sector_weight=0.30)

    result = check(capped.validate_portfolio(CLEAN, EXPOSURE), "sector_cap")

    assert result.passed
    assert result.detail.startswith("skipped")


# ---------------------------------------------------------------------------------------------
# trades


def test_turnover_above_the_limit_fails_with_the_figure(close):
    # 60% of the book moves from AAA and BBB into CCC and DDD: one-way turnover 60% (½ of 120%)
    trades = trades_of(
        trade("AAA", 0.30, 0.0),
        trade("BBB", 0.30, 0.0),
        trade("CCC", 0.0, 0.30),
        trade("DDD", 0.0, 0.30),
    )

    result = check(
        validator().validate_trades(trades, VALUE, close, held=["AAA", "BBB"]), "turnover"
    )

    assert not result.passed
    assert "one-way turnover 60.00%" in result.detail


def test_turnover_at_or_under_the_limit_passes_and_skipped_trades_do_not_count(close):
    trades = trades_of(
        trade("AAA", 0.50, 0.0),
        trade("CCC", 0.0, 0.50),
        trade("DDD", 0.0, 0.15, status="skipped: max_daily_trades 2"),
    )

    result = check(validator().validate_trades(trades, VALUE, close, held=["AAA"]), "turnover")

    assert result.passed  # 50% one-way, at the 50% limit; DDD's 15% would break it
    assert "one-way turnover 50.00%" in result.detail


def test_the_funding_run_from_all_cash_skips_the_turnover_check(close):
    funding = trades_of(*(trade(s, 0.0, 0.14) for s in SYMBOLS[:7]))  # 98% bought: 49% one-way

    result = check(
        validator(max_turnover=0.3).validate_trades(funding, VALUE, close, held=[]), "turnover"
    )

    assert result.passed
    assert result.detail.startswith("skipped: funding run")


@pytest.mark.parametrize(
    ("held", "first_current"), [(["HHH"], 0.0), ([], 0.05)], ids=["held-elsewhere", "from-position"]
)
def test_a_run_that_starts_from_any_position_is_not_a_funding_run(close, held, first_current):
    trades = trades_of(
        trade("AAA", first_current, 0.14), *(trade(s, 0.0, 0.14) for s in SYMBOLS[1:7])
    )

    result = check(
        validator(max_turnover=0.3).validate_trades(trades, VALUE, close, held=held), "turnover"
    )

    assert not result.passed  # 46.5% or 49% one-way, above the 30% limit


def test_a_rebalance_trade_above_max_trade_pct_fails_naming_the_symbol(close):
    trades = trades_of(trade("AAA", 0.02, 0.15), trade("BBB", 0.10, 0.15))

    result = check(
        validator().validate_trades(trades, VALUE, close, held=["AAA", "BBB"]), "trade_size"
    )

    assert not result.passed
    assert "AAA 13.00%" in result.detail
    assert "BBB" not in result.detail


def test_a_partial_exit_under_the_turnover_budget_is_an_exit_not_a_rebalance(close):
    partial = trade("AAA", 0.20, 0.08, reason="exit (partial: max_turnover)")

    result = check(
        validator().validate_trades(trades_of(partial), VALUE, close, held=["AAA"]), "trade_size"
    )

    assert result.passed


def test_new_names_and_exits_are_bounded_by_the_caps_not_by_max_trade_pct(close):
    trades = trades_of(trade("AAA", 0.15, 0.0), trade("BBB", 0.0, 0.15))

    result = check(validator().validate_trades(trades, VALUE, close, held=["AAA"]), "trade_size")

    assert result.passed


def test_estimated_costs_above_half_a_percent_of_value_fail(close):
    # 60% traded at 10 bps = 0.06%; at 100 bps = 0.60% of value
    cheap = trades_of(trade("AAA", 0.0, 0.30), trade("BBB", 0.0, 0.30))
    dear = trades_of(trade("AAA", 0.0, 0.30, cost_bps=100), trade("BBB", 0.0, 0.30, cost_bps=100))

    assert check(validator().validate_trades(cheap, VALUE, close), "estimated_cost").passed
    result = check(validator().validate_trades(dear, VALUE, close), "estimated_cost")
    assert not result.passed
    assert "6,000.00 = 0.600%" in result.detail


@pytest.mark.parametrize("bad", [np.nan, 0.0], ids=["nan", "zero"])
@pytest.mark.parametrize("role", ["target", "traded", "held"])
def test_a_missing_or_zero_last_price_fails_prices_valid(close, bad, role):
    symbol = {"target": "BBB", "traded": "HHH", "held": "GGG"}[role]
    close.iloc[-1, close.columns.get_loc(symbol)] = bad
    trades = trades_of(trade("AAA", 0.10, 0.15), trade("HHH", 0.01, 0.0))

    verdict = verdict_for(close, trades=trades, held=["AAA", "GGG", "HHH"])

    assert not check(verdict, "prices_valid").passed
    assert symbol in check(verdict, "prices_valid").detail
    assert check(verdict, "prices_fresh").passed  # an invalid price is not also called stale


def test_a_symbol_the_run_does_not_touch_may_have_a_bad_price(close):
    close.iloc[-1, close.columns.get_loc("HHH")] = np.nan

    assert verdict_for(close, trades=trades_of(trade("AAA", 0.10, 0.15)), held=["AAA"]).passed


def test_a_close_unchanged_for_max_stale_sessions_fails_prices_fresh(close):
    close.iloc[-(STALE + 1) :, close.columns.get_loc("CCC")] = 42.0  # STALE sessions without change

    verdict = verdict_for(close)

    assert not check(verdict, "prices_fresh").passed
    assert "CCC" in check(verdict, "prices_fresh").detail
    assert check(verdict, "prices_valid").passed


def test_a_close_unchanged_for_one_session_fewer_is_still_fresh(close):
    close.iloc[-STALE:, close.columns.get_loc("CCC")] = 42.0  # STALE - 1 sessions without change

    assert check(verdict_for(close), "prices_fresh").passed


# ---------------------------------------------------------------------------------------------
# kill switch (6 weeks = 30 sessions)


def test_a_daily_loss_above_the_limit_trips_the_kill_switch():
    state = validator().check_kill_switch(equity([0.01, -0.031]))

    assert state.triggered
    assert state.reason == "daily_loss"
    assert state.daily_return == pytest.approx(-0.031)
    assert state.rolling_sharpe is None  # 2 of 30 returns: not judged yet


def test_a_daily_loss_within_the_limit_does_not():
    state = validator().check_kill_switch(equity([0.01, -0.029]))

    assert not state.triggered
    assert state.reason is None


def test_a_gain_day_never_trips_the_daily_loss_rule_however_large():
    for gain in (0.031, 0.10, 0.50):
        state = validator().check_kill_switch(equity([0.01, gain]))

        assert not state.triggered, gain
        assert state.reason is None


def test_a_loss_of_exactly_the_limit_does_not_trip_and_a_cent_more_does():
    # 970,000 / 1,000,000 - 1 is -0.030000000000000027 in floating point: still "exactly 3%".
    at_limit = pd.Series([1_000_000.0, 970_000.0], index=pd.bdate_range("2025-01-02", periods=2))
    beyond = at_limit.copy()
    beyond.iloc[-1] = 969_999.99

    assert not validator().check_kill_switch(at_limit).triggered
    assert validator().check_kill_switch(beyond).reason == "daily_loss"


def test_a_weak_six_week_sharpe_trips_the_kill_switch():
    returns = [0.01, -0.012] * 15  # 30 sessions, mean -0.1% a day, never a 3% loss

    state = validator().check_kill_switch(equity(returns))

    by_hand = np.mean(returns) / np.std(returns, ddof=1) * np.sqrt(252)  # about -1.42
    assert state.triggered
    assert state.reason == "rolling_sharpe"
    assert state.rolling_sharpe == pytest.approx(by_hand, rel=1e-6)
    assert "rolling_sharpe" in state.detail


def test_the_sharpe_rule_waits_for_six_weeks_of_returns():
    returns = [0.01, -0.012] * 15

    state = validator().check_kill_switch(equity(returns[1:]))  # 29 returns

    assert not state.triggered
    assert state.rolling_sharpe is None
    assert "29 of 30 returns" in state.detail


def test_the_sharpe_rule_reads_only_the_last_six_weeks():
    weak_then_strong = [0.01, -0.012] * 15 + [0.004, -0.001] * 15

    state = validator().check_kill_switch(equity(weak_then_strong))

    assert not state.triggered
    assert state.rolling_sharpe > 5


def test_a_calm_rising_curve_and_a_flat_all_cash_curve_do_not_trip():
    calm = validator().check_kill_switch(equity([0.004, -0.001] * 30))
    flat = validator().check_kill_switch(equity([0.0] * 40))

    assert not calm.triggered and calm.rolling_sharpe > 5
    assert not flat.triggered and flat.rolling_sharpe is None


def test_a_daily_loss_is_named_before_a_weak_sharpe():
    state = validator().check_kill_switch(equity([0.01, -0.012] * 15 + [-0.05]))

    assert state.reason == "daily_loss"


def test_a_tripped_kill_switch_fails_the_verdict(close):
    verdict = verdict_for(close, equity_curve=equity([0.01, -0.031]))

    assert not verdict.passed
    assert verdict.violations == [f"kill_switch: {check(verdict, 'kill_switch').detail}"]
    assert "daily_loss" in verdict.violations[0]


def test_without_an_equity_curve_the_kill_switch_is_reported_as_skipped(close):
    result = check(verdict_for(close), "kill_switch")

    assert result.passed
    assert result.detail.startswith("skipped")


# ---------------------------------------------------------------------------------------------
# every limit comes from settings (tasks.components.validator_for)


def curve_with_sharpe(target: float, sessions: int = 30) -> pd.Series:
    """An equity curve whose last `sessions` returns have an annualized Sharpe of `target`."""
    wobble = np.tile([0.01, -0.01], sessions // 2)
    returns = wobble + target * wobble.std(ddof=1) / np.sqrt(252)
    return equity(list(returns))


def stale_close(close: pd.DataFrame, sessions: int) -> pd.DataFrame:
    """`close` with AAA unchanged over its last `sessions` sessions."""
    close = close.copy()
    close.iloc[-(sessions + 1) :, close.columns.get_loc("AAA")] = close["AAA"].iloc[-1]
    return close


PROBES = {  # setting: (a stricter value, whether the check passes with validator v on closes c)
    "portfolio.max_weight": (
        0.10,
        lambda v, c: check(v.validate_portfolio(CLEAN, EXPOSURE), "position_cap").passed,
    ),
    "risk.max_sector_weight": (
        0.20,
        lambda v, c: (
            check(
                v.validate_portfolio(CLEAN, EXPOSURE, pd.Series({"AAA": "tech", "CCC": "tech"})),
                "sector_cap",  # tech holds 27%
            ).passed
        ),
    ),
    "portfolio.max_turnover": (
        0.10,
        lambda v, c: (
            check(
                v.validate_trades(
                    trades_of(trade("AAA", 0.05, 0.20), trade("BBB", 0.20, 0.05)),
                    VALUE,
                    c,
                    ["AAA", "BBB"],
                ),
                "turnover",  # 15% one-way (½ of 30%)
            ).passed
        ),
    ),
    "live.max_trade_pct": (
        0.05,
        lambda v, c: (
            check(
                v.validate_trades(trades_of(trade("AAA", 0.05, 0.13)), VALUE, c, ["AAA"]),
                "trade_size",  # 8% of value
            ).passed
        ),
    ),
    "live.max_cost_pct": (
        0.002,
        lambda v, c: (
            check(
                v.validate_trades(trades_of(trade("AAA", 0.0, 0.10, cost_bps=300)), VALUE, c),
                "estimated_cost",  # 0.3% of value
            ).passed
        ),
    ),
    "data.max_stale_sessions": (
        3,
        lambda v, c: check(v.validate_prices(stale_close(c, 3), ["AAA"]), "prices_fresh").passed,
    ),
    "ops.kill_switch.max_daily_loss_pct": (
        0.02,
        lambda v, c: not v.check_kill_switch(equity([0.01, -0.025])).triggered,
    ),
    "ops.kill_switch.min_live_sharpe_threshold": (
        1.0,
        lambda v, c: not v.check_kill_switch(curve_with_sharpe(0.8)).triggered,
    ),
    "ops.kill_switch.lookback_weeks": (
        2,  # 10 sessions: judged on 10 weak returns, which 6 weeks would not judge yet
        lambda v, c: not v.check_kill_switch(equity([0.005, -0.01] * 5)).triggered,
    ),
}


def with_setting(dotted: str, value) -> dict:
    """`section.field` (or `section.sub.field`) = value as load_settings overrides."""
    *sections, name = dotted.split(".")
    override = {name: value}
    for section in reversed(sections[1:]):
        override = {section: override}
    return {sections[0]: override}


@pytest.mark.parametrize("setting", PROBES)
def test_each_configured_limit_is_in_force_not_the_validators_default(setting, close):
    from settings.loader import load_settings
    from tasks.components import validator_for
    from tasks.sections import TradingRules

    stricter, passes = PROBES[setting]
    configured = validator_for(TradingRules.of(load_settings(**with_setting(setting, stricter))))
    shipped = validator_for(TradingRules.of(load_settings()))

    assert passes(shipped, close)  # the shipped limit lets it through
    assert passes(SafetyValidator(max_weight=CAP), close)  # and so does the class default
    assert not passes(configured, close), f"{setting}={stricter} is not in force"


def test_the_shipped_sharpe_threshold_not_the_class_default_judges_the_kill_switch():
    from settings.loader import load_settings
    from tasks.components import validator_for
    from tasks.sections import TradingRules

    shipped = load_settings().ops.kill_switch.min_live_sharpe_threshold  # -3.0
    curve = curve_with_sharpe(-1.0)
    validator = validator_for(TradingRules.of(load_settings()))

    assert not validator.check_kill_switch(curve).triggered
    assert f"Sharpe {shipped:g}" in validator.check_kill_switch(curve).detail
    assert SafetyValidator(max_weight=CAP).check_kill_switch(curve).triggered  # 0.5 would halt
