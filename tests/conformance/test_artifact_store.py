"""Artifact store conformance: every backend (a local folder, memory:// through fsspec) passes the same tests."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from modelyard.errors import ConfigError, NotFound, PluginNotFound, StoreError, UsageError
from modelyard.store.artifacts import ArtifactStore, sha256_file, sha256_tree
from modelyard.store.artifacts import local as local_backend
from modelyard.store.artifacts.local import LocalArtifactStore
from modelyard.store.artifacts.remote import FsspecArtifactStore
from modelyard.store.liveness import host_tag

# The digest of the tree written by make_tree(): pinned, because a change of the digest format
# silently invalidates every cache key and every registered digest users already have.
# Computed independently from the format in store/artifacts/digest.py (hashlib over the header and the
# sorted "path\0sha256\n" lines).
TREE_DIGEST = "48c4b6e0c1cc82200f78d6387edfa705e4c9c44f40fb5ae0491226dd0c50c676"


@pytest.fixture(params=["local", "memory"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ArtifactStore]:
    if request.param == "local":
        yield ArtifactStore.open(str(tmp_path / "artifacts"))
        return
    url = f"memory://modelyard-test-{uuid.uuid4().hex}"
    opened = ArtifactStore.open(url, cache_dir=tmp_path / "cache")
    yield opened
    assert isinstance(opened, FsspecArtifactStore)
    if opened.fs.exists(opened.root):
        opened.fs.rm(opened.root, recursive=True)


def make_tree(root: Path, order: list[str] | None = None) -> Path:
    files = {"model.pkl": b"\x00\x01weights" * 1000, "MLmodel": b"flavor: sklearn\n", "data/part-0.parquet": b"PAR1"}
    for name in order or list(files):
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(files[name])
    (root / "empty-dir").mkdir(exist_ok=True)
    return root


def stored_objects(store: ArtifactStore) -> list[str]:
    """Names of the top-level objects under objects/ (markers excluded), however the backend lists them."""
    if isinstance(store, LocalArtifactStore):
        return sorted(p.name for p in store.objects.glob("*/*")) if store.objects.exists() else []
    assert isinstance(store, FsspecArtifactStore)
    base = f"{store.root}/objects"
    if not store.fs.exists(base):
        return []
    names = {p[len(base) + 1 :].split("/")[1] for p in store.fs.find(base)}
    return sorted(n for n in names if not n.endswith(".complete"))


def tmp_entries(store: ArtifactStore) -> list[str]:
    if isinstance(store, LocalArtifactStore):
        return [p.name for p in store.tmp.iterdir()] if store.tmp.exists() else []
    assert isinstance(store, FsspecArtifactStore)
    tmp = f"{store.root}/tmp"
    return [p for p in store.fs.find(tmp)] if store.fs.exists(tmp) else []


def test_put_file(store: ArtifactStore, tmp_path: Path) -> None:
    src = tmp_path / "report.html"
    src.write_text("<h1>statistics</h1>")
    digest, uri = store.put(src)
    assert digest == hashlib.sha256(b"<h1>statistics</h1>").hexdigest()
    assert uri == store.uri_for(digest) and digest in uri
    assert store.exists(digest) and store.verify(digest)
    assert store.local_path(digest).read_text() == "<h1>statistics</h1>"
    assert src.exists()  # a copy, not a move


def test_put_directory(store: ArtifactStore, tmp_path: Path) -> None:
    src = make_tree(tmp_path / "package")
    digest, _uri = store.put(src)
    assert digest == sha256_tree(src) == TREE_DIGEST
    local = store.local_path(digest)
    assert local.is_dir()
    assert (local / "data" / "part-0.parquet").read_bytes() == b"PAR1"
    assert sorted(p.relative_to(local).as_posix() for p in local.rglob("*") if p.is_file()) == [
        "MLmodel",
        "data/part-0.parquet",
        "model.pkl",
    ]
    assert store.verify(digest)


def test_identical_content_is_stored_once(store: ArtifactStore, tmp_path: Path) -> None:
    a = make_tree(tmp_path / "a")
    b = make_tree(tmp_path / "b", order=["data/part-0.parquet", "model.pkl", "MLmodel"])
    os.utime(b / "model.pkl", (0, 0))  # mtimes, creation order and empty folders do not matter
    (b / "empty-dir").rmdir()
    first = store.put(a)
    assert store.put(b) == first
    f1, f2 = tmp_path / "x.txt", tmp_path / "y.txt"
    f1.write_text("same")
    f2.write_text("same")
    assert store.put(f1) == store.put(f2)
    assert len(stored_objects(store)) == 2


def test_move_consumes_the_source_even_when_already_stored(store: ArtifactStore, tmp_path: Path) -> None:
    staged = make_tree(store.staging_dir())
    digest, _ = store.put(staged, move=True)
    assert not staged.exists() and store.exists(digest) and store.verify(digest)
    again = make_tree(store.staging_dir())
    assert store.put(again, move=True)[0] == digest
    assert not again.exists()
    assert stored_objects(store) == [digest]
    if isinstance(store, LocalArtifactStore):  # moving the stored object onto itself must not delete it
        assert store.put(store.local_path(digest), move=True)[0] == digest
        assert store.verify(digest)


def test_local_move_from_staging_is_a_rename(tmp_path: Path) -> None:
    store = ArtifactStore.open(f"file://{tmp_path / 'artifacts'}")
    staging = store.staging_dir()
    big = staging / "model.bin"
    big.write_bytes(os.urandom(1 << 20))
    inode = big.stat().st_ino
    assert staging.stat().st_dev == (tmp_path / "artifacts").stat().st_dev
    digest, _ = store.put(staging, move=True)
    assert (store.local_path(digest) / "model.bin").stat().st_ino == inode  # same file: nothing was copied


def test_digests_are_stable_and_match_sha256sum(tmp_path: Path) -> None:
    assert sha256_tree(make_tree(tmp_path / "t")) == TREE_DIGEST
    data = os.urandom(3 * (1 << 20) + 17)  # more than one 1 MiB chunk
    (tmp_path / "blob").write_bytes(data)
    assert sha256_file(tmp_path / "blob") == hashlib.sha256(data).hexdigest()
    # A file and a folder holding only that file are different artifacts.
    (tmp_path / "only").mkdir()
    (tmp_path / "only" / "blob").write_bytes(data)
    assert sha256_tree(tmp_path / "only") != sha256_file(tmp_path / "blob")


def test_verify_and_local_path_detect_damage(store: ArtifactStore, tmp_path: Path) -> None:
    src = tmp_path / "weights.bin"
    src.write_bytes(b"good weights")
    digest, _ = store.put(src)
    if isinstance(store, LocalArtifactStore):
        target = store.local_path(digest)
        target.chmod(0o644)
        target.write_bytes(b"evil weights")
    else:
        assert isinstance(store, FsspecArtifactStore)
        store.fs.pipe_file(store._object(digest), b"evil weights")
        with pytest.raises(StoreError, match="does not match its digest"):
            store.local_path(digest)
    assert not store.verify(digest)


def test_an_interrupted_write_leaves_no_object(
    store: ArtifactStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    src = make_tree(tmp_path / "package")
    copied: list[str] = []

    def fail_on_second(source: str, destination: str) -> str:
        if copied:
            Path(destination).write_bytes(Path(source).read_bytes()[:3])  # half a file, then the disk fills
            raise OSError(28, "No space left on device")
        copied.append(source)
        Path(destination).write_bytes(Path(source).read_bytes())
        return destination

    if isinstance(store, LocalArtifactStore):
        monkeypatch.setattr(local_backend, "_copy_file", fail_on_second)
    else:
        assert isinstance(store, FsspecArtifactStore)
        real_put_file = store.fs.put_file

        def failing_put_file(lpath: str, rpath: str, **kwargs: object) -> None:
            if copied:
                store.fs.pipe_file(rpath, b"PAR")
                raise OSError(28, "No space left on device")
            copied.append(lpath)
            real_put_file(lpath, rpath, **kwargs)

        monkeypatch.setattr(store.fs, "put_file", failing_put_file)

    with pytest.raises(OSError, match="No space left"):
        store.put(src)
    assert not store.exists(TREE_DIGEST)
    assert stored_objects(store) == []
    assert tmp_entries(store) == []
    monkeypatch.undo()
    assert store.put(src)[0] == TREE_DIGEST and store.verify(TREE_DIGEST)


def test_an_object_without_its_marker_is_invisible_and_repaired(tmp_path: Path) -> None:
    store = ArtifactStore.open(f"memory://modelyard-test-{uuid.uuid4().hex}", cache_dir=tmp_path / "cache")
    assert isinstance(store, FsspecArtifactStore)
    src = tmp_path / "f.txt"
    src.write_text("complete content")
    digest = sha256_file(src)
    store.fs.pipe_file(store._object(digest), b"compl")  # a writer died after the move, before the marker
    assert not store.exists(digest)
    with pytest.raises(NotFound):
        store.local_path(digest)
    store.put(src)
    assert store.exists(digest) and store.verify(digest)
    store.fs.rm(store.root, recursive=True)


@pytest.fixture(scope="module")
def dead_pid() -> int:
    """The pid of a process that has exited."""
    proc = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    return int(proc.stdout)


def test_staging_dirs_are_fresh_and_empty(store: ArtifactStore) -> None:
    one, two = store.staging_dir(), store.staging_dir()
    assert one != two and one.is_dir() and two.is_dir() and list(one.iterdir()) == []


def test_clean_stale_tmp_removes_only_what_dead_writers_left(store: ArtifactStore, dead_pid: int) -> None:
    staging = store.staging_dir()  # a step of this (live) process, idle for two hours
    (staging / "partial.parquet").write_bytes(b"PAR1")
    tag = host_tag()
    dead, live = f"1700000000-{dead_pid}-{tag}-0123456789ab", f"1700000000-{os.getpid()}-{tag}-0123456789ab"
    old = time.time() - 7200
    if isinstance(store, LocalArtifactStore):
        for name in (dead, live):
            (store.tmp / name).mkdir()
            (store.tmp / name / "half.bin").write_bytes(b"x")
            for path in (store.tmp / name / "half.bin", store.tmp / name):
                os.utime(path, (old, old))
        for path in (staging / "partial.parquet", staging):
            os.utime(path, (old, old))
        assert store.clean_stale_tmp(older_than_seconds=3600) == 1
        assert sorted(tmp_entries(store)) == sorted([live, staging.name])
    else:
        assert isinstance(store, FsspecArtifactStore)
        for name in (dead, live):
            store.fs.pipe_file(f"{store.root}/tmp/{name}/half.bin", b"x")
        time.sleep(0.01)
        assert store.clean_stale_tmp(older_than_seconds=3600) == 0  # too fresh, whoever wrote it
        assert store.clean_stale_tmp(older_than_seconds=0.001) == 1
        assert [p.rsplit("/", 2)[-2] for p in tmp_entries(store)] == [live]
    assert (staging / "partial.parquet").exists()


def test_bad_requests_are_user_errors(store: ArtifactStore, tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="no such file"):
        store.put(tmp_path / "missing.csv")
    with pytest.raises(UsageError, match="not a sha256"):
        store.exists("abc")
    with pytest.raises(NotFound, match="no artifact"):
        store.local_path("0" * 64)
    assert not store.exists("0" * 64)


def test_unknown_schemes_list_the_known_ones() -> None:
    with pytest.raises(PluginNotFound, match="s4://") as info:
        ArtifactStore.open("s4://bucket/artifacts")
    assert "s3" in str(info.value) and "memory" in str(info.value)


def test_a_scheme_whose_package_is_missing_says_what_to_install() -> None:
    pytest.importorskip("fsspec")
    try:
        import s3fs  # noqa: F401
    except ImportError:
        with pytest.raises(ConfigError, match="s3fs"):
            ArtifactStore.open("s3://bucket/artifacts")
    else:
        pytest.skip("s3fs is installed here, so the missing-package path cannot be exercised")
