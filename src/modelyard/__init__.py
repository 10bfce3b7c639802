"""modelyard: from raw data to a served, monitored model, in one package.

Importing ``modelyard`` is cheap on purpose: the public names below are resolved on first use, so
``import modelyard`` pulls in no pandas, scikit-learn, DuckDB or SQLAlchemy until they are needed.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_LAZY = {
    "start_run": "modelyard.tracking.runs",
    "active_run": "modelyard.tracking.runs",
    "end_run": "modelyard.tracking.runs",
    "log_param": "modelyard.tracking.runs",
    "log_params": "modelyard.tracking.runs",
    "log_metric": "modelyard.tracking.runs",
    "log_metrics": "modelyard.tracking.runs",
    "set_tag": "modelyard.tracking.runs",
    "log_artifact": "modelyard.tracking.runs",
    "component": "modelyard.pipeline.component",
    "Pipeline": "modelyard.pipeline.spec",
    "load_pipeline": "modelyard.pipeline.spec",
    "load_model": "modelyard.registry.loader",
    "Settings": "modelyard.settings",
}

__all__ = [
    "Pipeline",
    "Settings",
    "__version__",
    "active_run",
    "component",
    "end_run",
    "load_model",
    "load_pipeline",
    "log_artifact",
    "log_metric",
    "log_metrics",
    "log_param",
    "log_params",
    "set_tag",
    "start_run",
]

if TYPE_CHECKING:
    from modelyard.pipeline.component import component
    from modelyard.pipeline.spec import Pipeline, load_pipeline
    from modelyard.registry.loader import load_model
    from modelyard.settings import Settings
    from modelyard.tracking.runs import (
        active_run,
        end_run,
        log_artifact,
        log_metric,
        log_metrics,
        log_param,
        log_params,
        set_tag,
        start_run,
    )


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'modelyard' has no attribute '{name}'")
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
