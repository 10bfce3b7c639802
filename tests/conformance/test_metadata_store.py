"""Metadata store conformance, part 1: opening, schema migrations, contexts and runs.

Every test runs on SQLite and PostgreSQL (see conftest.py); the other parts are
test_metadata_lineage.py, test_metadata_tracking.py and test_metadata_registry.py.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import sqlalchemy as sa

from modelyard.errors import ConfigError, NotFound, SchemaOutOfDate, StoreError, UsageError
from modelyard.store.metadata import schema, upgrade_database
from modelyard.store.metadata.store import MetadataStore
from modelyard.store.metadata.tables import TABLE_NAMES, metadata

WORKER = Path(__file__).with_name("_metadata_worker.py")


def _engine(url: str) -> sa.Engine:
    return sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))


# -- opening and migrations --------------------------------------------------------------------------


def test_fresh_database_is_migrated_to_head_with_every_table(fresh_url: str) -> None:
    store = MetadataStore.open(fresh_url)
    try:
        assert store.current_revision() == schema.head_revision() == "0001"
    finally:
        store.close()
    engine = _engine(fresh_url)
    try:
        with engine.connect() as conn:
            assert set(sa.inspect(conn).get_table_names()) >= TABLE_NAMES
    finally:
        engine.dispose()


def test_migration_creates_exactly_the_schema_of_tables_py(store: MetadataStore, db_url: str) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    engine = _engine(db_url)
    try:
        with engine.connect() as conn:
            ctx = MigrationContext.configure(conn, opts={"compare_type": True, "version_table": schema.VERSION_TABLE})
            differences = compare_metadata(ctx, metadata)
    finally:
        engine.dispose()
    assert differences == []


def test_reopening_and_upgrading_again_changes_nothing(db_url: str) -> None:
    MetadataStore.open(db_url).close()
    store = MetadataStore.open(db_url, create=False)
    try:
        run_id = store.create_run(pipeline="p")
        store.upgrade()
        assert store.get_run(run_id).pipeline == "p"
        assert store.current_revision() == schema.head_revision()
    finally:
        store.close()


def test_parallel_first_opens_migrate_once(fresh_url: str) -> None:
    errors: list[BaseException] = []
    revisions: list[str | None] = []

    def open_it() -> None:
        try:
            store = MetadataStore.open(fresh_url)
            revisions.append(store.current_revision())
            store.close()
        except BaseException as exc:  # reported below, with the others
            errors.append(exc)

    threads = [threading.Thread(target=open_it) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert revisions == [schema.head_revision()] * 4


def test_empty_database_without_create_asks_for_db_upgrade(fresh_url: str) -> None:
    with pytest.raises(SchemaOutOfDate, match="no modelyard tables") as info:
        MetadataStore.open(fresh_url, create=False)
    assert "yard db upgrade" in str(info.value)


def test_database_behind_head_raises_schema_out_of_date(
    db_url: str, store: MetadataStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Only one migration exists yet; pretend this modelyard knows a second one.
    monkeypatch.setattr(schema, "head_revision", lambda: "0002")
    monkeypatch.setattr(schema, "known_revisions", lambda: frozenset({"0001", "0002"}))
    with pytest.raises(SchemaOutOfDate) as info:
        MetadataStore.open(db_url)
    message = str(info.value)
    assert "0001" in message and "0002" in message and "yard db upgrade" in message


def test_unknown_revision_is_reported_as_from_a_newer_modelyard(fresh_url: str) -> None:
    MetadataStore.open(fresh_url).close()
    engine = _engine(fresh_url)
    with engine.begin() as conn:
        conn.execute(sa.text(f"UPDATE {schema.VERSION_TABLE} SET version_num = 'ffff9999'"))
    engine.dispose()
    with pytest.raises(StoreError, match="ffff9999") as info:
        MetadataStore.open(fresh_url)
    assert not isinstance(info.value, SchemaOutOfDate)
    assert "newer modelyard" in str(info.value)


def test_tables_without_a_revision_are_refused_not_migrated(fresh_url: str) -> None:
    MetadataStore.open(fresh_url).close()
    engine = _engine(fresh_url)
    with engine.begin() as conn:
        conn.execute(sa.text(f"DROP TABLE {schema.VERSION_TABLE}"))
    engine.dispose()
    with pytest.raises(StoreError, match="no modelyard schema revision") as info:
        MetadataStore.open(fresh_url)
    assert "runs" in str(info.value)


def test_upgrade_database_creates_migrates_and_refuses_foreign_databases(fresh_url: str) -> None:
    assert upgrade_database(fresh_url) == schema.head_revision()
    MetadataStore.open(fresh_url, create=False).close()  # now usable without create
    assert upgrade_database(fresh_url) == schema.head_revision()  # nothing left to do
    engine = _engine(fresh_url)
    with engine.begin() as conn:
        conn.execute(sa.text(f"UPDATE {schema.VERSION_TABLE} SET version_num = 'ffff9999'"))
    engine.dispose()
    with pytest.raises(StoreError, match="ffff9999"):
        upgrade_database(fresh_url)


def test_unreachable_server_names_the_url_without_the_password() -> None:
    with pytest.raises(StoreError) as info:
        MetadataStore.open("postgresql://alice:s3cret@127.0.0.1:1/nowhere")
    message = str(info.value)
    assert "127.0.0.1:1/nowhere" in message and "***" in message
    assert "s3cret" not in message


def test_bad_urls_are_configuration_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not a database URL"):
        MetadataStore.open("just some words")
    with pytest.raises(ConfigError, match="known: sqlite, postgresql"):
        MetadataStore.open("mysql://root@localhost/db")
    with pytest.raises(ConfigError, match="in-memory"):
        MetadataStore.open("sqlite://")


def test_sqlite_creates_the_parent_folder_and_rejects_non_databases(tmp_path: Path) -> None:
    nested = tmp_path / "a" / "b" / "metadata.db"
    MetadataStore.open(f"sqlite:///{nested}").close()
    assert nested.is_file()
    junk = tmp_path / "junk.db"
    junk.write_text("this is not a database, it is a shopping list\n" * 100)
    with pytest.raises(StoreError, match=r"junk\.db"):
        MetadataStore.open(f"sqlite:///{junk}")


# -- contexts ----------------------------------------------------------------------------------------


def test_put_context_is_idempotent_and_attribution_too(store: MetadataStore) -> None:
    first = store.put_context("experiment", "tuning", {"owner": "ana"})
    assert store.put_context("experiment", "tuning") == first
    assert store.put_context("pipeline", "tuning") != first
    artifact = store.put_artifact("dataset", "file:///d", "d" * 64)
    run_id = store.create_run()
    execution = _execution(store, run_id, "ingest")
    store.attribute(first, artifact_ids=[artifact.id], execution_ids=[execution])
    store.attribute(first, artifact_ids=[artifact.id, artifact.id], execution_ids=[execution])
    assert store.context_members(first) == ([artifact.id], [execution])
    with pytest.raises(UsageError, match="did you mean 'project'"):
        store.put_context("projct", "x")
    with pytest.raises(NotFound):
        store.attribute(first + 1000, artifact_ids=[artifact.id])


# -- runs --------------------------------------------------------------------------------------------


def test_create_and_get_run_records_who_runs_it(store: MetadataStore) -> None:
    parent = store.create_run(kind="tracking", name="sweep", experiment="tuning")
    run_id = store.create_run(
        name="nightly", pipeline="penguins", project="shop", spec={"steps": ["a", "b"]}, parent_run_id=parent
    )
    run = store.get_run(run_id)
    assert len(run_id) == 12 and int(run_id, 16) >= 0
    assert (run.kind, run.name, run.pipeline, run.project, run.status) == (
        "pipeline",
        "nightly",
        "penguins",
        "shop",
        "running",
    )
    assert run.spec == {"steps": ["a", "b"]}
    assert run.parent_run_id == parent
    assert (run.host, run.pid) == (socket.gethostname(), os.getpid())
    assert run.ended_at is None and run.heartbeat_at >= run.started_at
    with pytest.raises(UsageError, match="unknown run kind"):
        store.create_run(kind="batch")


def test_runs_are_found_by_unique_prefix(store: MetadataStore) -> None:
    ids = [store.create_run(pipeline="p") for _ in range(3)]
    for run_id in ids:
        assert store.get_run(run_id[:8]).id == run_id
    assert store.find_run(ids[0]).id == ids[0]  # type: ignore[union-attr]
    assert store.find_run("0123456789ab") is None


def test_ambiguous_prefix_lists_the_candidates(store: MetadataStore, db_url: str) -> None:
    engine = _engine(db_url)
    with engine.begin() as conn:  # two runs sharing a 6-character prefix, inserted as a collision would be
        for run_id in ("abcdef000001", "abcdef000002"):
            conn.execute(
                sa.text(
                    "INSERT INTO runs (id, kind, status, started_at, heartbeat_at, host, pid) "
                    "VALUES (:id, 'pipeline', 'complete', 1, 1, 'h', 1)"
                ),
                {"id": run_id},
            )
    engine.dispose()
    with pytest.raises(NotFound, match="ambiguous") as info:
        store.get_run("abcdef")
    assert "abcdef000001" in str(info.value) and "abcdef000002" in str(info.value)
    assert store.get_run("abcdef000001").id == "abcdef000001"
    assert store.find_run("abcdef") is None


def test_unknown_run_is_not_found_with_a_hint(store: MetadataStore) -> None:
    run_id = store.create_run()
    with pytest.raises(NotFound, match="no run 'ffffffffffff'") as info:
        store.get_run("ffffffffffff")
    assert info.value.hint
    typo = run_id[:-1] + ("0" if run_id[-1] != "0" else "1")
    with pytest.raises(NotFound, match=f"did you mean '{run_id}'"):
        store.get_run(typo)
    with pytest.raises(NotFound, match="at least 4 characters"):
        store.get_run(run_id[:2])
    assert store.find_run("ffffffffffff") is None


def test_list_runs_newest_first_with_filters_and_paging(store: MetadataStore) -> None:
    a = store.create_run(pipeline="penguins")
    b = store.create_run(pipeline="penguins", experiment="e1")
    c = store.create_run(kind="tracking", experiment="e1")
    store.set_run_status(a, "complete")
    assert [r.id for r in store.list_runs()] == [c, b, a]
    assert [r.id for r in store.list_runs(pipeline="penguins")] == [b, a]
    assert [r.id for r in store.list_runs(experiment="e1")] == [c, b]
    assert [r.id for r in store.list_runs(kind="tracking")] == [c]
    assert [r.id for r in store.list_runs(status="complete")] == [a]
    assert [r.id for r in store.list_runs(limit=1, offset=1)] == [b]


def test_run_status_lifecycle_and_resume(store: MetadataStore) -> None:
    run_id = store.create_run(pipeline="p")
    store.set_run_status(run_id, "failed", error="step train failed")
    failed = store.get_run(run_id)
    assert failed.status == "failed" and failed.error == "step train failed"
    assert failed.ended_at is not None and failed.is_terminal
    store.set_run_status(run_id, "running")  # resume
    resumed = store.get_run(run_id)
    assert (resumed.status, resumed.ended_at, resumed.error) == ("running", None, None)
    assert resumed.heartbeat_at >= failed.heartbeat_at
    store.heartbeat(run_id)
    assert store.get_run(run_id).heartbeat_at >= resumed.heartbeat_at
    with pytest.raises(UsageError, match="did you mean 'complete'"):
        store.set_run_status(run_id, "completed")
    with pytest.raises(NotFound):
        store.set_run_status("ffffffffffff", "complete")
    with pytest.raises(NotFound):
        store.heartbeat("ffffffffffff")


def test_reconcile_marks_runs_of_dead_processes_crashed(store: MetadataStore, db_url: str) -> None:
    done = subprocess.run(
        [sys.executable, str(WORKER), "create-run", db_url], capture_output=True, text=True, timeout=60, check=True
    )
    dead_run = done.stdout.strip()
    alive_run = store.create_run(pipeline="alive")
    assert store.get_run(dead_run).status == "running"

    assert store.reconcile_stale_runs() == [dead_run]

    crashed = store.get_run(dead_run)
    assert crashed.status == "crashed" and crashed.ended_at is not None
    assert str(crashed.pid) in (crashed.error or "")
    (step,) = store.list_executions(dead_run)
    assert (step.status, step.error) == ("failed", "process died")
    assert store.get_run(alive_run).status == "running"
    assert store.reconcile_stale_runs() == []


def test_reconcile_judges_runs_on_other_hosts_by_their_heartbeat(store: MetadataStore, db_url: str) -> None:
    remote = store.create_run(pipeline="remote")
    local = store.create_run(pipeline="local")
    engine = _engine(db_url)
    with engine.begin() as conn:  # as if a runner on another machine had created it
        conn.execute(sa.text("UPDATE runs SET host = 'gpu-box-7' WHERE id = :id"), {"id": remote})
    engine.dispose()
    assert store.reconcile_stale_runs(stale_after_seconds=3600) == []
    store.heartbeat(remote)
    assert store.reconcile_stale_runs(stale_after_seconds=0) == [remote]
    assert "no heartbeat from gpu-box-7" in (store.get_run(remote).error or "")
    # This process is alive: its run stays running however old its heartbeat.
    assert store.get_run(local).status == "running"


def _execution(store: MetadataStore, run_id: str, step: str) -> int:
    return store.create_execution(
        run_id=run_id,
        step=step,
        component=step,
        params={},
        code_fingerprint="code",
        cache_key=f"key-{step}",
        input_digests={},
    )
