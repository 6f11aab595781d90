"""Weighting schemes over a chosen set of symbols, all long-only and capped per name.

- `equal_weight`: the same weight for every name.
- `inverse_vol`: weights proportional to 1 / volatility of daily returns over a window.
Each returns weights summing to `exposure` (or to n * cap when the cap binds first).
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def cap_weights(raw: pd.Series, exposure: float, max_weight: float) -> pd.Series:
    """Scale positive `raw` weights to sum to `exposure` with no name above `max_weight`.

    Capped names are fixed at the cap and the remainder is shared pro rata among the rest
    (water-filling); if every name is capped the total is n * max_weight and the rest is cash.
    """
    raw = raw.clip(lower=0.0)
    if raw.empty or raw.sum() <= 0:
        return raw * 0.0
    target = min(exposure, max_weight * len(raw))
    weights = pd.Series(0.0, index=raw.index)
    free = raw.index
    remaining = target
    for _ in range(len(raw)):
        share = raw[free] / raw[free].sum() * remaining
        over = share > max_weight
        if not over.any():
            weights[free] = share
            break
        weights[share[over].index] = max_weight
        remaining -= max_weight * over.sum()
        free = share[~over].index
    return weights


def equal_weight(symbols: list[str], exposure: float, max_weight: float) -> pd.Series:
    """Equal weights over `symbols`."""
    return cap_weights(pd.Series(1.0, index=symbols), exposure, max_weight)


def inverse_vol(
    close: pd.DataFrame, symbols: list[str], exposure: float, max_weight: float, window: int = 60
) -> pd.Series:
    """Weights proportional to the inverse of each name's daily-return volatility over `window`."""
    vol = close[symbols].pct_change(fill_method=None).iloc[-window:].std()
    if vol.isna().any() or (vol <= 0).any():
        bad = vol[vol.isna() | (vol <= 0)].index.tolist()
        raise ValueError(f"no usable volatility for {', '.join(bad)} over {window} sessions")
    return cap_weights(1.0 / vol.astype("float64").replace(0, np.nan), exposure, max_weight)


OPTIMIZERS = ("equal_weight", "inverse_vol")
