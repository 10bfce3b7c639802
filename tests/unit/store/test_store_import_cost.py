"""Importing the store packages must stay cheap: heavy libraries load only when a store is opened."""

from __future__ import annotations

import subprocess
import sys


def _loaded_after(statement: str) -> set[str]:
    code = f"import sys; {statement}; print(' '.join(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    return set(out.split())


def test_store_packages_do_not_import_sqlalchemy_alembic_or_fsspec() -> None:
    loaded = _loaded_after(
        "import modelyard.store, modelyard.store.metadata, modelyard.store.artifacts, modelyard.core.lineage"
    )
    assert not {"sqlalchemy", "alembic", "fsspec"} & loaded


def test_a_local_artifact_store_does_not_need_fsspec(tmp_path_factory) -> None:  # type: ignore[no-untyped-def]
    root = tmp_path_factory.mktemp("store")
    loaded = _loaded_after(
        f"from modelyard.store.artifacts import ArtifactStore; ArtifactStore.open({str(root)!r}).staging_dir()"
    )
    assert "fsspec" not in loaded
