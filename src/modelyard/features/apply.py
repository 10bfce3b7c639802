"""Applying a fitted transform: a vectorised batch path and a lean per-record path that agree bit for bit.

The batch path converts each input column once to a float64 array (numeric) or a list of canonical
category keys (categorical) and does the arithmetic with NumPy; the record path does the same IEEE
operations on Python floats, which is what a server answering one request at a time wants. Both read
cell values through :mod:`modelyard.features.values`, so ``None``/``NaN``/``pandas.NA``, ``2007`` versus
``2007.0`` and unseen categories are treated identically. The property test in
``tests/unit/features`` holds the two paths to ``batch[i] == record(rows[i])`` byte for byte.

Records may omit a field (JSON clients drop nulls): a missing key reads as a missing value. A DataFrame
or Arrow table that lacks a whole column is an error instead, because that is almost always a mistake.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from modelyard.errors import DataError, Location, UsageError, did_you_mean
from modelyard.features.values import as_float, category_key, describe

if TYPE_CHECKING:
    import numpy as np

    from modelyard.features.transform import FittedTransform


def _not_a_number(value: Any, row: int | None, name: str, noun: str) -> DataError:
    where = Location(row=row, field=name) if noun == "record" else Location(row=row, column=name)
    return DataError(
        f"expected a number, got {describe(value)}",
        where=where,
        hint="convert the column upstream, or predict with coerce=True to convert numeric strings",
    )


def _floats(values: Iterable[Any], count: int, name: str, noun: str) -> np.ndarray:
    """Value-by-value conversion, for records and for object/string/decimal columns."""
    import numpy as np

    out = np.empty(count, dtype=np.float64)
    for i, value in enumerate(values):
        number = as_float(value)
        if number is None:
            raise _not_a_number(value, i, name, noun)
        out[i] = number
    return out


class _Records:
    """Column access over a sequence of mappings."""

    noun = "record"

    def __init__(self, rows: Sequence[Any]) -> None:
        for i, row in enumerate(rows):
            if not isinstance(row, Mapping):
                raise UsageError(
                    f"record {i} is a {type(row).__name__}, expected a mapping of field to value",
                    where=Location(row=i),
                )
        self.rows = rows

    def __len__(self) -> int:
        return len(self.rows)

    def numeric(self, name: str) -> np.ndarray:
        return _floats((row.get(name) for row in self.rows), len(self.rows), name, self.noun)

    def values(self, name: str) -> list[Any]:
        return [row.get(name) for row in self.rows]


class _Frame:
    """Column access over a pandas DataFrame; numeric and bool dtypes convert without a Python loop."""

    noun = "row"

    def __init__(self, frame: Any) -> None:
        self.frame = frame

    def __len__(self) -> int:
        return len(self.frame)

    def _column(self, name: str) -> Any:
        if name not in self.frame.columns:
            raise DataError(
                f"the DataFrame has no column '{name}'",
                where=Location(column=name),
                hint=did_you_mean(name, [str(c) for c in self.frame.columns]),
            )
        return self.frame[name]

    def numeric(self, name: str) -> np.ndarray:
        import numpy as np
        from pandas.api.types import is_bool_dtype, is_numeric_dtype

        column = self._column(name)
        if is_numeric_dtype(column.dtype) or is_bool_dtype(column.dtype):
            return np.array(column.to_numpy(dtype=np.float64, na_value=np.nan), dtype=np.float64)
        return _floats(column.tolist(), len(column), name, self.noun)

    def values(self, name: str) -> list[Any]:
        return self._column(name).tolist()


class _Arrow:
    """Column access over a pyarrow Table or RecordBatch; integer, float and bool columns cast in C."""

    noun = "row"

    def __init__(self, table: Any) -> None:
        self.table = table

    def __len__(self) -> int:
        return self.table.num_rows

    def _column(self, name: str) -> Any:
        names = self.table.schema.names
        if name not in names:
            raise DataError(
                f"the Arrow table has no column '{name}'",
                where=Location(column=name),
                hint=did_you_mean(name, names),
            )
        return self.table.column(name)

    def numeric(self, name: str) -> np.ndarray:
        import numpy as np
        import pyarrow as pa
        import pyarrow.compute as pc

        column = self._column(name)
        kind = column.type
        if pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_boolean(kind):
            cast = pc.cast(column, pa.float64(), safe=False)
            return np.array(cast.to_numpy(zero_copy_only=False), dtype=np.float64)
        # decimals, strings and anything else go value by value, exactly like records
        return _floats(column.to_pylist(), len(column), name, self.noun)

    def values(self, name: str) -> list[Any]:
        return self._column(name).to_pylist()


def _reader(data: Any) -> _Records | _Frame | _Arrow:
    # A DataFrame or Arrow table can only exist if its library is already imported: check sys.modules
    # so that predicting on plain records never imports pandas or pyarrow.
    pandas = sys.modules.get("pandas")
    if pandas is not None and isinstance(data, pandas.DataFrame):
        return _Frame(data)
    pyarrow = sys.modules.get("pyarrow")
    if pyarrow is not None and isinstance(data, pyarrow.Table | pyarrow.RecordBatch):
        return _Arrow(data)
    if isinstance(data, Sequence) and not isinstance(data, str | bytes):
        return _Records(data)
    raise UsageError(
        f"cannot transform a {type(data).__name__}",
        hint="pass a list of records (dicts), a pandas DataFrame or a pyarrow Table",
    )


def apply_batch(transform: FittedTransform, data: Any) -> np.ndarray:
    """The feature matrix (rows x ``len(feature_names_out)``, float64) for a batch of rows."""
    import numpy as np

    reader = _reader(data)
    n = len(reader)
    width = len(transform.numeric) + sum(p.width for p in transform.categorical)
    out = np.zeros((n, width), dtype=np.float64)
    for j, p in enumerate(transform.numeric):
        x = reader.numeric(p.name)
        x = np.where(np.isnan(x), p.fill, x)
        out[:, j] = (x - p.offset) / p.divisor
    start = len(transform.numeric)
    rows = np.arange(n)
    for p in transform.categorical:
        oov = len(p.vocabulary)
        index = p.index
        hits = [
            p.fill_index if key is None else index.get(key, oov) for key in map(category_key, reader.values(p.name))
        ]
        out[rows, start + np.asarray(hits, dtype=np.intp)] = 1.0
        start += p.width
    return out


def apply_record(transform: FittedTransform, record: Mapping[str, Any]) -> np.ndarray:
    """The feature vector for one record; the same numbers as its row in :func:`apply_batch`."""
    import numpy as np

    if not isinstance(record, Mapping):
        raise UsageError(f"expected a mapping of field to value, got a {type(record).__name__}")
    values: list[float] = []
    for p in transform.numeric:
        raw = record.get(p.name)
        x = as_float(raw)
        if x is None:
            raise _not_a_number(raw, None, p.name, "record")
        if math.isnan(x):
            x = p.fill
        values.append((x - p.offset) / p.divisor)
    for p in transform.categorical:
        key = category_key(record.get(p.name))
        hit = p.fill_index if key is None else p.index.get(key, len(p.vocabulary))
        block = [0.0] * p.width
        block[hit] = 1.0
        values += block
    return np.array(values, dtype=np.float64)
