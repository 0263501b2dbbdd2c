"""The dashboard's process table across refreshes: its rows, redone only as far as something changed, and its totals.

Filtering thousands of processes and summing them is the costly part of a
key press that only moves the cursor or re-sorts (bench/live.py), so it is
redone only when the snapshot's processes, the filter, the cgroup or the
exited selection change. A snapshot's processes are a tuple built once per
pass: the view holds the tuple it filtered and compares by identity, so no
later tuple can pass for it (an id() could be reused once it is freed).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from memtop.collectors.models import ProcessMemory
from memtop.views.format import human

from memtop.tables.process_rows import (
    Derived, Row, RowCache, RowKey, Totals, ViewState, build_rows, matching, proc_key, totals,
)


class ProcessView:
    """Rows of the process table for each snapshot and view; ``totals`` of what the filter keeps."""

    def __init__(self) -> None:
        self._cache = RowCache()
        self._matched: list[ProcessMemory] = []
        self._processes: Sequence[ProcessMemory] | None = None
        self._filter: tuple[object, ...] | None = None
        #: Sums over the processes the filter keeps (the exited selection aside).
        self.totals: Totals = totals([])

    def rows(self, processes: Sequence[ProcessMemory], view: ViewState, rates: Mapping[RowKey, float],
             exited: ProcessMemory | None, stale_before: float | None, marks: Mapping[int, str],
             derived: Derived | None = None) -> Sequence[Row]:
        """The table's rows (see build_rows); the filter and the totals only when they can change."""
        wanted = (view.text, exited, view.cgroup, view.user)
        if processes is not self._processes or wanted != self._filter:
            self._matched = matching(processes, view.text, exited, view.cgroup, view.user)
            gone = None if exited is None else proc_key(exited)
            self.totals = totals([p for p in self._matched if gone is None or proc_key(p) != gone])
            self._processes, self._filter = processes, wanted
            self._cache.prune(processes)
        return build_rows(processes, view, rates, exited, stale_before, self._cache, self._matched, marks, derived)


def totals_line(sums: Totals, view: ViewState, shown: int, hidden: int | None, tagged: int = 0) -> str:
    """The line under the table: how many processes the filter keeps and their sums, and the view."""
    tasks = f"   {hidden} tasks hidden by /proc" if hidden else ""
    # "needs root" only where that is the reason: root refused by the kernel, zombies and
    # rollups not read yet have theirs in the process screen (issue 13, item 10).
    unknown = f"   PSS n/a for {sums.denied_pss} (needs root)" if sums.denied_pss else ""
    other = sums.unknown_pss - sums.denied_pss
    unknown += f"   PSS n/a for {other} (Enter: why)" if other > 0 else ""
    mode = "" if view.mode == "list" else f"   view: {view.mode}"
    text = f" filter: {view.text!r}" if view.text else ""
    text += f" in cgroup {view.cgroup} (Esc: all)" if view.cgroup else ""
    text += f" of user {view.user} (u: all)" if view.user else ""
    tags = f"   {tagged} tagged (F9 signals them, U untags)" if tagged else ""
    empty = "   no match" if (view.text or view.cgroup or view.user) and not shown else ""
    return (
        f"{sums.count} processes{text}{empty}   PSS {human(sums.values['pss'])}   "
        f"USS {human(sums.values['uss'])}   RSS {human(sums.values['rss'])} (over-counts shared)   "
        f"swap {human(sums.values['swap'])}{tags}{unknown}{tasks}{mode}"
    )
