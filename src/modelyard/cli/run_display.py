"""How a run looks while it runs: a live table on a terminal, one line per change elsewhere (CI, pipes)."""

from __future__ import annotations

import time
from typing import Any

from rich.console import Console
from rich.live import Live
from rich.table import Table

from modelyard.pipeline.events import RunReport, StepReport, StepState

STYLE = {
    StepState.PENDING: "dim",
    StepState.RUNNING: "cyan",
    StepState.DONE: "green",
    StepState.REUSED: "blue",
    StepState.FAILED: "bold red",
    StepState.SKIPPED: "yellow",
    StepState.NOT_RUN: "dim",
    StepState.RETRYING: "magenta",
    StepState.CANCELLED: "red",
}
SYMBOL = {
    StepState.PENDING: "·",
    StepState.RUNNING: "▶",
    StepState.DONE: "✓",
    StepState.REUSED: "↺",
    StepState.FAILED: "✗",
    StepState.SKIPPED: "–",
    StepState.NOT_RUN: "·",
    StepState.RETRYING: "↻",
    StepState.CANCELLED: "✗",
}


def steps_table(report: RunReport, started: dict[str, float] | None = None) -> Table:
    table = Table(title=f"run {report.run_id} · pipeline {report.pipeline}", title_justify="left", expand=False)
    table.add_column("step")
    table.add_column("component", style="dim")
    table.add_column("state")
    table.add_column("time", justify="right")
    table.add_column("note", overflow="fold", max_width=70)
    now = time.perf_counter()
    for step in report.steps.values():
        seconds = step.seconds
        if step.state == StepState.RUNNING and started and step.name in started:
            seconds = now - started[step.name]
        shown = "" if seconds is None else f"{seconds:.1f}s"
        state = f"[{STYLE.get(step.state, '')}]{SYMBOL.get(step.state, '')} {step.state}[/]"
        table.add_row(step.name, step.component, state, shown, describe(step))
    return table


def describe(step: StepReport) -> str:
    """The note column: why a step ran (instead of being reused), then what came of it."""
    return " · ".join(part for part in (step.reason, step.note) if part)


class LiveObserver:
    """A Rich live table that redraws on every change and a few times a second for running clocks."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self._started: dict[str, float] = {}
        self._live: Live | None = None
        self._report: RunReport | None = None

    def _render(self) -> Any:
        assert self._report is not None
        return steps_table(self._report, self._started)

    def started(self, report: RunReport) -> None:
        self._report = report
        self._live = Live(get_renderable=self._render, console=self.console, refresh_per_second=4, transient=False)
        self._live.start()

    def changed(self, report: RunReport, step: StepReport) -> None:
        if step.state == StepState.RUNNING:
            self._started[step.name] = time.perf_counter()
        if self._live is not None:
            self._live.refresh()

    def finished(self, report: RunReport) -> None:
        if self._live is not None:
            self._live.refresh()
            self._live.stop()


class LineObserver:
    """One line per state change: readable in CI logs where a live table would be noise."""

    def __init__(self, console: Console) -> None:
        self.console = console

    def started(self, report: RunReport) -> None:
        verb = "resuming" if report.resumed else "starting"
        self.console.print(f"{verb} run {report.run_id} of pipeline {report.pipeline}")

    def changed(self, report: RunReport, step: StepReport) -> None:
        if step.state in (StepState.PENDING,):
            return
        seconds = f" {step.seconds:.1f}s" if step.seconds is not None and step.state != StepState.RUNNING else ""
        text = describe(step)
        note = f" — {text}" if text else ""
        self.console.print(f"  {SYMBOL.get(step.state, '')} {step.name} {step.state}{seconds}{note}", highlight=False)

    def finished(self, report: RunReport) -> None:
        self.console.print(steps_table(report))
