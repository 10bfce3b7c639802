"""The worker's view of the deployment, refreshed every second: alias moves, traffic and the decision.

Each worker process runs one watcher thread. Every ``interval`` it (1) reads the registry's aliases and the
deployment record, (2) loads and warms a version an alias now points at *before* swapping it in, so no
request ever reaches a cold or broken version (in-flight requests finish on the object they hold), (3) sets
the canary and shadow shares, (4) writes its live counters for the other workers and the CLI, and (5) when it
wins the decision lock, sums every worker's counters and promotes or rolls back the challenger.
"""

from __future__ import annotations

import fcntl
import sys
import threading
from typing import Any

from modelyard.serve.deployment import CHALLENGER, Deployment, DeploymentStore
from modelyard.serve.policy import VersionCounters, decide
from modelyard.serve.rollout import POLICY_ACTOR, promote_challenger, rollback_challenger
from modelyard.serve.served import ModelSource, ServedModel


class DeploymentWatcher:
    """Follows the registry and the deployment records for the registered models a server serves."""

    def __init__(
        self, server: Any, deployments: DeploymentStore, db_url: str, store_url: str, interval: float = 1.0
    ) -> None:
        self.server = server
        self.repository = server.repository
        self.deployments = deployments
        self.db_url = db_url
        self.store_url = store_url
        self.interval = interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._store: Any = None
        self._records: dict[str, tuple[float, Deployment | None]] = {}
        self._epochs: dict[str, str] = {}
        self._followed: list[tuple[str, str]] | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="modelyard-deployments", daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        if self._store is not None:
            self._store.close()

    def _loop(self) -> None:
        self.followed()
        self.repository.loaded.wait()
        while not self._stop.is_set():
            try:
                self.poll()
            except Exception as exc:  # a database hiccup must not stop the watcher; the next poll retries
                print(f"modelyard: deployment poll failed: {type(exc).__name__}: {exc}", file=sys.stderr)
            self._stop.wait(self.interval)

    def _open(self) -> Any:
        if self._store is None:
            from modelyard.store.metadata.store import MetadataStore

            self._store = MetadataStore.open(self.db_url, create=False)
        return self._store

    def followed(self) -> list[tuple[str, str]]:
        """(name, alias) of every model served by alias (``models:/NAME@champion``); pinned versions stay put.
        Taken from the sources the server started with, once: a swapped-in version carries a pinned URI."""
        if self._followed is None:
            self._followed = []
            for name in self.repository.names():
                uri = self.repository.get(name).source.uri
                if uri.startswith("models:/") and "@" in uri:
                    self._followed.append((name, uri.rsplit("@", 1)[1]))
        return self._followed

    def record(self, name: str) -> Deployment | None:
        stamp = self.deployments.stamp(name)
        cached = self._records.get(name)
        if cached is None or cached[0] != stamp:
            cached = self._records[name] = (stamp, self.deployments.find(name))
        return cached[1]

    def poll(self) -> None:
        for name, alias in self.followed():
            aliases = self._open().aliases(name)
            deployment = self.record(name)
            self._swap(name, aliases.get(alias), aliases.get(CHALLENGER) if self._comparing(deployment) else None)
            if deployment is not None:
                self.server.traffic.set_shares(name, deployment.canary_percent, deployment.shadow_percent)
                self._report(name, deployment)

    def _comparing(self, deployment: Deployment | None) -> bool:
        if deployment is None:  # no record: the shares given to `yard serve` at start apply
            options = self.server.options
            return options.canary_percent > 0 or options.shadow_percent > 0
        return deployment.active

    # -- hot swap ------------------------------------------------------------------------------------------

    def _served(self, name: str, version: str, route: str) -> ServedModel | None:
        """The version, ready to serve in ``route``: reused when already loaded, else loaded and warmed now."""
        for model in self.repository.all():
            if model.name == name and model.version == version and model.ready:
                return model.as_route(route)
        from modelyard.registry.registry import Registry
        from modelyard.store.artifacts import ArtifactStore

        store = self._open()
        artifact = store.get_artifact(Registry(store).resolve(name, version).artifact_id)
        path = ArtifactStore.open(self.store_url).local_path(artifact.digest)
        model = ServedModel(
            ModelSource(name=name, version=version, path=str(path), uri=f"models:/{name}/{version}", route=route)
        )
        model.load_and_warm()
        if not model.ready:
            print(f"modelyard: {name} {version} stays out of traffic: {model.problem}", file=sys.stderr)
            return None
        return model

    def _swap(self, name: str, primary_version: str | None, canary_version: str | None) -> None:
        current = self.repository.get(name)
        current_canary = self.repository.canary(name)
        primary = current
        if primary_version is not None and primary_version != current.version:
            primary = self._served(name, primary_version, "primary") or current
        if canary_version == primary.version:
            canary_version = None
        canary = current_canary
        if canary_version is None:
            canary = None
        elif current_canary is None or current_canary.version != canary_version:
            canary = self._served(name, canary_version, "canary")
        if primary is not current or canary is not current_canary:
            self.repository.install(name, primary, canary)

    # -- counters and the decision -------------------------------------------------------------------------

    def _report(self, name: str, deployment: Deployment) -> None:
        if self._epochs.get(name) != deployment.epoch:
            self._epochs[name] = deployment.epoch
            self.server.traffic.reset(name)
        self.deployments.write_stats(name, deployment.epoch, self.server.traffic.snapshot(name))
        canary = self.repository.canary(name)
        if not deployment.active or not deployment.policy.auto or canary is None or deployment.last_decision:
            return
        with self.deployments.lock_path(name).open("a") as lock:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return  # another worker is deciding right now
            self._decide(name, canary.version, self.repository.get(name).version)

    def _decide(self, name: str, challenger: str, champion: str) -> None:
        deployment = self.deployments.find(name)
        store = self._open()
        if deployment is None or deployment.last_decision or store.get_alias(name, CHALLENGER) != challenger:
            return  # decided by another worker (or the CLI) meanwhile
        snapshots = self.deployments.read_stats(name, deployment.epoch)
        decision = decide(
            VersionCounters.merged([s[champion] for s in snapshots if champion in s]),
            VersionCounters.merged([s[challenger] for s in snapshots if challenger in s]),
            deployment.policy,
        )
        if decision.action == "wait":
            return
        act = promote_challenger if decision.action == "promote" else rollback_challenger
        verb = "promoted" if decision.action == "promote" else "rolled back"
        reason = f"automatically {verb} {challenger} (champion {champion}): {decision.summary()}"
        act(store, self.deployments, name, actor=POLICY_ACTOR, reason=reason, figures=decision.figures)
        print(f"modelyard: {name}: {reason}", file=sys.stderr)
