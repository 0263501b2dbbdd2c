"""THP and compaction counters, each with its rate now and what it counts (key T)."""

from __future__ import annotations

from rich.text import Text
from textual.binding import Binding

from memtop.views.format import events
from memtop.explain.thp_counters import COUNTER_HELP, POLICY_HELP, explain
from memtop.views.thp import ThpView
from memtop.tui.screens.frames import TextScreen

NOTES = (
    "Rates are events per second over the last refresh; the window column counts events in the "
    "last 60 s. A counter that goes down (a reset) counts what it holds from then on.",
    "A compaction stall means an allocating task was blocked while the kernel moved pages to make a "
    "huge page. With defrag 'always' every THP fault may stall; 'defer' or 'madvise' limit the "
    "stalls to kcompactd or to MADV_HUGEPAGE regions.",
    "The fallback ratio is thp_fault_fallback / (thp_fault_alloc + thp_fault_fallback) over the window.",
    "AnonHugePages per process is in smaps/smaps_rollup (the THP column), not in status.",
    "Source: Documentation/admin-guide/mm/transhuge.rst, section 'Monitoring usage'.",
)


class ThpHelpScreen(TextScreen):
    """Every counter the panel lists, then the others it lists only while they move."""

    BOX = "thp-help"
    BINDINGS = [Binding("escape,q,T", "app.pop_screen", "Close")]

    def __init__(self, view: ThpView | None) -> None:
        super().__init__()
        self.view = view

    def body(self) -> Text:
        text = Text()
        view = self.view
        text.append("THP policy\n", style="bold")
        state = view.state if view else None
        for name, help_text in POLICY_HELP.items():
            value = getattr(state, name, None) if state else None
            text.append(f"  {name:<14} {value or '-':<10} {help_text}\n")
        text.append("\nCounters", style="bold")
        text.append("   /s now, events in the window\n")
        for line in (*view.counters, *view.sizes) if view else ():
            rate = events(line.rate) if line.present else "absent"
            text.append(f"  {line.name:<28} {rate:>7} {line.window:>7}  ", style="bold" if line.window else "")
            text.append(f"{explain(line.name)}\n")
        if view is None:
            text.append("  no snapshot yet\n")
        listed = {line.name for line in view.counters} if view else set()
        text.append("\nOther counters", style="bold")
        text.append("   listed in the panel while they move\n")
        for name, help_text in COUNTER_HELP.items():
            if name not in listed:
                text.append(f"  {name:<44} {help_text}\n")
        text.append("\nNotes\n", style="bold")
        for note in NOTES:
            text.append(f"  {note}\n")
        return text
