"""OpsMonitor: is the model still healthy? Live rank IC and today's feature coverage.

Two honest measures of live skill, both on forward returns that are known by the run date:
- the track record: the scores the daily runs actually published (signals.json), whatever model
  made them — the figure that matters to the account;
- the model since its training cutoff: the current model's scores on dates after its last training
  label, which exists even before there is a track record (for example right after a retrain).
The live IC shown is the track record when it has enough sessions, else the model's.
"""

from __future__ import annotations

import pandas as pd

from trading_core.ml.metrics import daily_ic, ic_summary

TRACK_RECORD = "published signals"
MODEL_SINCE_CUTOFF = "current model since its training cutoff"


class OpsMonitor:
    """Computes the run's health figures; alerts when live rank IC falls below a threshold."""

    def __init__(
        self, ic_lookback_days: int = 60, ic_alert_threshold: float = 0.0, min_sessions: int = 20
    ) -> None:
        self.ic_lookback_days = ic_lookback_days
        self.ic_alert_threshold = ic_alert_threshold
        self.min_sessions = min_sessions

    def ic(self, scores: pd.Series, labels: pd.Series) -> pd.Series:
        """Daily rank IC of `scores` against realized `labels` over the last lookback sessions."""
        if scores.empty:
            return pd.Series(dtype="float64", name="rank_ic")
        return daily_ic(scores, labels, rank=True).iloc[-self.ic_lookback_days :]

    def report(
        self, track_record: pd.Series, model_ic: pd.Series, rows_today: pd.DataFrame
    ) -> tuple[dict, pd.Series]:
        """Monitoring figures and the daily IC series they were computed from."""
        track, model = ic_summary(track_record), ic_summary(model_ic)
        if track["days"] >= self.min_sessions:
            source, series, summary = TRACK_RECORD, track_record, track
        elif model["days"] >= self.min_sessions:
            source, series, summary = MODEL_SINCE_CUTOFF, model_ic, model
        else:
            source, series, summary = None, pd.Series(dtype="float64"), None
        notes = []
        if source is None:
            notes.append(
                f"live IC needs {self.min_sessions} sessions with realized returns: the published "
                f"signals have {track['days']}, the current model since its cutoff {model['days']}"
            )
        alert = bool(summary and summary["mean"] < self.ic_alert_threshold)
        if alert:
            notes.append(
                f"live rank IC {summary['mean']:.4f} ({source}) is below the alert threshold "
                f"{self.ic_alert_threshold:.4f}"
            )
        coverage = float(rows_today.notna().all(axis=1).mean()) if len(rows_today) else 0.0
        report = {
            "live_ic": summary["mean"] if summary else None,
            "live_ic_sessions": summary["days"] if summary else 0,
            "live_ic_source": source,
            "track_record_ic": track,
            "model_ic_since_cutoff": model,
            "ic_alert": alert,
            "feature_coverage": coverage,
            "notes": notes,
        }
        return report, series
