"""The artifact store contract and the choice of backend by URL.

Artifacts are content-addressed: stored once under ``objects/<first two hex>/<sha256>``, whatever
step, run or project wrote them. Writers put an artifact together under ``tmp/`` and publish it with
one rename (local) or rename-then-marker (object stores without atomic rename), so a reader never
sees half an artifact, and a killed writer leaves only ``tmp/`` debris that ``clean_stale_tmp``
removes. Backends differ only in how bytes move; deduplication and the layout are the same.
"""

from __future__ import annotations

import os
import re
import time
import uuid
from abc import ABC, abstractmethod
from pathlib import Path

from modelyard.errors import ConfigError, NotFound, PluginNotFound, UsageError, did_you_mean
from modelyard.store.liveness import host_tag, pid_alive

_DIGEST = re.compile(r"^[0-9a-f]{64}$")
_LOCAL_SCHEMES = ("", "file", "local")


def check_digest(digest: str) -> str:
    if not isinstance(digest, str) or not _DIGEST.match(digest):
        raise UsageError(f"'{digest}' is not a sha256 digest (64 lowercase hex characters)")
    return digest


def default_cache_dir() -> Path:
    return Path.home() / ".cache" / "modelyard"


def temp_name(digest: str = "") -> str:
    """A unique name for a temporary entry: ``<epoch>-<pid>-<host tag>-<random>[-<digest prefix>]``.

    The time lets a human see how old debris is; the pid and host let ``clean_stale_tmp`` spare the
    entries of writers that are still running.
    """
    name = f"{int(time.time())}-{os.getpid()}-{host_tag()}-{uuid.uuid4().hex[:12]}"
    return name + (f"-{digest[:12]}" if digest else "")


def writer_alive(name: str) -> bool | None:
    """Whether the process that made a temporary entry still runs; None when that cannot be known
    (made on another host, or not named by ``temp_name``)."""
    parts = name.removeprefix("staging-").split("-")
    if len(parts) < 4 or not parts[1].isdigit() or parts[2] != host_tag():
        return None
    return pid_alive(int(parts[1]))


class ArtifactStore(ABC):
    """Content-addressed storage of files and directories; see the module docstring."""

    url: str

    @classmethod
    def open(cls, url: str, *, cache_dir: str | Path | None = None) -> ArtifactStore:
        """A store for a local folder (a path or ``file://``) or any fsspec URL (``memory://``, ``s3://``).

        ``cache_dir`` is where non-local artifacts are downloaded for reading (default
        ``~/.cache/modelyard``).
        """
        scheme = url.split("://", 1)[0].lower() if "://" in url else ""
        if scheme in _LOCAL_SCHEMES:
            from modelyard.store.artifacts.local import LocalArtifactStore

            path = url.split("://", 1)[1] if "://" in url else url
            if not path:
                raise ConfigError("the artifact store URL names no folder", hint="e.g. .modelyard/artifacts")
            return LocalArtifactStore(Path(path).expanduser().resolve())

        import fsspec

        known = sorted(set(fsspec.available_protocols()) | {"file"})
        if scheme not in known:
            raise PluginNotFound(
                f"unknown artifact store scheme '{scheme}://' in '{url}'", hint=did_you_mean(scheme, known)
            )
        from modelyard.store.artifacts.remote import FsspecArtifactStore

        return FsspecArtifactStore.from_url(url, cache_dir=Path(cache_dir) if cache_dir else default_cache_dir())

    # -- the contract --------------------------------------------------------------------------------

    @abstractmethod
    def put(self, local_path: str | Path, *, move: bool = False) -> tuple[str, str]:
        """Store a file or directory; returns (digest, uri). Identical content is stored once.

        With ``move=True`` the source is consumed: renamed into the store when it can be, removed
        after the copy otherwise, and simply removed when the content is already stored.
        """

    @abstractmethod
    def exists(self, digest: str) -> bool:
        """Whether a complete artifact with this digest is stored."""

    @abstractmethod
    def uri_for(self, digest: str) -> str:
        """Where the artifact with this digest lives (whether or not it exists yet)."""

    @abstractmethod
    def local_path(self, digest: str) -> Path:
        """A local path to read the artifact from (the object itself, or a verified cached download)."""

    @abstractmethod
    def staging_dir(self) -> Path:
        """A fresh empty local directory where a step writes outputs before ``put(move=True)``."""

    @abstractmethod
    def clean_stale_tmp(self, older_than_seconds: float = 3600) -> int:
        """Remove what dead writers left in the temporary area; returns how many entries went.

        An entry goes when nothing in it changed for ``older_than_seconds`` and the process that made
        it is gone (or cannot be checked because it ran on another host). A staging directory of a
        step that is still running is never removed, however long the step takes.
        """

    @abstractmethod
    def verify(self, digest: str) -> bool:
        """Recompute the stored object's digest: False if it was altered or damaged."""

    # -- shared helpers ------------------------------------------------------------------------------

    @staticmethod
    def _source(local_path: str | Path) -> Path:
        src = Path(local_path)
        if not src.exists():
            raise UsageError(f"cannot store '{src}': no such file or directory")
        return src

    def _missing(self, digest: str) -> NotFound:
        return NotFound(f"no artifact {digest[:12]} in the artifact store {self.url}")

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.url!r})"
