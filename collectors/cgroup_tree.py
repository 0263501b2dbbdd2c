"""Reads the memory cgroup tree and memtop's own limit, over HostPaths.

Where the hierarchy that carries the memory controller is mounted comes from
/proc/self/mountinfo (v1 ``memory`` wins over cgroup2 on hybrid hosts); a
capture without mountinfo is probed by its layout. A cgroup's path, as
/proc/PID/cgroup writes it, is the mount's root (mountinfo field 4: not "/"
inside a container without a cgroup namespace) joined with the directory
below the mount point.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import NamedTuple, TypeVar

from .cgroup_memory import (
    parse_counter, parse_flat_keyed, parse_limit, parse_procs, smallest, v1_events, v1_stat,
)
from .errors import ParseError
from .fs import decode, read_at, read_optional
from .models import CgroupMemory, ContainerLimit, Limit, Pressure
from .paths import HostPaths
from .pressure import parse_pressure
from .procfs import memory_cgroup, parse_cgroup


#: The files the reader reads in each cgroup directory, per version.
FILES = {
    1: ("memory.usage_in_bytes", "memory.limit_in_bytes", "memory.soft_limit_in_bytes", "memory.stat",
        "memory.oom_control", "memory.failcnt", "cgroup.procs"),
    2: ("memory.current", "memory.max", "memory.high", "memory.low", "memory.min", "memory.stat",
        "memory.events", "memory.pressure", "cgroup.procs", "cgroup.controllers"),
}


class MemoryMount(NamedTuple):
    """Where the memory hierarchy is (a parse result, not a snapshot type)."""

    version: int
    point: str  # mount point as mountinfo writes it, e.g. /sys/fs/cgroup/memory
    root: str  # the path in the hierarchy mounted there ("/" unless a container)


def parse_memory_mount(text: str) -> MemoryMount | None:
    """The memory hierarchy's mount from mountinfo text (proc.rst, "/proc/<pid>/mountinfo").

    Raises:
        ParseError: on a line without the " - " separator.
    """
    v2: MemoryMount | None = None
    for line in text.splitlines():
        if not line.strip():
            continue
        left, sep, right = line.partition(" - ")
        fields, tail = left.split(), right.split()
        if not sep or len(fields) < 5 or not tail:
            raise ParseError(f"mountinfo: malformed line {line[:60]!r}")
        options = tail[2].split(",") if len(tail) > 2 else []
        if tail[0] == "cgroup" and "memory" in options:
            return MemoryMount(1, fields[4], fields[3])
        if tail[0] == "cgroup2" and v2 is None:
            v2 = MemoryMount(2, fields[4], fields[3])
    return v2


def host_dir(paths: HostPaths, point: str) -> Path | None:
    """A mount point of the host inside this tree (a capture keeps sys/ under its root);
    None when it would lead out of the tree (HostPaths.inside)."""
    if point == "/sys" or point.startswith("/sys/"):
        return paths.inside(paths.sys, point[len("/sys/"):])
    return paths.inside(paths.root, point)


def find_mount(paths: HostPaths) -> MemoryMount | None:
    """From mountinfo; else, for a capture without it, from the layout of sys/fs/cgroup."""
    text = read_optional(paths.proc / "self" / "mountinfo")
    if text is not None:
        try:
            return parse_memory_mount(text)
        except ParseError:
            return None
    if (paths.sys / "fs" / "cgroup" / "memory").is_dir():
        return MemoryMount(1, "/sys/fs/cgroup/memory", "/")
    if (paths.sys / "fs" / "cgroup").is_dir():
        return MemoryMount(2, "/sys/fs/cgroup", "/")
    return None


def _join(root: str, rel: str) -> str:
    rel = rel.strip("/")
    if not rel:
        return root or "/"
    return ("" if root == "/" else root.rstrip("/")) + "/" + rel


class CgroupReader:
    """Reads one host's memory cgroups; the mount is found once."""

    def __init__(self, paths: HostPaths, page_size: int) -> None:
        self.paths = paths
        self.page_size = page_size
        self.mount = find_mount(paths)
        self.top = host_dir(paths, self.mount.point) if self.mount else None
        #: Why a mounted hierarchy gives no figures (None: it does, or there is none).
        self.note: str | None = None
        if self.mount is not None and self.top is None:
            self.note = f"mountinfo: the memory cgroup mount point {self.mount.point!r} leads out of the tree: refused"
        if self.top is not None and not self.top.is_dir():
            self.top = None
        elif self.top is not None and self.mount is not None and self.mount.version == 2:
            controllers = read_optional(self.top / "cgroup.controllers")
            if controllers is not None and "memory" not in controllers.split():
                self.note = "cgroup v2 without the memory controller: per-cgroup memory n/a"
                self.top = None

    def directory(self, path: str) -> Path | None:
        """The directory of a cgroup path, or None when it is outside our mount (a ``..`` path)."""
        if self.top is None or self.mount is None:
            return None
        root = self.mount.root.rstrip("/")
        if root and path != root and not path.startswith(root + "/"):
            return None
        rel = path[len(root):].strip("/")
        return self.paths.inside(self.top, rel) if rel else self.top

    # -- the whole tree ------------------------------------------------------
    def tree(self) -> tuple[CgroupMemory, ...] | None:
        """Every populated cgroup (see ``_populated``), parents first."""
        if self.top is None or self.mount is None:
            return None
        found: list[CgroupMemory] = []
        effective: dict[str, Limit] = {}
        for dirpath, dirnames, _files in os.walk(self.top, onerror=lambda _e: None):
            dirnames.sort()
            rel = os.path.relpath(dirpath, self.top)
            path = _join(self.mount.root, "" if rel == "." else rel)
            record = self.read(Path(dirpath), path)
            if record is None:
                continue
            # v2 has no file for it: the smallest max along the ancestors
            # (cgroup-v2.rst, "Resource Distribution Models", Limits); v1 prints its own.
            if record.version == 2 or record.effective_max is None:
                above = effective.get(record.parent) if record.parent else None
                record = replace(record, effective_max=smallest([record.max, above]))
            effective[path] = record.effective_max
            found.append(record)
        return _populated(found)

    def read(self, directory: Path, path: str) -> CgroupMemory | None:
        """One cgroup's files (None when its directory is gone)."""
        try:
            fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)
        except OSError:
            return None
        try:
            return (_read_v1 if self.mount and self.mount.version == 1 else _read_v2)(fd, path, self.page_size)
        finally:
            os.close(fd)

    def files(self) -> list[Path]:
        """Every file the tree read would open (for ``memtop capture``)."""
        if self.top is None or self.mount is None:
            return []
        names = FILES[self.mount.version]
        out: list[Path] = []
        for dirpath, dirnames, files in os.walk(self.top, onerror=lambda _e: None):
            dirnames.sort()
            out.extend(Path(dirpath) / name for name in names if name in files)
        return out

    # -- memtop's own limit ------------------------------------------------------
    def container(self) -> ContainerLimit | None:
        """The smallest limit over memtop's own cgroup and its ancestors, with that cgroup's usage."""
        if self.top is None or self.mount is None:
            return None
        text = read_optional(self.paths.proc / "self" / "cgroup")
        try:
            found = memory_cgroup(parse_cgroup(text)) if text else None
        except ParseError:
            return None
        if found is None:
            return None
        best = self.limit_of(found[1])
        if best is None and self.mount.version == 1:
            # A v1 container sees only its own part of the hierarchy; the
            # limit may sit above it, and hierarchical_memory_limit says so.
            own = self.directory(found[1])
            stat = _get(own, "memory.stat", parse_flat_keyed) if own is not None else None
            limit = v1_stat(stat or (), self.page_size)[1]
            if isinstance(limit, int) and own is not None:
                best = ContainerLimit(found[1], 1, _get(own, "memory.usage_in_bytes", parse_counter), limit)
        return best

    def limit_of(self, cgroup: str) -> ContainerLimit | None:
        """The smallest limit over a cgroup and its ancestors, with that cgroup's usage."""
        if self.top is None or self.mount is None:
            return None
        path: str | None = cgroup
        best: ContainerLimit | None = None
        names = ("memory.limit_in_bytes", "memory.usage_in_bytes") if self.mount.version == 1 else ("memory.max", "memory.current")
        while path is not None:
            directory = self.directory(path)
            if directory is None:
                break
            limit = _get(directory, names[0], lambda t: parse_limit(t, self.page_size))
            if isinstance(limit, int) and (best is None or limit < best.limit):
                best = ContainerLimit(path, self.mount.version, _get(directory, names[1], parse_counter), limit)
            if directory == self.top:
                break
            path = path.rstrip("/").rsplit("/", 1)[0] or "/"
        return best

    def refresh(self, known: ContainerLimit) -> ContainerLimit:
        """The same limit with its cgroup's usage read again (one file)."""
        directory = self.directory(known.path)
        if directory is None:
            return known
        name = "memory.usage_in_bytes" if known.version == 1 else "memory.current"
        return replace(known, current=_get(directory, name, parse_counter))


T = TypeVar("T")


def _get(directory: Path, name: str, parse: Callable[[str], T]) -> T | None:
    text = read_optional(directory / name)
    if text is None:
        return None
    try:
        return parse(text)
    except ParseError:
        return None


class _Files:
    """Reads files of one open cgroup directory; remembers what failed, and why."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.errors: list[str] = []

    def text(self, name: str) -> str | None:
        try:
            return decode(read_at(self.fd, name))
        except FileNotFoundError:
            return None  # an older kernel, or the root cgroup: not an error
        except OSError as exc:
            self.errors.append(f"{name}: {exc.strerror}")
            return None

    def parse(self, name: str, parse: Callable[[str], T]) -> T | None:
        text = self.text(name)
        if text is None:
            return None
        try:
            return parse(text)
        except ParseError as exc:
            self.errors.append(f"{name}: {exc}")
            return None

    @property
    def error(self) -> str | None:
        return "; ".join(self.errors) or None


def _read_v2(fd: int, path: str, page_size: int) -> CgroupMemory:
    f = _Files(fd)

    def limit(name: str) -> Limit:
        return f.parse(name, lambda t: parse_limit(t, page_size))

    pressure: Pressure | None = f.parse("memory.pressure", parse_pressure)
    return CgroupMemory(
        path=path, version=2,
        current=f.parse("memory.current", parse_counter),
        max=limit("memory.max"), high=limit("memory.high"), low=limit("memory.low"), min=limit("memory.min"),
        soft_limit=None, effective_max=None,
        stat=f.parse("memory.stat", lambda t: parse_flat_keyed(t, "memory.stat")) or (),
        events=f.parse("memory.events", lambda t: parse_flat_keyed(t, "memory.events")) or (),
        pressure=pressure,
        procs=f.parse("cgroup.procs", parse_procs) or (),
        error=f.error,
    )


def _read_v1(fd: int, path: str, page_size: int) -> CgroupMemory:
    f = _Files(fd)
    raw_stat = f.parse("memory.stat", lambda t: parse_flat_keyed(t, "memory.stat"))
    stat, hierarchical = v1_stat(raw_stat or (), page_size)
    oom = f.parse("memory.oom_control", lambda t: parse_flat_keyed(t, "memory.oom_control"))
    return CgroupMemory(
        path=path, version=1,
        current=f.parse("memory.usage_in_bytes", parse_counter),
        max=f.parse("memory.limit_in_bytes", lambda t: parse_limit(t, page_size)),
        high=None, low=None, min=None,
        soft_limit=f.parse("memory.soft_limit_in_bytes", lambda t: parse_limit(t, page_size)),
        effective_max=hierarchical,
        stat=stat,
        events=v1_events(oom, f.parse("memory.failcnt", parse_counter)),
        pressure=None,
        procs=f.parse("cgroup.procs", parse_procs) or (),
        error=f.error,
    )


def _populated(records: list[CgroupMemory]) -> tuple[CgroupMemory, ...]:
    """Keep cgroups with processes, with usage or with an OOM kill, and their ancestors.

    An OOM kill often leaves a cgroup empty (its one process killed, its
    pages freed): that is when a person looks for it, so it stays.
    """
    keep: set[str] = set()
    by_path = {r.path: r for r in records}
    for record in records:
        if record.procs or (record.current or 0) > 0 or (record.event("oom_kill") or 0) > 0:
            path: str | None = record.path
            while path is not None and path not in keep and path in by_path:
                keep.add(path)
                path = by_path[path].parent
    return tuple(r for r in records if r.path in keep)
