"""Prefect artifacts read back as the UI reads them: the latest version under a key."""

from __future__ import annotations

import json


def latest(key: str):
    """The latest artifact under `key`, as the Artifacts page lists it."""
    from prefect import get_client
    from prefect.client.schemas.filters import (
        ArtifactCollectionFilter,
        ArtifactCollectionFilterKey,
    )

    keyed = ArtifactCollectionFilter(key=ArtifactCollectionFilterKey(any_=[key]))
    with get_client(sync_client=True) as client:
        found = client.read_latest_artifacts(artifact_filter=keyed)
    assert len(found) == 1, f"no artifact keyed {key}"
    return found[0]


def table(key: str) -> list[dict[str, object]]:
    """The rows of the latest table artifact under `key`."""
    artifact = latest(key)
    assert artifact.type == "table"
    data = artifact.data
    return json.loads(data) if isinstance(data, str) else data
