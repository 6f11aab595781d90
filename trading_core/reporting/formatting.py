"""Figures as a person reads them: the one set of formatters behind every report and artifact.

The daily HTML report, the Prefect trade table and the selection leaderboard all format through
these functions, so a figure reads the same wherever it is shown: money with a dollar sign and
thousands separators, fractions of the portfolio as percentages, whole shares without decimals.
A missing figure (None, NaN, infinity, not a number) shows as a dash, never as `nan`.
"""

from __future__ import annotations

import math

DASH = "\u2014"


def finite_number(value: object) -> float | None:
    """A finite float, or None for None/NaN/inf/booleans/non-numbers."""
    if value is None or isinstance(value, bool):
        return None
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def percent(value: float | None, decimals: int, signed: bool = False) -> str:
    """A fraction as a percentage (0.042 -> "4.20%"); `signed` shows "+" on gains."""
    if value is None or not math.isfinite(value):
        return DASH
    scaled = value * 100
    if round(scaled, decimals) == 0:
        return f"{0:.{decimals}f}%"
    return f"{scaled:{'+' if signed else ''},.{decimals}f}%"


def money(value: float | None, decimals: int) -> str:
    """An amount in dollars with thousands separators ("-$1,234.56"); never "-$0.00"."""
    if value is None or not math.isfinite(value):
        return DASH
    sign = "-" if round(value, decimals) < 0 else ""
    return f"{sign}${abs(value):,.{decimals}f}"


def fixed(value: object, decimals: int) -> str:
    """A plain number to `decimals` places (a Sharpe ratio, a score)."""
    number = finite_number(value)
    return DASH if number is None else f"{number:.{decimals}f}"


def share_count(value: object) -> str:
    """A share quantity: whole shares as integers ("1,200"), a fraction to at most 4 places."""
    number = finite_number(value)
    if number is None:
        return DASH
    if number == int(number):
        return f"{int(number):,}"
    return f"{number:,.4f}".rstrip("0")


def plain_text(value: object, empty: str = DASH) -> str:
    """`value` as text; None, NaN and blank text show as `empty`."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return empty
    text = str(value)
    return text if text.strip() else empty
