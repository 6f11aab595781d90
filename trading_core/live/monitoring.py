"""OpsMonitor: is the model still healthy? Live IC, top-quantile returns, drift, regimes, coverage.

Two honest measures of live skill, both on forward returns that are known by the run date:
- the track record: the scores the daily runs actually published (signals.json), whatever model
  made them — the figure that matters to the account;
- the model since its training cutoff: the current model's scores on dates after its last training
  label, which exists even before there is a track record (for example right after a retrain).
The live IC shown is the track record when it has enough sessions, else the model's.

Signals are Series indexed by (date, symbol); forward returns are the raw returns over the
`horizon` sessions after each date, NaN where that horizon has not passed yet. Only matured
(signal, forward return) pairs count anywhere in this module.

- `calculate_information_coefficient`: pooled Pearson and Spearman correlations with the p-values
  of scipy.stats.pearsonr and spearmanr (computed here from scipy.special, without importing
  scipy.stats), plus the mean daily (rank) IC and its overlap-corrected t-test (`ml.metrics`).
- `calculate_top_quantile_performance`: forward return of the top score quantile against the
  universe mean and the bottom quantile, per date and on average (`ml.metrics.quintile_returns`).
- `detect_model_drift`: rolling mean of a daily IC series against a threshold, and since when.
- `check_regime_performance`: per regime, the figures of `backtest.metrics.regime_performance`.
- `report`: the run's `MonitoringReport` (live IC and its source, drift as a `DriftCheck`, pooled
  IC, top quantile, feature coverage, notes; `live.monitoring_report`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from trading_core.backtest.metrics import regime_performance
from trading_core.live.monitoring_report import DriftCheck, MonitoringReport
from trading_core.ml.metrics import daily_ic, ic_summary, quintile_returns, t_test_pvalue
from trading_core.regime import KEYS, LABELS

TRACK_RECORD = "published signals"
MODEL_SINCE_CUTOFF = "current model since its training cutoff"

NAN = float("nan")
MIN_POOLED_PAIRS = 3
TOP_QUANTILE_COLUMNS = [
    "top",
    "bottom",
    "universe",
    "top_minus_universe",
    "top_minus_bottom",
    "names",
]
REGIME_CODES = {
    **{name: code for code, name in LABELS.items()},
    **{key: code for code, key in KEYS.items()},
}


class OpsMonitor:
    """Computes the run's health figures; alerts when live rank IC falls below a threshold.

    `horizon` is the forward-return horizon in sessions: consecutive daily ICs then overlap and
    the t-tests use days / horizon effective observations (see `ml.metrics.ic_summary`).
    `drift_window` is the number of sessions of the rolling IC mean that `detect_model_drift`
    compares with `ic_alert_threshold`.
    """

    def __init__(
        self,
        ic_lookback_days: int = 60,
        ic_alert_threshold: float = 0.0,
        min_sessions: int = 20,
        drift_window: int = 20,
        horizon: int = 1,
    ) -> None:
        self.ic_lookback_days = ic_lookback_days
        self.ic_alert_threshold = ic_alert_threshold
        self.min_sessions = min_sessions
        self.drift_window = drift_window
        self.horizon = horizon

    def ic(self, scores: pd.Series, labels: pd.Series) -> pd.Series:
        """Daily rank IC of `scores` against realized `labels` over the last lookback sessions."""
        if scores.empty:
            return pd.Series(dtype="float64", name="rank_ic")
        return daily_ic(scores, labels, rank=True).iloc[-self.ic_lookback_days :]

    def calculate_information_coefficient(
        self, signals: pd.Series, forward_returns: pd.Series
    ) -> dict[str, float | int]:
        """IC of past signals against their matured forward returns, pooled and per date.

        Pooled over every matured (date, symbol) pair:
        - `ic`, `ic_pvalue`: Pearson correlation and its two-sided p-value (scipy's pearsonr);
        - `rank_ic`, `rank_ic_pvalue`: the same for the Spearman correlation;
        - `n_observations`: matured pairs; `n_dates`: dates with at least one matured pair.
        The pooled p-values treat every pair as independent, which overstates the evidence when
        returns move together across symbols or overlap across dates (horizon > 1).

        Per date, the figure the live IC and the research reports use (`ml.metrics`):
        - `mean_daily_ic`, `mean_daily_rank_ic`: mean of the daily Pearson and rank ICs;
        - `daily_rank_ic_t_stat`, `daily_rank_ic_pvalue`: t-test of the mean daily rank IC with
          days / horizon effective observations, the more honest test of the two;
        - `daily_ic_days`: dates with enough names for a daily IC.
        Figures that are undefined (too few pairs, a constant side) are NaN.
        """
        pairs = _matured(signals, forward_returns)
        ic, ic_pvalue = _pooled(_pearson, pairs)
        rank_ic, rank_ic_pvalue = _pooled(_spearman, pairs)
        pearson_daily = daily_ic(pairs["signal"], pairs["forward_return"], rank=False)
        rank_daily = ic_summary(
            daily_ic(pairs["signal"], pairs["forward_return"], rank=True), overlap=self.horizon
        )
        return {
            "ic": ic,
            "ic_pvalue": ic_pvalue,
            "rank_ic": rank_ic,
            "rank_ic_pvalue": rank_ic_pvalue,
            "n_observations": len(pairs),
            "n_dates": int(pairs.index.get_level_values("date").nunique()),
            "mean_daily_ic": float(pearson_daily.mean()) if len(pearson_daily) else NAN,
            "mean_daily_rank_ic": rank_daily["mean"],
            "daily_rank_ic_t_stat": rank_daily["t_stat"],
            "daily_rank_ic_pvalue": rank_daily["p_value"],
            "daily_ic_days": rank_daily["days"],
        }

    def calculate_top_quantile_performance(
        self, signals: pd.Series, forward_returns: pd.Series, quantile: float = 0.2
    ) -> tuple[dict[str, float | int], pd.DataFrame]:
        """Did the best-scored names beat the rest? Summary dict and per-date frame.

        On each date the matured names are split into 1 / `quantile` score buckets as in
        `ml.metrics.quintile_returns` (so 1 / `quantile` must be a whole number: 0.2, 0.1, ...).
        Per date (index: date) the frame holds the mean forward return of the `top` bucket, the
        `bottom` bucket and the `universe` (every matured name), the spreads `top_minus_universe`
        and `top_minus_bottom`, and the number of `names`; dates where the top or bottom bucket
        is empty are left out. Returns are per `horizon` sessions, not annualized.

        Summary keys: `top_return`, `bottom_return`, `universe_return`, `top_minus_universe`,
        `top_minus_bottom` (means over dates), `hit_rate` (share of dates on which the top
        bucket beat the universe mean), `n_dates` and `quantile`. NaN without any date.
        """
        buckets = round(1 / quantile)
        if not 0 < quantile <= 0.5 or not np.isclose(buckets * quantile, 1.0):
            raise ValueError(f"quantile must be 1/k for a whole k >= 2, got {quantile!r}")
        pairs = _matured(signals, forward_returns)
        means = quintile_returns(pairs["signal"], pairs["forward_return"], quantiles=buckets)
        by_date = pairs["forward_return"].groupby(level="date")
        daily = pd.DataFrame({"top": means[buckets], "bottom": means[1]}).assign(
            universe=by_date.mean(), names=by_date.size()
        )
        daily = daily.dropna(subset=["top", "bottom"])
        daily["top_minus_universe"] = daily["top"] - daily["universe"]
        daily["top_minus_bottom"] = daily["top"] - daily["bottom"]
        daily = daily[TOP_QUANTILE_COLUMNS]
        n = len(daily)
        summary = {
            "top_return": _mean(daily["top"]),
            "bottom_return": _mean(daily["bottom"]),
            "universe_return": _mean(daily["universe"]),
            "top_minus_universe": _mean(daily["top_minus_universe"]),
            "top_minus_bottom": _mean(daily["top_minus_bottom"]),
            "hit_rate": float((daily["top_minus_universe"] > 0).mean()) if n else NAN,
            "n_dates": n,
            "quantile": float(quantile),
        }
        return summary, daily

    def detect_model_drift(
        self, ic_series: pd.Series, window: int | None = None, threshold: float | None = None
    ) -> DriftCheck:
        """Has the rolling mean of a daily IC series fallen below the threshold, and since when?

        `window` defaults to `drift_window`, `threshold` to `ic_alert_threshold` (`DriftCheck`).
        """
        window = self.drift_window if window is None else window
        threshold = self.ic_alert_threshold if threshold is None else threshold
        if window < 1:
            raise ValueError(f"window must be a positive number of sessions, got {window!r}")
        values = ic_series.dropna().sort_index()
        rolling = values.rolling(window).mean().dropna()
        below = rolling < threshold
        drift = bool(len(below) and below.iloc[-1])
        # length of the trailing run of True values in `below`
        stretch = int(below[::-1].cumprod().sum()) if drift else 0
        return DriftCheck(
            window=window,
            threshold=float(threshold),
            sessions=len(values),
            rolling_ic=float(rolling.iloc[-1]) if len(rolling) else NAN,
            days_below=int((values.iloc[-window:] < threshold).sum()),
            drift=drift,
            since=rolling.index[-stretch] if drift else None,
            drift_sessions=stretch,
        )

    def check_regime_performance(
        self,
        returns: pd.Series,
        regimes: pd.Series,
        cash_rate: float = 0.0,
        periods_per_year: int = 252,
    ) -> pd.DataFrame:
        """Per regime: avg daily return, annualized Sharpe, win rate and days of a return series.

        `returns` (daily, simple) and `regimes` are indexed by date; regimes may be codes (0, 1,
        2), labels ("Risk-Off") or keys ("risk_off"). The frame is that of
        `backtest.metrics.regime_performance`: rows by code, columns regime, avg_return, sharpe,
        win_rate, days; a regime never seen has 0 days and NaN figures.
        """
        codes = regimes.map(lambda value: REGIME_CODES.get(value, value))
        unknown = set(codes.dropna()) - set(LABELS)
        if unknown:
            raise ValueError(f"unknown regime values {sorted(map(str, unknown))}")
        return regime_performance(returns, codes, cash_rate, periods_per_year)

    def report(
        self,
        track_record: pd.Series,
        model_ic: pd.Series,
        rows_today: pd.DataFrame,
        published: pd.Series | None = None,
        model_scores: pd.Series | None = None,
        forward_returns: pd.Series | None = None,
    ) -> tuple[MonitoringReport, pd.Series]:
        """Monitoring figures and the daily IC series they were computed from.

        `track_record` and `model_ic` are daily rank IC series (from `ic`). With the scores
        behind them (`published`, `model_scores`) and `forward_returns`, the report adds the
        pooled IC and top-quantile figures of the chosen source's scores on the dates of its IC
        series; `drift` is always computed on the chosen series.
        """
        track = ic_summary(track_record, overlap=self.horizon)
        model = ic_summary(model_ic, overlap=self.horizon)
        if track["days"] >= self.min_sessions:
            source, series, summary, scores = TRACK_RECORD, track_record, track, published
        elif model["days"] >= self.min_sessions:
            source, series, summary, scores = MODEL_SINCE_CUTOFF, model_ic, model, model_scores
        else:
            source, series, summary, scores = None, pd.Series(dtype="float64"), None, None
        notes = []
        if source is None:
            notes.append(
                f"live IC needs {self.min_sessions} sessions with realized returns: the published "
                f"signals have {track['days']}, the current model since its cutoff {model['days']}"
            )
        alert = summary is not None and summary["mean"] < self.ic_alert_threshold
        if summary is not None and alert:
            notes.append(
                f"live rank IC {summary['mean']:.4f} ({source}) is below the alert threshold "
                f"{self.ic_alert_threshold:.4f}"
            )
        drift = self.detect_model_drift(series)
        if drift.drift:
            notes.append(
                f"model drift: the {drift.window}-session rank IC {drift.rolling_ic:.4f} "
                f"({source}) has been below {drift.threshold:.4f} since "
                f"{drift.since:%Y-%m-%d}; {drift.days_below} of the last "
                f"{drift.window} sessions were below"
            )
        signal_ic, top_quantile = None, None
        if scores is not None and forward_returns is not None:
            dated = scores[scores.index.get_level_values("date").isin(series.index)]
            signal_ic = self.calculate_information_coefficient(dated, forward_returns)
            top_quantile, _ = self.calculate_top_quantile_performance(dated, forward_returns)
        coverage = float(rows_today.notna().all(axis=1).mean()) if len(rows_today) else 0.0
        report = MonitoringReport(
            live_ic=summary["mean"] if summary else None,
            live_ic_sessions=int(summary["days"]) if summary else 0,
            live_ic_source=source,
            track_record_ic=track,
            model_ic_since_cutoff=model,
            ic_alert=alert,
            drift=drift,
            signal_ic=signal_ic,
            top_quantile=top_quantile,
            feature_coverage=coverage,
            notes=notes,
        )
        return report, series


def _matured(signals: pd.Series, forward_returns: pd.Series) -> pd.DataFrame:
    """(signal, forward_return) pairs indexed by (date, symbol) where both are known."""
    joined = pd.DataFrame({"signal": signals, "forward_return": forward_returns}).dropna()
    if joined.empty:  # no pairs: keep the (date, symbol) shape the per-date metrics group by
        joined.index = pd.MultiIndex.from_arrays([[], []], names=["date", "symbol"])
    return joined.astype("float64")


def _pooled(correlation, pairs: pd.DataFrame) -> tuple[float, float]:
    """Statistic and two-sided p-value of a correlation test; NaN when undefined."""
    x, y = pairs["signal"].to_numpy(), pairs["forward_return"].to_numpy()
    if len(pairs) < MIN_POOLED_PAIRS or np.ptp(x) == 0 or np.ptp(y) == 0:
        return NAN, NAN
    return correlation(x, y)


def _pearson(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Pearson r and its two-sided p-value, computed as scipy.stats.pearsonr computes them.

    Under independence r is Beta(n/2 - 1, n/2 - 1) on (-1, 1), so the p-value is the beta tail
    beyond |r|. Inputs: at least 3 pairs, neither side constant (`_pooled` checks).
    """
    from scipy.special import betaincc  # only when a p-value is due: see ml.metrics.t_test_pvalue

    xm, ym = x - x.mean(), y - y.mean()
    xmax, ymax = np.abs(xm).max(), np.abs(ym).max()  # scaled norms cannot overflow
    normxm = xmax * np.linalg.norm(xm / xmax, axis=-1)
    normym = ymax * np.linalg.norm(ym / ymax, axis=-1)
    r = float(np.clip(np.vecdot(xm / normxm, ym / normym), -1.0, 1.0))
    half = len(x) / 2 - 1
    return r, float(2 * betaincc(half, half, (abs(r) + 1) / 2))


def _spearman(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Spearman rho and its two-sided p-value, computed as scipy.stats.spearmanr computes them:
    the Pearson correlation of average ranks, tested with a Student t of n - 2 degrees of freedom.
    """
    ranks = pd.DataFrame({"x": x, "y": y}).rank(method="average").to_numpy()
    rho = np.corrcoef(ranks, rowvar=False)[1, 0]
    dof = len(x) - 2
    with np.errstate(divide="ignore"):  # rho = +-1: t is infinite, the p-value 0
        t = rho * np.sqrt(np.clip(dof / ((rho + 1.0) * (1.0 - rho)), 0.0, None))
    return float(rho), t_test_pvalue(t, dof)


def _mean(values: pd.Series) -> float:
    """Mean as a plain float, NaN when empty."""
    return float(values.mean()) if len(values) else NAN
