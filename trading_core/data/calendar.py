"""NYSE trading calendar (pandas-market-calendars): is the market open, and which session is next."""

from __future__ import annotations

import warnings
from datetime import date, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

import pandas as pd

_FIRST = "1985-01-01"
_LAST = "2035-12-31"
MARKET_TZ = ZoneInfo("America/New_York")


def market_today() -> date:
    """Today's date in New York, where the sessions are."""
    return datetime.now(MARKET_TZ).date()


@lru_cache(maxsize=4)
def sessions(exchange: str = "NYSE") -> pd.DatetimeIndex:
    """Every session date of `exchange` from 1985 to 2035, timezone-naive, sorted."""
    import pandas_market_calendars as mcal

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        days = mcal.get_calendar(exchange).valid_days(_FIRST, _LAST)
    return pd.DatetimeIndex(days.tz_localize(None).normalize().as_unit("ns"), name="date")


def _stamp(when: date | str | pd.Timestamp) -> pd.Timestamp:
    stamp = pd.Timestamp(when)
    if stamp.tzinfo is not None:
        stamp = stamp.tz_localize(None)
    return stamp.normalize()


def is_trading_day(when: date | str | pd.Timestamp, exchange: str = "NYSE") -> bool:
    """True when the exchange holds a regular session on that date."""
    return _stamp(when) in sessions(exchange)


def previous_session(when: date | str | pd.Timestamp, exchange: str = "NYSE") -> pd.Timestamp:
    """The last session strictly before `when`."""
    days = sessions(exchange)
    return days[days.searchsorted(_stamp(when), side="left") - 1]


def next_session(when: date | str | pd.Timestamp, exchange: str = "NYSE") -> pd.Timestamp:
    """The first session strictly after `when`."""
    days = sessions(exchange)
    return days[days.searchsorted(_stamp(when), side="right")]


def sessions_between(
    start: date | str | pd.Timestamp, end: date | str | pd.Timestamp, exchange: str = "NYSE"
) -> pd.DatetimeIndex:
    """Sessions from `start` to `end`, both included."""
    days = sessions(exchange)
    return days[(days >= _stamp(start)) & (days <= _stamp(end))]


def last_closed_session(now: datetime | None = None, settle_minutes: int = 30) -> pd.Timestamp:
    """The latest session whose close (early closes included) was `settle_minutes` ago or more:
    the last one a vendor's daily bar is final for. `now` defaults to the current time."""
    import pandas_market_calendars as mcal

    moment = pd.Timestamp(now or datetime.now(MARKET_TZ))
    moment = (
        moment.tz_localize(MARKET_TZ) if moment.tzinfo is None else moment.tz_convert(MARKET_TZ)
    )
    today = _stamp(moment.tz_localize(None))
    if not is_trading_day(today):
        return previous_session(today)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        schedule = mcal.get_calendar("NYSE").schedule(today, today)
    close = schedule["market_close"].iloc[0].tz_convert(MARKET_TZ)
    settled = moment >= close + pd.Timedelta(minutes=settle_minutes)
    return today if settled else previous_session(today)
