"""Which candidates a training run tunes, trains (with which parameters) and combines.

The steps between which an orchestrator fans the work out, in order:
`base_candidates` (the single models to train), `tuning_plan` (those tuned first),
`training_calls` (each base candidate with its tuned parameters), `with_tuning` (the trained
results by name, each with its tuning record), `ensemble_inputs` (the members the ensemble
combines, when it is named) and `named_results` (the results in the order named).
Pure: the flow runs the tuning, training and combining tasks between these steps.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from trading_core.ml.research import CandidateResult

ENSEMBLE = "ensemble"
TUNED_SUFFIX = "_tuned"


def base_candidates(names: Sequence[str], ensemble_members: Sequence[str]) -> list[str]:
    """The single models to train: those named, plus the ensemble's members when it is named."""
    needed = [n for n in names if n != ENSEMBLE]
    if ENSEMBLE in names:
        needed += [m for m in ensemble_members if m not in needed]
    return needed


def tuning_plan(base: Sequence[str]) -> list[str]:
    """The base candidates to tune before training (their names end in `_tuned`), in order."""
    return [name for name in base if name.endswith(TUNED_SUFFIX)]


def training_calls(
    base: Sequence[str], tunings: Mapping[str, Mapping[str, Any]]
) -> list[tuple[str, dict[str, Any] | None]]:
    """(name, parameters) of each base candidate to train: a tuned one's best parameters, else
    None (the trainer's configured parameters)."""
    return [(n, tunings[n]["best_params"] if n in tunings else None) for n in base]


def with_tuning(
    base: Sequence[str],
    trained: Sequence[CandidateResult],
    tunings: Mapping[str, dict[str, Any]],
) -> dict[str, CandidateResult]:
    """The trained results (in the order of `base`) by name, each given its tuning record."""
    results: dict[str, CandidateResult] = {}
    for name, result in zip(base, trained, strict=True):
        result.tuning = tunings.get(name)
        results[name] = result
    return results


def ensemble_inputs(
    names: Sequence[str], ensemble_members: Sequence[str], results: Mapping[str, CandidateResult]
) -> list[CandidateResult]:
    """The trained members the ensemble combines, in configured order; none without it."""
    return [results[m] for m in ensemble_members] if ENSEMBLE in names else []


def named_results(
    names: Sequence[str],
    results: Mapping[str, CandidateResult],
    ensemble: CandidateResult | None = None,
) -> list[CandidateResult]:
    """Every named candidate's result in the order named, the ensemble's included."""
    every = {**results, **({ENSEMBLE: ensemble} if ensemble is not None else {})}
    return [every[n] for n in names]
