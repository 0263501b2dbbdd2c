"""``memtop --maps PID [--json]``: one process's mappings without the UI.

The same grouped view as the drill-down screen (kinds, then one row per path
with its count of mappings), as a table like ``pmap -X`` with PSS and USS;
``--json`` gives every mapping with every smaps field (``memtop.maps/1``,
README). Imports no textual: a scripted run costs what reading smaps costs.
"""

from __future__ import annotations

from typing import Any

from memtop.collectors.host import load_facts, user_lookup
from memtop.collectors.models import Mapping, ProcessMaps
from memtop.collectors.paths import HostPaths
from memtop.collectors.process_maps import read_process_maps
from memtop.views.format import escape
from memtop.views.uss import USS_FORMULA, USS_FREES

from memtop.tables.mapping_rows import SIZES, analyse, view_rows
from memtop.explain.smaps_fields import why_no_mappings

SCHEMA = "memtop.maps/1"
KIB = 1024

#: Table columns: (heading, MapRow attribute).
_COLUMNS = (("MAPS", "maps"), ("SIZE", "size"), ("RSS", "rss"), ("PSS", "pss"), ("USS", "uss"),
            ("SWAP", "swap"), ("THP", "anon_huge"), ("DIRTY", "dirty"))


class MapsError(Exception):
    """The process is gone or its smaps cannot be read: one line on stderr."""


def mapping_json(m: Mapping) -> dict[str, Any]:
    """One mapping: sizes in bytes; ``fields`` every smaps field (unitless ones as given)."""
    return {
        "start": m.start, "end": m.end, "perms": m.perms, "offset": m.offset, "device": m.device,
        "inode": m.inode, "path": m.path, "kind": m.kind, "size": m.size, "rss": m.rss, "pss": m.pss,
        "uss": m.uss, "swap": m.swap, "anon_huge": m.anon_huge, "fields": dict(m.fields),
        "vmflags": list(m.vmflags),
    }


def maps_json(maps: ProcessMaps) -> dict[str, Any]:
    return {"schema": SCHEMA, "pid": maps.pid, "mappings": [mapping_json(m) for m in maps.mappings or ()]}


def maps_table(maps: ProcessMaps, exact: bool = False) -> str:
    """The grouped view; sizes in KiB like pmap -X (bytes with ``exact``)."""
    unit = 1 if exact else KIB
    proc = maps.process
    lines = []
    if proc is not None:
        lines.append(f"{maps.pid}:   {escape(' '.join(proc.cmdline) or '[' + proc.name + ']')}")
    analysis = analyse(maps.mappings or ())
    width = 14 if exact else 10
    head = "".join(f"{name:>{width if name != 'MAPS' else 6}}" for name, _ in _COLUMNS)
    lines.append(f"{head}  KIND / PATH   (sizes in {'bytes' if exact else 'KiB'})")
    for row in view_rows(analysis, grouped=True, sort="pss"):
        cells = "".join(
            f"{row.maps:>6}" if attr == "maps" else f"{getattr(row, attr) // unit:>{width}}" for _, attr in _COLUMNS
        )
        label = f"{row.label}:" if row.level == 0 else "  " + escape(row.label)
        lines.append(f"{cells}  {label}")
    totals = analysis.totals
    cells = f"{analysis.count:>6}" + "".join(f"{totals[name] // unit:>{width}}" for name in SIZES)
    lines.append(f"{cells}  total")
    lines.append(f"USS = {USS_FORMULA} ({USS_FREES}); "
                 "PSS divides shared pages among their users; THP = AnonHugePages.")
    return "\n".join(lines)


def read_maps(pid: int, root: HostPaths) -> ProcessMaps:
    """One process's mappings, or MapsError saying why there are none."""
    facts = load_facts(root)
    maps = read_process_maps(root, pid, user_lookup(facts, root.live), denied=facts.denied)
    if maps.exited or maps.process is None:
        raise MapsError(f"no such process: {pid}")
    if maps.mappings is None:
        raise MapsError(why_no_mappings(maps.error, maps.process, root.live))
    if not maps.mappings:
        # A kernel thread has no user address space: zero totals with exit 0
        # would read as a process that uses nothing (issue 13, item 10).
        name = escape(maps.process.name)
        raise MapsError(f"pid {pid} ({name}): " + (why_no_mappings(maps.error, maps.process, root.live)
                                                   or "smaps is empty: no mappings to show"))
    return maps
