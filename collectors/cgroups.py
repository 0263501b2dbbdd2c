"""Which cgroup hierarchy carries the memory controller, from mountinfo.

Documentation/admin-guide/cgroup-v2.rst and cgroup-v1/memory.rst. A host can
be v1, v2, or hybrid: v2 mounted (often at /sys/fs/cgroup/unified) without
controllers while memory is still a v1 hierarchy, as on this project's machine.
"""

from __future__ import annotations

from .errors import ParseError
from .fs import read_optional
from .paths import HostPaths


def parse_mountinfo(text: str) -> tuple[tuple[str, str, tuple[str, ...]], ...]:
    """(mount point, fs type, super options) for each line of /proc/PID/mountinfo.

    Format (proc.rst, "/proc/<pid>/mountinfo"): optional fields end at " - ".

    Raises:
        ParseError: on a line without the " - " separator.
    """
    out: list[tuple[str, str, tuple[str, ...]]] = []
    for line in text.splitlines():
        if not line.strip():
            continue
        left, sep, right = line.partition(" - ")
        fields, tail = left.split(), right.split()
        if not sep or len(fields) < 5 or len(tail) < 1:
            raise ParseError(f"mountinfo: malformed line {line[:60]!r}")
        options = tuple(tail[2].split(",")) if len(tail) > 2 else ()
        out.append((fields[4], tail[0], options + tuple(fields[5].split(",")) if len(fields) > 5 else options))
    return tuple(out)


def memory_hierarchy(mounts: tuple[tuple[str, str, tuple[str, ...]], ...]) -> str | None:
    """A short description: "v1 memory at /sys/fs/cgroup/memory" or "v2 at /sys/fs/cgroup"."""
    for point, fstype, options in mounts:
        if fstype == "cgroup" and "memory" in options:
            return f"v1 memory at {point}"
    for point, fstype, _options in mounts:
        if fstype == "cgroup2":
            return f"v2 at {point}"
    return None


def read_memory_hierarchy(paths: HostPaths) -> str | None:
    text = read_optional(paths.proc / "self" / "mountinfo")
    if text is None:
        return None
    try:
        return memory_hierarchy(parse_mountinfo(text))
    except ParseError:
        return None


def proc_hidepid(paths: HostPaths) -> bool:
    """True when /proc is mounted with hidepid (other users' processes hidden)."""
    text = read_optional(paths.proc / "self" / "mountinfo")
    if text is None:
        return False
    try:
        mounts = parse_mountinfo(text)
    except ParseError:
        return False
    for point, fstype, options in mounts:
        if fstype == "proc" and point == "/proc":
            return any(o.startswith("hidepid=") and o not in ("hidepid=0", "hidepid=off") for o in options)
    return False
