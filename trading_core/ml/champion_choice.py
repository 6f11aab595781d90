"""Which model a daily run scores with, and why: the champion, a candidate, or a fit on the spot.

The promoted production model scores when its training labels end before the session (always
outside a replay). Without a production model, the latest training run's best candidate (test
rank IC) known by then stands in; without one, a LightGBM is fitted on the spot. When the
production model has seen the replayed period, a fit on the spot replaces it (never a candidate).
Every fallback carries the warning the report shows (`ModelChoice.warning`).

Pure: the caller reads the registry records and loads or fits the model chosen.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, Literal

import pandas as pd

NO_PRODUCTION_MODEL = (
    "no production model yet: a LightGBM was trained on the spot for this run and not "
    "promoted (run `alphapilot select`)"
)


@dataclass(frozen=True)
class ModelChoice:
    """The model to score with: `source` champion | candidate | fit, the candidate's `folder`,
    and the `warning` a fallback reports (None for the champion)."""

    source: Literal["champion", "candidate", "fit"]
    folder: Path | None = None
    warning: str | None = None


def known_before(trained_through: str, session: date | None) -> bool:
    """Whether labels through `trained_through` end before `session` (always, without one)."""
    return session is None or pd.Timestamp(trained_through) < pd.Timestamp(session)


def latest_candidate(
    records: Iterable[tuple[Path, Mapping[str, Any]]], session: date | None = None
) -> Path | None:
    """The folder of the best candidate (test rank IC) of the latest training run known before
    `session`, among (folder, metadata) `records`; an undefined rank IC ranks last."""
    found = []
    for folder, meta in records:
        if known_before(meta["trained_through"], session):
            rank_ic = meta.get("test_metrics", {}).get("rank_ic")
            score = rank_ic if rank_ic is not None and rank_ic == rank_ic else float("-inf")
            found.append((meta["trained_through"], score, folder))
    return max(found, key=lambda item: item[:2])[2] if found else None


def candidate_warning(metadata: Mapping[str, Any]) -> str:
    """Why a candidate scores: no production model yet (the candidate's registry `metadata`)."""
    return (
        f"no production model yet: scoring with candidate {metadata['model_name']} (trained "
        f"through {metadata['trained_through']}, the latest training run's best test rank IC), "
        "not promoted (run `alphapilot select`)"
    )


def choose_model(
    champion: Mapping[str, Any] | None,
    candidates: Iterable[tuple[Path, Mapping[str, Any]]],
    session: date | None = None,
) -> ModelChoice:
    """The model a run on `session` scores with, from the production model's registry record
    (`champion`, None when none is promoted) and the candidates' (folder, metadata) records.

    `candidates` are read only without a champion. With `session` (a replay), a model whose
    training labels reach `session` or later has seen the replayed period and is not used.
    """
    if champion is not None:
        trained_through = champion["trained_through"]
        if known_before(trained_through, session):
            return ModelChoice("champion")
        return ModelChoice(
            "fit",
            warning=(
                f"the production model was trained through {trained_through}, after {session}: "
                "a LightGBM was trained on the spot on the labels known by then, so the replay "
                "never scores with a model that saw its future"
            ),
        )
    candidates = list(candidates)
    folder = latest_candidate(candidates, session)
    if folder is None:
        return ModelChoice("fit", warning=NO_PRODUCTION_MODEL)
    metadata = next(meta for path, meta in candidates if path == folder)
    return ModelChoice("candidate", folder, candidate_warning(metadata))
