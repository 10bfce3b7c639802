"""``yard monitor``: judge every complete, not yet judged window of a model's traffic, record it, alert.

Each judged window becomes an execution (component ``monitor``) in a run of kind ``monitor``, with the
model version's artifact and the window's rows as inputs and a ``drift_report`` artifact (``result.json``
+ ``report.html``) as output: the lineage a person follows from an alert back to the exact rows and model.

The reference a window is compared with (``--reference``):
- ``training`` (default): the training statistics inside the package of the version that answered most of
  the window, so after a promotion the new model is judged against its own training data;
- a version (``1.2.0``): that version's training statistics, for every window;
- a data file: its statistics, with the champion's transform and predictions applied to it.
"""

from __future__ import annotations

import datetime as dt
import json
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from modelyard.core.artifacts import ArtifactType
from modelyard.monitor.alerts import Alert, AlertSinks, conditions_of, update_alerts
from modelyard.monitor.checks import WindowChecks, check_window
from modelyard.monitor.config import MonitorSettings
from modelyard.monitor.logwindow import LogWindow, read_windows
from modelyard.monitor.state import load_state, monitor_folder, save_state

#: Judged windows the state keeps (for the policy and the report's timeline); older ones live in the store.
KEEP_WINDOWS = 1000
#: Windows shown in a report's "over time" charts.
TIMELINE_WINDOWS = 48


@dataclass
class MonitorOutcome:
    """What one invocation judged and raised."""

    model: str
    judged: list[dict[str, Any]] = field(default_factory=list)
    alerts: list[Alert] = field(default_factory=list)
    pending: int = 0  # windows still filling
    run_id: str | None = None
    problems: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "run_id": self.run_id,
            "judged": self.judged,
            "alerts": [a.to_dict() for a in self.alerts],
            "pending_windows": self.pending,
            "problems": self.problems,
        }


class References:
    """Packages and their references, loaded once per version per invocation."""

    def __init__(self, settings: Any, registry: Any, artifacts: Any, name: str, mode: str) -> None:
        self.settings, self.registry, self.artifacts, self.name, self.mode = settings, registry, artifacts, name, mode
        self._cache: dict[str, tuple[Any, Any, Any]] = {}

    def for_version(self, version: str) -> tuple[Any, Any, Any]:
        """(model version record, loaded package, ModelReference) to judge a window served by ``version``."""
        from modelyard.models.package import load_package
        from modelyard.models.reference import read_reference

        chosen = version if self.mode == "training" or not self.mode[:1].isdigit() else self.mode
        if chosen not in self._cache:
            record = self.registry.resolve(self.name, chosen)
            path = self.artifacts.local_path(self.registry.store.get_artifact(record.artifact_id).digest)
            package = load_package(path)
            reference = read_reference(path)
            if self.mode not in ("training",) and not self.mode[:1].isdigit():
                reference = _reference_from_data(Path(self.mode), package, reference)
            self._cache[chosen] = (record, package, reference)
        return self._cache[chosen]


def _reference_from_data(path: Path, package: Any, packaged: Any) -> Any:
    """Reference statistics of a data file, seen through ``package`` (its transform and predictions)."""
    from modelyard.data.readers import connect, open_source
    from modelyard.errors import UsageError
    from modelyard.models.reference import ModelReference, build_reference

    if not path.exists():
        raise UsageError(f"reference data {path} does not exist", hint="use training, a version or a data file")
    inputs = [c["name"] for c in package.signature.get("inputs", [])]
    con = connect()
    try:
        source = open_source(con, path)
        table = con.execute(f"SELECT * FROM {source.sql}").to_arrow_table()
    finally:
        con.close()
    missing = [c for c in inputs if c not in table.column_names]
    if missing:
        raise UsageError(f"reference data {path} lacks the model's inputs: {', '.join(missing)}")
    matrix = package.transform.apply_batch(table.select(inputs))
    predicted = package.estimator.predict(matrix) if len(matrix) else []
    names = list(package.transform.feature_names_out)
    parts = build_reference(path, matrix, names, [p.item() if hasattr(p, "item") else p for p in predicted])
    return ModelReference(parts["inputs"], parts["features"], parts["predictions"], packaged.schema)


def _summary(window: LogWindow, version: str, checks: WindowChecks, task: str) -> dict[str, Any]:
    summary: dict[str, Any] = {
        "key": window.key,
        "index": window.index,
        "start": window.start.isoformat(),
        "end": window.end.isoformat(),
        "rows": window.rows,
        "labelled": window.labelled,
        "versions": window.versions,
        "version": version,
        "drifted": checks.drifted,
        "skewed": checks.skewed,
        "prediction_drifted": checks.prediction_drifted,
        "quality": checks.quality,
    }
    stats = checks.predictions.columns[0] if checks.predictions is not None and checks.predictions.columns else None
    if stats is not None and task == "classification" and stats.string is not None and stats.count:
        summary["prediction_shares"] = {str(v): n / stats.count for v, n in stats.string.top}
    elif stats is not None and stats.numeric is not None:
        summary["prediction_mean"] = stats.numeric.mean
    return summary


def _report_html(model: str, summary: dict[str, Any], checks: WindowChecks, reference: Any,
                 timeline: list[dict[str, Any]]) -> str:  # fmt: skip
    from modelyard.monitor.report import monitor_html

    window = {k: summary[k] for k in ("index", "start", "end", "rows", "labelled", "versions")}
    return monitor_html(model, summary["version"], window, checks, reference, timeline)


def run_monitor(
    settings: Any,
    config: MonitorSettings,
    *,
    echo: Any | None = None,
    now: dt.datetime | None = None,
    progress: Any | None = None,
) -> MonitorOutcome:
    """Judge the new complete windows of ``config.model``; record each with its lineage; send alerts."""
    from modelyard.registry.registry import Registry
    from modelyard.store.artifacts import ArtifactStore
    from modelyard.store.metadata.store import MetadataStore

    name = config.model
    folder = monitor_folder(settings.home, name)
    state = load_state(folder)
    outcome = MonitorOutcome(name)
    sinks = AlertSinks(
        log_file=Path(config.alerts.log) if config.alerts.log else folder.parent / "alerts.log",
        webhook=config.alerts.webhook,
        echo=echo if config.alerts.console else None,
    )
    bounds = config.retrain.quality if config.retrain is not None else {}
    store = MetadataStore.open(settings.db_url, create=False)
    try:
        artifacts = ArtifactStore.open(settings.store_url)
        registry = Registry(store)
        references = References(settings, registry, artifacts, name, config.reference)
        champion = registry.resolve(name, "champion")
        _, champion_package, _ = references.for_version(champion.version)
        predictions = config.log_source(settings.home)
        with tempfile.TemporaryDirectory(prefix="modelyard-monitor-") as tmp:
            until = state.get("judged_until")
            windows = read_windows(
                predictions, settings.home / "feedback", name, champion_package.signature,
                champion_package.label, config.window_spec, Path(tmp) / "windows", now=now,
                after=dt.datetime.fromisoformat(until) if until else None, first_index=state.get("next_index", 0),
            )  # fmt: skip
            fresh = []
            for window in windows:  # complete windows in order; judging stops at the first one still filling
                if not window.complete:
                    break
                fresh.append(window)
            outcome.pending = sum(1 for w in windows if not w.complete)
            if not fresh:
                return outcome
            run_id = store.create_run(kind="monitor", name=f"monitor {name}", project=settings.project_dir.name)
            outcome.run_id = run_id
            try:
                for window in fresh:
                    if progress is not None:
                        progress(f"window {window.index}: {window.rows} rows from {window.start:%Y-%m-%d %H:%M:%S}")
                    summary = _judge(window, references, store, artifacts, run_id, state, config, Path(tmp))
                    conditions = conditions_of(summary.pop("_checks"), bounds)
                    state["open"], alerts = update_alerts(name, state["open"], conditions, summary, summary["report"])
                    for alert in alerts:
                        sinks.send(alert)
                    summary["conditions"] = [c.key for c in conditions]
                    state["windows"] = [*state["windows"], summary][-KEEP_WINDOWS:]
                    state["judged_until"] = summary["end"]
                    state["next_index"] = window.index + 1
                    outcome.alerts += alerts
                    outcome.judged.append(summary)
                    save_state(folder, state)  # each judged window survives a crash of the next one
                store.set_run_status(run_id, "complete")
            except BaseException as exc:
                store.set_run_status(run_id, "failed", error=f"{type(exc).__name__}: {exc}")
                raise
    finally:
        store.close()
    outcome.problems = sinks.problems
    return outcome


def _judge(
    window: LogWindow, references: References, store: Any, artifacts: Any, run_id: str,
    state: dict[str, Any], config: MonitorSettings, tmp: Path,
) -> dict[str, Any]:  # fmt: skip
    """Check one window, write its report artifact and record the execution; the summary keeps the checks."""
    record, package, reference = references.for_version(window.main_version)
    from modelyard.monitor.checks import raise_missing_reference

    if reference.inputs is None:
        raise_missing_reference(package)
    checks = check_window(window.path, package, reference, window.inputs_path)
    summary = _summary(window, record.version, checks, package.task)
    timeline = [*state["windows"][-TIMELINE_WINDOWS:], summary]
    out = tmp / f"report-{window.index:04d}"
    out.mkdir(parents=True, exist_ok=True)
    (out / "result.json").write_text(
        json.dumps({**summary, "checks": checks.to_dict()}, indent=1, default=str), encoding="utf-8"
    )
    (out / "report.html").write_text(_report_html(config.model, summary, checks, reference, timeline), "utf-8")
    window_digest, window_uri = artifacts.put(window.path)
    report_digest, report_uri = artifacts.put(out, move=True)
    execution = store.create_execution(
        run_id=run_id, step=f"window-{window.index:04d}", component="monitor",
        params={"model": config.model, "window": config.window, "reference": config.reference, "key": window.key},
        code_fingerprint="", cache_key="", input_digests={"window": window_digest},
    )  # fmt: skip
    with store.transaction():
        window_ref = store.put_artifact(
            ArtifactType.DATASET, window_uri, window_digest,
            {"kind": "log_window", "model": config.model, "start": summary["start"], "end": summary["end"],
             "rows": window.rows, "labelled": window.labelled},
        )  # fmt: skip
        facts = {k: summary[k] for k in ("start", "end", "rows", "version", "drifted", "skewed", "prediction_drifted")}
        report_ref = store.put_artifact(ArtifactType.DRIFT_REPORT, report_uri, report_digest,
                                        {"model": config.model, **facts, "quality": summary["quality"]})  # fmt: skip
        store.add_events(execution, inputs={"model": record.artifact_id, "window": window_ref.id},
                         outputs={"report": report_ref.id})  # fmt: skip
        store.finish_execution(execution, "complete")
    summary["report"] = str(artifacts.local_path(report_digest) / "report.html")
    summary["report_artifact"] = report_ref.id
    summary["window_digest"] = window_digest
    summary["_checks"] = checks
    return summary
