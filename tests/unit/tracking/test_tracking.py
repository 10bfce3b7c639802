"""Tracking from user code: buffered writes that are all durable once the run ends, even on an exception."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import modelyard
from modelyard.errors import UsageError
from modelyard.settings import Settings
from modelyard.store.metadata.store import MetadataStore


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings.for_project(tmp_path, env={})


def test_100k_metrics_are_all_written_at_end(settings: Settings) -> None:
    with modelyard.start_run("many", settings=settings) as run:
        for i in range(100_000):
            modelyard.log_metric("loss", 1.0 / (i + 1))
        modelyard.log_params({"lr": 0.1, "layers": 3})
        modelyard.set_tag("team", "pricing")
    store = MetadataStore.open(settings.db_url)
    points = store.get_metrics(run.run_id, "loss")
    assert len(points) == 100_000
    assert [p.step for p in points[:3]] == [0, 1, 2] and points[-1].value == pytest.approx(1e-5)
    assert store.get_params(run.run_id) == {"lr": "0.1", "layers": "3"}
    assert store.get_tags(run.run_id) == {"team": "pricing"}
    assert store.get_run(run.run_id).status == "complete"
    store.close()


def test_exception_still_flushes_and_marks_failed(settings: Settings) -> None:
    with pytest.raises(RuntimeError), modelyard.start_run(settings=settings) as run:
        modelyard.log_metric("acc", 0.5)
        raise RuntimeError("training diverged")
    store = MetadataStore.open(settings.db_url)
    assert store.latest_metrics(run.run_id) == {"acc": 0.5}
    found = store.get_run(run.run_id)
    assert found.status == "failed" and "training diverged" in (found.error or "")
    store.close()


def test_nothing_lost_at_interpreter_exit_without_end(tmp_path: Path) -> None:
    script = textwrap.dedent("""
        import modelyard
        for i in range(5000):
            modelyard.log_metric("m", i)
        print(modelyard.active_run().run_id)
    """)
    run_id = subprocess.check_output([sys.executable, "-c", script], cwd=tmp_path, text=True).strip()
    store = MetadataStore.open(Settings.for_project(tmp_path, env={}).db_url)
    assert len(store.get_metrics(run_id, "m")) == 5000
    assert store.get_run(run_id).status == "complete"
    store.close()


def test_bad_values_are_clear_errors(settings: Settings) -> None:
    with modelyard.start_run(settings=settings) as run:
        with pytest.raises(UsageError, match="metric 'x' must be a number"):
            run.log_metric("x", "high")  # type: ignore[arg-type]
        with pytest.raises(UsageError, match="tracking key"):
            run.log_param("", 1)
    with pytest.raises(UsageError, match="has ended"):
        run.log_metric("late", 1.0)


def test_log_artifact_is_content_addressed(settings: Settings, tmp_path: Path) -> None:
    report = tmp_path / "notes.txt"
    report.write_text("hello")
    with modelyard.start_run(settings=settings) as run:
        first = run.log_artifact(report)
        second = run.log_artifact(report)
    assert first.digest == second.digest and first.id == second.id
