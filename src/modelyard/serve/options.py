"""What one server is told at start: limits, traffic shares, where the log goes and whom to share figures with.

Why a frozen dataclass of plain values: ``yard serve`` serializes it into the environment of every worker
process (``cli/serve_commands.py``), and each worker rebuilds the same options from it.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ServeOptions:
    """Limits of one server. Requests of up to ``max_batch_rows`` rows are micro-batched (0 turns batching
    off); larger ones predict in the thread pool. ``max_wait_ms`` > 0 holds a batch open for company."""

    max_body_bytes: int = 1_048_576
    read_timeout: float = 10.0
    max_batch_rows: int = 64
    max_wait_ms: float = 0.0
    queue_timeout: float = 5.0
    canary_percent: float = 0.0
    shadow_percent: float = 0.0
    log_dir: str | None = None
    log_db: str | None = None  # a SQLAlchemy URL: the log (and feedback) go to database tables instead
    log_sample: float = 1.0
    log_flush_seconds: float = 1.0
    feedback_dir: str | None = None  # default: "feedback" beside the log folder
    deployments_dir: str | None = None  # with db_url and store_url: follow aliases and deployment records
    db_url: str | None = None
    store_url: str | None = None
    poll_seconds: float = 1.0
    metrics_dir: str | None = None  # shared by the workers of one server: /metrics sums over all of them
    metrics_seconds: float = 1.0  # how often a worker publishes its figures there
    freeze_after_load: bool = False  # gc.freeze() once the models are warm: for a process that only serves

    @property
    def follows_deployments(self) -> bool:
        """Workers poll the registry and deployment records (and count traffic per version for them)."""
        return bool(self.deployments_dir and self.db_url and self.store_url)
