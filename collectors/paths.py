"""Where the host's /proc and /sys are: the live ones or a captured tree."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class HostPaths:
    """Root paths of one host.

    Attributes:
        proc: the procfs mount (``/proc`` live, ``DIR/proc`` for a capture).
        sys: the sysfs mount.
        live: True when this is the running kernel, so facts that a tree cannot
            carry (page size, clock ticks, user names) come from the machine.
    """

    proc: Path = Path("/proc")
    sys: Path = Path("/sys")
    live: bool = True

    @classmethod
    def from_root(cls, root: str | os.PathLike[str]) -> HostPaths:
        """A captured tree laid out like a root file system (ROOT/proc, ROOT/sys)."""
        base = Path(root)
        return cls(proc=base / "proc", sys=base / "sys", live=base.resolve() == Path("/"))

    @property
    def root(self) -> Path:
        return self.proc.parent

    def pid_dir(self, pid: int) -> Path:
        return self.proc / str(pid)
