"""Output helpers: strict JSON that any parser reads, the same bytes for the same payload."""

from __future__ import annotations

import json
import math

import numpy as np

from trading_core.io import to_json


def test_non_finite_numbers_are_written_as_null_at_any_depth():
    payload = {"ic": float("nan"), "runs": [1.0, np.float64("inf"), {"sharpe": -math.inf}]}

    text = to_json(payload)

    assert json.loads(text, parse_constant=lambda c: (_ for _ in ()).throw(ValueError(c))) == {
        "ic": None,
        "runs": [1.0, None, {"sharpe": None}],
    }


def test_the_same_payload_gives_the_same_bytes_with_sorted_keys():
    assert (
        to_json({"b": 1, "a": [0.5]})
        == to_json({"a": [0.5], "b": 1})
        == ('{\n  "a": [\n    0.5\n  ],\n  "b": 1\n}\n')
    )
