"""The home directory: where everything alphapilot writes lives (docs/index.md, "The one picture")."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path


@dataclass(frozen=True)
class Home:
    """Paths under one home directory."""

    root: Path

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def candidates(self) -> Path:
        return self.root / "models" / "candidates"

    @property
    def production(self) -> Path:
        return self.root / "production"

    @property
    def live(self) -> Path:
        return self.root / "live"

    @property
    def positions_file(self) -> Path:
        return self.live / "current_positions.csv"

    @property
    def cache(self) -> Path:
        """Cached task results (data fetches, feature builds): safe to delete at any time."""
        return self.root / "cache"

    @property
    def log_file(self) -> Path:
        """The command line's log: every run's log lines with full tracebacks (rotated)."""
        return self.root / "logs" / "alphapilot.log"

    @property
    def selection_reports(self) -> Path:
        return self.root / "reports" / "model_selection"

    def day(self, session: date) -> Path:
        """The folder of one daily run's outputs."""
        return self.live / f"{session:%Y-%m-%d}"
