"""How much of a selected Sharpe ratio survives luck: probabilistic and deflated Sharpe ratios.

Implements Bailey & López de Prado (2014), "The Deflated Sharpe Ratio: Correcting for Selection
Bias, Backtest Overfitting and Non-Normality", on per-period (non-annualized) Sharpe ratios:

- `probabilistic_sharpe_ratio` (PSR): the probability that the true Sharpe ratio exceeds a
  benchmark SR*, given the observed SR, the number of returns T and their skewness g3 and
  (Pearson, non-excess) kurtosis g4:
  PSR = Phi[(SR - SR*) sqrt(T - 1) / sqrt(1 - g3 SR + (g4 - 1) / 4 SR^2)].
- `expected_maximum_sharpe` (SR0): the expected best Sharpe ratio among N unskilled trials whose
  Sharpe ratios have variance V: SR0 = sqrt(V) ((1 - g) Phi^-1(1 - 1/N) + g Phi^-1(1 - 1/(N e))),
  g the Euler-Mascheroni constant.
- `deflated_sharpe`: DSR = PSR against SR0, from the selected strategy's daily returns and the
  annualized Sharpe ratios of every combination tried.

The paper's example (annualized SR 2.5 over T = 1,250 daily returns, skewness -3, kurtosis 10,
N = 100 trials with annualized Sharpe variance 0.5) uses 250 sessions a year: SR0 = 0.1132 a day
and DSR = 0.9004. Undefined figures (too few or constant returns, a negative variance term) are
NaN, never an exception, so a selection report always completes.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from trading_core.backtest.metrics import sharpe as annual_sharpe

NAN = float("nan")


def probabilistic_sharpe_ratio(
    sharpe: float,
    benchmark_sharpe: float,
    observations: int,
    skewness: float = 0.0,
    kurtosis: float = 3.0,
) -> float:
    """Probability that the true per-period Sharpe exceeds `benchmark_sharpe` (PSR, in [0, 1]).

    `kurtosis` is Pearson's (3 for normal returns). NaN when there are fewer than 2 observations,
    an input is NaN, or the variance term 1 - g3 SR + (g4 - 1) / 4 SR^2 is not positive.
    """
    if not observations >= 2:
        return NAN
    variance_term = 1 - skewness * sharpe + (kurtosis - 1) / 4 * sharpe**2
    if not variance_term > 0:
        return NAN
    z = (sharpe - benchmark_sharpe) * math.sqrt(observations - 1) / math.sqrt(variance_term)
    return float(stats.norm.cdf(z))


def expected_maximum_sharpe(trials: int, sharpe_variance: float) -> float:
    """Expected maximum Sharpe SR0 of `trials` unskilled trials, in the units of sqrt(variance).

    One trial (or none) gives 0: the best of one zero-mean draw is expected to be 0. NaN for a
    negative or NaN variance.
    """
    if not sharpe_variance >= 0:
        return NAN
    if trials < 2:
        return 0.0
    gamma = np.euler_gamma
    quantiles = (1 - gamma) * stats.norm.ppf(1 - 1 / trials) + gamma * stats.norm.ppf(
        1 - 1 / (trials * math.e)
    )
    return float(math.sqrt(sharpe_variance) * quantiles)


@dataclass(frozen=True)
class DeflatedSharpe:
    """The selected strategy's Sharpe, its higher moments, SR0 and PSR/DSR, for the report.

    `note` is empty unless a figure rests on a fallback, e.g. fewer than 2 trials (the variance of
    Sharpe ratios across trials is undefined, SR0 is taken as 0 and DSR equals PSR).
    """

    sharpe_annual: float
    sharpe_per_period: float
    skewness: float
    kurtosis: float
    observations: int
    trials: int
    trial_sharpe_variance_annual: float
    expected_max_sharpe_per_period: float
    expected_max_sharpe_annual: float
    psr: float
    dsr: float
    periods_per_year: int
    note: str = ""


def deflated_sharpe(
    returns: pd.Series,
    trial_sharpes: Sequence[float],
    periods_per_year: int = 252,
    cash_rate: float = 0.0,
) -> DeflatedSharpe:
    """Deflated Sharpe of `returns` (daily, simple) selected among `trial_sharpes` (annualized).

    `trial_sharpes` are the annualized Sharpe ratios of every combination tried, the selected one
    included; NaN entries (failed runs) are dropped before counting trials and taking their sample
    variance (ddof=1). The Sharpe ratio is the backtest metric's (excess over `cash_rate`,
    ddof=1), de-annualized by sqrt(periods_per_year); skewness and Pearson kurtosis are scipy's
    sample moments (bias=True). Constant, too-short or NaN-holding returns give NaN figures.
    """
    values = returns.to_numpy("float64")
    annual = annual_sharpe(returns, cash_rate, periods_per_year)
    per_period = annual / math.sqrt(periods_per_year)
    if math.isfinite(per_period):
        skewness = float(stats.skew(values))
        kurtosis = float(stats.kurtosis(values, fisher=True) + 3.0)
    else:
        skewness = kurtosis = NAN

    finite = np.asarray(trial_sharpes, dtype="float64")
    finite = finite[np.isfinite(finite)]
    trials = len(finite)
    note = ""
    if trials >= 2:
        variance_annual = float(finite.var(ddof=1))
    else:
        variance_annual = NAN
        note = (
            f"{trials} trial(s): the variance of Sharpe ratios across trials is undefined, "
            "so SR0 = 0 and DSR = PSR"
        )
    sr0 = (
        expected_maximum_sharpe(trials, variance_annual / periods_per_year) if trials >= 2 else 0.0
    )
    psr = probabilistic_sharpe_ratio(per_period, 0.0, len(values), skewness, kurtosis)
    dsr = probabilistic_sharpe_ratio(per_period, sr0, len(values), skewness, kurtosis)
    return DeflatedSharpe(
        sharpe_annual=annual,
        sharpe_per_period=per_period,
        skewness=skewness,
        kurtosis=kurtosis,
        observations=len(values),
        trials=trials,
        trial_sharpe_variance_annual=variance_annual,
        expected_max_sharpe_per_period=sr0,
        expected_max_sharpe_annual=sr0 * math.sqrt(periods_per_year),
        psr=psr,
        dsr=dsr,
        periods_per_year=periods_per_year,
        note=note,
    )
