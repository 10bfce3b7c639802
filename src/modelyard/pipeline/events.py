"""What the runner tells whoever is watching (a live table, plain lines in CI, nothing in tests)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol


class StepState:
    PENDING = "pending"
    RUNNING = "running"
    DONE = "done"
    REUSED = "reused"
    FAILED = "failed"
    SKIPPED = "skipped"
    NOT_RUN = "not run"
    RETRYING = "retrying"
    CANCELLED = "cancelled"


@dataclass
class StepReport:
    name: str
    component: str
    state: str = StepState.PENDING
    seconds: float | None = None
    note: str = ""  # what happened: what it produced, why it was skipped, where it was reused from
    reason: str = ""  # why it ran instead of being reused
    error: str | None = None
    traceback: str | None = None
    attempts: int = 0
    execution_id: int | None = None


@dataclass
class RunReport:
    run_id: str
    pipeline: str
    status: str = "running"
    steps: dict[str, StepReport] = field(default_factory=dict)
    seconds: float = 0.0
    resumed: bool = False

    @property
    def reused(self) -> int:
        return sum(1 for step in self.steps.values() if step.state == StepState.REUSED)


class RunObserver(Protocol):
    def started(self, report: RunReport) -> None: ...
    def changed(self, report: RunReport, step: StepReport) -> None: ...
    def finished(self, report: RunReport) -> None: ...


class SilentObserver:
    def started(self, report: RunReport) -> None:
        pass

    def changed(self, report: RunReport, step: StepReport) -> None:
        pass

    def finished(self, report: RunReport) -> None:
        pass
