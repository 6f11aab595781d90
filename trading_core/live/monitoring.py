"""OpsMonitor: is the model still healthy? Live rank IC since its training cutoff, and data coverage.

Live IC uses only dates after the model's last training label date, whose forward returns are known
by the run date, so it measures the model on data it never saw.
"""

from __future__ import annotations

import pandas as pd

from trading_core.ml.dataset import Dataset
from trading_core.ml.metrics import daily_ic, ic_summary


class OpsMonitor:
    """Computes the run's health figures from the research dataset and the model's scores."""

    def __init__(
        self, ic_lookback_days: int = 60, ic_alert_threshold: float = 0.0, min_sessions: int = 20
    ) -> None:
        self.ic_lookback_days = ic_lookback_days
        self.ic_alert_threshold = ic_alert_threshold
        self.min_sessions = min_sessions

    def live_ic(
        self, scores: pd.Series, dataset: Dataset, trained_through: pd.Timestamp
    ) -> pd.Series:
        """Daily rank IC of `scores` on labeled dates after `trained_through`, last N sessions."""
        labels = dataset.labels[dataset.labels.index.get_level_values("date") > trained_through]
        ic = daily_ic(scores, labels, rank=True)
        return ic.iloc[-self.ic_lookback_days :]

    def report(self, ic: pd.Series, rows_today: pd.DataFrame) -> dict:
        """Monitoring figures: live IC summary with an alert flag, and feature coverage today."""
        summary = ic_summary(ic)
        enough = summary["days"] >= self.min_sessions
        coverage = float(rows_today.notna().all(axis=1).mean()) if len(rows_today) else 0.0
        notes = []
        if not enough:
            notes.append(
                f"live IC needs {self.min_sessions} labeled sessions after the model's training "
                f"cutoff; {summary['days']} available"
            )
        alert = bool(enough and summary["mean"] < self.ic_alert_threshold)
        if alert:
            notes.append(
                f"live rank IC {summary['mean']:.4f} is below the alert threshold "
                f"{self.ic_alert_threshold:.4f}"
            )
        return {
            "live_ic": summary["mean"] if enough else None,
            "live_ic_sessions": summary["days"],
            "live_ic_summary": summary,
            "ic_alert": alert,
            "feature_coverage": coverage,
            "notes": notes,
        }
