"""Failure, retry, resume after SIGKILL, Ctrl-C, parallel branches and conditions, on small user components."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from tests.e2e.conftest import Yard, as_json, latest_run, spawn_env

STEPS_PY = '''
import json, os, time
from pathlib import Path
import modelyard
from modelyard import component


@component(outputs={"out": "generic"})
def source(ctx):
    (ctx.output_dir("out") / "value.json").write_text(json.dumps({"n": ctx.params.get("n", 1)}))
    modelyard.log_metric("source.n", ctx.params.get("n", 1))   # attaches to this step's execution
    modelyard.set_tag("made_by", "source")


@component(inputs={"data": "generic"}, outputs={"out": "generic"})
def slow(ctx):
    """Waits while BLOCK exists (so a test can kill the runner mid-step), logging when it starts and ends."""
    here = Path(ctx.project_dir)
    with open(here / "events.log", "a") as log:
        log.write(f"start {ctx.step} {time.time()}\\n")
    deadline = time.time() + float(ctx.params.get("max_wait", 60))
    while (here / "BLOCK").exists() and time.time() < deadline:
        time.sleep(0.05)
    time.sleep(float(ctx.params.get("sleep", 0)))
    # write the output slowly, in pieces, so a kill can land in the middle of it
    target = ctx.output_dir("out") / "big.bin"
    with open(target, "wb") as handle:
        for _ in range(20):
            handle.write(os.urandom(1024 * 64))
    with open(here / "events.log", "a") as log:
        log.write(f"end {ctx.step} {time.time()}\\n")


@component(inputs={"data": "generic"}, outputs={"out": "generic"}, retryable=True)
def flaky(ctx):
    counter = Path(ctx.project_dir) / "attempts.txt"
    count = int(counter.read_text()) + 1 if counter.exists() else 1
    counter.write_text(str(count))
    if count < int(ctx.params["succeed_on"]):
        raise ConnectionError(f"attempt {count} failed")
    (ctx.output_dir("out") / "ok.txt").write_text("ok")
    ctx.set_properties("out", good=bool(ctx.params.get("good", True)))


@component(inputs={"data": "generic"}, outputs={"out": "generic"})
def die(ctx):
    os._exit(9)


@component(inputs={"data": "generic"}, outputs={"out": "generic"})
def boom(ctx):
    raise ValueError("the user's code broke")
'''


def project(tmp_path: Path, pipeline: str) -> Path:
    (tmp_path / "steps.py").write_text(STEPS_PY)
    (tmp_path / "pipeline.yaml").write_text(textwrap.dedent(pipeline))
    return tmp_path


PARALLEL = """\
pipeline: control
workers: 2
steps:
  source: {component: "steps.py:source"}
  left: {component: "steps.py:slow", inputs: {data: source.out}, params: {sleep: 1.5}}
  right: {component: "steps.py:slow", inputs: {data: source.out}, params: {sleep: 1.5}}
"""


def test_independent_branches_run_in_parallel(yard: Yard, tmp_path: Path) -> None:
    root = project(tmp_path, PARALLEL)
    report = as_json(yard("run", "--json", cwd=root))
    shown = as_json(yard("runs", "show", report["run_id"], "--json", cwd=root))
    assert shown["metrics"] == {"source.n": 1.0} and shown["tags"] == {"made_by": "source"}
    events = [line.split() for line in (root / "events.log").read_text().splitlines()]
    times = {(kind, step): float(t) for kind, step, t in events}
    assert times[("start", "right")] < times[("end", "left")] and times[("start", "left")] < times[("end", "right")]


def test_retryable_step_retries_with_backoff(yard: Yard, tmp_path: Path) -> None:
    root = project(
        tmp_path,
        """\
        pipeline: control
        steps:
          source: {component: "steps.py:source"}
          fetch:
            component: "steps.py:flaky"
            inputs: {data: source.out}
            params: {succeed_on: 3}
            retries: 3
            retry_backoff: 0.1
        """,
    )
    report = as_json(yard("run", "--json", cwd=root))
    assert report["status"] == "complete"
    assert (root / "attempts.txt").read_text() == "3"
    run = as_json(yard("runs", "show", report["run_id"], "--json", cwd=root))
    assert {e["step"]: e["attempts"] for e in run["executions"]}["fetch"] == 3


def test_failure_stops_the_run_and_resume_continues(yard: Yard, tmp_path: Path) -> None:
    text = """\
        pipeline: control
        steps:
          source: {component: "steps.py:source"}
          fetch: {component: "steps.py:flaky", inputs: {data: source.out}, params: {succeed_on: 2}}
          after: {component: "steps.py:source", inputs: {}}
        """
    root = project(tmp_path, text)
    done = yard("run", cwd=root, check=1)
    assert "step 'fetch': ConnectionError: attempt 1 failed" in done.stderr
    assert "yard run --resume" in done.stderr
    run_id = as_json(yard("runs", "list", "--json", cwd=root))[0]["id"]
    resumed = as_json(yard("run", "--resume", run_id, "--json", cwd=root))
    assert resumed["run_id"] == run_id and resumed["status"] == "complete"
    states = {s["name"]: s["state"] for s in resumed["steps"]}
    assert states["source"] == "reused" and states["fetch"] == "done"
    again = yard("run", "--resume", run_id, cwd=root, check=2)
    assert "already completed" in again.stderr


def test_user_exception_is_one_line_with_traceback_recorded(yard: Yard, tmp_path: Path) -> None:
    root = project(
        tmp_path,
        """\
        pipeline: control
        steps:
          source: {component: "steps.py:source"}
          broken: {component: "steps.py:boom", inputs: {data: source.out}}
        """,
    )
    done = yard("run", cwd=root, check=1)
    assert "ValueError: the user's code broke" in done.stderr and "Traceback" not in done.stderr
    run = latest_run(yard, root)
    broken = next(e for e in run["executions"] if e["step"] == "broken")
    assert broken["status"] == "failed" and "Traceback" in broken["error"] and "steps.py" in broken["error"]


def test_condition_skips_a_step(yard: Yard, tmp_path: Path) -> None:
    root = project(
        tmp_path,
        """\
        pipeline: control
        steps:
          source: {component: "steps.py:source"}
          check: {component: "steps.py:flaky", inputs: {data: source.out}, params: {succeed_on: 1, good: false}}
          ship: {component: "steps.py:source", when: check.out.good}
          warn: {component: "steps.py:source", when: not check.out.good, params: {n: 2}}
        """,
    )
    report = as_json(yard("run", "--json", cwd=root))
    states = {s["name"]: (s["state"], s["note"]) for s in report["steps"]}
    assert states["ship"] == ("skipped", "condition check.out.good is false")
    assert states["warn"][0] == "done"


def _wait_for(predicate, timeout: float = 60.0) -> None:  # type: ignore[no-untyped-def]
    end = time.time() + timeout
    while time.time() < end:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError("timed out")


def _start(root: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "modelyard", "run"],
        cwd=root,
        env=spawn_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


BLOCKING = """\
pipeline: control
steps:
  source: {component: "steps.py:source"}
  slow: {component: "steps.py:slow", inputs: {data: source.out}}
"""


def _objects_are_whole(root: Path) -> None:
    from modelyard.store.artifacts import ArtifactStore

    store = ArtifactStore.open(str(root / ".modelyard" / "artifacts"))
    objects = root / ".modelyard" / "artifacts" / "objects"
    digests = [p.name for p in objects.glob("*/*") if not p.name.endswith(".complete")]
    assert digests
    assert all(store.verify(d) for d in digests)


def test_sigkill_then_resume(yard: Yard, tmp_path: Path) -> None:
    root = project(tmp_path, BLOCKING)
    (root / "BLOCK").touch()
    proc = _start(root)
    _wait_for(lambda: (root / "events.log").exists())
    time.sleep(0.3)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    time.sleep(0.5)
    runs = as_json(yard("runs", "list", "--json", cwd=root))
    assert runs[0]["status"] == "crashed"  # not "running" forever
    _objects_are_whole(root)
    (root / "BLOCK").unlink()
    resumed = as_json(yard("run", "--resume", runs[0]["id"], "--json", cwd=root))
    assert resumed["status"] == "complete"
    assert {s["name"]: s["state"] for s in resumed["steps"]} == {"source": "reused", "slow": "done"}
    _objects_are_whole(root)
    # the killed runner's worker died with it: only one "start" before the resume's
    assert (root / "events.log").read_text().count("end slow") == 1


def test_ctrl_c_cancels_cleanly(yard: Yard, tmp_path: Path) -> None:
    root = project(tmp_path, BLOCKING)
    (root / "BLOCK").touch()
    proc = _start(root)
    _wait_for(lambda: (root / "events.log").exists())
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    runs = as_json(yard("runs", "list", "--json", cwd=root))
    assert runs[0]["status"] == "cancelled"
    run = as_json(yard("runs", "show", runs[0]["id"], "--json", cwd=root))
    assert {e["step"]: e["status"] for e in run["executions"]}["slow"] == "cancelled"
    (root / "BLOCK").unlink()


@pytest.mark.parametrize(
    ("change", "needle"),
    [
        (("component: ingest", "component: ingset"), "did you mean 'ingest'"),
        (("inputs: {dataset: ingest.dataset}", "inputs: {dataset: ingest.datset}"), "did you mean 'dataset'"),
    ],
)
def test_bad_pipeline_exit_2_with_file_and_line(
    yard: Yard, tmp_path: Path, change: tuple[str, str], needle: str
) -> None:
    root = tmp_path / "p"
    yard("init", str(root), cwd=tmp_path)
    path = root / "pipeline.yaml"
    path.write_text(path.read_text().replace(*change, 1))
    done = yard("run", cwd=root, check=2)
    assert "pipeline.yaml:" in done.stderr and needle in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert not (root / ".modelyard" / "artifacts" / "objects").exists() or not any(
        (root / ".modelyard" / "artifacts" / "objects").iterdir()
    )


def test_cycle_fails_before_running(yard: Yard, tmp_path: Path) -> None:
    root = project(
        tmp_path,
        """\
        pipeline: control
        steps:
          a: {component: "steps.py:slow", inputs: {data: b.out}}
          b: {component: "steps.py:slow", inputs: {data: a.out}}
        """,
    )
    done = yard("run", cwd=root, check=2)
    assert "cycle: a -> b -> a" in done.stderr and "pipeline.yaml:3" in done.stderr
    assert not (root / "events.log").exists()


def test_help_and_json_flags(yard: Yard, tmp_path: Path) -> None:
    out = yard("--help", cwd=tmp_path).stdout
    for command in ("init", "run", "runs", "lineage", "artifacts", "models"):
        assert command in out
    assert "Example" in yard("run", "--help", cwd=tmp_path).stdout
    json.loads(yard("init", str(tmp_path / "x"), "--json", cwd=tmp_path).stdout)
    assert "No such command 'nonsense'" in yard("nonsense", cwd=tmp_path, check=2).stderr
    assert "--limit" in yard("runs", "list", "--limit", "0", cwd=tmp_path / "x", check=2).stderr


def test_editing_user_code_reruns_its_steps(yard: Yard, tmp_path: Path) -> None:
    root = project(tmp_path, PARALLEL.replace("sleep: 1.5", "sleep: 0"))
    yard("run", "--json", cwd=root)
    (root / "steps.py").write_text((root / "steps.py").read_text() + "\n# a comment changes the fingerprint\n")
    report = as_json(yard("run", "--json", cwd=root))
    assert {s["name"]: s["reason"] for s in report["steps"]}["left"] == "code changed"


def test_python_pipeline_definition_runs(yard: Yard, tmp_path: Path) -> None:
    root = project(tmp_path, PARALLEL)
    (root / "flow.py").write_text(
        textwrap.dedent("""
        from modelyard import Pipeline

        pipeline = Pipeline("control")
        source = pipeline.step("source", "steps.py:source")
        pipeline.step("left", "steps.py:slow", inputs={"data": source["out"]})
    """)
    )
    report = as_json(yard("run", "-p", "flow.py:pipeline", "--json", cwd=root))
    assert [s["state"] for s in report["steps"]] == ["done", "done"]


def test_a_dying_worker_fails_its_step_not_the_runner(yard: Yard, tmp_path: Path) -> None:
    root = project(
        tmp_path,
        """\
        pipeline: control
        steps:
          source: {component: "steps.py:source"}
          crash: {component: "steps.py:die", inputs: {data: source.out}}
        """,
    )
    done = yard("run", cwd=root, check=1)
    assert "step 'crash': the worker process died" in done.stderr
    assert as_json(yard("runs", "list", "--json", cwd=root))[0]["status"] == "failed"
