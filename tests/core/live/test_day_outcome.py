"""The day's outcome beyond its figures: which one alert a session sends, and its warnings."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from trading_core.data.market import MarketData
from trading_core.live.day_outcome import day_alert, day_warnings
from trading_core.live.kill_switch import KillSwitchState, KillSwitchStatus
from trading_core.live.positions import Positions
from trading_core.live.safety_checks import Check, SafetyVerdict
from trading_core.portfolio.construct import PortfolioResult

SESSION = date(2021, 3, 1)
FIGURES = {
    "date": "2021-03-01",
    "regime": "Normal",
    "exposure": 1.0,
    "turnover": 0.62,
    "estimated_cost": 1500.0,
    "portfolio_value": 1_000_000.0,
    "trades_proposed": 7,
}
LINK = "http://127.0.0.1:4200/runs/flow-run/0f0f"


def kill_switch(engaged_since: date | None) -> KillSwitchStatus:
    reading = KillSwitchState(bool(engaged_since), "daily_loss", -0.05, None, "daily loss -5%")
    return KillSwitchStatus(reading, engaged_since, "daily_loss" if engaged_since else None)


def verdict(passed: bool) -> SafetyVerdict:
    return SafetyVerdict([Check("turnover", passed, "turnover 62% above 50%")])


def alert(engaged_since: date | None, passed: bool, summary: bool = True):
    kill = kill_switch(engaged_since)
    return day_alert(SESSION, kill, verdict(passed), FIGURES, "/r.html", summary, LINK)


def test_the_kill_switch_engaged_that_session_sends_its_alert_and_no_summary():
    sent = alert(SESSION, passed=False)

    assert sent.title == "Kill switch engaged on 2021-03-01 (daily_loss)"
    assert "- turnover: turnover 62% above 50%" in sent.lines  # the day's other violations
    assert not any(line.startswith("trades proposed") for line in sent.lines)
    assert sent.link == LINK and "Report: /r.html" in sent.lines


def test_a_switch_engaged_earlier_blocks_the_day_with_the_block_alert():
    sent = alert(date(2021, 2, 1), passed=False)

    assert sent.title == "Trades for 2021-03-01 BLOCKED by the safety checks"


def test_blocked_trades_get_the_block_alert_with_the_key_figures_only():
    sent = alert(None, passed=False)

    assert sent.level == "error"
    assert "turnover: 62.00%" in sent.lines and "estimated cost: 1,500.00" in sent.lines
    assert "exposure: 100.00%" in sent.lines and "portfolio value: 1,000,000.00" in sent.lines
    assert not any(line.startswith("regime") for line in sent.lines)


def test_a_quiet_day_sends_the_summary_only_when_asked():
    assert alert(None, passed=True, summary=False) is None
    sent = alert(None, passed=True, summary=True)
    assert sent.level == "info" and sent.title == "Daily run 2021-03-01: 7 trades"


def test_without_a_kill_switch_reading_a_blocked_day_is_still_the_block_alert():
    sent = day_alert(SESSION, None, verdict(False), FIGURES, "/r.html", False)
    assert sent.title.endswith("BLOCKED by the safety checks") and sent.link is None


def market(volume: bool = True, gap: str | None = None) -> MarketData:
    dates = pd.bdate_range("2021-01-04", periods=30)
    close = pd.DataFrame(100.0, index=dates, columns=["AAA", "BBB", "CCC"])
    if gap:
        close.loc[dates[-3], gap] = np.nan
    shares = close * 0 + 1000 if volume else None
    return MarketData(close=close, volume=shares)


def target(fallback: str | None = None) -> PortfolioResult:
    weights = pd.Series({"AAA": 0.5, "BBB": 0.0, "CCC": 0.0})
    return PortfolioResult(weights, "equal_weight", "max_sharpe", 0.5, fallback)


HELD = Positions(pd.Series({"BBB": 10.0}), 1000.0)


def test_a_clean_day_has_only_the_models_warnings():
    warnings = day_warnings(
        ["scoring with a candidate"], kill_switch(None), market(), target(), HELD, {}
    )
    assert warnings == ["scoring with a candidate"]


def test_the_warnings_come_in_order_model_kill_volume_fallback_exits_gaps():
    halted = kill_switch(date(2021, 2, 1))
    warnings = day_warnings(
        ["model note"],
        halted,
        market(volume=False, gap="BBB"),
        target("solver failed"),
        HELD,
        {"DDD": "delisted"},
    )

    assert warnings[:5] == [
        "model note",
        halted.message,
        "liquidity check skipped: no volume in the data",
        "optimizer fallback: solver failed",
        "forced exit of DDD: delisted",
    ]
    assert len(warnings) == 6 and warnings[5].startswith("data gap: BBB has no close on")


def test_a_gap_of_a_name_neither_held_nor_targeted_is_not_a_warning():
    warnings = day_warnings([], kill_switch(None), market(gap="CCC"), target(), HELD, {})
    assert warnings == []
