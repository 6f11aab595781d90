"""The production folder: promotion archives the old champion; rollback restores it byte for byte."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from trading_core.errors import ModelError
from trading_core.ml.registry import load_model
from trading_core.ml.train import ModelTrainer
from trading_core.selection.production import CHAMPION_METADATA, ProductionStore

LIGHT = {"n_estimators": 8, "num_leaves": 4, "min_child_samples": 5, "learning_rate": 0.3}


def snapshot(folder: Path) -> dict[str, bytes]:
    """The champion's files (metadata and members) with their bytes; history left out."""
    return {
        p.name: p.read_bytes()
        for p in sorted(folder.iterdir())
        if p.is_file() and not p.name.startswith(".")
    }


def champion_files(folder: Path) -> dict[str, bytes]:
    """Only the files the current metadata names, and the metadata itself."""
    meta = load_model(folder, CHAMPION_METADATA).metadata
    names = [m["file"] for m in meta["members"]] + [CHAMPION_METADATA]
    return {name: (folder / name).read_bytes() for name in names}


@pytest.fixture(scope="module")
def models():
    """Two different small LightGBM models (different seeds and data)."""
    rng = np.random.default_rng(0)
    index = pd.MultiIndex.from_product(
        [pd.bdate_range("2020-01-01", periods=40), [f"S{i}" for i in range(10)]],
        names=["date", "symbol"],
    )
    rows = pd.DataFrame(rng.normal(size=(len(index), 3)), index=index, columns=["a", "b", "c"])
    labels = pd.Series(rows["a"] + rng.normal(size=len(index)), index=index)
    trainer = ModelTrainer(lightgbm=LIGHT, xgboost={}, random_forest={}, seed=1, n_jobs=1)
    first = trainer.fit("lightgbm", rows, labels)
    second = ModelTrainer(lightgbm=LIGHT, xgboost={}, random_forest={}, seed=2, n_jobs=1).fit(
        "lightgbm", rows * 2, labels
    )
    return first, second


def test_promotion_archives_the_champion_and_rollback_restores_its_bytes_exactly(models, tmp_path):
    store = ProductionStore(tmp_path / "production")
    first, second = models
    store.promote(first, {"optimizer": "hrp", "selected_on": "2026-11-21"})
    before = champion_files(store.folder)

    store.promote(second, {"optimizer": "max_sharpe", "selected_on": "2026-11-28"})
    assert store.metadata()["optimizer"] == "max_sharpe"
    assert champion_files(store.folder) != before
    assert [h["optimizer"] for h in store.history()] == ["hrp"]

    restored = store.rollback()

    assert restored["optimizer"] == "hrp"
    assert champion_files(store.folder) == before
    assert store.history() == []  # the demoted champion is archived but not restorable
    demoted = [p for p in store.history_folder.iterdir() if p.name.endswith(".rolled-back")]
    assert len(demoted) == 1
    assert load_model(demoted[0], CHAMPION_METADATA).metadata["optimizer"] == "max_sharpe"
    assert load_model(store.folder, CHAMPION_METADATA).name == "lightgbm"


def test_rollback_without_an_earlier_champion_is_refused_and_changes_nothing(models, tmp_path):
    store = ProductionStore(tmp_path / "production")
    with pytest.raises(ModelError, match="no earlier champion"):
        store.rollback()
    store.promote(models[0], {"optimizer": "hrp"})
    before = snapshot(store.folder)
    with pytest.raises(ModelError, match="no earlier champion"):
        store.rollback()
    assert snapshot(store.folder) == before


def test_a_crash_while_promoting_leaves_the_old_champion_loadable(models, tmp_path, monkeypatch):
    import trading_core.ml.registry as registry

    store = ProductionStore(tmp_path / "production")
    store.promote(models[0], {"optimizer": "hrp"})
    before = champion_files(store.folder)
    real = registry.atomic_write_bytes

    def crash_on_metadata(path, payload):
        if path.name == CHAMPION_METADATA:
            raise KeyboardInterrupt("killed while writing the metadata")
        real(path, payload)

    monkeypatch.setattr(registry, "atomic_write_bytes", crash_on_metadata)
    with pytest.raises(KeyboardInterrupt):
        store.promote(models[1], {"optimizer": "max_sharpe"})
    monkeypatch.undo()

    assert champion_files(store.folder) == before
    assert load_model(store.folder, CHAMPION_METADATA).metadata["optimizer"] == "hrp"
    assert [h["optimizer"] for h in store.history()] == ["hrp"]  # archived before the write
