"""Turnover: the one definition, one-way ½ Σ|Δw| per rebalance.

Buys and sells each count half, so moving 10% of the book from A to B (sell 10% of A, buy 10% of
B) turns over 10%, and switching a long-only book entirely into other names turns over 100%, the
most it can. Cash is not a name: investing from all cash, or selling everything to cash, turns
over half the amount moved. The backtester, the trade generator's budget, the safety check and
every report use this function, so a turnover figure means the same wherever it is shown.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

DEFINITION = "one-way turnover (½ Σ|Δw|) per rebalance"  # the words reports show beside the figure


def one_way_turnover(weight_changes: ArrayLike) -> float:
    """½ Σ|Δw| of one rebalance's weight changes (fractions of portfolio value, one per name)."""
    return 0.5 * float(np.abs(np.asarray(weight_changes, dtype="float64")).sum())
