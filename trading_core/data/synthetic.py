"""Synthetic equity market with a planted, learnable signal of known strength.

Implements:

- `generate_synthetic_market`: a seeded market (close, open, high, low, volume, sectors,
  benchmark) on real NYSE sessions, for tests and benchmarks (up to 500 stocks x 10 years).
- `planted_signal`: the planted signal s_t recomputed from closes and volumes alone, the same
  formula the generator uses, so anyone can check it needs nothing beyond the close of t.
- `rank_ic`: mean over dates of the cross-sectional Spearman correlation of two wide frames.
- `SyntheticMarket`: the generated data, the signal and its oracle information coefficients.

Model (daily, simple returns; i = stock, t = session):

    r_{i,t+1} = beta_i * m_{t+1} + f_{sector(i),t+1} + alpha_{i,t} + eps_{i,t+1}
    alpha_{i,t} = k * sigma_i * s_{i,t}
    m ~ N(0.0003, 0.01),  f ~ N(0, 0.005),  eps_i ~ N(0, sigma_i)
    beta_i ~ U(0.6, 1.4),  sigma_i ~ U(0.012, 0.025)
    close_t = close_{t-1} * (1 + r_t)  (r floored at -0.9; first closes log-uniform 20 to 200)

k is set from the requested `ic` (see `_alpha_scale`): per stock the correlation between s and
r / sigma is k / sqrt(1 + k^2), and k is raised just enough to offset what the market and sector
factors, the spread of sigma across stocks and the ranking add to the cross-section, so the
achieved oracle IC is close to `ic`.

The planted signal, known at the close of t, uses each stock's own past closes and volumes only:

    s_t = zcs( -0.6 * zcs(ret5_t) + 0.4 * zcs(ret60_t) + 0.3 * zcs(vr_t) * sign(ret1_t) )
    retN_t = close_t / close_{t-N} - 1
    vr_t = log(volume_t / mean(volume_{t-19..t}))

where zcs is the cross-sectional z-score on date t (mean 0, population std 1 across stocks):
short-term reversal, medium-term momentum and a volume-confirmed daily move. Volume on t is
drawn before s_t, as base_i * exp(0.25 * N(0, 1)) * (1 + 2 * |r_t| / sigma_i) rounded to whole
shares (base_i lognormal, 1e5 to 1e7). Because s_t depends on past returns, which depend on
past s, the path is generated one session at a time (vectorised across stocks) after 60 warm-up
sessions of signal-free history, which are then discarded; s is therefore defined from the first
date, but recomputing it from the returned frames is possible from the 61st date on.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from trading_core.data.calendar import sessions
from trading_core.data.market import MarketData

WARMUP = 60
SESSIONS_PER_YEAR = 252
MARKET_DRIFT = 0.0003
MARKET_VOL = 0.01
SECTOR_VOL = 0.005
BETA_RANGE = (0.6, 1.4)
IDIO_VOL_RANGE = (0.012, 0.025)
PRICE_RANGE = (20.0, 200.0)
VOLUME_RANGE = (1e5, 1e7)
VOLUME_NOISE = 0.25
VOLUME_SHOCK = 2.0
SIGNAL_WEIGHTS = {"ret5": -0.6, "ret60": 0.4, "volume": 0.3}


@dataclass(frozen=True)
class SyntheticMarket:
    """A generated market, the planted signal and how well it ranks forward returns."""

    data: MarketData
    signal: pd.DataFrame
    oracle_ic: float
    oracle_ic_horizon: float
    horizon: int


def _zscore_rows(values: np.ndarray) -> np.ndarray:
    """Cross-sectional z-score along the last axis (population std); a flat row becomes zeros."""
    centred = values - values.mean(axis=-1, keepdims=True)
    std = np.sqrt((centred * centred).mean(axis=-1, keepdims=True))
    return centred / np.where(std > 0, std, 1.0)


def _signal_today(
    close_now: np.ndarray,
    close_1: np.ndarray,
    close_5: np.ndarray,
    close_60: np.ndarray,
    volume_window: np.ndarray,
) -> np.ndarray:
    """The planted signal on one date from the closes 0/1/5/60 sessions back and 20 volumes."""
    ret1 = close_now / close_1 - 1
    ret5 = close_now / close_5 - 1
    ret60 = close_now / close_60 - 1
    volume_ratio = np.log(volume_window[-1] / volume_window.mean(axis=0))
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

    def zcs(frame: pd.DataFrame) -> pd.DataFrame:
        return frame.sub(frame.mean(axis=1), axis=0).div(frame.std(axis=1, ddof=0), axis=0)

    raw = (
        SIGNAL_WEIGHTS["ret5"] * zcs(ret5)
        + SIGNAL_WEIGHTS["ret60"] * zcs(ret60)
        + SIGNAL_WEIGHTS["volume"] * zcs(volume_ratio) * np.sign(ret1)
    )
    return zcs(raw)


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


def _alpha_scale(ic: float, betas: np.ndarray, idio_vol: np.ndarray, n_sectors: int) -> float:
    """k such that the expected cross-sectional Spearman correlation of s_t and r_{t+1} is `ic`."""
    if ic == 0:
        return 0.0
    pearson = 2 * np.sin(np.pi * abs(ic) / 6)  # Spearman -> Pearson for Gaussian pairs
    mean_vol = idio_vol.mean()
    mean_var = (idio_vol**2).mean()
    common_var = betas.var() * MARKET_VOL**2 + SECTOR_VOL**2 * (1 - 1 / n_sectors)
    # pearson = k * E[sigma] / sqrt((1 + k^2) * E[sigma^2] + common_var), solved for k
    k = pearson * np.sqrt((mean_var + common_var) / (mean_vol**2 - pearson**2 * mean_var))
    return float(np.copysign(k, ic))


def _check_arguments(symbols: int, years: float, ic: float, horizon: int, n_sectors: int) -> None:
    """Refuse arguments that cannot make a market, naming the argument."""
    if symbols < 2:
        raise ValueError(f"symbols must be at least 2 (a cross-section), got {symbols}")
    if round(years * SESSIONS_PER_YEAR) < 2:
        raise ValueError(f"years must give at least 2 sessions, got {years}")
    if not -0.5 < ic < 0.5:
        raise ValueError(f"ic must be between -0.5 and 0.5, got {ic}")
    if horizon < 1:
        raise ValueError(f"horizon must be at least 1 session, got {horizon}")
    if not 1 <= n_sectors <= symbols:
        raise ValueError(f"n_sectors must be between 1 and symbols ({symbols}), got {n_sectors}")


def generate_synthetic_market(
    symbols: int = 50,
    years: float = 8,
    seed: int = 7,
    ic: float = 0.05,
    start: str = "2012-01-03",
    horizon: int = 5,
    n_sectors: int = 5,
) -> SyntheticMarket:
    """A seeded market of `symbols` stocks over round(years * 252) NYSE sessions from `start`."""
    _check_arguments(symbols, years, ic, horizon, n_sectors)
    n_days = round(years * SESSIONS_PER_YEAR)
    calendar = sessions()
    first = calendar.searchsorted(pd.Timestamp(start).normalize(), side="left")
    dates = calendar[first : first + n_days]
    if len(dates) < n_days:
        raise ValueError(f"the NYSE calendar has only {len(dates)} sessions from {start}")
    names = [f"S{i:0{len(str(symbols))}d}" for i in range(symbols)]
    sector_of = np.arange(symbols) % n_sectors

    streams = [np.random.default_rng(child) for child in np.random.SeedSequence(seed).spawn(3)]
    stocks, shocks, bars = streams
    betas = stocks.uniform(*BETA_RANGE, symbols)
    idio_vol = stocks.uniform(*IDIO_VOL_RANGE, symbols)
    first_close = np.exp(stocks.uniform(*np.log(PRICE_RANGE), symbols))
    base_volume = np.clip(np.exp(stocks.normal(np.log(1e6), 1.0, symbols)), *VOLUME_RANGE)
    k = _alpha_scale(ic, betas, idio_vol, n_sectors)

    total = WARMUP + n_days
    market = shocks.normal(MARKET_DRIFT, MARKET_VOL, total)
    sector = shocks.normal(0.0, SECTOR_VOL, (total, n_sectors))
    # returns without alpha for every session; row 0 is the starting point and has no return
    base_returns = (
        betas * market[:, None]
        + sector[:, sector_of]
        + shocks.normal(0.0, 1.0, (total, symbols)) * idio_vol
    )
    volume_noise = np.exp(VOLUME_NOISE * shocks.normal(0.0, 1.0, (total, symbols)))

    close = np.empty((total, symbols))
    volume = np.empty((total, symbols))
    returns = np.zeros((total, symbols))
    signal = np.zeros((total, symbols))
    close[0] = first_close
    volume[0] = np.rint(base_volume * volume_noise[0])
    alpha_scale = k * idio_vol
    for t in range(1, total):
        r = np.maximum(base_returns[t] + alpha_scale * signal[t - 1], -0.9)
        returns[t] = r
        close[t] = close[t - 1] * (1 + r)
        volume[t] = np.rint(
            base_volume * volume_noise[t] * (1 + VOLUME_SHOCK * np.abs(r) / idio_vol)
        )
        if t >= WARMUP:
            signal[t] = _signal_today(
                close[t], close[t - 1], close[t - 5], close[t - 60], volume[t - 19 : t + 1]
            )

    previous_close = close[WARMUP - 1 : total - 1]
    kept = slice(WARMUP, total)
    close, volume, returns, signal = close[kept], volume[kept], returns[kept], signal[kept]
    gap = bars.normal(0.0, 0.3, (n_days, symbols)) * idio_vol
    open_ = previous_close * np.exp(gap)
    wick = np.abs(bars.normal(0.0, 0.5, (2, n_days, symbols))) * idio_vol
    high = np.maximum(open_, close) * np.exp(wick[0])
    low = np.minimum(open_, close) * np.exp(-wick[1])

    index = pd.DatetimeIndex(dates, name="date").as_unit("ns")
    columns = pd.Index(names, name="symbol")

    def frame(values: np.ndarray) -> pd.DataFrame:
        return pd.DataFrame(values, index=index, columns=columns, dtype="float64")

    index_returns = returns.mean(axis=1)
    index_returns[0] = 0.0
    benchmark = pd.Series(100 * np.cumprod(1 + index_returns), index=index, name="benchmark")
    sectors = pd.Series(
        [f"Sector{j}" for j in sector_of], index=pd.Index(names, name="symbol"), name="sector"
    )
    data = MarketData(
        close=frame(close),
        open=frame(open_),
        high=frame(high),
        low=frame(low),
        volume=frame(volume),
        sectors=sectors,
        benchmark=benchmark,
        source="synthetic",
    )
    signal_frame = frame(signal)
    next_return = data.close.shift(-1) / data.close - 1
    forward = data.close.shift(-horizon) / data.close - 1
    return SyntheticMarket(
        data=data,
        signal=signal_frame,
        oracle_ic=rank_ic(signal_frame, next_return),
        oracle_ic_horizon=rank_ic(signal_frame, forward),
        horizon=horizon,
    )
