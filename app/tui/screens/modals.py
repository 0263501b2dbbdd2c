"""Small screens over the main one: help, sort column, signal."""

from __future__ import annotations

import os
import signal
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, OptionList, Static
from textual.widgets.option_list import Option

from memtop.collectors.models import ProcessMemory
from memtop.views.format import escape, human
from memtop.widgets.process_table import ProcessTable
from memtop.widgets.system_pane import AVAILABLE_MEANS

from memtop.rules.diagnoses import THRESHOLDS
from memtop.tables.select import PROCESS_FIELDS

if TYPE_CHECKING:
    from textual.screen import Screen

HELP_NOTES = (
    "PSS adds up: the sum of PSS over processes is what they use together. "
    "The sum of RSS over-counts every shared page (libraries, shared memory) once per process.",
    "PSS, USS and THP come from smaps_rollup, which costs the kernel a page-table walk per process. "
    "memtop reads it every refresh for the rows on screen and the selected process, soon after a "
    "process's RSS or page faults move, and at least every 60 s otherwise. Values older than three "
    "refreshes are dimmed and marked '~'.",
    "n/a: the figure could not be read (another user's process without root, a zombie, a kernel thread).",
    AVAILABLE_MEANS + ". free is small on a healthy machine: the kernel uses idle memory as cache.",
    "Reconciliation (wide terminals): PSS of all processes against AnonPages + Shmem + Mapped; "
    "the difference is in no process (unmapped page cache and shmem, kernel memory).",
    "THP pane: events per second of the kernel's thp_* and compact_* counters, events in the last "
    "60 s and their sparkline; a compaction stall (a task blocked making a huge page) is flagged with "
    "'‼' for 60 s. T explains every counter.",
    "Working set (w): what the selected process touched in a window (default 5 s): memtop writes 1 to "
    "/proc/PID/clear_refs, waits, and sums Referenced of smaps_rollup. It resets the process's reference bits, "
    "which reclaim uses (it asks first); huge pages count whole (2 MiB granularity); another user's process "
    "needs root. Compared with RSS + available (or the cgroup's headroom when less): larger means it will page.",
    THRESHOLDS,
    "Heap vs RSS: the selected process's RSS and RssAnon over time, and heap in use where memtop "
    "knows it: programs started with memtop run (or the counter library preloaded by hand), Python "
    "programs with memtop.probe, one gdb sample on H, and memtop itself (glibc mallinfo2). gap = RSS - "
    "heap. 'growing'/'stable' is the gap's slope over the window (at least max(0.5 MiB/min, 0.05 % of "
    "RSS per minute) and beyond its scatter, 20 s of history); '‼ structural leak suspected': the gap "
    "and RSS grow while the heap grows under a quarter as fast; '‼ freed memory retained': the gap is "
    ">= 64 MiB and larger than the heap. W changes the window.",
)


def _key_label(keys: str) -> str:
    names = {"slash": "/", "question_mark": "?", "plus": "+", "minus": "-", "escape": "Esc",
             "left_square_bracket": "[", "right_square_bracket": "]", "backslash": "\\", "less_than_sign": "<",
             "greater_than_sign": ">", "space": "space", "ctrl+l": "Ctrl-L"}
    return ", ".join(names.get(k, k.upper() if k.startswith("f") and k[1:].isdigit() else k) for k in keys.split(","))


class HelpScreen(ModalScreen[None]):
    """Keys (from the screens' own bindings), columns and what the numbers mean."""

    BINDINGS = [Binding("escape,q,question_mark,h,f1", "app.pop_screen", "Close")]

    def __init__(self, owner: Screen[Any]) -> None:
        super().__init__()
        self.owner = owner

    def compose(self) -> ComposeResult:
        text = Text()
        text.append("Keys\n", style="bold")
        # A screen may name its own table and notes (the process screen does).
        table = getattr(self.owner, "HELP_TABLE", ProcessTable)
        notes = getattr(self.owner, "HELP_NOTES", HELP_NOTES)
        for binding in [*table.BINDINGS, *self.owner.BINDINGS]:
            if isinstance(binding, Binding) and (binding.tooltip or binding.description):
                text.append(f"  {_key_label(binding.key):<18} {binding.tooltip or binding.description}\n")
        text.append("  ctrl+p             command palette\n\n")
        habits = getattr(self.owner, "HABITS", ())
        if habits:  # the dashboard's: what an htop or btop user's reflexes do here
            text.append("htop and btop keys\n", style="bold")
            text.append(f"  {'key':<15} {'there':<40} here\n", style="italic")
            for key, there, here in habits:
                text.append(f"  {key:<15} {there:<40} {here}\n")
            text.append("\n")
        text.append("Columns\n", style="bold")
        for column in table.COLUMNS:
            text.append(f"  {column.label:<8} {column.help}\n")
        text.append("\nNotes\n", style="bold")
        for note in notes:
            text.append(f"  {note}\n")
        with VerticalScroll(id="help"):
            yield Static(text)


class SortScreen(ModalScreen[str | None]):
    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, current: str, fields: Sequence[str] | None = None) -> None:
        super().__init__()
        self.current = current
        self.fields = fields

    def compose(self) -> ComposeResult:
        fields = self.fields or [f for f in PROCESS_FIELDS if f not in ("cmdline", "error", "kernel_thread")]
        options = OptionList(*[Option(f, id=f) for f in fields], id="sort")
        with Vertical(id="sort-box"):
            yield Static("Sort by (Enter chooses, Esc cancels)")
            yield options

    def on_mount(self) -> None:
        options = self.query_one(OptionList)
        index = next((i for i in range(options.option_count) if options.get_option_at_index(i).id == self.current), 0)
        options.highlighted = index
        options.focus()

    @on(OptionList.OptionSelected)
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def action_cancel(self) -> None:
        self.dismiss(None)


class SignalScreen(ModalScreen[bool]):
    """F9: which signal, for whom, and what killing it would free."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, proc: ProcessMemory) -> None:
        super().__init__()
        self.proc = proc

    def compose(self) -> ComposeResult:
        p = self.proc
        frees = human(p.uss) if p.uss is not None else "unknown (USS n/a)"
        with Vertical(id="signal-box"):
            yield Static(
                f"Send a signal to {escape(p.name)} (pid {p.pid}, user {p.user})?\n"
                f"{escape(' '.join(p.cmdline))[:200]}\n\n"
                f"Killing it would free about {frees} (its USS, private memory).",
                id="signal-text",
                markup=False,
            )
            with Horizontal(id="signal-buttons"):
                yield Button("SIGTERM", id="term", variant="warning")
                yield Button("SIGKILL", id="kill", variant="error")
                yield Button("Cancel", id="cancel")

    def on_mount(self) -> None:
        self.query_one("#term", Button).focus()  # SIGTERM is the default

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "cancel":
            self.dismiss(False)
            return
        sig = signal.SIGKILL if event.button.id == "kill" else signal.SIGTERM
        try:
            os.kill(self.proc.pid, sig)
        except PermissionError:
            self.app.notify(f"not permitted to signal pid {self.proc.pid} (needs root or the same user)", severity="error")
        except ProcessLookupError:
            self.app.notify(f"pid {self.proc.pid} has already exited", severity="warning")
        else:
            self.app.notify(f"sent {sig.name} to {self.proc.name} ({self.proc.pid})")
        self.dismiss(True)

    def action_cancel(self) -> None:
        self.dismiss(False)
