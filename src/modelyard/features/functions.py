"""User Python functions as transforms: new numeric features computed from raw columns, row by row or in batches.

Spec (YAML or the dict given to ``TransformSpec(functions=[...])``)::

    functions:
      - {function: features.py:bmi, columns: [body_mass_g, flipper_length_mm], output: mass_per_flipper}
      - {function: features.py:log_ratio, mode: batch, columns: [a, b], output: [r1, r2]}

**Row** (the default): called once per record as ``fn(body_mass_g=..., flipper_length_mm=...)``. Each value
is read the same way whatever the input form: ``None`` when missing (None, NaN, pandas.NA), a ``float`` for
any number, ``bool``, ``str`` or ``datetime``. It returns a number (``None``/NaN = missing, imputed like any
missing number), or for several outputs a tuple/list in ``output`` order or a dict keyed by output name.

**Batch**: called as ``fn(columns)`` with a dict of column name -> 1-D float64 NumPy array (missing = NaN;
the columns must hold numbers or booleans). It returns one array per output (a tuple/list, or a dict) with
one value per row, and must work row-wise: the record path calls it on a one-row batch.

Outputs are numeric features placed after the spec's numeric columns, in ``functions`` order; ``features``
entries may name them (impute, clip, log, scale, bucketize) like any numeric column. The batch path maps a
row function over the rows and calls a batch function on the whole batch; the record path calls a row
function on the record and a batch function on a one-row batch, so both paths see the same values.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import numbers
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from modelyard.errors import DataError, Location, UsageError, did_you_mean
from modelyard.features.code import (
    Source,
    check_call_shape,
    get_function,
    import_source,
    read_source,
    split_function_ref,
)
from modelyard.features.values import as_datetime, as_float, describe, is_bool, is_missing

if TYPE_CHECKING:
    import numpy as np

    from modelyard.features.transform import TransformSpec

_FIT_BATCH_ROWS = 65_536


@dataclass(frozen=True)
class FunctionParams:
    """A function transform as fitted: the reference, its columns and outputs, and the source it ran from
    (``source`` is the file name under ``code/``, ``digest`` its sha256). ``fn`` is bound on load."""

    ref: str
    mode: str
    columns: tuple[str, ...]
    outputs: tuple[str, ...]
    source: str
    digest: str
    fn: Callable[..., Any] | None = field(default=None, compare=False, repr=False)
    code: bytes | None = field(default=None, compare=False, repr=False)
    origin: str | None = field(default=None, compare=False, repr=False)

    def to_dict(self) -> dict[str, Any]:
        return {
            "function": self.ref, "mode": self.mode, "columns": list(self.columns), "output": list(self.outputs),
            "source": self.source, "digest": self.digest,
        }  # fmt: skip

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> FunctionParams:
        source = str(d["source"])
        if "/" in source or "\\" in source or source.startswith("."):
            raise ValueError(f"code file name {source!r} is not a plain file name")
        return cls(
            ref=str(d["function"]), mode=str(d["mode"]), columns=tuple(d["columns"]), outputs=tuple(d["output"]),
            source=source, digest=str(d["digest"]),
        )  # fmt: skip


def load_functions(
    entries: Sequence[Mapping[str, Any]], *, base_dir: Path, files: Mapping[str, Path] | None = None
) -> tuple[FunctionParams, ...]:
    """Read, import and check every function a spec names, before any data is read.

    ``files`` maps a reference's module part (``features.py``) to the file to read instead of resolving it
    under ``base_dir`` (the pipeline passes the exact files it hashed into the step's cache key).
    """
    sources: dict[str, Source] = {}
    by_name: dict[str, str] = {}  # code/ file name -> digest, to keep two different features.py apart
    out = []
    for i, entry in enumerate(entries):
        where = f"functions[{i}].function"
        module, attr = split_function_ref(entry["function"], where)
        if module not in sources:
            if files and module in files:
                path = Path(files[module])
                data = path.read_bytes()
                name = path.name if module.endswith(".py") else module + ".py"
                source = Source(name, data, hashlib.sha256(data).hexdigest(), str(path))
            else:
                source = read_source(module, base_dir, where)
            if by_name.get(source.name, source.digest) != source.digest:
                stem = source.name.removesuffix(".py")
                source = dataclasses.replace(source, name=f"{stem}.{source.digest[:12]}.py")
            by_name[source.name] = source.digest
            sources[module] = source
        source = sources[module]
        fn = get_function(import_source(source), attr, source, where)
        check_call_shape(fn, entry["mode"], list(entry["columns"]), entry["function"], where)
        out.append(
            FunctionParams(
                ref=entry["function"], mode=entry["mode"], columns=tuple(entry["columns"]),
                outputs=tuple(entry["output"]), source=source.name, digest=source.digest, fn=fn, code=source.data,
                origin=source.origin,
            )
        )  # fmt: skip
    return tuple(out)


def cell(value: Any) -> Any:
    """One value as a row function receives it: None, float, bool, str or datetime, whatever the input form
    (``2007`` and ``2007.0``, ``NaN`` and ``None``, a pandas Timestamp and a datetime read the same)."""
    if is_missing(value):
        return None
    if is_bool(value):
        return bool(value)
    if isinstance(value, str):
        return value
    if isinstance(value, numbers.Real | Decimal):
        number = as_float(value)
        return value if number is None else number
    moment = as_datetime(value) if not isinstance(value, bytes) else None
    if moment is not None:
        return dt.datetime(
            moment.year, moment.month, moment.day, moment.hour, moment.minute, moment.second, moment.microsecond,
            moment.tzinfo, fold=moment.fold,
        )  # fmt: skip
    return value


def _bound(f: FunctionParams) -> Callable[..., Any]:
    if f.fn is None:
        raise UsageError(
            f"the code of function transform {f.ref} is not loaded",
            hint="load the model package with modelyard.load_model, or bind it with features.functions.bind_code",
        )
    return f.fn


def _failed(f: FunctionParams, exc: Exception, row: int | None) -> DataError:
    return DataError(
        f"function {f.ref} raised {type(exc).__name__}: {exc}",
        where=Location(row=row),
        hint="fix the function or the record (the traceback is chained; --debug shows it)",
    )


def _bad_result(f: FunctionParams, row: int | None, what: str) -> DataError:
    return DataError(f"function {f.ref} {what}", where=Location(row=row), hint=f"outputs: {', '.join(f.outputs)}")


def _by_name(f: FunctionParams, result: Mapping[str, Any], row: int | None) -> list[Any]:
    """A dict result's values in output order; every output must be there."""
    absent = [name for name in f.outputs if name not in result]
    if absent:
        raise _bad_result(f, row, f"returned a dict without {', '.join(absent)}")
    return [result[name] for name in f.outputs]


def _row_values(f: FunctionParams, result: Any, row: int | None) -> list[float]:
    k = len(f.outputs)
    if isinstance(result, Mapping):
        values = _by_name(f, result, row)
    elif isinstance(result, list | tuple) or getattr(result, "ndim", 0) == 1:
        values = list(result)
        if len(values) != k:
            raise _bad_result(f, row, f"returned {len(values)} values for {k} output(s)")
    elif k == 1:
        values = [result]
    else:
        raise _bad_result(f, row, f"returned one value for {k} outputs; return a tuple or a dict")
    floats = []
    for name, value in zip(f.outputs, values, strict=True):
        number = as_float(value)
        if number is None:
            raise _bad_result(f, row, f"returned {describe(value)} for '{name}', expected a number")
        floats.append(number)
    return floats


def _batch_values(f: FunctionParams, result: Any, n: int, row: int | None) -> np.ndarray:
    import numpy as np

    k = len(f.outputs)
    if isinstance(result, Mapping):
        parts = _by_name(f, result, row)
    elif k == 1:
        parts = [result]
    elif isinstance(result, list | tuple) and len(result) == k:
        parts = list(result)
    else:
        raise _bad_result(f, row, f"must return {k} arrays (a tuple or a dict), got {describe(result)}")
    block = np.empty((k, n), dtype=np.float64)
    for j, (name, part) in enumerate(zip(f.outputs, parts, strict=True)):
        try:
            values = np.asarray(part, dtype=np.float64)
        except (TypeError, ValueError):
            raise _bad_result(f, row, f"returned values that are not numbers for '{name}'") from None
        if values.shape != (n,):
            raise _bad_result(f, row, f"returned shape {values.shape} for '{name}'; expected ({n},), one per row")
        block[j] = values
    return block


def _first_failing_row(fn: Callable[..., Any], arrays: Mapping[str, np.ndarray], n: int) -> int | None:
    """The first row whose one-row batch raises: the index the error names when a whole batch failed."""
    for i in range(n):
        try:
            fn({name: values[i : i + 1] for name, values in arrays.items()})
        except Exception:
            return i
    return None


def derive_batch(functions: Sequence[FunctionParams], reader: Any, offset: int = 0) -> dict[str, np.ndarray]:
    """Every function output for a batch, as float64 arrays keyed by output name (``reader`` is a column
    reader from :mod:`modelyard.features.apply`; ``offset`` shifts the row numbers errors report)."""
    import numpy as np

    n = len(reader)
    out: dict[str, np.ndarray] = {}
    for f in functions:
        fn = _bound(f)
        if f.mode == "row":
            cells = [[cell(v) for v in reader.values(name)] for name in f.columns]
            block = np.empty((len(f.outputs), n), dtype=np.float64)
            for i in range(n):
                try:
                    result = fn(**{name: values[i] for name, values in zip(f.columns, cells, strict=True)})
                except Exception as exc:
                    raise _failed(f, exc, offset + i) from exc
                block[:, i] = _row_values(f, result, offset + i)
        else:
            arrays = {name: reader.numeric(name) for name in f.columns}
            try:
                result = fn(dict(arrays))
            except Exception as exc:
                failing = _first_failing_row(fn, arrays, n)
                raise _failed(f, exc, None if failing is None else offset + failing) from exc
            block = _batch_values(f, result, n, None)
        for j, name in enumerate(f.outputs):
            out[name] = block[j]
    return out


def derive_record(functions: Sequence[FunctionParams], record: Mapping[str, Any]) -> dict[str, float]:
    """Every function output for one record: the same numbers as its row in :func:`derive_batch`."""
    import numpy as np

    out: dict[str, float] = {}
    for f in functions:
        fn = _bound(f)
        if f.mode == "row":
            try:
                result = fn(**{name: cell(record.get(name)) for name in f.columns})
            except Exception as exc:
                raise _failed(f, exc, None) from exc
            values = _row_values(f, result, None)
        else:
            arrays = {}
            for name in f.columns:
                number = as_float(record.get(name))
                if number is None:
                    raise DataError(
                        f"expected a number, got {describe(record.get(name))}",
                        where=Location(field=name),
                        hint=f"the batch function {f.ref} reads numbers",
                    )
                arrays[name] = np.array([number], dtype=np.float64)
            try:
                result = fn(arrays)
            except Exception as exc:
                raise _failed(f, exc, None) from exc
            values = [float(v) for v in _batch_values(f, result, 1, None)[:, 0]]
        out.update(zip(f.outputs, values, strict=True))
    return out


@contextmanager
def training_data(train: Path, spec: TransformSpec, functions: Sequence[FunctionParams]) -> Iterator[Path]:
    """The training file the analyzers read: ``train`` itself, or with functions a temporary Parquet copy of
    the spec's columns plus every function output, computed batch by batch (never the whole file in memory)."""
    if not functions:
        yield train
        return
    import tempfile

    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    from modelyard.features.apply import column_reader

    if not train.exists():
        raise DataError("training data file does not exist", where=Location(file=str(train)))
    parquet = pq.ParquetFile(train)
    file_names = parquet.schema_arrow.names
    keep = list(dict.fromkeys([*spec.numeric, *spec.categorical]))
    needed = list(dict.fromkeys([*keep, *(c for f in functions for c in f.columns)]))
    for name in needed:
        if name not in file_names:
            raise DataError(
                f"the training data has no column '{name}'",
                where=Location(file=str(train), column=name),
                hint=did_you_mean(name, file_names),
            )
    outputs = [name for f in functions for name in f.outputs]
    schema = pa.schema([parquet.schema_arrow.field(n) for n in keep] + [pa.field(n, pa.float64()) for n in outputs])
    with tempfile.TemporaryDirectory(prefix="modelyard-fit-") as tmp:
        path = Path(tmp) / "train-with-functions.parquet"
        with pq.ParquetWriter(path, schema) as writer:
            offset = 0
            for batch in parquet.iter_batches(batch_size=_FIT_BATCH_ROWS, columns=needed):
                derived = derive_batch(functions, column_reader(batch), offset)
                for f in functions:
                    for name in f.outputs:
                        infinite = np.flatnonzero(np.isinf(derived[name]))
                        if len(infinite):
                            raise DataError(
                                f"function {f.ref} returned an infinite value for '{name}'",
                                where=Location(row=offset + int(infinite[0])),
                                hint="return None (missing) instead; a numeric feature needs finite numbers",
                            )
                arrays = [batch.column(batch.schema.get_field_index(n)) for n in keep]
                arrays += [pa.array(derived[n], type=pa.float64()) for n in outputs]
                writer.write_batch(pa.RecordBatch.from_arrays(arrays, schema=schema))
                offset += batch.num_rows
        yield path


def input_columns(functions: Sequence[FunctionParams], listed: Sequence[str]) -> list[str]:
    """``listed`` followed by the function inputs not already in it, each once."""
    return list(dict.fromkeys([*listed, *(name for f in functions for name in f.columns)]))
