"""The local-folder artifact store: the embedded default, and the fastest path for big outputs.

Publishing is a single ``os.rename`` from ``tmp/`` (or from the step's staging directory, which lives
under ``tmp/`` on purpose) into ``objects/``; rename is atomic on one filesystem, so an object either
exists completely or not at all, and a step's multi-gigabyte output is moved, not copied. Stored files
are made read-only so that a step reading an artifact through ``local_path`` cannot change it by
accident.
"""

from __future__ import annotations

import errno
import os
import shutil
import stat
import time
from pathlib import Path

from modelyard.store.artifacts.base import ArtifactStore, check_digest, temp_name, writer_alive
from modelyard.store.artifacts.digest import sha256_file, sha256_path, sha256_tree

_READ_ONLY = stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH


def _copy_file(src: str, dst: str) -> str:
    """Copy one file's bytes (the single place a local put copies data; tests interrupt it here)."""
    shutil.copyfile(src, dst)
    return dst


def remove_path(path: Path) -> None:
    """Delete a file or a directory tree (read-only files in writable folders go too, on POSIX)."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    elif path.exists() or path.is_symlink():
        path.unlink()


def newest_mtime(path: Path, cutoff: float) -> float:
    """The newest mtime in a tree, stopping early once one is newer than ``cutoff``.

    A stale-looking directory can still be in use (a long step writing into a subfolder updates
    only that subfolder's mtime), so the whole tree must be old before it counts as debris.
    """
    newest = path.lstat().st_mtime
    if path.is_dir() and not path.is_symlink():
        for dirpath, dirnames, filenames in os.walk(path):
            for name in dirnames + filenames:
                try:
                    newest = max(newest, os.lstat(os.path.join(dirpath, name)).st_mtime)
                except FileNotFoundError:
                    continue
                if newest > cutoff:
                    return newest
    return newest


def _seal(path: Path) -> None:
    """Make stored files read-only (directories stay writable so the store can be cleaned)."""
    targets = [path] if path.is_file() else [p for p in path.rglob("*") if p.is_file() and not p.is_symlink()]
    for target in targets:
        os.chmod(target, _READ_ONLY)


class LocalArtifactStore(ArtifactStore):
    """Artifacts under a local folder: ``objects/ab/<digest>`` and ``tmp/`` for writes in progress."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.url = str(root)
        self.objects = root / "objects"
        self.tmp = root / "tmp"

    def put(self, local_path: str | Path, *, move: bool = False) -> tuple[str, str]:
        src = self._source(local_path)
        digest = sha256_path(src)
        final = self._object(digest)
        if final.exists():
            if move and src.resolve() != final.resolve():  # never delete the stored object itself
                remove_path(src)
            return digest, self.uri_for(digest)
        final.parent.mkdir(parents=True, exist_ok=True)
        if move and not src.is_symlink() and self._rename(src, final):
            _seal(final)
            return digest, self.uri_for(digest)
        self.tmp.mkdir(parents=True, exist_ok=True)
        tmp = self.tmp / temp_name(digest)
        try:
            if src.is_dir():
                shutil.copytree(src, tmp, copy_function=lambda s, d: _copy_file(s, d))
            else:
                _copy_file(str(src), str(tmp))
            _seal(tmp)
            if not self._rename(tmp, final):  # cannot happen inside one folder, but never copy twice
                raise OSError(errno.EXDEV, "tmp/ and objects/ are on different filesystems", str(self.root))
        finally:
            if tmp.exists() or tmp.is_symlink():
                remove_path(tmp)
        if move:
            remove_path(src)
        return digest, self.uri_for(digest)

    def exists(self, digest: str) -> bool:
        return self._object(check_digest(digest)).exists()

    def uri_for(self, digest: str) -> str:
        return self._object(check_digest(digest)).as_uri()

    def local_path(self, digest: str) -> Path:
        path = self._object(check_digest(digest))
        if not path.exists():
            raise self._missing(digest)
        return path

    def staging_dir(self) -> Path:
        self.tmp.mkdir(parents=True, exist_ok=True)
        path = self.tmp / f"staging-{temp_name()}"
        path.mkdir()
        return path

    def clean_stale_tmp(self, older_than_seconds: float = 3600) -> int:
        if not self.tmp.exists():
            return 0
        cutoff = time.time() - older_than_seconds
        removed = 0
        for entry in self.tmp.iterdir():
            try:
                if writer_alive(entry.name) is not True and newest_mtime(entry, cutoff) <= cutoff:
                    remove_path(entry)
                    removed += 1
            except FileNotFoundError:  # another cleaner or the writer itself got there first
                continue
        return removed

    def verify(self, digest: str) -> bool:
        path = self.local_path(digest)
        actual = sha256_tree(path) if path.is_dir() else sha256_file(path)
        return actual == digest

    # -- helpers -------------------------------------------------------------------------------------

    def _object(self, digest: str) -> Path:
        return self.objects / digest[:2] / digest

    @staticmethod
    def _rename(src: Path, final: Path) -> bool:
        """Publish ``src`` as ``final`` atomically; False if they are on different filesystems.

        If another writer published the same digest first, its object is kept and ``src`` removed.
        """
        try:
            os.rename(src, final)
        except OSError as exc:
            if exc.errno == errno.EXDEV:
                return False
            if final.exists():  # lost a race to an identical object (directories cannot be replaced)
                remove_path(src)
                return True
            raise
        return True
