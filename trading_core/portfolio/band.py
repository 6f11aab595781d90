"""No-trade band (`risk.rebalance_threshold`): a weight near its target is left where it is.

Once the optimizer's targets are known, a name whose target is within the band of the weight it
holds keeps that weight: moving 3.1% to 3.0% costs a trade and earns next to nothing. The band
never breaks a cap. A kept weight that would put its name above the name cap, its sector above
the sector cap, or the book's total more than `EXPOSURE_SLACK` away from the targets' total trades
to its target instead, the largest offender first; this always ends, since the targets pass every
cap. Each name ends at its target or at its current weight, so the one-way turnover ½ Σ|Δw| is
never higher than trading straight to the targets.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from trading_core.portfolio.caps import TOLERANCE, Caps

# How far kept weights may move the total invested from the targets' total: half the safety
# check's default tolerance (`SafetyValidator.exposure_tolerance`, 0.01), so a banded book passes.
EXPOSURE_SLACK = 0.005


def hold_within_band(
    target: pd.Series, current: pd.Series | None, band: float, caps: Caps
) -> pd.Series:
    """`target` with every name whose |target - current| < `band` left at its current weight.

    `target`: the optimizer's weights over the book's names, within every cap; `current`: the
    weights held now (fractions of portfolio value; None or a missing name: 0). Names held outside
    `target` are not kept: they leave the book. Returns weights on `target.index`.
    """
    if current is None or band <= 0:
        return target
    want = target.to_numpy(dtype="float64")
    have = current.reindex(target.index, fill_value=0.0).to_numpy(dtype="float64")
    keep = (np.abs(want - have) < band) & (have <= caps.max_weight)
    codes, labels = caps.sector_codes(target.index.tolist())
    total = want.sum()
    while True:
        weights = np.where(keep, have, want)
        excess = np.where(keep, have - want, 0.0)  # what each kept name holds above its target
        crowded = _in_full_sectors(weights, codes, len(labels), caps.max_sector_weight)
        gap = weights.sum() - total
        if crowded.any():
            worst = np.where(crowded, excess, -np.inf)
        elif gap > EXPOSURE_SLACK:
            worst = excess
        elif gap < -EXPOSURE_SLACK:
            worst = -excess
        else:
            return pd.Series(weights, index=target.index, name=target.name)
        keep[np.argmax(worst)] = False


def _in_full_sectors(
    weights: np.ndarray, codes: np.ndarray, n_sectors: int, limit: float | None
) -> np.ndarray:
    """Which names are in a sector holding more than `limit` (None: no sector cap)."""
    if limit is None or n_sectors == 0:
        return np.zeros(len(weights), dtype=bool)
    known = codes >= 0
    held = np.bincount(codes[known], weights=weights[known], minlength=n_sectors)
    over = np.append(held > limit + TOLERANCE, False)  # the last slot is code -1: no sector
    return over[codes]
