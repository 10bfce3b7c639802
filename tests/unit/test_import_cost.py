"""``import modelyard`` stays cheap: none of the heavy libraries load until they are used."""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = ("pandas", "sklearn", "duckdb", "sqlalchemy", "pyarrow", "numpy", "alembic", "scipy", "pydantic")


def test_import_modelyard_loads_no_heavy_library() -> None:
    code = "import sys, json, modelyard; print(json.dumps(sorted(m for m in sys.modules if '.' not in m)))"
    loaded = set(json.loads(subprocess.check_output([sys.executable, "-c", code], text=True)))
    assert not loaded & set(HEAVY), loaded & set(HEAVY)


def test_public_names_resolve_lazily() -> None:
    code = "import modelyard; print(callable(modelyard.log_metric), callable(modelyard.load_model))"
    assert subprocess.check_output([sys.executable, "-c", code], text=True).strip() == "True True"
