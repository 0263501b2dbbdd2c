"""What the cgroup view and the JSON say about memory cgroups: pure functions.

Usage (v2 memory.current, v1 memory.usage_in_bytes) counts everything charged
to a cgroup and its descendants: the anonymous memory of its processes, but
also page cache they read or wrote, kernel memory (slab, stacks, page tables,
sockets) and pages left by processes that have exited (cgroup-v2.rst,
"Memory Ownership"). The sum of the members' PSS counts only mapped pages, so
usage minus PSS is that other memory: why a container whose processes look
small can still hit its limit and be OOM-killed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from memtop.collectors.models import CgroupMemory, Limit, ProcessMemory

#: Events that deserve attention when they grow (v2 memory.events; v1 oom_control and failcnt).
WATCHED = ("low", "high", "max", "oom", "oom_kill", "oom_group_kill", "under_oom", "failcnt")

#: memory.stat keys shown in the view, in each version's own names.
STAT_V2 = ("anon", "file", "kernel", "kernel_stack", "pagetables", "sec_pagetables", "percpu", "sock",
           "vmalloc", "shmem", "slab", "slab_reclaimable", "slab_unreclaimable", "file_mapped",
           "file_dirty", "file_writeback", "swapcached", "zswap", "anon_thp", "file_thp", "shmem_thp")
STAT_V1 = ("cache", "rss", "rss_huge", "shmem", "mapped_file", "dirty", "writeback", "swap")


def stat_shown(version: int, stat: Mapping[str, int]) -> list[tuple[str, int]]:
    """The memory.stat split worth showing, in the version's own names.

    v1 prints each counter twice: for the cgroup alone and as ``total_*`` with
    its descendants (memory.rst 5.2); usage_in_bytes includes descendants, so
    the ``total_*`` ones, when the kernel prints them, go beside it.
    """
    if version == 2:
        return [(k, stat[k]) for k in STAT_V2 if k in stat]
    if any(k.startswith("total_") for k in stat):
        return [(f"total_{k}", stat[f"total_{k}"]) for k in STAT_V1 if f"total_{k}" in stat]
    return [(k, stat[k]) for k in STAT_V1 if k in stat]


@dataclass(frozen=True, slots=True)
class PssSum:
    """The members' PSS, over a cgroup and its descendants."""

    pss: int
    processes: int
    unreadable: int  # members whose PSS could not be read (not in ``pss``)


def in_cgroup(path: str | None, top: str) -> bool:
    """A process's cgroup path is ``top`` or below it."""
    if path is None:
        return False
    if top == "/":
        return path.startswith("/")
    return path == top or path.startswith(top.rstrip("/") + "/")


def pss_sums(cgroups: Iterable[CgroupMemory], processes: Iterable[ProcessMemory]) -> dict[str, PssSum]:
    """PSS of every cgroup's members and its descendants' members."""
    paths = {c.path for c in cgroups}
    pss: dict[str, int] = dict.fromkeys(paths, 0)
    count: dict[str, int] = dict.fromkeys(paths, 0)
    unknown: dict[str, int] = dict.fromkeys(paths, 0)
    for proc in processes:
        path = proc.cgroup
        if path is None or proc.kernel_thread:
            continue
        while True:
            if path in paths:
                count[path] += 1
                if proc.pss is None:
                    unknown[path] += 0 if proc.state in "ZX" else 1
                else:
                    pss[path] += proc.pss
            if path in ("/", ""):
                break
            path = path.rstrip("/").rsplit("/", 1)[0] or "/"
    return {p: PssSum(pss[p], count[p], unknown[p]) for p in paths}


def new_events(cgroup: CgroupMemory, baseline: Mapping[str, Mapping[str, int]]) -> tuple[tuple[str, int], ...]:
    """Watched events that grew since the baseline (a cgroup new since then: every non-zero one)."""
    before = baseline.get(cgroup.path, {})
    return tuple(
        (name, value - before.get(name, 0))
        for name, value in cgroup.events
        if name in WATCHED and value > before.get(name, 0)
    )


def event_baseline(cgroups: Iterable[CgroupMemory]) -> dict[str, dict[str, int]]:
    return {c.path: dict(c.events) for c in cgroups}


def share(current: int | None, limit: Limit) -> float | None:
    """Usage as a percentage of a numeric limit."""
    if current is None or not isinstance(limit, int) or limit <= 0:
        return None
    return 100.0 * current / limit


@dataclass(frozen=True, slots=True)
class CgroupRow:
    """One line of the cgroup table (the process table's row protocol: key, pid, exited, stale)."""

    key: tuple[object, ...]
    path: str
    name: str
    depth: int
    version: int
    current: int | None
    limit: Limit  # effective max
    own_limit: Limit  # this cgroup's max
    pss: PssSum | None
    oom_kill: int | None
    new: tuple[tuple[str, int], ...]
    procs: int
    error: str | None = None
    pid: None = None
    exited: bool = False
    stale: bool = False


def build_cgroup_rows(
    cgroups: Sequence[CgroupMemory],
    sums: Mapping[str, PssSum],
    baseline: Mapping[str, Mapping[str, int]],
) -> list[CgroupRow]:
    """The tree in order: parents first, siblings by usage (largest first)."""
    by_path = {c.path: c for c in cgroups}
    children: dict[str | None, list[CgroupMemory]] = {}
    for c in cgroups:
        parent = c.parent if c.parent in by_path else None
        children.setdefault(parent, []).append(c)
    rows: list[CgroupRow] = []
    stack = [(c, 0) for c in reversed(_ordered(children.get(None, [])))]
    while stack:
        c, depth = stack.pop()
        rows.append(CgroupRow(
            key=("cg", c.path), path=c.path, name=c.name if depth else c.path, depth=depth, version=c.version,
            current=c.current, limit=c.effective_max, own_limit=c.max, pss=sums.get(c.path),
            oom_kill=c.event("oom_kill"), new=new_events(c, baseline), procs=len(c.procs), error=c.error,
        ))
        stack.extend((kid, depth + 1) for kid in reversed(_ordered(children.get(c.path, []))))
    return rows


def _ordered(group: list[CgroupMemory]) -> list[CgroupMemory]:
    return sorted(group, key=lambda c: (-(c.current or 0), c.path))


def pressure_json(cgroup: CgroupMemory) -> dict[str, Any] | None:
    psi = cgroup.pressure
    if psi is None:
        return None
    return {
        kind: None if line is None else {"avg10": line.avg10, "avg60": line.avg60, "avg300": line.avg300, "total": line.total}
        for kind, line in (("some", psi.some), ("full", psi.full))
    }


def cgroups_json(cgroups: Sequence[CgroupMemory] | None, processes: Sequence[ProcessMemory] | None) -> list[dict[str, Any]] | None:
    """The JSON's ``cgroups``; ``processes`` None (not every process was read) leaves pss_sum null."""
    if cgroups is None:
        return None
    sums = pss_sums(cgroups, processes) if processes is not None else {}
    out = []
    for c in cgroups:
        total = sums.get(c.path)
        out.append({
            "path": c.path, "version": c.version, "current": c.current,
            "max": c.max, "high": c.high, "low": c.low, "min": c.min, "soft_limit": c.soft_limit,
            "effective_max": c.effective_max,
            "stat": dict(c.stat), "events": dict(c.events), "pressure": pressure_json(c),
            "pss_sum": None if total is None else total.pss,
            "pss_unreadable": None if total is None else total.unreadable,
            "procs": list(c.procs),
            "error": c.error,
        })
    return out
