"""The production folder: the champion in native formats, its history, promotion and rollback.

`<home>/production/champion_metadata.json` names the champion's member files with their SHA-256
(see `trading_core.ml.registry`). Promoting first archives the current champion, complete, in
`history/<stamp>/` (written to a staging folder and renamed), then writes the new member files and
the metadata last, atomically: a crash at any point leaves a loadable champion. Rolling back
restores the newest archived champion byte for byte and archives the demoted one as
`history/<stamp>.rolled-back/`, which later rollbacks skip.
"""

from __future__ import annotations

import shutil
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from trading_core.errors import ModelError
from trading_core.faults import crash_point
from trading_core.io import atomic_write_bytes
from trading_core.ml.registry import member_files, read_metadata, save_model
from trading_core.ml.train import EnsembleModel, TrainedModel

CHAMPION_METADATA = "champion_metadata.json"
ROLLED_BACK = ".rolled-back"


class ProductionStore:
    """The champion under `folder` and the archive of the champions it replaced."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self.history_folder = self.folder / "history"

    @property
    def metadata_path(self) -> Path:
        return self.folder / CHAMPION_METADATA

    def has_champion(self) -> bool:
        return self.metadata_path.exists()

    def metadata(self) -> dict[str, Any]:
        """The champion's record; ModelError when there is none or it is unreadable."""
        return read_metadata(self.metadata_path)

    def promote(self, model: TrainedModel | EnsembleModel, metadata: dict[str, Any]) -> Path:
        """Archive the current champion, then make `model` the champion; the metadata path."""
        if self.has_champion():
            self._archive(self.folder, self._stamp())
            crash_point("production:archived")
        return save_model(
            model, self.folder, metadata, prefix="champion-", metadata_name=CHAMPION_METADATA
        )

    def history(self) -> list[dict[str, Any]]:
        """Archived champions that can be restored, newest first (stamp, model, optimizer)."""
        entries = []
        for folder in sorted(self._restorable(), reverse=True):
            meta = read_metadata(folder / CHAMPION_METADATA)
            entries.append(
                {
                    "stamp": folder.name,
                    "model": meta.get("model_name"),
                    "optimizer": meta.get("optimizer"),
                    "selected_on": meta.get("selected_on"),
                }
            )
        return entries

    def rollback(self) -> dict[str, Any]:
        """Restore the newest archived champion byte for byte; returns its metadata."""
        restorable = sorted(self._restorable())
        if not restorable:
            raise ModelError(f"no earlier champion in {self.history_folder} to roll back to")
        previous = restorable[-1]
        if self.has_champion():
            self._archive(self.folder, f"{self._stamp()}{ROLLED_BACK}")
        meta = read_metadata(previous / CHAMPION_METADATA)
        for file in _files(meta):  # member files first, the metadata last
            atomic_write_bytes(self.folder / file, (previous / file).read_bytes())
        atomic_write_bytes(self.metadata_path, (previous / CHAMPION_METADATA).read_bytes())
        shutil.rmtree(previous)
        return self.metadata()

    def _restorable(self) -> list[Path]:
        if not self.history_folder.exists():
            return []
        return [
            p
            for p in self.history_folder.iterdir()
            if p.is_dir()
            and not p.name.startswith(".")
            and not p.name.endswith(ROLLED_BACK)
            and (p / CHAMPION_METADATA).exists()
        ]

    def _archive(self, source: Path, name: str) -> Path:
        """Copy the champion in `source` (metadata and members) to history/`name`, atomically."""
        meta = read_metadata(source / CHAMPION_METADATA)
        self.history_folder.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(dir=self.history_folder, prefix=f".{name}."))
        try:
            for file in _files(meta):
                shutil.copy2(source / file, staging / file)
            shutil.copy2(source / CHAMPION_METADATA, staging / CHAMPION_METADATA)
            staging.chmod(0o755)
            target = self.history_folder / name
            staging.rename(target)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        return target

    def _stamp(self) -> str:
        """A sortable, unique archive name (UTC time to the microsecond)."""
        return datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")


def _files(metadata: dict[str, Any]) -> list[str]:
    """Every member file a champion's metadata names (native models and their checkpoints)."""
    return [name for member in metadata["members"] for name in member_files(member)]
