"""Facts about processes of this host, shared by the job pool and the metrics."""

from __future__ import annotations

import os


def pid_alive(pid: int) -> bool:
    """Whether a process with this pid exists (a zombie counts as dead)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return True


BOOT_ID_PATH = "/proc/sys/kernel/random/boot_id"


def boot_id() -> str | None:
    """This boot's id (Linux: new at every boot), None where the kernel does not say."""
    try:
        with open(BOOT_ID_PATH) as source:
            return source.read().strip() or None
    except OSError:
        return None
