"""Key ``c``: the memory cgroups, their usage against their limits, and their OOM events.

The tree is read only while this screen is open (the app tells the live
session); events that grew since it opened (or since ``m``) are marked ▲.
Enter closes it with the chosen cgroup, and the main screen filters its
processes to that cgroup and its descendants.
"""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Static

from memtop.collectors.models import UNLIMITED, CgroupMemory, Limit, Snapshot
from memtop.widgets.cgroup_table import NEW_MARK, CgroupTable
from memtop.widgets.key_footer import KeyFooter
from memtop.views.format import escape, human

from memtop.rules.cgroup_usage import (
    CgroupRow, PssSum, build_cgroup_rows, event_baseline, new_events, pss_sums, share, stat_shown,
)
from memtop.tui.messages import CgroupsWanted, ModelUpdate
from memtop.tui.screens.modals import Helpable

#: From this many lines on, the title also says why usage and PSS differ.
TALL = 36

WHY = ("usage counts everything charged to a cgroup: its processes' memory, and also the page cache they read "
       "or wrote, kernel memory and pages of exited processes. PSS counts only what processes map, so a "
       "container can hit its limit (and be OOM-killed) while its processes look small.")


def _limit(value: Limit) -> str:
    if value is None:
        return "n/a"
    return UNLIMITED if value == UNLIMITED else human(value)  # type: ignore[arg-type]


#: The view's notes on its help screen.
NOTES = (
    WHY,
    "v2 names its figures memory.current, memory.max/high/low/min, memory.stat (anon, file, kernel, sock, "
    "slab...) and memory.events (low, high, max, oom, oom_kill); v1 says memory.usage_in_bytes, "
    "limit_in_bytes, soft_limit_in_bytes, memory.stat (cache, rss, mapped_file; total_* with descendants) "
    "and has no memory.events: oom_control's oom_kill and under_oom and memory.failcnt stand in. Each "
    "version keeps its own names here.",
    "max means no limit (v1 prints 9223372036854771712 for it). The effective limit is the smallest "
    "along the ancestors: a child without a limit of its own is still held by its parent's.",
    "PSS can exceed usage: a page is charged to the cgroup that first touched it, so shared libraries "
    "read first elsewhere count in the members' PSS but not in this cgroup's usage.",
    "Only populated cgroups are listed: with processes, with usage, or with an OOM kill.",
)


class CgroupScreen(Helpable, Screen[str | None]):
    """Populated memory cgroups as a tree, and the selected one in full."""

    BINDINGS = [
        Binding("escape,c", "close", "Back", tooltip="Back to the processes"),
        Binding("m", "mark_seen", "Mark seen", tooltip="Take the event counts as seen: only later ones get ▲"),
        Binding("question_mark,h,f1", "help", "Help", tooltip="Keys, columns and what the numbers mean"),
        Binding("q,f10", "app.quit", "Quit"),
    ]

    HELP_TABLE = CgroupTable
    HELP_NOTES = NOTES
    HELP_MORE_KEYS = (("Up/Down, PgUp/PgDn, Home/End", "move"),)
    HELP_LABEL_WIDTH = 10

    def __init__(self, snapshot: Snapshot | None, select: str | None = None) -> None:
        super().__init__()
        self.snapshot = snapshot
        #: A cgroup to select once the tree is shown (a diagnosis jumps here).
        self.select = select
        self.baseline: dict[str, dict[str, int]] | None = None
        self.records: dict[str, CgroupMemory] = {}
        self.sums: dict[str, PssSum] = {}

    def compose(self) -> ComposeResult:
        yield Static(id="cg-title")
        yield CgroupTable(id="cg-table")
        yield Static(id="cg-details")
        yield KeyFooter()

    def on_mount(self) -> None:
        self.app.post_message(CgroupsWanted(True))
        self.query_one(CgroupTable).focus()
        self.show(self.snapshot)
        self.watch(self.app, "update", self._model_changed, init=False)

    def on_unmount(self) -> None:
        self.app.post_message(CgroupsWanted(False))

    def _model_changed(self, update: ModelUpdate | None) -> None:
        if update is not None and update.ingested is not None and self.app.screen is self:
            self.show(update.ingested.snapshot)

    # -- data ---------------------------------------------------------------
    def show(self, snapshot: Snapshot | None) -> None:
        if snapshot is None or snapshot.cgroups is None:
            if snapshot is not None and self.snapshot is not None and self.snapshot.cgroups is not None:
                return  # a pass from before the view opened: keep what is shown
            self._empty(snapshot)
            return
        self.snapshot = snapshot
        cgroups = snapshot.cgroups
        if self.baseline is None:
            self.baseline = event_baseline(cgroups)
        self.records = {c.path: c for c in cgroups}
        self.sums = pss_sums(cgroups, snapshot.processes)
        rows = build_cgroup_rows(cgroups, self.sums, self.baseline)
        table = self.query_one(CgroupTable)
        table.set_rows(rows)
        if self.select is not None and table.select_key(("cg", self.select)):
            self.select = None
        marked = sum(1 for r in rows if r.new)
        where = snapshot.cgroup_hierarchy or "memory cgroups"
        title = Text.assemble(("memory cgroups", "bold"), f"  {where}  {len(rows)} populated")
        if marked:
            title.append(f"   {NEW_MARK} {marked} with new events since the view opened", style="bold")
        if self.size.height >= TALL:
            title.append("\n" + WHY)
        self.query_one("#cg-title", Static).update(title)
        self._details(table.selected)

    def _empty(self, snapshot: Snapshot | None) -> None:
        if snapshot is None:
            why = "waiting for the first snapshot"
        elif snapshot.cgroup_hierarchy is None and not any("memory controller" in n for n in snapshot.notes):
            why = "no cgroup file system is mounted here: nothing to show"
        else:
            why = next((n for n in snapshot.notes if "memory controller" in n), "reading the cgroup tree ...")
        self.query_one("#cg-title", Static).update(Text.assemble(("memory cgroups", "bold"), f"  {why}"))
        self.query_one("#cg-details", Static).update("")

    def _details(self, row: CgroupRow | None) -> None:
        box = self.query_one("#cg-details", Static)
        record = None if row is None else self.records.get(row.path)
        if record is None:
            box.update("")
            return
        box.update(details_text(record, self.sums.get(record.path), new_events(record, self.baseline or {})))

    @on(CgroupTable.Selected)
    def _selected(self, _event: CgroupTable.Selected) -> None:
        self._details(self.query_one(CgroupTable).selected)

    @on(CgroupTable.Activated)
    def _activated(self, event: CgroupTable.Activated) -> None:
        row = self.query_one(CgroupTable).selected
        if row is not None:
            self.dismiss(row.path)

    def on_virtual_table_header_clicked(self, _event: CgroupTable.HeaderClicked) -> None:
        self.notify("the cgroup tree keeps the hierarchy's order: parents above their children", timeout=4)

    def action_close(self) -> None:
        self.dismiss(None)

    def action_mark_seen(self) -> None:
        if self.snapshot is not None and self.snapshot.cgroups is not None:
            self.baseline = event_baseline(self.snapshot.cgroups)
            self.show(self.snapshot)


def details_text(c: CgroupMemory, total: PssSum | None, new: tuple[tuple[str, int], ...]) -> Text:
    """Everything about one cgroup, in its version's own names."""
    text = Text()
    text.append(escape(c.path), style="bold")
    text.append(f"  (cgroup v{c.version})\n")
    pct = share(c.current, c.effective_max)
    text.append(f"usage {human(c.current)} of {_limit(c.effective_max)}")
    text.append(f" ({pct:.0f}%)" if pct is not None else "")
    if isinstance(c.effective_max, int) and c.effective_max != c.max:
        text.append("  (the limit is an ancestor's)")
    text.append("\n")
    if c.version == 2:
        text.append(f"memory.max {_limit(c.max)}  memory.high {_limit(c.high)}  "
                    f"memory.low {_limit(c.low)}  memory.min {_limit(c.min)}\n")
    else:
        text.append(f"memory.limit_in_bytes {_limit(c.max)}  memory.soft_limit_in_bytes {_limit(c.soft_limit)}  "
                    f"hierarchical_memory_limit {_limit(c.effective_max)}\n")
    if total is not None and total.processes:
        text.append(f"PSS of its {total.processes} process{'' if total.processes == 1 else 'es'} "
                    f"(with descendants'): {human(total.pss)}")
        if total.unreadable:
            text.append(f" + {total.unreadable} whose PSS could not be read (see their error)")
        elif c.current is not None:
            diff = c.current - total.pss
            if diff >= 0:
                text.append(f"; usage - PSS = {human(diff)}: page cache, kernel memory and pages of exited "
                            "processes, charged here but mapped by none of them")
            else:
                text.append(f"; PSS exceeds usage by {human(-diff)}: they map shared pages charged to "
                            "another cgroup (the first to touch a page pays for it)")
        text.append("\n")
    else:
        text.append("no processes in it or below it\n")
    shown = [f"{k} {human(v)}" for k, v in stat_shown(c.version, dict(c.stat))]
    text.append("memory.stat  " + ("  ".join(shown) if shown else "n/a") + "\n")
    grew = dict(new)
    source = "memory.events" if c.version == 2 else "oom_control + failcnt (v1 has no memory.events)"
    text.append(source + "  ")
    if not c.events:
        text.append("n/a")
    for name, value in c.events:
        if name in grew:
            text.append(f"{NEW_MARK}{name} {value} (+{grew[name]})", style="bold")
        else:
            text.append(f"{name} {value}")
        text.append("  ")
    text.append("\n")
    if c.pressure is not None:
        some = c.pressure.some.avg10 if c.pressure.some else None
        full = c.pressure.full.avg10 if c.pressure.full else None
        text.append(f"memory.pressure  some {some if some is not None else '-'}%  "
                    f"full {full if full is not None else '-'}% (avg10)\n")
    elif c.version == 1:
        text.append("pressure  n/a: cgroup v1 has no per-cgroup PSI\n")
    if c.error:
        text.append(f"unreadable: {c.error}\n")
    return text
