"""The planted signal of the synthetic market, and how its strength is measured.

Implements:

- `planted_signal`: the planted signal s_t recomputed from closes and volumes alone, the same
  formula the generator (`trading_core.data.synthetic`) uses, so anyone can check it needs nothing
  beyond the close of t.
- `signal_today`: that formula on one date's arrays, for the generator's session-by-session path.
- `alpha_weights`: how the alpha of one signal spreads over the following sessions.
- `rank_ic`: mean over dates of the cross-sectional Spearman correlation of two wide frames.
- `forward_return` and `FILLS`: the forward returns each execution convention is judged on.

The planted signal, known at the close of t, uses each stock's own past closes and volumes only:

    s_t = zcs( -0.6 * zcs(ret5_t) + 0.4 * zcs(ret60_t) + 0.3 * zcs(vr_t) * sign(ret1_t) )
    retN_t = close_t / close_{t-N} - 1
    vr_t = log(volume_t / mean(volume_{t-19..t}))

where zcs is the cross-sectional z-score on date t (mean 0, population std 1 across stocks):
short-term reversal, medium-term momentum and a volume-confirmed daily move.

Forward returns per execution convention, over `horizon` sessions (the label conventions of
trading_core.features.labels, recomputed here because the data layer does not import features):
`same_close` close t -> close t+h, `next_close` close t+1 -> close t+1+h, `next_open` open t+1 ->
open t+1+h.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

SIGNAL_WEIGHTS = {"ret5": -0.6, "ret60": 0.4, "volume": 0.3}
ALPHA_HALF_LIFE = 2.0
FILLS = {  # execution convention: (price field a fill gets, sessions after the signal)
    "same_close": ("close", 0),
    "next_close": ("close", 1),
    "next_open": ("open", 1),
}
EXECUTIONS = tuple(FILLS)


def _zscore_rows(values: np.ndarray) -> np.ndarray:
    """Cross-sectional z-score along the last axis (population std); a flat row becomes zeros."""
    centred = values - values.mean(axis=-1, keepdims=True)
    std = np.sqrt((centred * centred).mean(axis=-1, keepdims=True))
    return centred / np.where(std > 0, std, 1.0)


def zscore_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """Cross-sectional z-score per date (population std), NaN kept."""
    centred = frame.sub(frame.mean(axis=1), axis=0)
    return centred.div(frame.std(axis=1, ddof=0), axis=0)


def signal_today(
    close_now: np.ndarray,
    close_1: np.ndarray,
    close_5: np.ndarray,
    close_60: np.ndarray,
    volume_now: np.ndarray,
    volume_mean: np.ndarray,
) -> np.ndarray:
    """The planted signal on one date from the closes 0/1/5/60 sessions back, the day's volume and
    its 20-session mean (one value per stock)."""
    ret1 = close_now / close_1 - 1
    ret5 = close_now / close_5 - 1
    ret60 = close_now / close_60 - 1
    volume_ratio = np.log(volume_now / volume_mean)
    raw = (
        SIGNAL_WEIGHTS["ret5"] * _zscore_rows(ret5)
        + SIGNAL_WEIGHTS["ret60"] * _zscore_rows(ret60)
        + SIGNAL_WEIGHTS["volume"] * _zscore_rows(volume_ratio) * np.sign(ret1)
    )
    return _zscore_rows(raw)


def planted_signal(close: pd.DataFrame, volume: pd.DataFrame) -> pd.DataFrame:
    """The planted signal s_t from closes and volumes up to t (NaN until 60 sessions of history)."""
    ret1 = close / close.shift(1) - 1
    ret5 = close / close.shift(5) - 1
    ret60 = close / close.shift(60) - 1
    volume_ratio = np.log(volume / volume.rolling(20).mean())
    raw = (
        SIGNAL_WEIGHTS["ret5"] * zscore_frame(ret5)
        + SIGNAL_WEIGHTS["ret60"] * zscore_frame(ret60)
        + SIGNAL_WEIGHTS["volume"] * zscore_frame(volume_ratio) * np.sign(ret1)
    )
    return zscore_frame(raw)


def alpha_weights(horizon: int) -> np.ndarray:
    """Weights w_0..w_{horizon-1} of s_t, s_{t-1}, ... in the alpha of r_{t+1}: halving every
    `ALPHA_HALF_LIFE` sessions, summing to 1."""
    weights = 0.5 ** (np.arange(horizon) / ALPHA_HALF_LIFE)
    return weights / weights.sum()


def rank_ic(signal: pd.DataFrame, outcome: pd.DataFrame) -> float:
    """Mean over dates of the Spearman correlation across symbols (dates with any NaN skipped)."""
    outcome = outcome.reindex(index=signal.index, columns=signal.columns)
    usable = signal.notna().all(axis=1) & outcome.notna().all(axis=1)
    if not usable.any():
        return float("nan")
    left = signal.loc[usable].rank(axis=1).to_numpy()
    right = outcome.loc[usable].rank(axis=1).to_numpy()
    left = left - left.mean(axis=1, keepdims=True)
    right = right - right.mean(axis=1, keepdims=True)
    denominator = np.sqrt((left * left).sum(axis=1) * (right * right).sum(axis=1))
    with np.errstate(invalid="ignore", divide="ignore"):
        correlation = (left * right).sum(axis=1) / denominator
    return float(np.nanmean(correlation)) if np.isfinite(correlation).any() else float("nan")


def forward_return(prices: pd.DataFrame, horizon: int, delay: int) -> pd.DataFrame:
    """Return from the price `delay` sessions after t to the price `horizon` sessions later (the
    formula of trading_core.features.labels.forward_returns, which the data layer cannot import)."""
    return prices.shift(-(delay + horizon)) / prices.shift(-delay) - 1
