"""The run's health figures as the monitor reports them (`live.monitoring.OpsMonitor.report`).

- `DriftCheck`: has the rolling daily IC fallen below the threshold, and since when;
- `MonitoringReport`: live IC and its source, both sources' IC summaries, the alert, the drift
  check, pooled IC, top quantile, feature coverage and notes.

Frozen and typed for the report and the alerts, which read attributes; `as_dict` is the record
in monitoring_log.json, in its order.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import pandas as pd


@dataclass(frozen=True)
class DriftCheck:
    """Has the rolling mean of a daily IC series fallen below the threshold, and since when?

    `rolling_ic` is the mean of the last `window` daily ICs (NaN with fewer than `window`);
    `days_below` how many of the last `window` daily ICs are below `threshold`; `drift` True when
    `rolling_ic` is below it; `since` the first date of the current unbroken stretch of dates on
    which the rolling mean was below (None without drift) and `drift_sessions` its length;
    `sessions` the daily ICs available.
    """

    window: int
    threshold: float
    sessions: int
    rolling_ic: float
    days_below: int
    drift: bool
    since: pd.Timestamp | None
    drift_sessions: int

    def as_dict(self) -> dict[str, object]:
        """The check as monitoring_log.json records it: `since` as YYYY-MM-DD."""
        return {**asdict(self), "since": _iso(self.since)}


@dataclass(frozen=True)
class MonitoringReport:
    """The run's health figures (`OpsMonitor.report`).

    `live_ic` is the mean daily rank IC of the chosen source (`live_ic_source`: published signals
    or the current model since its cutoff; None with neither having enough sessions) over
    `live_ic_sessions` sessions; `track_record_ic` and `model_ic_since_cutoff` are both sources'
    `ml.metrics.ic_summary`. `ic_alert`: the live IC is below the alert threshold. `signal_ic`
    (`calculate_information_coefficient`) and `top_quantile` (the summary of
    `calculate_top_quantile_performance`) are the chosen source's pooled figures, None without
    its scores. `feature_coverage` is the share of today's symbols with every feature.
    """

    live_ic: float | None
    live_ic_sessions: int
    live_ic_source: str | None
    track_record_ic: dict[str, float]
    model_ic_since_cutoff: dict[str, float]
    ic_alert: bool
    drift: DriftCheck
    signal_ic: dict[str, float] | None
    top_quantile: dict[str, float] | None
    feature_coverage: float
    notes: list[str]

    @property
    def ic_drift(self) -> bool:
        """The rolling IC is below the drift threshold."""
        return self.drift.drift

    def as_dict(self) -> dict[str, object]:
        """The figures as monitoring_log.json records them, in this order."""
        return {
            "live_ic": self.live_ic,
            "live_ic_sessions": self.live_ic_sessions,
            "live_ic_source": self.live_ic_source,
            "track_record_ic": self.track_record_ic,
            "model_ic_since_cutoff": self.model_ic_since_cutoff,
            "ic_alert": self.ic_alert,
            "ic_drift": self.ic_drift,
            "drift": self.drift.as_dict(),
            "signal_ic": self.signal_ic,
            "top_quantile": self.top_quantile,
            "feature_coverage": self.feature_coverage,
            "notes": self.notes,
        }


def _iso(day: pd.Timestamp | None) -> str | None:
    """A date as YYYY-MM-DD for the JSON log, None stays None."""
    return None if day is None else f"{day:%Y-%m-%d}"
