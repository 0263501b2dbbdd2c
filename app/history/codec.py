"""Snapshots to rows and back: the system part as a flat document, each process as identity and figures.

The document is flat (``"sysk:MemFree"``, ``"vm:thp_fault_alloc"``,
``"cg:/system.slice"``, ``"cgsk:/system.slice\0anon"``) so that a sample stores
only the keys that changed since the one before (packing.py). Sizes are kept
in KiB (``sysk``, ``cgsk``, a process's sizes): every figure /proc gives for
them is in kB (proc.rst), and a KiB count is three digits shorter.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict
from typing import Any

from memtop.collectors.meminfo import system_memory
from memtop.collectors.models import (
    CgroupMemory, ContainerLimit, HeapCounters, HeapDetail, Pressure, PressureLine, ProcessMemory, Snapshot,
    ThpSize, ThpState,
)
from memtop.collectors.snapshot import reconcile

Doc = dict[str, Any]

#: The vmstat counters kept: THP, compaction, OOM kills, swap, faults, reclaim (the rest is not shown).
VMSTAT_KEPT = ("thp_", "compact_", "oom_kill", "pswp", "pgfault", "pgmajfault", "pgscan", "pgsteal",
               "allocstall", "workingset_", "pgpg")

#: A process's sizes, stored in KiB.
SIZES = ("rss", "pss", "uss", "swap", "anon", "file", "shmem", "swap_pss", "pss_anon", "pss_file", "pss_shmem",
         "pss_dirty", "anon_huge", "hugetlb", "vsize", "hwm", "referenced", "locked")
#: Its other figures, stored as they are.
OTHERS = ("oom_score", "oom_score_adj", "faults", "threads", "state", "error")
#: Every stored figure of a process, in row order; the last is the age of its PSS in seconds.
FIGURES = (*SIZES, *OTHERS, "pss_age")
#: Figures whose change alone writes no new row: they move whenever a process runs (faults) or is
#: re-read (the age of PSS; Referenced, which the page reference bits move at every read), so a
#: row for them would be a copy of a process that did not change (see recorder.py).
QUIET = frozenset({"faults", "pss_age", "referenced"})
_QUIET_AT = tuple(i for i, name in enumerate(FIGURES) if name in QUIET)

Identity = tuple[int, int, int, str, str, int | None, str | None, str | None, bool]


def identity(p: ProcessMemory) -> Identity:
    """What names a process: written once, and again only when it changes (exec, reparenting, a cgroup move)."""
    return (p.pid, p.starttime, p.ppid, p.name, "\0".join(p.cmdline), p.uid, p.user, p.cgroup, p.kernel_thread)


def figures(p: ProcessMemory, time: float) -> tuple[Any, ...]:
    sizes = [None if (v := getattr(p, name)) is None else v >> 10 for name in SIZES]
    others = [getattr(p, name) for name in OTHERS]
    age = None if p.memory_time is None else max(0, round(time - p.memory_time))
    return (*sizes, *others, age)


def moved(before: tuple[Any, ...], after: tuple[Any, ...]) -> bool:
    """Whether a figure other than the quiet ones changed."""
    return any(a != b for i, (a, b) in enumerate(zip(before, after)) if i not in _QUIET_AT)


def process(ident: Identity, row: tuple[Any, ...], time: float) -> ProcessMemory:
    """The ProcessMemory of a stored identity and figures written at ``time`` (the age of PSS counts from it)."""
    pid, starttime, ppid, name, cmdline, uid, user, cgroup, kthread = ident
    values: dict[str, Any] = {n: (None if v is None else int(v) << 10) for n, v in zip(SIZES, row)}
    values.update(zip(OTHERS, row[len(SIZES):]))
    age = row[-1]
    return ProcessMemory(
        pid=pid, ppid=ppid, starttime=starttime, name=name, cmdline=tuple(cmdline.split("\0")) if cmdline else (),
        uid=uid, user=user, state=values.pop("state") or "?", threads=values.pop("threads") or 0,
        kernel_thread=bool(kthread), cgroup=cgroup, faults=values.pop("faults") or 0,
        memory_time=None if age is None else time - age, **values,
    )


# -- the system part ----------------------------------------------------------
def _pressure(p: Pressure | None) -> Any:
    if p is None:
        return None
    return [None if line is None else [line.avg10, line.avg60, line.avg300, line.total] for line in (p.some, p.full)]


def _unpressure(v: Any) -> Pressure | None:
    if v is None:
        return None
    some, full = (None if line is None else PressureLine(*line) for line in v)
    return Pressure(some, full)


def _thp(t: ThpState | None) -> Any:
    if t is None:
        return None
    sizes = None if t.sizes is None else [[name, s.enabled, [list(kv) for kv in s.stats]] for name, s in t.sizes]
    khp = None if t.khugepaged is None else [list(kv) for kv in t.khugepaged]
    return [t.enabled, t.defrag, t.shmem_enabled, khp, sizes]


def _unthp(v: Any) -> ThpState | None:
    if v is None:
        return None
    enabled, defrag, shmem, khp, sizes = v
    return ThpState(enabled, defrag, shmem,
                    None if khp is None else tuple((k, x) for k, x in khp),
                    None if sizes is None else tuple((n, ThpSize(e, tuple((k, x) for k, x in st))) for n, e, st in sizes))


def _cgroup(c: CgroupMemory) -> Any:
    # cgroup.procs is not stored: it changes with every process started or ended (thousands of pids
    # in the root's), and the recorded processes say their cgroup; a replay rebuilds it from them.
    return [c.version, c.current, c.max, c.high, c.low, c.min, c.soft_limit, c.effective_max,
            [list(kv) for kv in c.events], _pressure(c.pressure), c.error, [k for k, _ in c.stat]]


def _heap(h: HeapCounters) -> Any:
    return asdict(h)


def _unheap(v: Mapping[str, Any]) -> HeapCounters:
    d = dict(v)
    detail = d.pop("detail")
    if detail is not None:
        detail = HeapDetail(**{**detail, "missing": tuple(detail.get("missing", ()))})
    return HeapCounters(**d, detail=detail)


def document(snap: Snapshot, before: Doc | None = None) -> Doc:
    """The flat document of a snapshot's system part. Cgroups not read this pass (None) keep ``before``'s."""
    doc: Doc = {"host": snap.hostname, "kernel": snap.kernel, "page": snap.page_size, "hidden": snap.hidden_processes,
                "hier": snap.cgroup_hierarchy, "notes": list(snap.notes), "psi": _pressure(snap.pressure),
                "thp": _thp(snap.thp), "heaps": [_heap(h) for h in snap.heaps],
                "ct": None if snap.container is None else list(asdict(snap.container).values()),
                "sys": snap.system is not None}
    if snap.system is not None:
        # meminfo's sizes are kB: kept in KiB ("sysk:"), shorter in every diff; a count stays as it is.
        doc.update((f"sysk:{k}", v >> 10) if v % 1024 == 0 else (f"sys:{k}", v) for k, v in snap.system.fields)
    doc.update((f"vm:{k}", v) for k, v in snap.vmstat if k.startswith(VMSTAT_KEPT))
    if snap.cgroups is None:
        if before is not None:
            doc.update((k, v) for k, v in before.items() if k.startswith(("cg:", "cgs:", "cgsk:")))
    else:
        for c in snap.cgroups:
            doc[f"cg:{c.path}"] = _cgroup(c)
            doc.update((f"cgsk:{c.path}\0{k}", v >> 10) if v % 1024 == 0 and v else (f"cgs:{c.path}\0{k}", v)
                       for k, v in c.stat)
    return doc


def snapshot(doc: Doc, time: float, processes: tuple[ProcessMemory, ...]) -> Snapshot:
    """The Snapshot a document and its processes make."""
    system = None
    if doc.get("sys"):
        fields = {}
        for k, v in doc.items():
            if k.startswith("sysk:"):
                fields[k[5:]] = v << 10
            elif k.startswith("sys:"):
                fields[k[4:]] = v
        system = system_memory(fields)
    cgroups: list[CgroupMemory] = []
    stats: dict[str, list[tuple[str, int]]] = {}
    for k, v in doc.items():
        if k.startswith("cgs:"):
            path, name = k[4:].split("\0", 1)
            stats.setdefault(path, []).append((name, v))
        elif k.startswith("cgsk:"):
            path, name = k[5:].split("\0", 1)
            stats.setdefault(path, []).append((name, v << 10))
    members: dict[str, list[int]] = {}
    for p in processes:
        if p.cgroup is not None:
            members.setdefault(p.cgroup, []).append(p.pid)
    for k, v in doc.items():
        if k.startswith("cg:"):
            path = k[3:]
            version, current, mx, high, low, mn, soft, eff, events, psi, error, order = v
            found = dict(stats.get(path, ()))
            stat = tuple((n, found[n]) for n in order if n in found)
            cgroups.append(CgroupMemory(path, version, current, mx, high, low, mn, soft, eff, stat,
                                        tuple((a, b) for a, b in events), _unpressure(psi),
                                        tuple(members.get(path, ())), error))
    ct = doc.get("ct")
    return Snapshot(
        time=time, hostname=doc.get("host", ""), kernel=doc.get("kernel", ""), page_size=doc.get("page", 4096),
        system=system, reconciliation=None if system is None else reconcile(system, processes),
        pressure=_unpressure(doc.get("psi")),
        vmstat=tuple((k[3:], v) for k, v in doc.items() if k.startswith("vm:")),
        thp=_unthp(doc.get("thp")), processes=processes, hidden_processes=doc.get("hidden"),
        cgroup_hierarchy=doc.get("hier"), notes=tuple(doc.get("notes", ())),
        cgroups=tuple(sorted(cgroups, key=lambda c: c.path)) if cgroups else None,
        container=None if ct is None else ContainerLimit(*ct),
        heaps=tuple(_unheap(h) for h in doc.get("heaps", ())),
    )
