"""A research dataset saved as one Arrow IPC file: what the feature cache keeps on disk.

Arrow's uncompressed IPC ("Feather v2") format is written and memory-mapped at disk speed and
restores every column's dtype exactly; pickling the dataset into Prefect's JSON result record
instead cost 46 s and took memory from 3.1 to 14 GiB at 3,000 stocks x 10 years. The (date,
symbol) index is stored as its codes and levels (dictionary arrays), so loading it back does not
rebuild millions of strings.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from trading_core.io import named_in_errors
from trading_core.ml.dataset import Dataset

METADATA_KEY = b"alphapilot.dataset"
LABEL, FORWARD = "__label__", "__forward_return__"


def save_dataset(dataset: Dataset, path: Path) -> None:
    """Write `dataset` to `path` through a temporary file and an atomic rename (an OSError names
    `path`)."""
    with named_in_errors(path):
        _write(dataset, path)


def _write(dataset: Dataset, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        with pa.OSFile(tmp, "wb") as sink:
            batch = _batch(dataset)
            with pa.ipc.new_file(sink, batch.schema) as writer:
                writer.write_batch(batch)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def load_dataset(path: Path) -> Dataset:
    """The dataset `save_dataset` wrote to `path`, equal to it in values, dtypes and index."""
    with pa.memory_map(str(path)) as source:
        batch = pa.ipc.open_file(source).get_batch(0)
    meta = json.loads(batch.schema.metadata[METADATA_KEY])
    names = meta["index"]
    codes, levels = [], []
    for name, dtype in zip(names, meta["index_dtypes"], strict=True):
        column = batch.column(f"__index_{name}__")
        codes.append(column.indices.to_numpy())
        levels.append(pd.Index(column.dictionary.to_pandas(), name=name).astype(dtype))
    index = pd.MultiIndex(levels=levels, codes=codes, names=names, verify_integrity=False)
    rows = pd.DataFrame(
        {
            name: batch.column(f"__feature_{i}__").to_numpy()
            for i, name in enumerate(meta["columns"])
        },
        index=index,
    )
    rows.columns = pd.Index(meta["columns"], dtype=meta["columns_dtype"])
    return Dataset(
        rows=rows,
        labels=pd.Series(batch.column(LABEL).to_numpy(), index=index, name=meta["label_name"]),
        forward_returns=pd.Series(
            batch.column(FORWARD).to_numpy(), index=index, name=meta["forward_name"]
        ),
        horizon=meta["horizon"],
        execution=meta["execution"],
    )


def _batch(dataset: Dataset) -> pa.RecordBatch:
    """One record batch (even when empty): the (date, symbol) index as dictionaries, then
    every feature, the labels and the forward returns."""
    index = dataset.rows.index
    columns: dict[str, pa.Array] = {}
    for name, codes, level in zip(index.names, index.codes, index.levels, strict=True):
        columns[f"__index_{name}__"] = pa.DictionaryArray.from_arrays(
            pa.array(np.asarray(codes, dtype=np.int32)), pa.array(level.to_numpy())
        )
    for i, name in enumerate(dataset.rows.columns):
        columns[f"__feature_{i}__"] = pa.array(dataset.rows[name].to_numpy())
    columns[LABEL] = pa.array(dataset.labels.to_numpy())
    columns[FORWARD] = pa.array(dataset.forward_returns.to_numpy())
    meta = {
        "index": list(index.names),
        "index_dtypes": [str(level.dtype) for level in index.levels],
        "columns": list(dataset.rows.columns),
        "columns_dtype": str(dataset.rows.columns.dtype),
        "label_name": dataset.labels.name,
        "forward_name": dataset.forward_returns.name,
        "horizon": dataset.horizon,
        "execution": dataset.execution,
    }
    return pa.record_batch(columns, metadata={METADATA_KEY: json.dumps(meta).encode()})
