"""The daily report's monitoring and model sections as view models, in words a reader says.

- `monitoring_view`: the live IC (or why it is not known yet), the monitor's other figures and
  notes, and the drift check (`drift_view`), from the `MonitoringReport` of `OpsMonitor.report`.
- `model_view`: the model's name, training cutoff, feature count and provenance (`ModelInfo`).
- `words`, `worded`, `in_words`: a recorded key as a phrase ("cv_ic" -> "CV IC") and its value in
  words (Yes/No, ISO dates, shares as percentages), never a raw key, boolean or `nan`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pandas as pd

from trading_core.live.monitoring_report import DriftCheck, MonitoringReport
from trading_core.ml.model_info import ModelInfo
from trading_core.reporting.daily_tables import Item, sign_css
from trading_core.reporting.formatting import DASH, finite_number, percent, plain_text

MODEL_PROVENANCE = ("train_start", "data_source", "seed")  # the record's keys the page lists
# Words for the monitoring and model keys a run records; other keys are spelled out by `words`.
KEY_WORDS = {
    "live_ic_source": "Live IC measured on",
    "ic_alert": "Live IC below the alert threshold",
    "ic_drift": "Rolling IC below the drift threshold",
    "feature_coverage": "Symbols with every feature today",
    "train_start": "Training data from",
    "data_source": "Data source",
    "seed": "Random seed",
}
_PERCENT_KEYS = {"feature_coverage"}
_ACRONYMS = {"ic": "IC", "cv": "CV", "id": "ID", "ml": "ML"}
NO_LIVE_IC = (
    "The live IC needs sessions whose next-day returns are known; there are not enough of them yet."
)


@dataclass(frozen=True)
class DriftView:
    """The rolling IC the drift check read, its threshold, and the state in words."""

    label: str
    value: str
    threshold: str
    state: str
    css: str


@dataclass(frozen=True)
class MonitoringView:
    """The live IC headline and the monitor's other scalar figures and notes."""

    ic: str
    ic_css: str
    sub: str
    reason: str
    notes: list[str]
    extra: list[Item]
    drift: DriftView


@dataclass(frozen=True)
class ModelView:
    """The model section: name, cutoff, feature count and the provenance listed."""

    name: str
    trained_through: str
    features: str
    metadata: list[Item] = field(default_factory=list)


def monitoring_view(monitoring: MonitoringReport) -> MonitoringView:
    """The live IC (or why it is unknown), other scalar figures in words, notes and drift."""
    ic = finite_number(monitoring.live_ic)
    sessions_text = f"{monitoring.live_ic_sessions:,}"
    if ic is not None:
        headline = f"{ic:+.3f}"
        sub = f"rank IC of the live model over {sessions_text} sessions"
    else:
        headline = "not known yet"
        sub = f"{sessions_text} live sessions with realised returns"
    figures = {  # the scalar figures not shown in their own places, by their recorded keys
        "live_ic_source": monitoring.live_ic_source,
        "ic_alert": monitoring.ic_alert,
        "ic_drift": monitoring.ic_drift,
        "feature_coverage": monitoring.feature_coverage,
    }
    extra = [
        Item(words(key), worded(key, value)) for key, value in figures.items() if value is not None
    ]
    return MonitoringView(
        ic=headline,
        ic_css="" if ic is None else sign_css(ic),
        sub=sub,
        reason="" if ic is not None else NO_LIVE_IC,
        notes=list(monitoring.notes),
        extra=extra,
        drift=drift_view(monitoring.drift),
    )


def drift_view(drift: DriftCheck) -> DriftView:
    """The rolling IC the drift check read, its threshold and since when it has been below."""
    window_text = f"{drift.window:,}-session"
    threshold = finite_number(drift.threshold)
    rolling = finite_number(drift.rolling_ic)
    if rolling is None:
        state = f"not judged yet: needs {drift.window:,} daily ICs, has {drift.sessions:,}"
        css = ""
    elif drift.drift:
        since = f" since {drift.since:%Y-%m-%d}" if drift.since is not None else ""
        state = "DRIFT: below the threshold" + since
        css = "neg"
    else:
        state = "at or above the threshold"
        css = "pos"
    return DriftView(
        label=f"{window_text} mean IC",
        value=DASH if rolling is None else f"{rolling:+.3f}",
        threshold=DASH if threshold is None else f"{threshold:+.3f}",
        state=state,
        css=css,
    )


def model_view(info: ModelInfo) -> ModelView:
    """Name, training cutoff, feature count and the provenance of `MODEL_PROVENANCE`."""
    return ModelView(
        name=plain_text(info.name),
        trained_through=f"{info.trained_through:%Y-%m-%d}",
        features=f"{len(info.features):,}",
        metadata=[Item(words(k), worded(k, info.metadata.get(k))) for k in MODEL_PROVENANCE],
    )


def words(key: object) -> str:
    """A key as a reader says it: `KEY_WORDS`, else snake_case spelled out ("cv_ic" -> "CV IC")."""
    text = str(key)
    if text in KEY_WORDS:
        return KEY_WORDS[text]
    phrase = " ".join(_ACRONYMS.get(word.lower(), word) for word in text.split("_") if word)
    return phrase[:1].upper() + phrase[1:] if phrase else DASH


def worded(key: object, value: object) -> str:
    """The value of a listed key: a share as a percentage, anything else as `in_words` shows it."""
    if key in _PERCENT_KEYS:
        return percent(finite_number(value), 1)
    return in_words(value)


def in_words(value: object) -> str:
    """A value in words: Yes/No for booleans, ISO dates, floats to 6 significant digits."""
    if isinstance(value, (bool, np.bool_)):
        return "Yes" if value else "No"
    if isinstance(value, (date, pd.Timestamp)):
        return value.isoformat()[:10] if _is_midnight(value) else str(value)
    if isinstance(value, float):
        return f"{value:,.6g}" if math.isfinite(value) else str(value)
    return plain_text(value)


def _is_midnight(value: date | pd.Timestamp) -> bool:
    stamp = pd.Timestamp(value)
    return stamp == stamp.normalize()
