"""The daily command's start-up: what it imports before its first step runs.

Every second of imports is paid by every daily run, a market-closed day included, so libraries
that only some runs need are imported where they are used: matplotlib by the first chart drawn,
scipy.special by the first p-value due (and scipy.stats not at all). A LightGBM or random-forest
champion scores through its Treelite checkpoint, without importing LightGBM or scikit-learn (about
a second, most of it scipy.stats that LightGBM's scikit-learn API imports).
"""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pandas as pd

from trading_core.ml.registry import save_model
from trading_core.ml.train import ModelTrainer

DEFERRED = ("scipy", "matplotlib")


def test_importing_the_daily_command_leaves_scipy_and_matplotlib_for_later():
    script = (
        "import sys, app.cli, flows.daily_live; "
        f"print(sorted({{m.split('.')[0] for m in sys.modules}} & set({DEFERRED!r})))"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split("\n")[-2] == "[]"


def test_scoring_a_saved_lightgbm_champion_imports_neither_lightgbm_nor_scikit_learn(tmp_path):
    rng = np.random.default_rng(3)
    index = pd.MultiIndex.from_product(
        [pd.bdate_range("2024-01-01", periods=60), [f"S{i}" for i in range(20)]],
        names=["date", "symbol"],
    )
    rows = pd.DataFrame(rng.normal(size=(len(index), 3)), index=index, columns=["a", "b", "c"])
    labels = pd.Series(rows["a"] + rng.normal(size=len(index)), index=index)
    trainer = ModelTrainer(lightgbm={"n_estimators": 20}, xgboost={}, random_forest={}, seed=1)
    model = trainer.fit("lightgbm", rows, labels)
    save_model(model, tmp_path, {})
    rows.to_parquet(tmp_path / "rows.parquet")
    script = (
        "import sys, pandas as pd; from trading_core.ml.registry import load_model; "
        f"rows = pd.read_parquet({str(tmp_path / 'rows.parquet')!r}); "
        f"load_model(__import__('pathlib').Path({str(tmp_path)!r})).predict(rows)"
        ".to_frame().to_parquet(sys.argv[1]); "
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'lightgbm', 'sklearn'}))"
    )
    scores = tmp_path / "scores.parquet"
    done = subprocess.run(
        [sys.executable, "-c", script, str(scores)], capture_output=True, text=True
    )

    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split("\n")[-2] == "[]"
    assert np.array_equal(pd.read_parquet(scores)["score"], model.predict(rows).to_numpy())
