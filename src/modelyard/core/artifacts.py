"""Artifact types and references: the typed, content-addressed outputs that steps pass to each other.

A reference is a value: it names content by its sha256 digest and says what kind of thing it is, so a
step's input can be type-checked before the pipeline runs and a cache key can be built from digests
alone.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class ArtifactType(StrEnum):
    """The kinds of artifact a step can produce or consume."""

    FILE = "file"  # an external file a pipeline read (raw CSV, ...), recorded with its digest
    DATASET = "dataset"  # a versioned table (Parquet), with train/eval splits
    STATISTICS = "statistics"
    SCHEMA = "schema"
    ANOMALIES = "anomalies"
    TRANSFORM = "transform"
    MODEL = "model"
    EVALUATION = "evaluation"
    BLESSING = "blessing"
    DRIFT_REPORT = "drift_report"
    DECISION = "decision"  # what a monitor policy decided (retrain or not) and why
    REPORT = "report"  # a human-facing HTML file
    GENERIC = "generic"  # anything a user component writes that has no better type


@dataclass(frozen=True)
class ArtifactRef:
    """One stored artifact: its type, where it lives, its content digest and small readable properties."""

    type: ArtifactType
    uri: str
    digest: str
    properties: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)
    id: int | None = None
