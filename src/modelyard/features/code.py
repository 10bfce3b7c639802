"""User code behind function transforms: found once from a reference, then always run from recorded bytes.

A reference is ``file.py:function`` (relative to the project or pipeline folder) or ``module:function``
(importable). Either way the module's *source file* is read once, its sha256 recorded, and the module is
executed from those bytes under a private name derived from the digest (``modelyard_code_<digest>``).
Why not a normal import: the same bytes then run at fit time, in the training step and in a server that
loaded the model package from another folder, and two packages that each ship a different ``features.py``
can be loaded into one process without one shadowing the other. The file travels alone, so it may import
installed libraries but not sibling files of the project.
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib.util
import inspect
import linecache
import sys
import types
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from modelyard.errors import Location, StoreError, UsageError, did_you_mean

if TYPE_CHECKING:
    from modelyard.features.transform import FittedTransform

MODULE_PREFIX = "modelyard_code_"
CODE_FOLDER = "code"


@dataclass(frozen=True)
class Source:
    """One user source file: the name it has under a package's ``code/`` folder, its bytes and sha256."""

    name: str
    data: bytes
    digest: str
    origin: str  # where it was read from, for error messages and tracebacks


def split_function_ref(ref: Any, where: str) -> tuple[str, str]:
    """``(module, function)`` of ``module:function`` / ``file.py:function``, or a UsageError at ``where``."""
    module, sep, attr = str(ref).rpartition(":") if isinstance(ref, str) else ("", "", "")
    if not sep or not module or not attr.isidentifier():
        raise UsageError(
            f"'{where}' must be 'file.py:function' or 'module:function', got {ref!r}",
            where=Location(field=where),
            hint="e.g. features.py:bmi",
        )
    return module, attr


def source_path(module: str, base_dir: Path, where: str) -> Path:
    """The file a reference's module part names: a ``.py`` path under ``base_dir``, a module file next to
    it (``features`` for ``features.py``), or an importable module's source."""
    if module.endswith(".py"):
        path = Path(module) if Path(module).is_absolute() else base_dir / module
        if not path.is_file():
            here = sorted(p.name for p in path.parent.glob("*.py")) if path.parent.is_dir() else []
            raise UsageError(
                f"file not found for '{where}': {path}",
                where=Location(field=where),
                hint=did_you_mean(path.name, here) or "paths are relative to the folder of the pipeline file",
            )
        return path
    local = base_dir / (module.replace(".", "/") + ".py")
    if local.is_file():
        return local
    try:
        spec = importlib.util.find_spec(module)
    except (ImportError, ValueError):
        spec = None
    origin = spec.origin if spec is not None else None
    if not origin or not origin.endswith(".py"):
        raise UsageError(
            f"cannot find the Python source of module '{module}' for '{where}'",
            where=Location(field=where),
            hint="name a file (features.py:fn) or an importable module written in Python",
        )
    return Path(origin)


def read_source(module: str, base_dir: Path, where: str) -> Source:
    path = source_path(module, base_dir, where)
    data = path.read_bytes()
    name = path.name if module.endswith(".py") else module + ".py"
    return Source(name=name, data=data, digest=hashlib.sha256(data).hexdigest(), origin=str(path))


def import_source(source: Source) -> types.ModuleType:
    """Execute ``source`` as a module named after its digest (reused when already loaded in this process)."""
    name = MODULE_PREFIX + source.digest[:24]
    loaded = sys.modules.get(name)
    if loaded is not None:
        return loaded
    try:
        code = compile(source.data, source.origin, "exec")
    except SyntaxError as exc:
        raise UsageError(
            f"syntax error in user code: {exc.msg}", where=Location(file=source.origin, line=exc.lineno)
        ) from None
    module = types.ModuleType(name)
    module.__file__ = source.origin
    text = source.data.decode("utf-8", "replace")
    # tracebacks show the lines even when the file is not on disk where it was read from
    linecache.cache[source.origin] = (len(text), None, text.splitlines(keepends=True), source.origin)
    sys.modules[name] = module  # before exec: dataclasses and pickling look the module up by name
    try:
        exec(code, module.__dict__)
    except Exception as exc:
        del sys.modules[name]
        raise UsageError(
            f"importing user code {source.name} failed: {type(exc).__name__}: {exc}",
            where=Location(file=source.origin),
            hint="the file runs on its own (from the model package): import installed libraries only",
        ) from exc
    return module


def get_function(module: types.ModuleType, attr: str, source: Source, where: str) -> Callable[..., Any]:
    fn = getattr(module, attr, None)
    if fn is None or not callable(fn):
        public = [n for n, v in vars(module).items() if callable(v) and not n.startswith("_")]
        raise UsageError(
            f"'{attr}' is not a function defined in {source.name}",
            where=Location(field=where),
            hint=did_you_mean(attr, public),
        )
    return fn  # type: ignore[no-any-return]


def check_call_shape(fn: Callable[..., Any], mode: str, columns: list[str], ref: str, where: str) -> None:
    """A row function is called ``fn(col=value, ...)``, a batch function ``fn({col: array})``: check the
    signature accepts that, so a wrong ``mode`` fails before any data is read."""
    try:
        signature = inspect.signature(fn)
    except (TypeError, ValueError):  # builtins and some C functions have no signature: trust the user
        return
    try:
        if mode == "row":
            signature.bind(**dict.fromkeys(columns))
        else:
            signature.bind({})
    except TypeError as exc:
        if mode == "row":
            hint = (
                "a row function takes one keyword argument per column; a function of one dict of arrays is mode: batch"
            )
        else:
            hint = "a batch function takes one dict of column arrays; a function of one value per column is mode: row"
        raise UsageError(
            f"{ref} cannot be called as a {mode} function of {', '.join(columns)}: {exc}",
            where=Location(field=where),
            hint=hint,
        ) from None


def code_files(transform: FittedTransform) -> dict[str, bytes]:
    """``code/`` file name -> source bytes: what a transform artifact or model package must carry."""
    out: dict[str, bytes] = {}
    for f in transform.functions:
        if f.code is None:
            raise UsageError(f"the source of function transform {f.ref} is not loaded; cannot write it")
        out[f.source] = f.code
    return out


def bind_code(transform: FittedTransform, code: Mapping[str, bytes], folder: Path | None = None) -> FittedTransform:
    """The transform with every function imported from ``code`` (file name -> bytes), each file checked
    against the digest the fitted transform recorded."""
    bound = []
    for i, f in enumerate(transform.functions):
        if f.source not in code:
            raise StoreError(f"the code file {CODE_FOLDER}/{f.source} of function {f.ref} is missing")
        data = code[f.source]
        digest = hashlib.sha256(data).hexdigest()
        if digest != f.digest:
            raise StoreError(
                f"{CODE_FOLDER}/{f.source} does not match the digest recorded in the transform",
                hint="the code was modified after fitting; fit the transform again",
            )
        origin = str(Path(folder) / CODE_FOLDER / f.source) if folder else f"{CODE_FOLDER}/{f.source}"
        source = Source(f.source, data, digest, origin)
        _, attr = split_function_ref(f.ref, f"functions[{i}].function")
        fn = get_function(import_source(source), attr, source, f"functions[{i}].function")
        bound.append(dataclasses.replace(f, fn=fn, code=data, origin=origin))
    return dataclasses.replace(transform, functions=tuple(bound))


def write_code(transform: FittedTransform, folder: Path) -> None:
    """Write the ``code/`` files of ``transform`` into ``folder`` (nothing when it has no functions)."""
    files = code_files(transform)
    if files:
        (Path(folder) / CODE_FOLDER).mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        (Path(folder) / CODE_FOLDER / name).write_bytes(data)


def read_transform(folder: Path) -> FittedTransform:
    """A transform artifact folder (``transform.json`` and ``code/``) as a ready-to-apply transform."""
    import json

    from modelyard.features.transform import FittedTransform

    folder = Path(folder)
    transform = FittedTransform.from_dict(json.loads((folder / "transform.json").read_text(encoding="utf-8")))
    if not transform.functions:
        return transform
    code = {}
    for f in transform.functions:
        path = folder / CODE_FOLDER / f.source
        if not path.is_file():
            raise StoreError(f"the transform at {folder} has no {CODE_FOLDER}/{f.source} for function {f.ref}")
        code[f.source] = path.read_bytes()
    return bind_code(transform, code, folder)
