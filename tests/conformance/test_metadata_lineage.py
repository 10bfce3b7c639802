"""Metadata store conformance, part 2: artifacts, executions, events, cache lookups and lineage."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

import pytest

from modelyard.core.artifacts import ArtifactRef, ArtifactType
from modelyard.errors import NotFound, UsageError
from modelyard.store.metadata.store import MetadataStore


def digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def start(store: MetadataStore, run_id: str, step: str, *, cache_key: str | None = None, **kw: object) -> int:
    return store.create_execution(
        run_id=run_id,
        step=step,
        component=f"{step}_component",
        params={"step": step},
        code_fingerprint=f"code-{step}",
        cache_key=cache_key or f"key-{step}",
        input_digests={},
        **kw,  # type: ignore[arg-type]
    )


@dataclass
class Chain:
    """raw -> ingest -> dataset -> transform -> (train_data, transform) -> train -> model"""

    run_id: str
    raw: ArtifactRef
    dataset: ArtifactRef
    train_data: ArtifactRef
    fitted: ArtifactRef
    model: ArtifactRef
    ingest: int
    transform: int
    train: int


@pytest.fixture
def chain(store: MetadataStore) -> Chain:
    run_id = store.create_run(pipeline="penguins")
    put = store.put_artifact
    raw = put(ArtifactType.FILE, "file:///data/penguins.csv", digest("raw"))
    dataset = put(ArtifactType.DATASET, "file:///store/ds", digest("ds"), {"rows": 344})
    train_data = put(ArtifactType.DATASET, "file:///store/tds", digest("tds"))
    fitted = put(ArtifactType.TRANSFORM, "file:///store/tf", digest("tf"))
    model = put(ArtifactType.MODEL, "file:///store/model", digest("model"))
    ingest = start(store, run_id, "ingest")
    store.add_events(ingest, inputs={"source": raw.id}, outputs={"dataset": dataset.id})  # type: ignore[dict-item]
    store.finish_execution(ingest, "complete")
    transform = start(store, run_id, "transform")
    store.add_events(
        transform, inputs={"dataset": dataset.id}, outputs={"train": train_data.id, "transform": fitted.id}
    )  # type: ignore[dict-item]
    store.finish_execution(transform, "complete")
    train = start(store, run_id, "train")
    store.add_events(train, inputs={"train": train_data.id, "transform": fitted.id}, outputs={"model": model.id})  # type: ignore[dict-item]
    store.finish_execution(train, "complete")
    return Chain(run_id, raw, dataset, train_data, fitted, model, ingest, transform, train)


# -- artifacts ---------------------------------------------------------------------------------------


def test_put_artifact_is_idempotent(store: MetadataStore) -> None:
    first = store.put_artifact("dataset", "file:///a", digest("a"), {"rows": 3})
    again = store.put_artifact(ArtifactType.DATASET, "file:///a", digest("a").upper())
    assert again.id == first.id and again.properties == {"rows": 3}
    assert store.put_artifact("statistics", "file:///a", digest("a")).id != first.id
    assert store.put_artifact("dataset", "file:///elsewhere", digest("a")).id != first.id
    got = store.get_artifact(first.id)  # type: ignore[arg-type]
    assert (got.type, got.uri, got.digest, got.properties) == (
        ArtifactType.DATASET,
        "file:///a",
        digest("a"),
        {"rows": 3},
    )


def test_put_artifact_rejects_bad_types_and_digests(store: MetadataStore) -> None:
    with pytest.raises(UsageError, match="did you mean 'dataset'"):
        store.put_artifact("datset", "file:///a", digest("a"))
    with pytest.raises(UsageError, match="64 hex"):
        store.put_artifact("dataset", "file:///a", "abc123")


def test_artifacts_by_digest_prefix_and_listing(store: MetadataStore) -> None:
    a = store.put_artifact("dataset", "file:///a", digest("a"))
    b = store.put_artifact("model", "file:///b", digest("b"))
    c = store.put_artifact("model", "file:///c", digest("b"))
    assert [r.id for r in store.find_artifacts_by_digest(digest("b")[:8])] == [c.id, b.id]
    assert [r.id for r in store.find_artifacts_by_digest(digest("a")[:10].upper())] == [a.id]
    assert store.find_artifacts_by_digest("not-hex%") == []
    assert [r.id for r in store.list_artifacts()] == [c.id, b.id, a.id]
    assert [r.id for r in store.list_artifacts(type="model", limit=1)] == [c.id]
    assert [r.id for r in store.list_artifacts(limit=2, offset=1)] == [b.id, a.id]
    with pytest.raises(NotFound, match="no artifact with id 999999"):
        store.get_artifact(999999)


# -- executions and events ---------------------------------------------------------------------------


def test_execution_records_everything_the_runner_gives(store: MetadataStore) -> None:
    run_id = store.create_run(pipeline="p")
    data = store.put_artifact("dataset", "file:///d", digest("d"))
    stats = store.put_artifact("statistics", "file:///s", digest("s"))
    exe = store.create_execution(
        run_id=run_id,
        step="stats",
        component="statistics",
        params={"bins": 10},
        code_fingerprint="fp1",
        cache_key="ck1",
        input_digests={"data": digest("d")},
        environment={"python": "3.11"},
        tags={"team": "ml"},
    )
    store.add_events(exe, inputs={"data": data.id}, outputs={"statistics": stats.id})  # type: ignore[dict-item]
    store.add_events(exe, inputs={"data": data.id})  # type: ignore[dict-item]  # repeated: no duplicate
    running = store.get_execution(exe)
    assert (running.status, running.ended_at) == ("running", None)
    store.finish_execution(exe, "complete", cpu_seconds=1.5, peak_memory_bytes=2**33, wall_seconds=2.0, attempts=2)
    done = store.get_execution(exe)
    assert (done.run_id, done.step, done.component, done.status) == (run_id, "stats", "statistics", "complete")
    assert (done.params, done.input_digests, done.environment, done.tags) == (
        {"bins": 10},
        {"data": digest("d")},
        {"python": "3.11"},
        {"team": "ml"},
    )
    assert (done.code_fingerprint, done.cache_key) == ("fp1", "ck1")
    assert (done.cpu_seconds, done.peak_memory_bytes, done.wall_seconds, done.attempts) == (1.5, 2**33, 2.0, 2)
    assert done.ended_at is not None and done.ended_at >= done.started_at
    assert {k: v.id for k, v in done.inputs.items()} == {"data": data.id}
    assert {k: v.id for k, v in done.outputs.items()} == {"statistics": stats.id}
    assert done.outputs["statistics"].type is ArtifactType.STATISTICS


def test_execution_errors_are_user_errors(store: MetadataStore) -> None:
    run_id = store.create_run()
    with pytest.raises(NotFound, match="no run 'ffffffffffff'"):
        start(store, "ffffffffffff", "x")
    with pytest.raises(UsageError, match="unknown execution status"):
        start(store, run_id, "x", status="done")
    exe = start(store, run_id, "x")
    with pytest.raises(NotFound):
        store.add_events(exe, outputs={"out": 424242})
    with pytest.raises(NotFound):
        store.get_execution(424242)
    with pytest.raises(NotFound):
        store.finish_execution(424242, "complete")
    store.finish_execution(exe, "failed", error="boom")
    failed = store.get_execution(exe)
    assert (failed.status, failed.error) == ("failed", "boom")
    assert failed.wall_seconds is not None and failed.wall_seconds >= 0


def test_list_executions_in_start_order_with_artifacts(store: MetadataStore, chain: Chain) -> None:
    steps = store.list_executions(chain.run_id)
    assert [e.step for e in steps] == ["ingest", "transform", "train"]
    assert steps[1].outputs["train"].id == chain.train_data.id
    assert steps[2].inputs["transform"].digest == chain.fitted.digest
    assert store.list_executions(store.create_run()) == []


def test_cache_lookup_finds_the_newest_complete_execution(store: MetadataStore, chain: Chain) -> None:
    found = store.find_cached_execution("key-train")
    assert found is not None and found.id == chain.train
    assert found.outputs["model"].id == chain.model.id
    second_run = store.create_run(pipeline="penguins")
    failed = start(store, second_run, "train")
    store.finish_execution(failed, "failed", error="oom")
    reused = start(store, second_run, "train", status="cached")
    store.finish_execution(reused, "cached", cached_from=chain.train)
    store.add_events(reused, outputs={"model": chain.model.id})  # type: ignore[dict-item]
    assert store.find_cached_execution("key-train").id == chain.train  # type: ignore[union-attr]
    assert store.find_cached_execution("key-unknown") is None
    assert store.get_execution(reused).cached_from == chain.train
    latest = store.latest_execution(pipeline="penguins", step="train")
    assert latest is not None and latest.id == reused
    assert store.latest_execution(pipeline="other", step="train") is None
    # The artifact was made by the original execution, not by the reuse.
    assert store.producer_of(chain.model.id).id == chain.train  # type: ignore[arg-type, union-attr]
    assert store.producer_of(chain.raw.id) is None  # type: ignore[arg-type]


# -- lineage -----------------------------------------------------------------------------------------


def test_upstream_lineage_of_a_model_reaches_the_raw_file(store: MetadataStore, chain: Chain) -> None:
    graph = store.lineage(chain.model.id)  # type: ignore[arg-type]
    a, e = (lambda r: f"a:{r.id}"), (lambda i: f"e:{i}")
    assert graph.root == a(chain.model) and graph.direction == "upstream"
    expected_nodes = {a(x) for x in (chain.raw, chain.dataset, chain.train_data, chain.fitted, chain.model)}
    expected_nodes |= {e(x) for x in (chain.ingest, chain.transform, chain.train)}
    assert set(graph.nodes) == expected_nodes
    assert {(x.source, x.target, x.kind, x.name) for x in graph.edges} == {
        (e(chain.train), a(chain.model), "output", "model"),
        (a(chain.train_data), e(chain.train), "input", "train"),
        (a(chain.fitted), e(chain.train), "input", "transform"),
        (e(chain.transform), a(chain.train_data), "output", "train"),
        (e(chain.transform), a(chain.fitted), "output", "transform"),
        (a(chain.dataset), e(chain.transform), "input", "dataset"),
        (e(chain.ingest), a(chain.dataset), "output", "dataset"),
        (a(chain.raw), e(chain.ingest), "input", "source"),
    }
    assert [n.key for n in graph.parents(e(chain.train))] == [a(chain.train_data), a(chain.fitted)]
    assert [n.key for n in graph.children(e(chain.transform))] == [a(chain.train_data), a(chain.fitted)]
    assert graph.nodes[e(chain.train)].label == "train (train_component)"
    assert graph.nodes[a(chain.dataset)].properties["properties"] == {"rows": 344}
    round_trip = json.loads(json.dumps(graph.to_dict()))
    assert len(round_trip["nodes"]) == 8 and len(round_trip["edges"]) == 8


def test_downstream_lineage_of_the_raw_file_reaches_the_model(store: MetadataStore, chain: Chain) -> None:
    graph = store.lineage(chain.raw.id, direction="downstream")  # type: ignore[arg-type]
    assert f"a:{chain.model.id}" in graph.nodes
    assert f"e:{chain.train}" in graph.nodes
    assert len(graph.artifacts()) == 5 and len(graph.executions()) == 3
    # Edges still point along the data flow.
    assert (f"a:{chain.raw.id}", f"e:{chain.ingest}") in {(x.source, x.target) for x in graph.edges}


def test_lineage_depth_limit_and_reuse_exclusion(store: MetadataStore, chain: Chain) -> None:
    one = store.lineage(chain.model.id, max_depth=1)  # type: ignore[arg-type]
    assert set(one.nodes) == {
        f"a:{chain.model.id}",
        f"e:{chain.train}",
        f"a:{chain.train_data.id}",
        f"a:{chain.fitted.id}",
    }
    run2 = store.create_run(pipeline="penguins")
    reused = start(store, run2, "train", status="cached")
    store.add_events(reused, inputs={"train": chain.train_data.id}, outputs={"model": chain.model.id})  # type: ignore[dict-item]
    assert f"e:{reused}" not in store.lineage(chain.model.id).nodes  # type: ignore[arg-type]
    assert f"e:{reused}" not in store.lineage(chain.raw.id, direction="downstream").nodes  # type: ignore[arg-type]
    alone = store.put_artifact("generic", "file:///alone", digest("alone"))
    lonely = store.lineage(alone.id)  # type: ignore[arg-type]
    assert list(lonely.nodes) == [f"a:{alone.id}"] and lonely.edges == ()
    with pytest.raises(NotFound):
        store.lineage(999999)
    with pytest.raises(UsageError, match="did you mean 'upstream'"):
        store.lineage(alone.id, direction="upstram")  # type: ignore[arg-type]


def test_lineage_of_a_long_history_is_complete(store: MetadataStore) -> None:
    """A 60-step chain with fan-in: the breadth-first walk must not lose or duplicate anything."""
    run_id = store.create_run(pipeline="long")
    previous = store.put_artifact("file", "file:///0", digest("0"))
    side = store.put_artifact("schema", "file:///schema", digest("schema"))
    for i in range(1, 61):
        exe = start(store, run_id, f"s{i}")
        out = store.put_artifact("dataset", f"file:///{i}", digest(str(i)))
        store.add_events(exe, inputs={"data": previous.id, "schema": side.id}, outputs={"data": out.id})  # type: ignore[dict-item]
        previous = out
    graph = store.lineage(previous.id)  # type: ignore[arg-type]
    assert len(graph.executions()) == 60
    assert len(graph.artifacts()) == 62
    assert len(graph.edges) == 180
    assert len(graph.children(f"a:{side.id}")) == 60
