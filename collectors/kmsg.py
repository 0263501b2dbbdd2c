"""Reading /dev/kmsg without blocking: the kernel's log records, each read() one record (dev-kmsg ABI).

Needs root (CAP_SYSLOG) when kernel.dmesg_restrict=1, the default of Ubuntu
22.04 and later; ``refused`` then says so.
"""

from __future__ import annotations

import errno
import os
from pathlib import Path

from memtop.collectors.oom import parse_record

KMSG = Path("/dev/kmsg")


def refusal(exc: OSError, path: Path, proc: Path = Path("/proc")) -> str:
    """Why /dev/kmsg could not be read, in words a user can act on."""
    if exc.errno in (errno.EACCES, errno.EPERM):
        try:
            restrict = (proc / "sys" / "kernel" / "dmesg_restrict").read_text().strip()
        except OSError:
            restrict = "?"
        if restrict == "1":
            return (f"{path} refused: kernel.dmesg_restrict=1 (Ubuntu 22.04 and later set it): the kernel's log "
                    "needs root or CAP_SYSLOG")
        return f"{path} refused ({exc.strerror}): the kernel's log needs root or CAP_SYSLOG here"
    return f"{path}: {exc.strerror}"


class Kmsg:
    """The kernel log, read record by record from where it was opened (``from_start``: since boot)."""

    def __init__(self, path: Path = KMSG, from_start: bool = True, proc: Path = Path("/proc")) -> None:
        self.path = path
        self.fd: int | None = None
        self.refused: str | None = None
        try:
            self.fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
            if not from_start:
                os.lseek(self.fd, 0, os.SEEK_END)
        except OSError as exc:
            self.refused = refusal(exc, path, proc)
            self.close()

    def read(self) -> list[tuple[int, str]]:
        """Every record since the last read, as (microseconds since boot, text)."""
        out: list[tuple[int, str]] = []
        if self.fd is None:
            return out
        for _ in range(100_000):
            try:
                data = os.read(self.fd, 8192)
            except BlockingIOError:
                break
            except BrokenPipeError:
                continue  # records were overwritten before we read them: the next read goes on after them
            except OSError as exc:
                self.refused = f"{self.path}: {exc.strerror}"
                self.close()
                break
            if not data:
                break
            parsed = parse_record(data.decode("utf-8", "backslashreplace").split("\n", 1)[0])
            if parsed is not None:
                out.append((parsed[1], parsed[2]))
        return out

    def close(self) -> None:
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None
