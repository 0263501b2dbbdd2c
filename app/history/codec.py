"""Snapshots to rows and back: the system part as a flat document, each process as identity and figures.

The document is flat (``"sys:MemFree"``, ``"vm:thp_fault_alloc"``,
``"cg:/system.slice"``, ``"cgs:/system.slice:anon"``) so that a sample stores
only the keys that changed since the one before (store.py). Sizes of a
process are kept in KiB: every figure /proc gives for them is in kB (proc.rst),
and a KiB count takes two bytes fewer in SQLite's variable-length integers.
"""

from __future__ import annotations

import json
import zlib
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


_VM_NAMES = (
    "allocstall_movable allocstall_normal compact_daemon_free_scanned compact_daemon_migrate_scanned "
    "compact_daemon_wake compact_fail compact_free_scanned compact_isolated compact_migrate_scanned compact_stall "
    "compact_success oom_kill pgpgin pgpgout pgscan_anon pgscan_file pgsteal_anon pgsteal_file pgscan_direct "
    "pgscan_kswapd pgscan_khugepaged pgsteal_direct pgsteal_kswapd pgsteal_khugepaged pswpin pswpout "
    "thp_collapse_alloc thp_collapse_alloc_failed thp_fault_alloc thp_fault_fallback thp_fault_fallback_charge "
    "thp_split_page thp_split_pmd thp_deferred_split_page thp_zero_page_alloc workingset_activate_anon "
    "workingset_activate_file workingset_nodereclaim workingset_nodes workingset_refault_anon "
    "workingset_refault_file workingset_restore_anon workingset_restore_file pgfault pgmajfault"
).split()
_MEMINFO_NAMES = (
    "DirectMap1G DirectMap2M DirectMap4k Hugetlb Hugepagesize HardwareCorrupted VmallocChunk VmallocTotal "
    "VmallocUsed Percpu CommitLimit Committed_AS WritebackTmp Bounce NFS_Unstable FileHugePages FilePmdMapped "
    "ShmemHugePages ShmemPmdMapped AnonHugePages SecPageTables PageTables KernelStack SUnreclaim SReclaimable "
    "Slab KReclaimable Shmem Mapped AnonPages Writeback Dirty Zswapped Zswap SwapFree SwapTotal SwapCached "
    "Mlocked Unevictable Inactive(file) Active(file) Inactive(anon) Active(anon) Inactive Active Buffers Cached "
    "MemAvailable MemFree MemTotal"
).split()
#: zlib's preset dictionary for the documents: the keys every sample repeats, the most frequent last
#: (nearest). Fixed for schema 1: a file is read with the dictionary it was written with.
ZDICT = ("".join(f'"vm:{n}":' for n in _VM_NAMES) + "".join(f'"sysk:{n}":' for n in _MEMINFO_NAMES)).encode()


def _compress(raw: bytes) -> bytes:
    packer = zlib.compressobj(6, zdict=ZDICT)
    return packer.compress(raw) + packer.flush()


def _decompress(blob: bytes) -> bytes:
    unpacker = zlib.decompressobj(zdict=ZDICT)
    return unpacker.decompress(blob) + unpacker.flush()


def _int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def pack_doc(before: Doc | None, after: Doc) -> bytes:
    """A sample's document as stored: whole (``before`` None: a key frame), else what changed.

    ``[values, gone, deltas]``: new or changed values, keys gone, and for a number that was a
    number before, the difference (counters and sizes move by little: a few digits, not eleven).
    """
    if before is None:
        body: list[Any] = [after, [], {}]
    else:
        values: Doc = {}
        deltas: dict[str, int] = {}
        for k, v in after.items():
            old = before.get(k, _MISSING)
            if old is _MISSING or old != v:
                if _int(v) and _int(old):
                    deltas[k] = v - old
                else:
                    values[k] = v
        body = [values, [k for k in before if k not in after], deltas]
    return _compress(json.dumps(body, separators=(",", ":")).encode())


def apply_doc(doc: Doc, blob: bytes) -> Doc:
    """``doc`` after a stored sample (in place); returns the values it set whole (heaps, cgroups...)."""
    values, gone, deltas = json.loads(_decompress(blob))
    for k in gone:
        doc.pop(k, None)
    doc.update(values)
    for k, d in deltas.items():
        doc[k] = doc[k] + d
    return values


_MISSING = object()


def pack_figures(before: tuple[Any, ...] | None, after: tuple[Any, ...]) -> Any:
    """A process's figures as stored: whole (a list), or the changes (``{"d": [...]}``): for a number
    that was a number, its index and difference; for anything else, its index's complement (~i) and value."""
    if before is None:
        return list(after)
    out: list[Any] = []
    for i, (a, v) in enumerate(zip(before, after)):
        if a != v:
            out.extend((i, v - a) if _int(a) and _int(v) else (~i, v))
    return {"d": out}


def apply_figures(before: list[Any] | None, data: Any) -> list[Any]:
    """A process's figures after a stored entry (pack_figures)."""
    if isinstance(data, list):
        if len(data) != len(FIGURES):
            raise ValueError(f"a figures row of {len(data)} values")
        return data
    if before is None:
        raise ValueError("a change without the figures it changes")
    row = list(before)
    pairs = data["d"]
    for i, v in zip(pairs[::2], pairs[1::2]):
        if i >= 0:
            row[i] = row[i] + v
        else:
            row[~i] = v
    return row


def pack_sample_figures(entries: list[tuple[int, Any]]) -> bytes:
    """The figures a sample writes, all its processes in one compressed blob: ``[[procs id, entry], ...]``.

    One blob, not a row per process: zlib finds what the rows share (a new process's row looks like
    the others), and SQLite's per-row cost is paid once per sample.
    """
    return zlib.compress(json.dumps(entries, separators=(",", ":")).encode(), 6)


def unpack_sample_figures(blob: bytes | None) -> list[tuple[int, Any]]:
    if not blob:
        return []
    return [(int(pid_id), entry) for pid_id, entry in json.loads(zlib.decompress(blob))]


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
