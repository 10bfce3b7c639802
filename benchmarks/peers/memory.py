"""Memory figures of the current process, stdlib only: every worker (modelyard's and each peer's venv) reads them the
same way, so their columns in a table compare."""

from __future__ import annotations

import resource
from pathlib import Path


def rss_mb() -> float:
    """The resident set now, from /proc (ru_maxrss only knows the peak): what the imports alone cost."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def peak_mb() -> float:
    """The peak resident set of this process so far."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
