"""User code referenced from a pipeline as ``module:function`` or ``path/to/file.py:function``.

The same reference is both loaded (to run it) and fingerprinted (to key the cache), so a change to the
user's file reruns exactly the steps that use it.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import sys
from pathlib import Path
from typing import Any

from modelyard.errors import Location, UsageError, did_you_mean


def split_ref(ref: str) -> tuple[str, str]:
    module, sep, attr = ref.rpartition(":")
    if not sep or not module or not attr:
        raise UsageError(
            f"code reference '{ref}' must be 'module:function' or 'path/to/file.py:function'",
            hint="e.g. train.py:train_model",
        )
    return module, attr


def _module_file(module: str, base_dir: Path) -> Path | None:
    if module.endswith(".py"):
        path = Path(module)
        return path if path.is_absolute() else (base_dir / path)
    spec = importlib.util.find_spec(module) if _importable(module) else None
    if spec is not None and spec.origin and spec.origin not in ("built-in", "frozen"):
        return Path(spec.origin)
    return None


def _importable(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def load_object(ref: str, *, base_dir: Path) -> Any:
    """Import the module or file named by ``ref`` and return the attribute, with a clear error if absent."""
    module_name, attr = split_ref(ref)
    if module_name.endswith(".py"):
        path = _module_file(module_name, base_dir)
        assert path is not None
        if not path.is_file():
            raise UsageError(f"file not found for code reference '{ref}': {path}")
        unique = "modelyard_user_" + hashlib.sha256(str(path.resolve()).encode()).hexdigest()[:12]
        spec = importlib.util.spec_from_file_location(unique, path)
        if spec is None or spec.loader is None:
            raise UsageError(f"cannot import {path}")
        module = importlib.util.module_from_spec(spec)
        sys.modules[unique] = module
        parent = str(path.resolve().parent)
        if parent not in sys.path:
            sys.path.insert(0, parent)
        try:
            spec.loader.exec_module(module)
        except SyntaxError as exc:
            raise UsageError(
                f"syntax error in user code: {exc.msg}", where=Location(file=str(path), line=exc.lineno)
            ) from None
    else:
        if str(base_dir) not in sys.path:
            sys.path.insert(0, str(base_dir))
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            raise UsageError(f"cannot import module '{module_name}' for '{ref}': {exc}") from None
    try:
        return getattr(module, attr)
    except AttributeError:
        public = [name for name in vars(module) if not name.startswith("_")]
        raise UsageError(f"'{attr}' is not defined in {module_name}", hint=did_you_mean(attr, public)) from None


def fingerprint_ref(ref: str, *, base_dir: Path) -> str:
    """sha256 of the source file behind a reference (its code, so edits invalidate the cache)."""
    module_name, _ = split_ref(ref)
    path = _module_file(module_name, base_dir)
    if path is None or not path.is_file():
        return hashlib.sha256(ref.encode()).hexdigest()
    return hashlib.sha256(path.read_bytes()).hexdigest()
