"""``transaction()`` groups operations: all of them land, or none (on every backend)."""

from __future__ import annotations

import pytest

from modelyard.core.artifacts import ArtifactType
from modelyard.store.metadata.store import MetadataStore


def test_grouped_writes_commit_together_and_read_their_own_writes(store: MetadataStore) -> None:
    run_id = store.create_run(pipeline="p")
    with store.transaction():
        execution_id = store.create_execution(
            run_id=run_id, step="s", component="c", params={}, code_fingerprint="f", cache_key="k", input_digests={}
        )
        artifact = store.put_artifact(ArtifactType.DATASET, "/d", "a" * 64)
        store.add_events(execution_id, outputs={"out": artifact.id})
        assert store.get_execution(execution_id).outputs["out"].id == artifact.id
    assert store.get_execution(execution_id).outputs["out"].digest == "a" * 64


def test_an_error_rolls_back_the_whole_group(store: MetadataStore) -> None:
    run_id = store.create_run(pipeline="p")
    with pytest.raises(RuntimeError), store.transaction():
        store.create_execution(
            run_id=run_id, step="s", component="c", params={}, code_fingerprint="f", cache_key="k2", input_digests={}
        )
        store.put_artifact(ArtifactType.DATASET, "/d", "b" * 64)
        raise RuntimeError("the runner died half-way")
    assert store.list_executions(run_id) == []
    assert store.find_artifacts_by_digest("b" * 64) == []
    assert store.find_cached_execution("k2") is None
