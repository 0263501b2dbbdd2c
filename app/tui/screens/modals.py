"""The help of a screen over a table, built from its bindings, its table's and its notes."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from rich.text import Text
from textual.binding import Binding, BindingType
from textual.keys import key_to_character

from memtop.widgets.system_pane import AVAILABLE_MEANS
from memtop.widgets.virtual_table import VirtualTable

from memtop.rules.diagnoses import THRESHOLDS
from memtop.tui.screens.frames import TextScreen

#: The dashboard's notes (MainScreen.HELP_NOTES).
DASHBOARD_NOTES = (
    "PSS adds up: the sum of PSS over processes is what they use together. "
    "The sum of RSS over-counts every shared page (libraries, shared memory) once per process.",
    "PSS, USS and THP come from smaps_rollup, which costs the kernel a page-table walk per process. "
    "memtop reads it every refresh for the selected process and the rows on screen (every third "
    "refresh for a row whose process did not run since), soon after a process's RSS or page faults "
    "move, and at least every 60 s otherwise. Values older than three "
    "refreshes are dimmed and marked '~'.",
    "n/a: the figure could not be read (another user's process without root, a zombie, a kernel thread, "
    "a file cut short or refused); Enter on the process says why. '!' before PSS: above RSS, because status "
    "and smaps_rollup were read a moment apart while the process grew (shown as read, marked).",
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

    def label(key: str) -> str:
        if key in names:
            return names[key]
        if key.startswith("f") and key[1:].isdigit():
            return key.upper()
        typed = key_to_character(key)  # the replay's "comma", "full_stop", "left_curly_bracket": as typed
        return typed if typed is not None and typed.isprintable() else key

    return ", ".join(label(k) for k in keys.split(","))


class Helpable:
    """Mixin for a screen whose ?, h and F1 open its help: its keys, its table's columns and its notes.

    The keys are read from the bindings (the table's, then the screen's), so
    the help cannot drift from what the keys do.
    """

    BINDINGS: ClassVar[list[BindingType]]
    #: The table whose keys and columns the help lists.
    HELP_TABLE: ClassVar[type[VirtualTable]]
    #: What the numbers on the screen mean.
    HELP_NOTES: ClassVar[Sequence[str]]
    #: Keys no binding of the screen or its table names: (keys, what they do).
    HELP_MORE_KEYS: ClassVar[tuple[tuple[str, str], ...]] = ()
    #: The width of the column labels (the longest, at least).
    HELP_LABEL_WIDTH: ClassVar[int] = 8

    def action_help(self) -> None:
        screen: Any = self
        screen.app.push_screen(HelpScreen(self))


class HelpScreen(TextScreen):
    """Keys, columns and what the numbers mean, of the screen it is opened over."""

    BOX = "help"
    BINDINGS = [Binding("escape,q,question_mark,h,f1", "app.pop_screen", "Close")]

    def __init__(self, owner: Helpable) -> None:
        super().__init__()
        self.owner = owner

    def body(self) -> Text:
        owner = self.owner
        table = owner.HELP_TABLE
        text = Text()
        text.append("Keys\n", style="bold")
        for binding in [*table.BINDINGS, *owner.BINDINGS]:
            if isinstance(binding, Binding) and (binding.tooltip or binding.description):
                text.append(f"  {_key_label(binding.key):<18} {binding.tooltip or binding.description}\n")
        for keys, what in owner.HELP_MORE_KEYS:
            text.append(f"  {keys:<18} {what}\n")
        text.append("  ctrl+p             command palette\n\n")
        habits = getattr(owner, "HABITS", ())
        if habits:  # the dashboard's: what an htop or btop user's reflexes do here
            text.append("htop and btop keys\n", style="bold")
            text.append(f"  {'key':<15} {'there':<40} here\n", style="italic")
            for key, there, here in habits:
                text.append(f"  {key:<15} {there:<40} {here}\n")
            text.append("\n")
        text.append("Columns\n", style="bold")
        for column in table.COLUMNS:
            text.append(f"  {column.label:<{owner.HELP_LABEL_WIDTH}} {column.help}\n")
        text.append("\nNotes\n", style="bold")
        for note in owner.HELP_NOTES:
            text.append(f"  {note}\n")
        return text
