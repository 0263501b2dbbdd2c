"""What the mappings table shows: rows built from one process's mappings.

Pure functions, no textual: the drill-down screen and ``memtop --maps`` share
them. ``analyse`` does the per-mapping work once per read (in the reader's
thread: 65,000 mappings take a while); ``view_rows`` only filters and sorts
what it built, which a key press can afford.

Grouped view: one header row per kind (heap, stacks, anonymous, libraries,
other files, shared memory, special) with its totals, then one row per path
inside it with its count of mappings. Raw view: one row per mapping.
"""

from __future__ import annotations

from collections.abc import Mapping as MappingABC, Sequence
from dataclasses import dataclass, field

from memtop.collectors.models import Mapping

KINDS: tuple[str, ...] = ("heap", "stack", "anon", "lib", "file", "shm", "special")
KIND_LABELS: dict[str, str] = {
    "heap": "heap", "stack": "stacks", "anon": "anonymous", "lib": "libraries (.so)",
    "file": "other files", "shm": "shared memory and memfd", "special": "special",
}
#: Sizes of a row, summed over its mappings.
SIZES: tuple[str, ...] = ("size", "rss", "pss", "uss", "swap", "anon_huge", "dirty")
#: What the table sorts by; sizes largest first, path and address ascending.
SORT_FIELDS: tuple[str, ...] = ("pss", "rss", "uss", "swap", "anon_huge", "dirty", "size", "delta", "count", "path", "address")

RowKey = tuple[object, ...]


@dataclass(frozen=True, slots=True)
class MapRow:
    """One line of the mappings table: a kind, a path in it, or one mapping."""

    key: RowKey
    level: int  # 0: a kind's header, 1: a path inside it, 2: one mapping (raw view)
    kind: str
    label: str
    count: int
    values: MappingABC[str, int]
    delta: int  # RSS change since the screen opened
    grew: bool  # RSS grew since the last read
    start: int | None = None
    end: int | None = None
    perms: str = ""
    members: tuple[Mapping, ...] = field(default=(), repr=False, compare=False)


@dataclass(frozen=True, slots=True)
class Analysis:
    """One read, ready to show: raw rows in address order, and the groups."""

    raw: tuple[MapRow, ...]
    groups: tuple[tuple[MapRow, tuple[MapRow, ...]], ...]
    totals: MappingABC[str, int]
    count: int


def mapping_values(m: Mapping) -> dict[str, int]:
    f = dict(m.fields)
    get = f.get
    return {
        "size": m.end - m.start, "rss": get("Rss", 0), "pss": get("Pss", 0),
        "uss": get("Private_Clean", 0) + get("Private_Dirty", 0), "swap": get("Swap", 0),
        "anon_huge": get("AnonHugePages", 0), "dirty": get("Shared_Dirty", 0) + get("Private_Dirty", 0),
    }


def path_label(m: Mapping) -> str:
    return m.path or "[anon]"


def _sum(values: Sequence[MappingABC[str, int]]) -> dict[str, int]:
    return {name: sum(v[name] for v in values) for name in SIZES}


def analyse(
    mappings: Sequence[Mapping],
    opened: MappingABC[RowKey, int] | None = None,
    last: MappingABC[RowKey, int] | None = None,
) -> Analysis:
    """Rows for every view; ``opened``/``last``: RSS by row key at the screen's first and last read."""
    opened = opened or {}
    last = last or {}
    raw: list[MapRow] = []
    by_path: dict[tuple[str, str], list[tuple[Mapping, dict[str, int]]]] = {}
    for m in mappings:
        values = mapping_values(m)
        key: RowKey = ("m", m.start, m.end)
        rss = values["rss"]
        raw.append(MapRow(key, 2, m.kind, path_label(m), 1, values, *_change(key, rss, opened, last),
                          m.start, m.end, m.perms, (m,)))
        by_path.setdefault((m.kind, path_label(m)), []).append((m, values))
    groups: list[tuple[MapRow, tuple[MapRow, ...]]] = []
    for kind in KINDS:
        paths: list[MapRow] = []
        for (k, label), members in by_path.items():
            if k != kind:
                continue
            sums = _sum([v for _m, v in members])
            key = ("p", kind, label)
            rss = sums["rss"]
            paths.append(MapRow(key, 1, kind, label, len(members), sums, *_change(key, rss, opened, last),
                                members=tuple(m for m, _v in members)))
        if paths:
            groups.append((_header(kind, paths), tuple(paths)))
    totals = _sum([r.values for r in raw])
    return Analysis(tuple(raw), tuple(groups), totals, len(raw))


def _change(key: RowKey, rss: int, opened: MappingABC[RowKey, int], last: MappingABC[RowKey, int]) -> tuple[int, bool]:
    """(RSS change since the first read, grew since the last read); a new row counts from 0."""
    since_open = rss - opened.get(key, 0) if opened else 0
    grew = rss > last.get(key, 0) if last else False
    return since_open, grew


def _header(kind: str, paths: Sequence[MapRow]) -> MapRow:
    """A kind's header: the sums of its path rows (those that match a filter)."""
    sums = _sum([p.values for p in paths])
    members = tuple(m for p in paths for m in p.members)
    return MapRow(("g", kind), 0, kind, KIND_LABELS[kind], sum(p.count for p in paths), sums,
                  sum(p.delta for p in paths), any(p.grew for p in paths), members=members)


def rss_by_key(analysis: Analysis) -> dict[RowKey, int]:
    """RSS of every row, to compare the next read with."""
    out = {r.key: r.values["rss"] for r in analysis.raw}
    for header, paths in analysis.groups:
        out[header.key] = header.values["rss"]
        out.update((p.key, p.values["rss"]) for p in paths)
    return out


def _sort_key(field_name: str):  # type: ignore[no-untyped-def]
    if field_name == "path":
        return lambda r: r.label.casefold()
    if field_name == "address":
        return lambda r: r.start if r.start is not None else 0
    if field_name == "count":
        return lambda r: r.count
    if field_name == "delta":
        return lambda r: r.delta
    return lambda r: r.values[field_name]


def sort_rows(rows: Sequence[MapRow], sort: str, reverse: bool = False) -> list[MapRow]:
    """Sizes and counts largest first, path and address ascending; ``reverse`` flips it.

    Ties keep address (raw) or path order, so the order is stable between reads.
    """
    descending = (sort not in ("path", "address")) != reverse
    return sorted(rows, key=_sort_key(sort), reverse=descending)


def view_rows(analysis: Analysis, grouped: bool, sort: str = "pss", reverse: bool = False, text: str = "") -> list[MapRow]:
    """The rows to show: filtered by path (case-insensitive), sorted."""
    needle = text.casefold()
    if not grouped:
        rows = [r for r in analysis.raw if needle in r.label.casefold()] if needle else list(analysis.raw)
        return sort_rows(rows, sort, reverse) if sort != "address" or reverse else rows
    out: list[MapRow] = []
    for header, paths in analysis.groups:
        chosen = [p for p in paths if needle in p.label.casefold()] if needle else list(paths)
        if not chosen:
            continue
        if needle and len(chosen) != len(paths):
            header = _header(header.kind, chosen)  # totals of what matches
        out.append(header)
        out.extend(sort_rows(chosen, sort, reverse))
    return out
