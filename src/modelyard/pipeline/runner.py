"""The local runner: steps in dependency order, independent branches in parallel worker processes.

Before a step runs, its cache key is computed from code, parameters and input digests; a hit is reused (and
recorded as such), a miss is explained. The run keeps a heartbeat so a killed runner is later seen as
crashed, never "running" forever; ``resume`` continues a run, keeping the steps that finished in it.
"""

from __future__ import annotations

import time
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import Any

from modelyard.core.artifacts import ArtifactRef
from modelyard.errors import UsageError
from modelyard.pipeline import cache
from modelyard.pipeline.events import RunObserver, RunReport, SilentObserver, StepReport, StepState
from modelyard.pipeline.plan import Plan, PlannedStep
from modelyard.pipeline.recording import record_external_inputs, record_outcome, record_reuse
from modelyard.pipeline.worker import StepOutcome, StepTask, environment, execute_step, init_worker
from modelyard.settings import Settings

HEARTBEAT_SECONDS = 5.0
FINISHED = {StepState.DONE, StepState.REUSED}


@dataclass
class _Running:
    planned: PlannedStep
    execution_id: int
    task: StepTask
    attempt: int
    started: float


class LocalRunner:
    """Runs a :class:`Plan` against a project's stores. Build one per run; it owns its worker pool."""

    def __init__(self, settings: Settings, *, observer: RunObserver | None = None, workers: int | None = None):
        self.settings = settings
        self.observer = observer or SilentObserver()
        self.workers = workers or settings.workers
        self._pool: ProcessPoolExecutor | None = None
        self._threads: ThreadPoolExecutor | None = None
        self._env: dict[str, Any] | None = None

    # -- public -------------------------------------------------------------------------------------------
    def run(self, plan: Plan, *, resume: str | None = None) -> RunReport:
        from modelyard.store.artifacts import ArtifactStore
        from modelyard.store.metadata.store import MetadataStore

        store = MetadataStore.open(self.settings.db_url)
        artifacts = ArtifactStore.open(self.settings.store_url)
        try:
            store.reconcile_stale_runs()
            artifacts.clean_stale_tmp()
            return self._run(plan, store, artifacts, resume)
        finally:
            self._shutdown_pool(kill=False)
            store.close()

    # -- the loop ----------------------------------------------------------------------------------------
    def _run(self, plan: Plan, store: Any, artifacts: Any, resume: str | None) -> RunReport:
        kept = self._start_or_resume(plan, store, resume)
        run_id = self._run_id
        report = RunReport(run_id, plan.name, resumed=resume is not None)
        for name, planned in plan.steps.items():
            report.steps[name] = StepReport(name, planned.spec.component)
        contexts = [
            store.put_context("project", str(self.settings.project_dir)),
            store.put_context("pipeline", plan.name),
            store.put_context("run", run_id),
        ]
        outputs: dict[str, dict[str, ArtifactRef]] = {}
        running: dict[Future[StepOutcome], _Running] = {}
        retry_at: dict[str, tuple[float, _Running]] = {}
        failed = False
        started, last_beat = time.perf_counter(), time.monotonic()
        self.observer.started(report)
        try:
            while True:
                if not failed:
                    for name, planned in plan.steps.items():
                        if report.steps[name].state == StepState.PENDING and self._ready(planned, report):
                            self._dispatch(plan, planned, store, artifacts, report, outputs, running, kept, contexts)
                    for name, (when, item) in list(retry_at.items()):
                        if time.monotonic() >= when:
                            del retry_at[name]
                            running[self._submit(item.task, inline=item.planned.component.inline)] = item
                            item.started = time.perf_counter()
                            self._set(report, name, StepState.RUNNING, note=f"attempt {item.attempt}")
                if not running and not retry_at:
                    break
                done, _ = wait(list(running), timeout=0.5, return_when=FIRST_COMPLETED) if running else ((), ())
                for future in done:
                    item = running.pop(future)
                    outcome = self._result(future)
                    if outcome.error and item.planned.component.retryable and item.attempt <= item.planned.spec.retries:
                        delay = item.planned.spec.retry_backoff * (2 ** (item.attempt - 1))
                        item.attempt += 1
                        retry_at[item.planned.name] = (time.monotonic() + delay, item)
                        self._set(
                            report,
                            item.planned.name,
                            StepState.RETRYING,
                            note=f"{outcome.error} — retry in {delay:.1f}s",
                        )
                        continue
                    produced = record_outcome(
                        store,
                        execution_id=item.execution_id,
                        planned=item.planned,
                        outcome=outcome,
                        attempts=item.attempt,
                        context_ids=contexts,
                    )
                    step = report.steps[item.planned.name]
                    step.seconds, step.attempts = time.perf_counter() - item.started, item.attempt
                    if outcome.error:
                        failed = True
                        step.error, step.traceback = outcome.error, outcome.traceback
                        self._set(report, item.planned.name, StepState.FAILED, note=outcome.error)
                    else:
                        outputs[item.planned.name] = produced
                        self._set(report, item.planned.name, StepState.DONE, note=outcome.note)
                if time.monotonic() - last_beat > HEARTBEAT_SECONDS:
                    store.heartbeat(run_id)
                    last_beat = time.monotonic()
        except BaseException:
            self._shutdown_pool(kill=True)
            for item in running.values():
                store.finish_execution(item.execution_id, "cancelled", error="interrupted")
                self._set(report, item.planned.name, StepState.CANCELLED)
            report.status = "cancelled"
            store.set_run_status(run_id, "cancelled", error="interrupted")
            report.seconds = time.perf_counter() - started
            self.observer.finished(report)
            raise
        for name, step in report.steps.items():
            if step.state == StepState.PENDING:
                self._set(report, name, StepState.NOT_RUN, note="an earlier step failed")
        report.status = "failed" if failed else "complete"
        errors = [f"{s.name}: {s.error}" for s in report.steps.values() if s.state == StepState.FAILED]
        store.set_run_status(run_id, report.status, error="; ".join(errors) or None)
        report.seconds = time.perf_counter() - started
        self.observer.finished(report)
        return report

    def _start_or_resume(self, plan: Plan, store: Any, resume: str | None) -> dict[str, Any]:
        """Create the run, or reopen a failed one and return the executions it already finished."""
        if resume is None:
            self._run_id = store.create_run(
                kind="pipeline",
                pipeline=plan.name,
                project=self.settings.project_dir.name,
                spec=plan.definition.snapshot(),
            )
            return {}
        previous = store.get_run(resume)
        if previous.pipeline != plan.name:
            raise UsageError(f"run {previous.id} belongs to pipeline '{previous.pipeline}', not '{plan.name}'")
        if previous.status == "running":
            raise UsageError(f"run {previous.id} is still running (pid {previous.pid} on {previous.host})")
        if previous.status == "complete":
            raise UsageError(
                f"run {previous.id} already completed; there is nothing to resume", hint="run 'yard run' for a new run"
            )
        self._run_id = previous.id
        store.set_run_status(previous.id, "running")
        return {e.step: e for e in store.list_executions(previous.id) if e.status in ("complete", "cached")}

    def _ready(self, planned: PlannedStep, report: RunReport) -> bool:
        return all(
            report.steps[dep].state not in (StepState.PENDING, StepState.RUNNING, StepState.RETRYING)
            for dep in planned.depends_on
        )

    def _dispatch(
        self,
        plan: Plan,
        planned: PlannedStep,
        store: Any,
        artifacts: Any,
        report: RunReport,
        outputs: dict[str, dict[str, ArtifactRef]],
        running: dict[Future[StepOutcome], _Running],
        kept: dict[str, Any],
        contexts: list[int],
    ) -> None:
        name = planned.name
        blocked = [dep for dep in planned.depends_on if report.steps[dep].state not in FINISHED]
        if blocked:
            state = report.steps[blocked[0]].state
            self._set(
                report,
                name,
                StepState.SKIPPED if state == StepState.SKIPPED else StepState.NOT_RUN,
                note=f"'{blocked[0]}' was {state}",
            )
            return
        if planned.condition is not None:
            cond = planned.condition
            value = bool(outputs[cond.step][cond.output].properties.get(cond.prop))
            if value == cond.negate:
                self._set(report, name, StepState.SKIPPED, note=f"condition {cond} is false")
                return
        inputs = {key: outputs[up][out] for key, (up, out) in planned.inputs.items()}
        inputs.update(record_external_inputs(store, planned))
        params = cache.canonical_params(planned)
        fingerprint = cache.code_fingerprint(planned, plan.definition.base_dir)
        digests = {key: ref.digest for key, ref in inputs.items()}
        if planned.component.cache_context is not None:
            digests.update(planned.component.cache_context(planned.params, store, dict(digests)))
        key = cache.cache_key(planned.spec.component, fingerprint, params, digests)
        env = self._environment()
        reusable = kept.get(name) if kept.get(name) is not None and kept[name].cache_key == key else None
        if reusable is None and planned.spec.cache and planned.component.cacheable:
            reusable = store.find_cached_execution(key)
        if reusable is not None and all(artifacts.exists(ref.digest) for ref in reusable.outputs.values()):
            if reusable.status == "cached" and reusable.cached_from:
                reusable = store.get_execution(reusable.cached_from)
            record_reuse(
                store,
                run_id=self._run_id,
                planned=planned,
                cached=reusable,
                fingerprint=fingerprint,
                key=key,
                params=params,
                inputs=inputs,
                environment=env,
                context_ids=contexts,
            )
            outputs[name] = dict(reusable.outputs)
            self._set(report, name, StepState.REUSED, note=f"from run {reusable.run_id}")
            report.steps[name].seconds = 0.0
            return
        if not (planned.spec.cache and planned.component.cacheable):
            why = "caching is off for this step"
        else:
            why = cache.explain_miss(
                store.latest_execution(pipeline=plan.name, step=name),
                fingerprint=fingerprint,
                params=params,
                input_digests=digests,
            )
        with store.transaction():
            execution_id = store.create_execution(
                run_id=self._run_id,
                step=name,
                component=planned.spec.component,
                params=params,
                code_fingerprint=fingerprint,
                cache_key=key,
                input_digests=digests,
                environment=env,
                tags={**plan.definition.spec.tags, **planned.spec.tags},
            )
            store.add_events(execution_id, inputs={k: ref.id for k, ref in inputs.items()})
            for context_id in contexts:
                store.attribute(context_id, execution_ids=[execution_id])
        task = StepTask(
            self.settings,
            self._run_id,
            execution_id,
            name,
            planned.spec.component,
            plan.definition.base_dir,
            planned.spec.params,
            inputs,
        )
        running[self._submit(task, inline=planned.component.inline)] = _Running(
            planned, execution_id, task, 1, time.perf_counter()
        )
        report.steps[name].execution_id = execution_id
        report.steps[name].reason = why
        self._set(report, name, StepState.RUNNING)

    # -- helpers -----------------------------------------------------------------------------------------------
    def _set(self, report: RunReport, name: str, state: str, *, note: str | None = None) -> None:
        step = report.steps[name]
        step.state = state
        if note is not None:
            step.note = note
        self.observer.changed(report, step)

    def _environment(self) -> dict[str, Any]:
        if self._env is None:
            self._env = environment()
        return self._env

    def _submit(self, task: StepTask, *, inline: bool = False) -> Future[StepOutcome]:
        if inline:
            if self._threads is None:
                self._threads = ThreadPoolExecutor(max_workers=1, thread_name_prefix="modelyard-inline")
            return self._threads.submit(execute_step, task)
        if self._pool is None:
            import multiprocessing

            self._pool = ProcessPoolExecutor(
                max_workers=self.workers, mp_context=multiprocessing.get_context("spawn"), initializer=init_worker
            )
        return self._pool.submit(execute_step, task)

    def _result(self, future: Future[StepOutcome]) -> StepOutcome:
        """The worker's outcome; a worker that died (killed, out of memory, a crash in C code) fails its step,
        and the broken pool is replaced so that retries and other branches can still run."""
        from concurrent.futures.process import BrokenProcessPool

        try:
            return future.result()
        except BrokenProcessPool:
            self._shutdown_pool(kill=True)
            return StepOutcome(
                error="the worker process died while running the step (killed, out of memory, "
                "or a crash in native code)"
            )

    def _shutdown_pool(self, *, kill: bool) -> None:
        threads, self._threads = self._threads, None
        if threads is not None:
            threads.shutdown(wait=not kill, cancel_futures=True)
        pool, self._pool = self._pool, None
        if pool is None:
            return
        if kill:
            # The executor has no public way to stop a task mid-flight; its worker processes are the only handle.
            for process in list(getattr(pool, "_processes", {}).values()):
                process.kill()
        pool.shutdown(wait=not kill, cancel_futures=True)
