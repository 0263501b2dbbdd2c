"""Plain-text and JSON output of a snapshot (``memtop --once`` and ``--json``).

The JSON is the documented contract ``memtop.snapshot/1`` (README, "JSON
schema"): adding a field keeps the version, renaming or removing one bumps it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from memtop.collectors.processes import ROOT_REFUSED
from memtop.collectors.models import HeapCounters, ProcessMemory, Snapshot, SystemMemory, ThpState, WorkingSet

from memtop.views.format import escape, human

from memtop.rules.cgroup_usage import cgroups_json
from memtop.rules.diagnoses import Diagnosis
from memtop.rules.working_set_fit import working_set_json
from memtop.rules.gap import GapVerdict
from memtop.tables.select import PROCESS_FIELDS

__all__ = ["SCHEMA", "escape", "footnotes", "human", "process_json", "snapshot_json", "summary_line", "table"]

SCHEMA = "memtop.snapshot/1"

_SYSTEM_KEYS = (
    "total", "free", "available", "available_estimated", "used", "buffers", "cached", "shmem",
    "anon", "slab_reclaimable", "slab_unreclaimable", "kernel_stack", "page_tables", "percpu",
    "hugetlb", "zswap", "dirty", "writeback", "swap_total", "swap_free", "swap_cached", "anon_huge",
    "shmem_huge", "file_huge", "mapped",
)


def _system_json(snap: Snapshot) -> dict[str, Any] | None:
    system: SystemMemory | None = snap.system
    if system is None:
        return None
    out: dict[str, Any] = {key: getattr(system, key) for key in _SYSTEM_KEYS}
    out["taxonomy"] = [{"name": p.name, "bytes": p.bytes} for p in system.taxonomy]
    out["overcount"] = system.overcount
    rec = snap.reconciliation
    out["reconciliation"] = None if rec is None else {
        "pss_sum": rec.pss_sum, "anon_shmem_mapped": rec.anon_shmem_mapped,
        "difference": rec.difference, "unreadable": rec.unreadable,
    }
    return out


def _thp_json(thp: ThpState | None) -> dict[str, Any] | None:
    if thp is None:
        return None
    return {
        "enabled": thp.enabled,
        "defrag": thp.defrag,
        "shmem_enabled": thp.shmem_enabled,
        "khugepaged": None if thp.khugepaged is None else dict(thp.khugepaged),
        "sizes": None if thp.sizes is None else {
            size: {"enabled": s.enabled, "stats": dict(s.stats)} for size, s in thp.sizes
        },
    }


def heap_json(proc: ProcessMemory, counters: HeapCounters | None, verdict: GapVerdict | None = None,
              now: float | None = None) -> dict[str, Any] | None:
    """The allocator's view of a process (None without a heap source); trend None without history.

    ``age``: seconds since a gdb sample was taken (key H), null for the
    continuous sources; probe and gdb add what mallinfo2 and Python say.
    """
    if counters is None:
        return None
    d = counters.detail
    in_use = counters.in_use
    return {
        "source": counters.source,
        "in_use": in_use,
        "peak": counters.peak,
        "gap": None if proc.rss is None or in_use is None else proc.rss - in_use,
        "trend": verdict.trend if verdict is not None else None,
        "flag": verdict.flag if verdict is not None else None,
        "allocs": counters.allocs,
        "frees": counters.frees,
        "age": round(max(now - d.time, 0.0), 3) if d is not None and now is not None and counters.source == "gdb" else None,
        "free_in_heap": d.free_in_heap if d is not None else None,
        "mmapped": d.mmapped if d is not None else None,
        "python_blocks": d.python_blocks if d is not None else None,
        "traced": d.traced if d is not None else None,
        "traced_peak": d.traced_peak if d is not None else None,
        "missing": (list(d.missing) if d is not None else []) + ([counters.refused] if counters.refused else []),
    }


def process_json(proc: ProcessMemory, counters: HeapCounters | None = None, verdict: GapVerdict | None = None,
                 now: float | None = None) -> dict[str, Any]:
    out = {name: getattr(proc, name) for name in PROCESS_FIELDS}
    out["cmdline"] = list(proc.cmdline)
    out["heap"] = heap_json(proc, counters, verdict, now)
    out["marks"] = list(proc.marks)
    return out


def snapshot_json(
    snap: Snapshot, processes: Sequence[ProcessMemory], verdicts: Mapping[int, GapVerdict] | None = None,
    diagnoses: Sequence[Diagnosis] = (), working_sets: Sequence[WorkingSet] = (),
) -> dict[str, Any]:
    """The ``memtop.snapshot/1`` object for a snapshot and its chosen processes.

    ``verdicts``: the gap trend by pid, where a history exists (NDJSON);
    ``diagnoses`` and ``working_sets`` (the last measurements kept) as given.
    """
    heaps = {h.pid: h for h in snap.heaps}
    verdicts = verdicts or {}
    pressure = None
    if snap.pressure is not None:
        pressure = {
            kind: None if line is None else {
                "avg10": line.avg10, "avg60": line.avg60, "avg300": line.avg300, "total": line.total,
            }
            for kind, line in (("some", snap.pressure.some), ("full", snap.pressure.full))
        }
    return {
        "schema": SCHEMA,
        "time": snap.time,
        "hostname": snap.hostname,
        "kernel": snap.kernel,
        "page_size": snap.page_size,
        "system": _system_json(snap),
        "pressure": pressure,
        "vmstat": dict(snap.vmstat),
        "thp": _thp_json(snap.thp),
        "hidden_processes": snap.hidden_processes,
        "cgroup_hierarchy": snap.cgroup_hierarchy,
        "notes": list(snap.notes),
        "processes": [process_json(p, heaps.get(p.pid), verdicts.get(p.pid), snap.time) for p in processes],
        # Member PSS sums need every process: not with --pid (no reconciliation either).
        "cgroups": cgroups_json(snap.cgroups, snap.processes if snap.reconciliation is not None else None),
        "diagnoses": [d.json() for d in diagnoses],
        "working_sets": [working_set_json(w, snap.time) for w in working_sets],
    }


def summary_line(system: SystemMemory | None, exact: bool) -> str:
    """One line: total, used, available, page cache, swap."""
    if system is None:
        return "system: n/a"
    size = (lambda n: "n/a" if n is None else str(n)) if exact else human
    cache = next((p.bytes for p in system.taxonomy if p.name == "page_cache"), None)
    swap_used = None
    if system.swap_total is not None and system.swap_free is not None:
        swap_used = system.swap_total - system.swap_free
    est = " (estimated)" if system.available_estimated else ""
    return (
        f"total {size(system.total)}  used {size(system.used)}  "
        f"available {size(system.available)}{est}  page cache {size(cache)}  "
        f"swap {size(swap_used)} of {size(system.swap_total)}"
    )


_COLUMNS = ("rss", "pss", "uss", "swap")
#: After a figure shown as read but odd (ProcessMemory.marks), explained in a footnote.
MARK = "!"


def table(snap: Snapshot, processes: Sequence[ProcessMemory], exact: bool = False, width: int | None = None,
          extra: tuple[str, Mapping[tuple[int, int], float]] | None = None, notes: Sequence[str] = ()) -> str:
    """A table like smem's under a one-line system summary and the notes that explain its cells.

    ``width`` cuts the trailing command column to fit a terminal; None keeps it whole.
    ``extra``: one more column before the command (the derived column sorted by: its
    label and its values by process key), blank where a process has none.
    ``notes``: the caller's, after the footnotes (why the derived column is empty).
    """
    size = (lambda n: "n/a" if n is None else str(n)) if exact else human

    def derived(p: ProcessMemory) -> tuple[str, ...]:
        if extra is None:
            return ()
        value = extra[1].get(p.key)
        if value is None:
            return ("",)
        scaled = value * 60 if extra[0].endswith("/m") else value
        return (("+" if scaled > 0 else "") + size(int(scaled)),)

    def cell(p: ProcessMemory, column: str) -> str:
        text = size(getattr(p, column))
        return text + MARK if column == "pss" and p.marks else text

    rows = [
        (str(p.pid), escape(p.user or "?"), escape(p.name), *(cell(p, c) for c in _COLUMNS), *derived(p),
         escape(" ".join(p.cmdline)) if p.cmdline else f"[{escape(p.name)}]")
        for p in processes
    ]
    header = ("PID", "USER", "NAME", "RSS", "PSS", "USS", "SWAP", *((extra[0],) if extra else ()), "COMMAND")
    widths = [max([len(header[i])] + [len(r[i]) for r in rows]) for i in range(len(header) - 1)]
    widths[1] = min(widths[1], 12)
    widths[2] = min(widths[2], 16)
    # The notes say why cells are n/a or marked: above the table, so that `memtop --once | head` keeps them.
    lines = [summary_line(snap.system, exact), *footnotes(snap, processes), *notes]
    for row in (header, *rows):
        cells = [
            row[i][: widths[i]].rjust(widths[i]) if i == 0 or i >= 3 else row[i][: widths[i]].ljust(widths[i])
            for i in range(len(header) - 1)
        ]
        line = "  ".join(cells) + "  " + row[-1]
        lines.append(line if width is None else line[:width].rstrip())
    return "\n".join(lines)


def footnotes(snap: Snapshot, processes: Sequence[ProcessMemory]) -> list[str]:
    """What a reader must know to trust the table: unreadable rows, hidden processes."""
    notes: list[str] = []
    denied = sum(1 for p in processes if p.error and "permission denied" in p.error)
    if denied:
        whose = "its" if denied == 1 else "their"
        notes.append(f"PSS/USS n/a for {denied} process{'' if denied == 1 else 'es'}: {whose} smaps_rollup needs root or the same user")
    refused = sum(1 for p in processes if p.error and ROOT_REFUSED in p.error)
    if refused:
        # Not "needs root" to root: the kernel's ptrace check refused root itself (issue 13, item 10).
        notes.append(f"PSS/USS n/a for {refused} process{'' if refused == 1 else 'es'}: the kernel refused "
                     f"{'its' if refused == 1 else 'their'} "
                     "smaps_rollup even to root (not dumpable, another user namespace, or no CAP_SYS_PTRACE here; "
                     "--json: error)")
    marked = [p for p in processes if p.marks]
    if marked:
        notes.append(f"{MARK} PSS above RSS for {len(marked)} process{'' if len(marked) == 1 else 'es'}: status and "
                     "smaps_rollup were read a moment apart while it grew (--json: marks)")
    if snap.hidden_processes:
        notes.append(f"{snap.hidden_processes} tasks are hidden by /proc (hidepid or a PID namespace)")
    notes.extend(snap.notes)
    return notes
