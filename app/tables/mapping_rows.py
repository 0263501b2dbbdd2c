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

from collections.abc import Callable, Iterator, Mapping as MappingABC, Sequence
from dataclasses import dataclass
from operator import attrgetter, itemgetter
from typing import Any, NamedTuple

from memtop.collectors.models import Mapping
from memtop.views.uss import USS_FIELDS

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


class MapRow(NamedTuple):
    """One line of the mappings table: a kind, a path in it, or one mapping.

    A NamedTuple, not a dataclass: 65,000 of them are built per read, and a
    tuple is built at C speed (immutable all the same). Sizes are summed over
    ``members``.
    """

    key: RowKey
    level: int  # 0: a kind's header, 1: a path inside it, 2: one mapping (raw view)
    kind: str
    label: str
    maps: int  # how many mappings the row sums
    size: int
    rss: int
    pss: int
    uss: int
    swap: int
    anon_huge: int
    dirty: int
    delta: int = 0  # RSS change since the screen opened
    grew: bool = False  # RSS grew since the last read
    start: int | None = None
    end: int | None = None
    perms: str = ""
    members: tuple[Mapping, ...] = ()


@dataclass(frozen=True, slots=True)
class Analysis:
    """One read, ready to show: raw rows in address order, and the groups."""

    raw: Sequence[MapRow]  # RawRows: built when the raw view first needs them
    groups: tuple[tuple[MapRow, tuple[MapRow, ...]], ...]
    totals: MappingABC[str, int]
    count: int


_WANTED = ("Rss", "Pss", *USS_FIELDS, "Swap", "AnonHugePages", "Shared_Dirty")  # USS: the sum of the two (views/uss.py)
#: The smaps fields the table needs: a first read of a huge process parses only these.
TABLE_FIELDS = frozenset(_WANTED)
_INDEX: dict[tuple[str, ...], tuple[int | None, ...]] = {}


def _indexes(keys: tuple[str, ...]) -> tuple[int | None, ...]:
    """Where each wanted field sits in a layout (one lookup per layout, not per mapping)."""
    found = _INDEX.get(keys)
    if found is None:
        if len(_INDEX) > 64:
            _INDEX.clear()
        found = _INDEX[keys] = tuple(keys.index(k) if k in keys else None for k in _WANTED)
    return found


def mapping_sizes(m: Mapping) -> Sizes:
    """(size, rss, pss, uss, swap, anon_huge, dirty) of one mapping; a field not printed counts 0."""
    v = m.values
    index = _indexes(m.keys)
    if None in index:
        rss, pss, pclean, pdirty, swap, huge, sdirty = (0 if i is None else v[i] for i in index)
    else:
        i_rss, i_pss, i_pclean, i_pdirty, i_swap, i_huge, i_sdirty = index  # type: ignore[misc]
        rss, pss, pclean, pdirty, swap, huge, sdirty = (
            v[i_rss], v[i_pss], v[i_pclean], v[i_pdirty], v[i_swap], v[i_huge], v[i_sdirty])
    return (m.end - m.start, rss, pss, pclean + pdirty, swap, huge, sdirty + pdirty)


def _change(key: RowKey, rss: int, opened: MappingABC[RowKey, int], last: MappingABC[RowKey, int]) -> tuple[int, bool]:
    """(RSS change since the first read, grew since the last read); a new row counts from 0."""
    since_open = rss - opened.get(key, 0) if opened else 0
    grew = rss > last.get(key, 0) if last else False
    return since_open, grew


Sizes = tuple[int, int, int, int, int, int, int]


def _total(rows: Sequence[MapRow]) -> Sizes:
    """Sums of size .. dirty (fields 5 to 11 of a MapRow)."""
    return _sum_sizes([r[5:12] for r in rows])  # type: ignore[misc]  # a 7-slice of a MapRow is Sizes


class RawRows(Sequence[MapRow]):
    """The raw view's rows (one per mapping, address order), built on first use.

    The first paint is the grouped view: at 65,000 mappings building a row per
    mapping was a sixth of Enter -> mappings drawn (bench/drilldown.py), for a
    view shown only after g. The sizes are worked out once, in the reader's
    thread, for the groups; the rows reuse them.
    """

    def __init__(self, mappings: Sequence[Mapping], sizes: Sequence[Sizes],
                 opened: MappingABC[RowKey, int], last: MappingABC[RowKey, int]) -> None:
        self._mappings = mappings
        self._sizes = sizes
        self._opened = opened
        self._last = last
        self._rows: tuple[MapRow, ...] | None = None
        self._rss: dict[RowKey, int] | None = None

    def rows(self) -> tuple[MapRow, ...]:
        if self._rows is None:
            opened, last = self._opened, self._last
            built = []
            for m, sizes in zip(self._mappings, self._sizes):
                key: RowKey = ("m", m.start)  # not the end: a heap grows (brk) at its end, the start stays
                delta, grew = _change(key, sizes[1], opened, last) if opened else (0, False)
                built.append(MapRow(key, 2, m.kind, m.path or "[anon]", 1, *sizes, delta, grew, m.start, m.end,
                                    m.perms, (m,)))
            self._rows = tuple(built)
            self._opened = self._last = {}  # not needed any more
        return self._rows

    def rss(self) -> dict[RowKey, int]:
        """RSS by row key (from the rows' own keys when built, else without building them); worked out
        once, by ``analyse`` in the reader's thread: 65,000 new keys made on the event loop woke the
        cyclic GC there over every object the read made (bench/drilldown.py: ~300 ms)."""
        if self._rss is None:
            if self._rows is not None:
                self._rss = {r.key: r.rss for r in self._rows}
            else:
                self._rss = {("m", m.start): sizes[1] for m, sizes in zip(self._mappings, self._sizes)}
        return self._rss

    def __len__(self) -> int:
        return len(self._mappings)

    def __getitem__(self, index: Any) -> Any:
        return self.rows()[index]

    def __iter__(self) -> Iterator[MapRow]:
        return iter(self.rows())


def _sum_sizes(sizes: Sequence[Sizes]) -> Sizes:
    s = [sum(map(itemgetter(i), sizes)) for i in range(7)]  # C speed: 65,000 mappings in one group
    return (s[0], s[1], s[2], s[3], s[4], s[5], s[6])


def analyse(
    mappings: Sequence[Mapping],
    opened: MappingABC[RowKey, int] | None = None,
    last: MappingABC[RowKey, int] | None = None,
    raw_now: bool = True,
) -> Analysis:
    """Rows for every view; ``opened``/``last``: RSS by row key at the screen's first and last read.

    The groups are built now; the raw rows too unless ``raw_now`` is False (a first paint, in
    a hurry): then when first read (RawRows).
    """
    opened = opened or {}
    last = last or {}
    sizes = list(map(mapping_sizes, mappings))
    by_path: dict[tuple[str, str], list[int]] = {}
    for i, m in enumerate(mappings):
        group = by_path.get((m.kind, m.path or "[anon]"))
        if group is None:
            by_path[(m.kind, m.path or "[anon]")] = [i]
        else:
            group.append(i)
    groups: list[tuple[MapRow, tuple[MapRow, ...]]] = []
    for kind in KINDS:
        paths: list[MapRow] = []
        for (k, label), members in by_path.items():
            if k != kind:
                continue
            sums = _sum_sizes([sizes[i] for i in members])
            key = ("p", kind, label)
            paths.append(MapRow(key, 1, kind, label, len(members), *sums, *_change(key, sums[1], opened, last),
                                members=tuple(mappings[i] for i in members)))
        if paths:
            groups.append((_header(kind, paths), tuple(paths)))
    totals = dict(zip(SIZES, _sum_sizes(sizes)))
    raw = RawRows(mappings, sizes, opened, last)
    if raw_now:
        raw.rows()
    raw.rss()
    return Analysis(raw, tuple(groups), totals, len(mappings))


def _header(kind: str, paths: Sequence[MapRow]) -> MapRow:
    """A kind's header: the sums of its path rows (those that match a filter)."""
    members = tuple(m for p in paths for m in p.members)
    return MapRow(("g", kind), 0, kind, KIND_LABELS[kind], sum(p.maps for p in paths), *_total(paths),
                  sum(p.delta for p in paths), any(p.grew for p in paths), members=members)


def rss_by_key(analysis: Analysis) -> dict[RowKey, int]:
    """RSS of every row, to compare the next read with."""
    raw = analysis.raw
    out = dict(raw.rss()) if isinstance(raw, RawRows) else {r.key: r.rss for r in raw}
    for header, paths in analysis.groups:
        out[header.key] = header.rss
        out.update((p.key, p.rss) for p in paths)
    return out


def _sort_key(field_name: str) -> Callable[[MapRow], Any]:
    if field_name == "path":
        return lambda r: r.label.casefold()
    if field_name == "address":
        return lambda r: r.start if r.start is not None else 0
    return attrgetter("maps" if field_name == "count" else field_name)  # C speed: 65,000 rows sort in a few ms


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
