"""ModelInfo: what the daily run knows about the model that scored it, typed to the report.

Built where the model is loaded (`tasks.champion.load_champion`) from its registry record
(`trading_core.ml.registry`: `model_name`, `trained_through`, `features`, and whatever training and
promotion wrote beside them: provenance, optimizer, metrics, member files), with the warnings that
say why this model scores when it is not a promoted champion. The daily path reads its attributes;
`to_dict` gives the record back for the run's JSON files.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

import pandas as pd

NAMED = ("model_name", "trained_through", "features")  # record keys with a field of their own


@dataclass(frozen=True)
class ModelInfo:
    """The model's name, the date of its last training label, its features and its record."""

    name: str
    trained_through: date
    features: list[str]
    metadata: dict[str, Any] = field(default_factory=dict)  # the record's other keys
    warnings: list[str] = field(default_factory=list)  # why this model, when not the champion

    @classmethod
    def from_record(cls, record: dict[str, Any], warnings: list[str] | None = None) -> ModelInfo:
        """The info of a registry record (or a record in its shape, for a model fitted on the spot)."""
        return cls(
            name=str(record["model_name"]),
            trained_through=pd.Timestamp(record["trained_through"]).date(),
            features=list(record["features"]),
            metadata={k: v for k, v in record.items() if k not in NAMED},
            warnings=list(warnings or []),
        )

    @property
    def optimizer(self) -> str | None:
        """The portfolio optimizer selected with the model (a champion's), if any."""
        return self.metadata.get("optimizer")

    def to_dict(self) -> dict[str, Any]:
        """The record: the metadata with the name, cutoff (YYYY-MM-DD) and features."""
        return {
            **self.metadata,
            "model_name": self.name,
            "trained_through": f"{self.trained_through:%Y-%m-%d}",
            "features": list(self.features),
        }
