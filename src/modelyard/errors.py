"""One error hierarchy for the whole package.

Every error a user can cause derives from :class:`ModelyardError` and carries enough to say *what*
went wrong, *where* (file, line, step, column, row, field) and *how to fix it*. The CLI turns any of
them into one line and an exit code; the server (later) maps them to HTTP codes in one table. Only the
standard library is imported here so that every layer can use it.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Location:
    """Where a problem is; every part is optional and only the known ones are printed."""

    file: str | None = None
    line: int | None = None
    step: str | None = None
    column: str | None = None
    row: int | None = None
    field: str | None = None

    def __str__(self) -> str:
        parts: list[str] = []
        if self.file:
            parts.append(f"{self.file}:{self.line}" if self.line else self.file)
        elif self.line:
            parts.append(f"line {self.line}")
        if self.step:
            parts.append(f"step '{self.step}'")
        if self.column:
            parts.append(f"column '{self.column}'")
        if self.row is not None:
            parts.append(f"row {self.row}")
        if self.field:
            parts.append(f"field '{self.field}'")
        return ", ".join(parts)


class ModelyardError(Exception):
    """Base of every error modelyard raises on purpose.

    ``exit_code`` follows the CLI contract: 1 a step or check failed, 2 a usage or configuration error.
    """

    exit_code = 1

    def __init__(self, message: str, *, where: Location | None = None, hint: str | None = None) -> None:
        self.message = message
        self.where = where or Location()
        self.hint = hint
        super().__init__(self.one_line())

    def one_line(self) -> str:
        where = str(self.where)
        text = f"{where}: {self.message}" if where else self.message
        if self.hint:
            text += f" ({self.hint})"
        return text


class UsageError(ModelyardError):
    """The user asked for something that cannot be done as asked (bad flag, bad config, bad file)."""

    exit_code = 2


class ConfigError(UsageError):
    """A configuration value (settings, environment variable, URL) is invalid."""


class PipelineDefinitionError(UsageError):
    """The pipeline definition is wrong; raised before anything runs."""


class NotFound(UsageError):
    """A named thing (run, artifact, model, version, alias) does not exist."""


class PluginNotFound(NotFound):
    """An unknown plugin name or URL scheme; the message lists the known ones."""


class StoreError(ModelyardError):
    """A metadata or artifact store could not do what was asked (corrupt, unreachable, out of date)."""


class SchemaOutOfDate(StoreError):
    """The metadata database needs ``yard db upgrade`` before this version of modelyard can use it."""

    exit_code = 2


class DataError(ModelyardError):
    """Input data cannot be read or does not have the shape that was asked for."""


class ValidationFailed(ModelyardError):
    """Data or a record broke its contract; ``problems`` lists every offence in words."""

    def __init__(self, message: str, problems: Iterable[str] = (), **kwargs: object) -> None:
        self.problems = list(problems)
        super().__init__(message, **kwargs)  # type: ignore[arg-type]


class StepFailed(ModelyardError):
    """A pipeline step raised; the run stops after the steps already running finish."""


def did_you_mean(word: str, candidates: Iterable[str]) -> str | None:
    """A "did you mean ...?" hint for a misspelled name, or the list of known names when none is close."""
    known = sorted(set(candidates))
    close = difflib.get_close_matches(word, known, n=1, cutoff=0.6)
    if close:
        return f"did you mean '{close[0]}'?"
    if known:
        return "known: " + ", ".join(known)
    return None
