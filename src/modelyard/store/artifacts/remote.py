"""The fsspec artifact store: object storage (s3://, gs://, ...) and memory:// for tests.

Object stores have no atomic rename of a directory, so an object counts as present only once its
``<digest>.complete`` marker exists, and the marker is written last: upload to ``tmp/``, move into
``objects/``, then mark. A writer killed half way leaves an unmarked object that the next ``put`` of the
same content replaces, and that readers never see. Reads go through a local cache directory, verified
against the digest on download, because the model loaders and DuckDB want local files.
"""

from __future__ import annotations

import json
import os
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from modelyard.errors import ConfigError, StoreError
from modelyard.store.artifacts.base import ArtifactStore, check_digest, temp_name, writer_alive
from modelyard.store.artifacts.digest import sha256_path, sha256_stream, tree_digest, tree_files
from modelyard.store.artifacts.local import newest_mtime, remove_path

MARKER_SUFFIX = ".complete"


def _modified(info: dict[str, Any]) -> float | None:
    """A modification time from an fsspec info dict; backends name and type it differently."""
    for key in ("mtime", "LastModified", "last_modified", "updated", "created"):
        value = info.get(key)
        if isinstance(value, datetime):
            return value.timestamp()
        if isinstance(value, int | float):
            return float(value)
        if isinstance(value, str):
            try:
                return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
            except ValueError:
                continue
    return None


class FsspecArtifactStore(ArtifactStore):
    """Artifacts under any fsspec URL, published with a completion marker."""

    def __init__(self, fs: Any, root: str, url: str, cache_dir: Path) -> None:
        self.fs = fs
        self.root = root.rstrip("/")
        self.url = url
        self.cache_dir = cache_dir

    @classmethod
    def from_url(cls, url: str, *, cache_dir: Path) -> FsspecArtifactStore:
        from fsspec.core import url_to_fs

        try:
            fs, root = url_to_fs(url)
        except ImportError as exc:
            raise ConfigError(
                f"the artifact store '{url}' needs a package that is not installed: {exc}",
                hint="install the fsspec backend for this scheme, e.g. pip install s3fs",
            ) from None
        return cls(fs, root, url, cache_dir)

    # -- writing -------------------------------------------------------------------------------------

    def put(self, local_path: str | Path, *, move: bool = False) -> tuple[str, str]:
        src = self._source(local_path)
        digest = sha256_path(src)
        if not self.exists(digest):
            self._upload(src, digest)
        if move:
            remove_path(src)
        return digest, self.uri_for(digest)

    def _upload(self, src: Path, digest: str) -> None:
        final = self._object(digest)
        tmp = f"{self.root}/tmp/{temp_name(digest)}"
        is_dir = src.is_dir()
        try:
            if is_dir:
                files = tree_files(src)
                for rel, path in files:
                    self.fs.makedirs(f"{tmp}/{rel}".rsplit("/", 1)[0], exist_ok=True)
                    self.fs.put_file(str(path), f"{tmp}/{rel}")
            else:
                files = [("", src)]
                self.fs.makedirs(tmp.rsplit("/", 1)[0], exist_ok=True)
                self.fs.put_file(str(src), tmp)
            if self.fs.exists(final):  # an unmarked leftover of a writer that died before the marker
                self.fs.rm(final, recursive=True)
            self.fs.makedirs(final.rsplit("/", 1)[0], exist_ok=True)
            self.fs.mv(tmp, final, recursive=is_dir)
            marker = {"digest": digest, "kind": "dir" if is_dir else "file", "files": len(files)}
            self.fs.pipe_file(final + MARKER_SUFFIX, json.dumps(marker).encode())
        finally:
            if self.fs.exists(tmp):
                self.fs.rm(tmp, recursive=True)

    # -- reading -------------------------------------------------------------------------------------

    def exists(self, digest: str) -> bool:
        return bool(self.fs.exists(self._object(check_digest(digest)) + MARKER_SUFFIX))

    def uri_for(self, digest: str) -> str:
        return str(self.fs.unstrip_protocol(self._object(check_digest(digest))))

    def local_path(self, digest: str) -> Path:
        """The cached local copy, downloaded (and checked against the digest) on first use."""
        cached = self.cache_dir / "objects" / digest[:2] / digest
        if cached.exists():
            return cached
        if not self.exists(digest):
            raise self._missing(digest)
        tmp_root = self.cache_dir / "tmp"
        tmp_root.mkdir(parents=True, exist_ok=True)
        tmp = tmp_root / temp_name(digest)
        try:
            remote = self._object(digest)
            if self.fs.isdir(remote):
                for rel, path in self._remote_files(remote):
                    (tmp / rel).parent.mkdir(parents=True, exist_ok=True)
                    self.fs.get_file(path, str(tmp / rel))
            else:
                self.fs.get_file(remote, str(tmp))
            if sha256_path(tmp) != digest:
                raise StoreError(
                    f"artifact {digest[:12]} in {self.url} does not match its digest",
                    hint="the stored object was altered or damaged; re-run the step that produced it",
                )
            cached.parent.mkdir(parents=True, exist_ok=True)
            try:
                os.rename(tmp, cached)
            except OSError:
                if not cached.exists():  # otherwise another reader cached it first: use theirs
                    raise
        finally:
            if tmp.exists():
                remove_path(tmp)
        return cached

    def staging_dir(self) -> Path:
        base = self.cache_dir / "staging"
        base.mkdir(parents=True, exist_ok=True)
        path = base / temp_name()
        path.mkdir()
        return path

    def verify(self, digest: str) -> bool:
        if not self.exists(digest):
            raise self._missing(digest)
        remote = self._object(digest)
        if self.fs.isdir(remote):
            entries = []
            for rel, path in self._remote_files(remote):
                with self.fs.open(path, "rb") as f:
                    entries.append((rel, sha256_stream(f)))
            return tree_digest(entries) == digest
        with self.fs.open(remote, "rb") as f:
            return sha256_stream(f) == digest

    # -- cleaning ------------------------------------------------------------------------------------

    def clean_stale_tmp(self, older_than_seconds: float = 3600) -> int:
        """Remove old entries of the remote ``tmp/`` and of the local download and staging areas."""
        cutoff = time.time() - older_than_seconds
        removed = 0
        tmp = f"{self.root}/tmp"
        if self.fs.exists(tmp):
            for entry in self.fs.ls(tmp, detail=True):
                name = entry["name"]
                if writer_alive(name.rstrip("/").rsplit("/", 1)[-1]):
                    continue
                infos = list(self.fs.find(name, detail=True).values()) if entry["type"] == "directory" else [entry]
                times = [t for t in (_modified(i) for i in infos) if t is not None]
                # A backend that reports no times: only an empty leftover is known to be stale.
                if (times and max(times) <= cutoff) or not infos:
                    self.fs.rm(name, recursive=True)
                    removed += 1
        for local_tmp in (self.cache_dir / "tmp", self.cache_dir / "staging"):
            if local_tmp.exists():
                for path in local_tmp.iterdir():
                    if writer_alive(path.name) is not True and newest_mtime(path, cutoff) <= cutoff:
                        remove_path(path)
                        removed += 1
        return removed

    # -- helpers -------------------------------------------------------------------------------------

    def _object(self, digest: str) -> str:
        return f"{self.root}/objects/{digest[:2]}/{digest}"

    def _remote_files(self, remote_dir: str) -> list[tuple[str, str]]:
        prefix = self.fs._strip_protocol(remote_dir).rstrip("/") + "/"
        files = []
        for path in self.fs.find(remote_dir):
            stripped = self.fs._strip_protocol(path)
            files.append((stripped[len(prefix) :] if stripped.startswith(prefix) else stripped, path))
        return sorted(files)
