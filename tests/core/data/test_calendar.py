"""The NYSE calendar: which days are sessions, and the sessions either side of any day."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from trading_core.data.calendar import (
    is_trading_day,
    next_session,
    previous_session,
    sessions_between,
)


@pytest.mark.parametrize(
    ("day", "open_"),
    [
        pytest.param("2025-07-05", False, id="saturday"),
        pytest.param("2025-07-06", False, id="sunday"),
        pytest.param("2025-07-04", False, id="independence-day"),
        pytest.param("2025-12-25", False, id="christmas"),
        pytest.param("2025-07-03", True, id="day-before-independence-day"),
        pytest.param("2025-07-07", True, id="monday"),
    ],
)
def test_is_trading_day_knows_weekends_and_holidays(day, open_):
    assert is_trading_day(day) is open_


def test_is_trading_day_accepts_dates_and_timestamps_with_a_time_of_day():
    assert is_trading_day(date(2025, 7, 3))
    assert is_trading_day(pd.Timestamp("2025-07-03 15:59"))
    assert not is_trading_day(pd.Timestamp("2025-07-04 10:00", tz="America/New_York"))


def test_previous_and_next_session_skip_a_holiday():
    assert previous_session("2025-07-04") == pd.Timestamp("2025-07-03")
    assert next_session("2025-07-03") == pd.Timestamp("2025-07-07")  # Fri 4th closed, weekend


def test_previous_and_next_session_skip_a_weekend():
    assert previous_session("2025-07-07") == pd.Timestamp("2025-07-03")  # Monday -> Thursday
    assert next_session("2025-07-05") == pd.Timestamp("2025-07-07")  # Saturday -> Monday
    assert previous_session("2025-07-06") == pd.Timestamp("2025-07-03")  # Sunday -> Thursday


def test_previous_and_next_session_are_strictly_before_and_after_a_session():
    assert previous_session("2025-07-08") == pd.Timestamp("2025-07-07")
    assert next_session("2025-07-07") == pd.Timestamp("2025-07-08")


def test_sessions_between_includes_both_ends_and_only_sessions():
    days = sessions_between("2025-07-02", "2025-07-08")

    assert list(days) == list(
        pd.to_datetime(["2025-07-02", "2025-07-03", "2025-07-07", "2025-07-08"])
    )
    assert days.tz is None
