"""Content digests: sha256 of a file, and of a directory as the sorted list of its files' digests.

The directory digest depends only on relative paths and file contents (not on mtimes, permissions,
creation order or the operating system), so the same model package or dataset folder gets the same
digest on every machine and in every run, which is what makes caching and deduplication work.
A file's digest is the plain sha256 of its bytes, so ``sha256sum`` checks it by hand.

Tree format (version 1), hashed with sha256::

    modelyard-tree-v1\\n
    <relative/posix/path>\\0<file sha256 hex>\\n     (one line per file, sorted by path)

Empty directories carry no content and are ignored (object stores cannot represent them anyway).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable
from pathlib import Path
from typing import BinaryIO

CHUNK = 1024 * 1024
TREE_HEADER = b"modelyard-tree-v1\n"


def sha256_stream(stream: BinaryIO) -> str:
    h = hashlib.sha256()
    while chunk := stream.read(CHUNK):
        h.update(chunk)
    return h.hexdigest()


def sha256_file(path: str | os.PathLike[str]) -> str:
    """The sha256 hex digest of a file, read in 1 MiB chunks."""
    with open(path, "rb") as f:
        return sha256_stream(f)


def tree_files(root: str | os.PathLike[str]) -> list[tuple[str, Path]]:
    """(relative posix path, absolute path) of every file under ``root``, sorted by relative path.

    Symbolic links are followed, as a copy of the tree would follow them.
    """
    base = Path(root)
    found: list[tuple[str, Path]] = []
    for dirpath, _dirnames, filenames in os.walk(base, followlinks=True):
        for name in filenames:
            path = Path(dirpath, name)
            found.append((path.relative_to(base).as_posix(), path))
    found.sort(key=lambda item: item[0])
    return found


def tree_digest(entries: Iterable[tuple[str, str]]) -> str:
    """The directory digest from (relative posix path, file sha256) pairs, in any order."""
    h = hashlib.sha256(TREE_HEADER)
    for rel, file_digest in sorted(entries):
        h.update(rel.encode("utf-8") + b"\0" + file_digest.encode("ascii") + b"\n")
    return h.hexdigest()


def sha256_tree(path: str | os.PathLike[str]) -> str:
    """The digest of a directory (see the module docstring for the exact format)."""
    return tree_digest((rel, sha256_file(p)) for rel, p in tree_files(path))


def sha256_path(path: str | os.PathLike[str]) -> str:
    """The digest of a file or a directory, whichever ``path`` is."""
    return sha256_tree(path) if Path(path).is_dir() else sha256_file(path)
