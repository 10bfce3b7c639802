"""Is the process that started something still alive? Used to tell a crashed writer from a slow one.

Runs record (host, pid) and temporary artifact entries carry the pid and a short host tag in their
names, so a cleaner can leave alone whatever a live process is still working on, however old.
Standard library only; a pid can only be checked on the host it belongs to.
"""

from __future__ import annotations

import hashlib
import os
import socket


def pid_alive(pid: int) -> bool:
    """Whether a process with this pid exists on this host (signal 0 checks without sending)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, it just belongs to someone else
        return True
    except OSError:
        return False
    return True


def host_tag() -> str:
    """A short, filename-safe tag of this host's name."""
    return hashlib.sha256(socket.gethostname().encode()).hexdigest()[:8]
