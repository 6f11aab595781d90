"""Scorer: the one role every model plays in the daily run, scoring rows of features.

A structural Protocol, so the models need not inherit from it: a fitted `TrainedModel`, an
`EnsembleModel` of them (`trading_core.ml.train`), a `RegisteredModel` loaded from the registry and
each of its `LoadedMember`s (`trading_core.ml.registry`) all satisfy it. The daily run types its
model with it and never asks which of them it holds.
"""

from __future__ import annotations

from typing import Protocol

import pandas as pd


class Scorer(Protocol):
    """Scores (date, symbol) rows of features: higher means a higher expected return."""

    @property
    def name(self) -> str:
        """The model's name as reports and the ledger show it."""
        ...

    def predict(self, rows: pd.DataFrame) -> pd.Series:
        """One score per row of `rows` (index: date, symbol), named `score`."""
        ...
