"""The fitted parameters of one column or cross: frozen numbers that apply() turns into features.

Each class knows its output width and its feature names; the arithmetic lives in
:mod:`modelyard.features.apply` so the batch and record paths sit side by side.
"""

from __future__ import annotations

import itertools
import zlib
from dataclasses import dataclass, field

OOV = "__oov__"
MISSING_CATEGORY = "__missing__"


def hash_bucket(key: str, buckets: int) -> int:
    """A bucket that is the same in every process and on every machine (unlike Python's ``hash``)."""
    return zlib.crc32(key.encode("utf-8")) % buckets


def _edge(value: float) -> str:
    return str(int(value)) if value.is_integer() else f"{value:.6g}"


@dataclass(frozen=True)
class NumericParams:
    """A fitted numeric column.

    ``x`` (or ``fill`` when missing) is clipped to ``[clip_low, clip_high]``, shaped by
    ``sign(x) * log1p(|x|)`` when ``log``, then either scaled ``(x - offset) / divisor`` or, with
    ``edges``, put in the bucket ``bisect_right(edges, x)`` (one indicator per bucket).
    """

    name: str
    fill: float
    offset: float
    divisor: float
    count: int
    mean: float | None
    std: float | None
    min: float | None
    max: float | None
    median: float | None
    clip_low: float | None = None
    clip_high: float | None = None
    log: bool = False
    edges: tuple[float, ...] | None = None

    @property
    def width(self) -> int:
        return 1 if self.edges is None else len(self.edges) + 1

    def feature_names(self) -> list[str]:
        if self.edges is None:
            return [self.name]
        bounds = ["-inf", *(_edge(e) for e in self.edges), "inf"]
        return [f"{self.name}[{lo},{hi})" for lo, hi in itertools.pairwise(bounds)]


@dataclass(frozen=True)
class CategoricalParams:
    """A fitted categorical column: the kept vocabulary (most frequent first), the fill for missing
    values and the encoding (``onehot``, ``ordinal`` or ``hash`` into ``buckets``)."""

    name: str
    vocabulary: tuple[str, ...]
    counts: tuple[int, ...]
    missing: int
    fill: str | None  # the key a missing value is replaced by; None sends it to the OOV bucket
    encode: str = "onehot"
    buckets: int = 0
    index: dict[str, int] = field(init=False, repr=False, compare=False, hash=False)
    fill_index: int = field(init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        index = {value: i for i, value in enumerate(self.vocabulary)}
        object.__setattr__(self, "index", index)
        if self.encode == "hash":
            fill_index = hash_bucket(self.fill if self.fill is not None else MISSING_CATEGORY, self.buckets)
        else:
            oov = len(self.vocabulary)
            fill_index = oov if self.fill is None else index.get(self.fill, oov)
        object.__setattr__(self, "fill_index", fill_index)

    @property
    def width(self) -> int:
        if self.encode == "ordinal":
            return 1
        if self.encode == "hash":
            return self.buckets
        return len(self.vocabulary) + 1

    def position(self, key: str | None) -> int:
        """Index (one-hot position, ordinal value or hash bucket) of a canonical key; None is missing."""
        if key is None:
            return self.fill_index
        if self.encode == "hash":
            return hash_bucket(key, self.buckets)
        return self.index.get(key, len(self.vocabulary))

    def feature_names(self) -> list[str]:
        if self.encode == "ordinal":
            return [self.name]
        if self.encode == "hash":
            return [f"{self.name}#{i}" for i in range(self.buckets)]
        return [f"{self.name}={value}" for value in self.vocabulary] + [f"{self.name}={OOV}"]


@dataclass(frozen=True)
class CrossParams:
    """A hashed feature cross: the columns' canonical keys joined and hashed into ``buckets``."""

    columns: tuple[str, ...]
    buckets: int

    @property
    def width(self) -> int:
        return self.buckets

    @property
    def name(self) -> str:
        return " x ".join(self.columns)

    def position(self, keys: list[str | None]) -> int:
        return hash_bucket("\x1f".join(MISSING_CATEGORY if k is None else k for k in keys), self.buckets)

    def feature_names(self) -> list[str]:
        return [f"{self.name}#{i}" for i in range(self.buckets)]


@dataclass(frozen=True)
class DateParams:
    """Parts of a timestamp column, one numeric feature each; a missing timestamp gives 0 for every part.

    Nothing is fitted (a calendar needs no statistics); the part is read from the value's own fields,
    so a timezone-aware timestamp gives its local hour.
    """

    name: str
    parts: tuple[str, ...]

    @property
    def width(self) -> int:
        return len(self.parts)

    def feature_names(self) -> list[str]:
        return [f"{self.name}.{part}" for part in self.parts]
