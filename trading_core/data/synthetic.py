"""Synthetic equity market with a planted, learnable signal of known strength.

Implements:

- `generate_synthetic_market`: a seeded market (close, open, high, low, volume, sectors,
  benchmark) on real NYSE sessions, for tests and benchmarks (up to 500 stocks x 10 years).
- `SyntheticMarket`: the generated data, the signal and its oracle information coefficients,
  one per execution convention, so the oracle is a ceiling for a model judged on that convention.
- `ceiling_predictor`: the best linear prediction of a label from what is known at t.

The signal's formula, its alpha weights and the rank IC it is measured by are in
`trading_core.data.planted_signal`; this module simulates the market around them.

Model (daily, simple returns; i = stock, t = session):

    r_{i,t+1} = beta_i * m_{t+1} + f_{sector(i),t+1} + alpha_{i,t+1} + eps_{i,t+1}
    alpha_{i,t+1} = k * sigma_i * sum_{j=0}^{h-1} w_j * s_{i,t-j}
    w_j = 2^(-j / 2) / sum_l 2^(-l / 2)   (half-life 2 sessions, h = `horizon` lags, sum 1)
    m ~ N(drift, 0.01),  f ~ N(0, 0.005),  eps_i ~ N(0, sigma_i)
    beta_i ~ U(0.6, 1.4),  sigma_i ~ U(0.012, 0.025)
    close_t = close_{t-1} * (1 + r_t)  (r floored at -0.9; first closes log-uniform 20 to 200)

`drift` (`market_drift`, default 0.0003 a session, about 7.5% a year: equity markets drift) is
the only source of a beta premium: with a positive drift high-beta names outperform on average,
which a model can learn from beta-like features and so beat the oracle IC. With `market_drift=0`
expected returns do not depend on beta and the oracle IC is the ceiling a model is held to.

The alpha of a signal decays: s_t moves the returns of t+1, t+2, ... with geometrically falling
weights, cut after `horizon` sessions. A trade one session late therefore loses the first
session's share of the edge, not all of it.

Overnight share: 30% (`OVERNIGHT_SHARE`) of each session's return happens before the open, as
that share of the variance of the market, sector and idiosyncratic shocks (each drawn as an
independent overnight and intraday part) and that share of the alpha:

    open_t = close_{t-1} * (1 + o_t),   close_t = open_t * (1 + r_t) / (1 + o_t)
    o_t = beta_i * m^on_t + f^on_t + 0.3 * alpha_t + eps^on_t

so r_t is exactly the return above. Filling at the next open gives up the overnight share of the
first session's alpha; filling at the next close gives up the whole first session. High and low
sit a random wick above max(open, close) and below min(open, close).

k is set from the requested `ic` (see `_alpha_scale`): per stock the correlation between s_t
and r_{t+1} / sigma is k * c / sqrt(1 + k^2 * V), where c is the covariance of s_t with the
weighted sum of the signals in the alpha and V that sum's variance, both from the signal's
autocorrelation; k is raised just enough to offset what the market and sector factors, the spread
of sigma across stocks and the ranking add to the cross-section, so the achieved 1-day oracle IC
is close to `ic`. The alpha feeds back into the signal (a positive alpha makes the signal's 5-day
reversal leg turn sooner), so the autocorrelation is measured on a pilot path over the first 500
sessions, again with each new k (`_calibrated_scale`).

The planted signal s_t (`planted_signal`), known at the close of t, uses each stock's own past
closes and volumes only: short-term reversal, medium-term momentum and a volume-confirmed daily
move, z-scored across stocks. Volume on t is drawn before s_t, as base_i * exp(0.25 * N(0, 1)) * (1 + 2 * |r_t| / sigma_i) rounded to whole
shares (base_i lognormal, 1e5 to 1e7). Because s_t depends on past returns, which depend on
past s, the path is generated one session at a time (vectorised across stocks) after 60 warm-up
sessions of signal-free history, which are then discarded; s is therefore defined from the first
date, but recomputing it from the returned frames is possible from the 61st date on.

Oracle IC per execution convention: the rank IC of s_t against the `horizon`-session return from
that convention's fill (`forward_return`: `same_close` close t -> close t+h, `next_close` close
t+1 -> close t+1+h, `next_open` open t+1 -> open t+1+h).

The ceiling (`ceiling_predictor`). Over h > 1 sessions s_t alone is not the best a model can do:
the label also carries the alpha of s_{t+1}, ..., s_{t+h-1}, and much of those signals is known at
t (their 5- and 60-session windows overlap the past), and the alpha of s_{t-1}, ... is still being
paid. A model that learns this beats s_t's IC honestly (measured: LightGBM 0.130 against s_t's
0.116 on a test year of a 300-stock market at ic 0.05). The ceiling predictor is the least-squares
fit of the (z-scored) label on exactly those ingredients known at t: s_t..s_{t-h+1} and the
returns over the last 1..4 and 56..59 sessions (the known parts of the next signals' windows),
fitted on the whole sample; its IC (0.142 on that year) is what a model is held below.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from trading_core.data.calendar import sessions
from trading_core.data.market import MarketData
from trading_core.data.planted_signal import (
    EXECUTIONS,
    FILLS,
    alpha_weights,
    forward_return,
    rank_ic,
    signal_today,
    zscore_frame,
)

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
OVERNIGHT_SHARE = 0.3
CALIBRATION_SESSIONS = 500
CALIBRATION_ROUNDS = 3


@dataclass(frozen=True)
class SyntheticMarket:
    """A generated market, the planted signal and how well it ranks forward returns.

    `oracle_ic` is against the next day's close-to-close return, `oracle_ic_horizon` against
    the `horizon`-session return from the signal's close (same_close), and
    `oracle_ic_by_execution` against the `horizon`-session return from each convention's fill.
    """

    data: MarketData
    signal: pd.DataFrame
    oracle_ic: float
    oracle_ic_horizon: float
    horizon: int
    oracle_ic_by_execution: dict[str, float]

    def oracle(self, execution: str) -> float:
        """The oracle IC over `horizon` sessions for one execution convention."""
        if execution not in self.oracle_ic_by_execution:
            raise ValueError(
                f"unknown execution {execution!r}: choose from {', '.join(EXECUTIONS)}"
            )
        return self.oracle_ic_by_execution[execution]


@dataclass(frozen=True)
class _Draws:
    """The seeded random draws a path is built from (rows: sessions including the warm-up)."""

    idio_vol: np.ndarray
    first_close: np.ndarray
    base_volume: np.ndarray
    base_returns: np.ndarray  # every return without alpha; row 0 is the start and has none
    overnight_base: np.ndarray  # the overnight part of base_returns
    volume_noise: np.ndarray


@dataclass(frozen=True)
class _Path:
    """A simulated path, warm-up included."""

    close: np.ndarray
    volume: np.ndarray
    returns: np.ndarray
    overnight: np.ndarray
    signal: np.ndarray


def _volume(draws: _Draws, t: int, returns: np.ndarray) -> np.ndarray:
    """Whole-share volume of session t, rising with the size of the session's move."""
    shock = 1 + VOLUME_SHOCK * np.abs(returns) / draws.idio_vol
    return np.rint(draws.base_volume * draws.volume_noise[t] * shock)


def _simulate(draws: _Draws, k: float, weights: np.ndarray, total: int) -> _Path:
    """The first `total` sessions, one at a time: each session's alpha comes from the signals of
    the sessions before it, and its signal from the closes and volumes up to it."""
    symbols = len(draws.idio_vol)
    close = np.empty((total, symbols))
    volume = np.empty((total, symbols))
    returns = np.zeros((total, symbols))
    overnight = np.zeros((total, symbols))
    signal = np.zeros((total, symbols))
    close[0] = draws.first_close
    volume[0] = _volume(draws, 0, returns[0])
    alpha_scale = k * draws.idio_vol
    for t in range(1, total):
        recent = signal[max(t - len(weights), 0) : t][::-1]  # s_{t-1}, s_{t-2}, ...
        alpha = alpha_scale * (weights[: len(recent)] @ recent)
        returns[t] = np.maximum(draws.base_returns[t] + alpha, -0.9)
        overnight[t] = np.maximum(draws.overnight_base[t] + OVERNIGHT_SHARE * alpha, -0.9)
        close[t] = close[t - 1] * (1 + returns[t])
        volume[t] = _volume(draws, t, returns[t])
        if t >= WARMUP:
            volume_mean = volume[t - 19 : t + 1].mean(axis=0)
            closes = close[t], close[t - 1], close[t - 5], close[t - 60]
            signal[t] = signal_today(*closes, volume[t], volume_mean)
    return _Path(close, volume, returns, overnight, signal)


def _autocorrelation(signal: np.ndarray, lags: int) -> np.ndarray:
    """Mean cross-sectional correlation of s_t with s_{t-j}, j = 0..lags-1 (rows: dates, each
    z-scored); a lag the sample is too short for counts as uncorrelated."""
    usable = range(min(lags, len(signal)))
    measured = [(signal[j:] * signal[: len(signal) - j]).mean() for j in usable]
    return np.array(measured + [float(j == 0) for j in range(len(measured), lags)])


def _alpha_scale(
    ic: float,
    betas: np.ndarray,
    idio_vol: np.ndarray,
    n_sectors: int,
    weights: np.ndarray,
    autocorrelation: np.ndarray,
) -> float:
    """k such that the expected cross-sectional Spearman correlation of s_t and r_{t+1} is `ic`,
    when r_{t+1} carries k * sigma * sum_j weights[j] * s_{t-j}."""
    pearson = 2 * np.sin(np.pi * abs(ic) / 6)  # Spearman -> Pearson for Gaussian pairs
    lags = np.arange(len(weights))
    covariance = weights @ autocorrelation  # cov(s_t, sum_j w_j s_{t-j})
    variance = weights @ autocorrelation[np.abs(lags[:, None] - lags)] @ weights
    mean_vol = idio_vol.mean()
    mean_var = (idio_vol**2).mean()
    common_var = betas.var() * MARKET_VOL**2 + SECTOR_VOL**2 * (1 - 1 / n_sectors)
    # pearson = k c E[sigma] / sqrt((1 + k^2 V) E[sigma^2] + common_var), solved for k
    k = pearson * np.sqrt(
        (mean_var + common_var) / (covariance**2 * mean_vol**2 - pearson**2 * variance * mean_var)
    )
    return float(np.copysign(k, ic))


def _calibrated_scale(
    ic: float, draws: _Draws, betas: np.ndarray, n_sectors: int, weights: np.ndarray
) -> float:
    """k for `ic`, from the signal autocorrelation of a pilot path over the first sessions.

    The alpha feeds back into the signal through the past returns it is built from (its 5-day
    reversal leg fights a positive alpha), so the autocorrelation is measured again with each
    new k, from the alpha-free path on, for `CALIBRATION_ROUNDS` rounds.
    """
    if ic == 0:
        return 0.0
    pilot = min(len(draws.base_returns), WARMUP + CALIBRATION_SESSIONS)
    k = 0.0
    for _ in range(CALIBRATION_ROUNDS):
        signal = _simulate(draws, k, weights, pilot).signal[WARMUP:]
        autocorrelation = _autocorrelation(signal, len(weights))
        k = _alpha_scale(ic, betas, draws.idio_vol, n_sectors, weights, autocorrelation)
    return k


def _oracle_by_execution(signal: pd.DataFrame, data: MarketData, horizon: int) -> dict[str, float]:
    """The rank IC of the signal against each convention's `horizon`-session forward return."""
    return {
        execution: rank_ic(signal, forward_return(getattr(data, field), horizon, delay))
        for execution, (field, delay) in FILLS.items()
    }


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
    market_drift: float = MARKET_DRIFT,
) -> SyntheticMarket:
    """A seeded market of `symbols` stocks over round(years * 252) NYSE sessions from `start`.

    `horizon` is both how many sessions a signal's alpha lasts and the horizon of the oracle
    ICs; `market_drift` is the market factor's mean per session (0: no beta premium).
    """
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
    low, high = np.log(PRICE_RANGE)
    first_close = np.exp(stocks.uniform(low, high, symbols))
    base_volume = np.clip(np.exp(stocks.normal(np.log(1e6), 1.0, symbols)), *VOLUME_RANGE)

    total = WARMUP + n_days
    # each shock in two independent parts, overnight (row 0) and intraday (row 1), whose
    # variances and drifts split OVERNIGHT_SHARE : 1 - OVERNIGHT_SHARE
    share = np.array([OVERNIGHT_SHARE, 1 - OVERNIGHT_SHARE])[:, None]
    market = share * market_drift + np.sqrt(share) * shocks.normal(0.0, MARKET_VOL, (2, total))
    sector = np.sqrt(share)[..., None] * shocks.normal(0.0, SECTOR_VOL, (2, total, n_sectors))
    noise = np.sqrt(share)[..., None] * shocks.normal(0.0, 1.0, (2, total, symbols)) * idio_vol
    parts = betas * market[..., None] + sector[..., sector_of] + noise
    draws = _Draws(
        idio_vol=idio_vol,
        first_close=first_close,
        base_volume=base_volume,
        base_returns=parts.sum(axis=0),
        overnight_base=parts[0],
        volume_noise=np.exp(VOLUME_NOISE * shocks.normal(0.0, 1.0, (total, symbols))),
    )
    weights = alpha_weights(horizon)
    k = _calibrated_scale(ic, draws, betas, n_sectors, weights)
    path = _simulate(draws, k, weights, total)

    kept = slice(WARMUP, total)
    close, volume = path.close[kept], path.volume[kept]
    returns, signal = path.returns[kept], path.signal[kept]
    open_ = path.close[WARMUP - 1 : total - 1] * (1 + path.overnight[kept])
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
    by_execution = _oracle_by_execution(signal_frame, data, horizon)
    return SyntheticMarket(
        data=data,
        signal=signal_frame,
        oracle_ic=rank_ic(signal_frame, forward_return(data.close, 1, 0)),
        oracle_ic_horizon=by_execution["same_close"],
        horizon=horizon,
        oracle_ic_by_execution=by_execution,
    )


def ceiling_predictor(market: SyntheticMarket, execution: str = "next_open") -> pd.DataFrame:
    """The best linear prediction of `execution`'s label from what the model makes known at t.

    See the module docstring: s_t..s_{t-h+1} plus the returns over the last 1..4 and 56..59
    sessions, each z-scored across symbols per date, regressed (pooled least squares over the
    whole sample) on the label z-scored per date. Its rank IC against the label is the ceiling a
    model judged on that convention can reach; it is in-sample, so a little generous.
    """
    field, delay = FILLS[execution]
    close = market.data.close
    label = zscore_frame(forward_return(getattr(market.data, field), market.horizon, delay))
    inputs = [market.signal.shift(j) for j in range(market.horizon)]
    inputs += [zscore_frame(close / close.shift(n) - 1) for n in (1, 2, 3, 4, 56, 57, 58, 59)]
    x = np.stack([frame.to_numpy() for frame in inputs], axis=-1)
    y = label.to_numpy()
    usable = np.isfinite(x).all(axis=-1) & np.isfinite(y)
    beta, *_ = np.linalg.lstsq(x[usable], y[usable], rcond=None)
    predicted = np.where(np.isfinite(x).all(axis=-1), x @ beta, np.nan)
    return pd.DataFrame(predicted, index=close.index, columns=close.columns)
