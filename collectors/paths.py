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

    def inside(self, base: Path, relative: str) -> Path | None:
        """``base/relative`` when it stays inside this host's tree, else None.

        A path read from the tree itself (a mount point in mountinfo, a
        cgroup in /proc/PID/cgroup) is data: ``/sys/../../../`` would walk
        the live / and report its directories as cgroups (issue 13 item 6).
        The kernel never writes a ``..`` component, so one is refused; in a
        captured tree a link that leads out of it is refused too (the path
        is resolved, and the resolved path is what is used).
        """
        parts = [part for part in relative.split("/") if part and part != "."]
        if ".." in parts:
            return None
        path = base.joinpath(*parts)
        if self.live:
            return path
        root = os.path.realpath(self.root)
        real = os.path.realpath(path)
        return Path(real) if os.path.commonpath([root, real]) == root else None
