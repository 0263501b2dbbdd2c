"""The dashboard's keys for the hands of htop (and btop) users (issue 18).

Bindings live on the MainScreen (Textual merges BINDINGS of screens, not of
mixins): ``HABIT_BINDINGS`` is added to its list. This mixin holds their
actions: F2 setup, F3 search (jump, keep every row) apart from F4 / ``\\``
filter, ``<`` ``>`` the sort column, a header click to sort, ``u`` a user,
``K`` kernel threads, space tags and F9 signals the tagged, ``l`` open files,
``e`` environment; and every other key an htop user presses by reflex says
what memtop does instead (``HABITS``), in the footer's notification area and
in help.
"""

from __future__ import annotations

from typing import Any

from textual.binding import Binding
from textual.widgets import Input

from memtop.collectors.models import ProcessMemory
from memtop.collectors.paths import HostPaths
from memtop.tables.process_rows import Row
from memtop.tables.select import DESCENDING
from memtop.tui.screens.process_files import open_listing
from memtop.tui.screens.setup import SetupScreen
from memtop.tui.screens.signal_list import SignalListScreen
from memtop.tui.screens.user_choice import UserScreen
from memtop.tui.setting_messages import SettingsChanged
from memtop.views.columns import BY_KEY, DEFAULT_COLUMNS
from memtop.widgets.process_table import ProcessTable

#: The mark of a tagged process (space), before its name: not colour alone.
TAG = "●"

#: In the footer, after Sort (the dashboard places it).
SETUP_BINDING = Binding("f2,S", "setup", "Setup", tooltip="Choose and order the columns, with a preview (htop: F2, S)")

HABIT_BINDINGS = [
    Binding("f3", "search", "Search", show=False, tooltip="Search: jump to the next match, every row stays; F3 again: the next (htop: F3)"),
    Binding("f4,backslash,f", "filter", "Filter", show=False, tooltip="Filter: only the matching rows (htop: F4, \\; btop: f); also /"),
    Binding("less_than_sign,left", "sort_step(-1)", "Sort left", show=False, tooltip="Sort by the column to the left (htop: <; btop: left)"),
    Binding("greater_than_sign,right", "sort_step(1)", "Sort right", show=False, tooltip="Sort by the column to the right (htop: >; btop: right)"),
    Binding("N", "sort_by('pid')", "By PID", show=False, tooltip="Sort by PID (htop: N)"),
    Binding("r", "invert", "Reverse", show=False, tooltip="Invert the sort order (btop: r; also I)"),
    Binding("u", "user", "User", show=False, tooltip="Show one user's processes (htop: u)"),
    Binding("K", "kernel_threads", "Kernel threads", show=False, tooltip="Show or hide kernel threads (htop: K)"),
    Binding("space", "tag", "Tag", show=False, tooltip="Tag the process and move down; F9 signals every tagged one (htop: space)"),
    Binding("U", "untag", "Untag all", show=False, tooltip="Untag every process (htop: U)"),
    Binding("l", "open_files", "Open files", show=False, tooltip="The selected process's open files, read-only (htop: l)"),
    Binding("e", "environment", "Environment", show=False, tooltip="The selected process's environment, secrets redacted (htop: e)"),
    Binding("ctrl+l", "redraw", "Redraw", show=False, tooltip="Redraw the screen (htop: Ctrl-L)"),
    Binding("P", "habit('P')", "", show=False), Binding("f7", "habit('F7')", "", show=False),
    Binding("f8", "habit('F8')", "", show=False), Binding("i", "habit('i')", "", show=False),
    Binding("a", "habit('a')", "", show=False), Binding("x", "habit('x')", "", show=False),
    Binding("F", "habit('F')", "", show=False),
]

#: Keys of htop and btop: what they do there, what memtop does instead (help and the notes).
HABITS: tuple[tuple[str, str, str], ...] = (
    ("F2, S", "htop: setup", "setup: the table's columns (same key)"),
    ("F3", "htop: search", "search, every row stays (same key)"),
    ("F4, \\", "htop: filter", "filter (same keys; also / and btop's f)"),
    ("F5, t", "htop: tree", "tree, memory summed per subtree (same keys)"),
    ("F6, <, >", "htop: sort menu, sort column", "the same (also a click on a header; btop's left/right)"),
    ("F7, F8", "htop: nice -/+", "memtop changes no priorities: renice(1)"),
    ("F9, k", "htop: kill", "F9: htop's signal list with what killing frees; k moves up (vim)"),
    ("F10, q", "htop: quit", "quit (same keys)"),
    ("M, P, N, T", "htop: sort by MEM, CPU, PID, TIME", "M: by PSS; P: no CPU here, s chooses; N: by PID; T: THP counters"),
    ("I", "htop: invert", "invert (same key; btop's r too)"),
    ("u", "htop: choose a user", "the same"),
    ("K", "htop: kernel threads", "the same"),
    ("H", "htop: user threads", "the selected process's heap sample through gdb (asks first)"),
    ("space, U, c", "htop: tag, untag all, tag with children", "space and U the same; c: memory cgroups here"),
    ("l, e", "htop: open files, environment", "the same (read-only; secrets redacted)"),
    ("x", "htop: file locks", "l lists the open files"),
    ("i, a", "htop: IO priority, CPU affinity", "memtop changes neither: ionice(1), taskset(1)"),
    ("F", "htop: follow the process", "the selection always follows the process"),
    ("z, Z", "htop: pause", "pause the display (same keys)"),
    ("Ctrl-L", "htop: redraw", "the same"),
    ("e, f, r (btop)", "btop: tree, filter, reverse", "t tree, f filter, r reverse"),
)

NOTES = {
    "P": "htop's P sorts by CPU: memtop shows memory only. M sorts by PSS, s chooses a column, < > move it",
    "F7": "htop's F7/F8 change the nice value: memtop changes no priorities (renice(1) does)",
    "F8": "htop's F7/F8 change the nice value: memtop changes no priorities (renice(1) does)",
    "i": "htop's i sets the IO priority: memtop changes none (ionice(1) does)",
    "a": "htop's a sets CPU affinity: memtop changes none (taskset(1) does)",
    "x": "htop's x lists file locks: l lists the open files here",
    "F": "htop's F follows a process: here the selection always follows it across refreshes and re-sorts",
}


def row_matches(row: Row, needle: str) -> bool:
    """The search's match: name, command line or user contain it; digits alone also the pid."""
    if needle.isascii() and needle.isdecimal() and row.pid == int(needle):
        return True
    folded = needle.casefold()
    return any(folded in h.casefold() for h in (row.name, row.command, row.user))


class HabitKeys:
    """Mixin for the MainScreen: the actions of ``HABIT_BINDINGS``."""

    SEARCH = "#search"
    #: htop's and btop's keys beside memtop's, for help.
    HABITS = HABITS
    #: Tagged processes by key (pid, starttime): F9 signals them.
    tagged: set[tuple[int, int]]
    search_text: str = ""

    def _me(self) -> Any:
        return self

    # -- what the screen provides --------------------------------------------
    def host_paths(self) -> HostPaths | None:
        """The live host's paths (None for a captured tree: no signals, files or environment there)."""
        raise NotImplementedError

    def table_width(self) -> int:
        return self._me().query_one(ProcessTable).line_width

    # -- tags ------------------------------------------------------------------
    def row_marks(self, marks: dict[int, str]) -> dict[int, str]:
        """The marks after the names, the tag's first."""
        me = self._me()
        if not getattr(self, "tagged", None) or me.snapshot is None:
            return marks
        out = dict(marks)
        for proc in me.snapshot.processes:
            if proc.key in self.tagged:
                out[proc.pid] = TAG + (" " + marks[proc.pid] if proc.pid in marks else "")
        return out

    def tagged_processes(self) -> list[ProcessMemory]:
        me = self._me()
        if not getattr(self, "tagged", None) or me.snapshot is None:
            return []
        return [p for p in me.snapshot.processes if p.key in self.tagged]

    def action_tag(self) -> None:
        me = self._me()
        if not hasattr(self, "tagged"):
            self.tagged = set()
        proc = me.selected
        if proc is not None and me.exited is None:
            self.tagged.symmetric_difference_update({proc.key})
            me.refresh_view()
        me.query_one(ProcessTable).action_move(1)  # as htop: the next one is a space away

    def action_untag(self) -> None:
        if getattr(self, "tagged", None):
            self.tagged.clear()
            self._me().refresh_view()

    def action_signal(self) -> None:
        me = self._me()
        paths = self.host_paths()
        targets = self.tagged_processes()
        if not targets and me.selected is not None and me.exited is None:
            targets = [me.selected]
        if not targets:
            me.notify("select a running process first (or tag some with space)", severity="warning")
        elif paths is None:
            me.notify("a captured tree (--root) has no processes to signal", severity="warning")
        else:
            def sent(results: object) -> None:
                if results is not None and getattr(self, "tagged", None):
                    self.tagged.clear()
                    me.refresh_view()

            me.app.push_screen(SignalListScreen(targets, paths), sent)

    # -- sort ------------------------------------------------------------------
    def view_changed(self) -> None:
        """The view changed: the header marks the sort; the app remembers sort and order."""
        me = self._me()
        view = me.view
        me.query_one(ProcessTable).mark_sort(view.sort, (view.sort in DESCENDING) != view.reverse)

    def remember(self, **values: object) -> None:
        """A setting the user changed: the app writes it to the config file."""
        self._me().app.post_message(SettingsChanged(values))

    def action_sort_step(self, step: int) -> None:
        me = self._me()
        shown = [c.key for c, _ in me.query_one(ProcessTable).columns(self.table_width())]
        index = shown.index(me.view.sort) + step if me.view.sort in shown else 0
        me.action_sort_by(shown[max(0, min(index, len(shown) - 1))])

    # Handlers by name, not @on: Textual collects @on only from a DOMNode's own class body.
    def on_virtual_table_header_clicked(self, event: ProcessTable.HeaderClicked) -> None:
        me = self._me()
        if event.column == me.view.sort:
            me.action_invert()
        else:
            me.action_sort_by(event.column)

    # -- columns -----------------------------------------------------------------
    def action_setup(self) -> None:
        me = self._me()
        table = me.query_one(ProcessTable)

        def chosen(columns: tuple[str, ...] | None) -> None:
            if columns:
                table.choose(columns)
                self.remember(columns=columns)
                me.refresh_view()

        me.app.push_screen(SetupScreen(table.chosen, list(table.rows[:200]), self.table_width()), chosen)

    # -- search (F3): jump, keep every row ----------------------------------------
    def action_search(self) -> None:
        me = self._me()
        box = me.query_one(self.SEARCH, Input)
        if box.display and box.value:
            self._jump(box.value, after=True)
            return
        if not box.display and self.search_text:
            if self._jump(self.search_text, after=True):
                return
        box.value = self.search_text
        box.display = True
        box.focus()

    def _jump(self, needle: str, after: bool) -> bool:
        me = self._me()
        table = me.query_one(ProcessTable)
        rows = table.rows
        if not needle or not rows:
            return False
        start = table.cursor + (1 if after else 0)
        for offset in range(len(rows)):
            index = (start + offset) % len(rows)
            if row_matches(rows[index], needle):
                table.select_index(index)
                me._update_selected(table.selected)
                return True
        me.notify(f"no process matches {needle!r}", severity="warning", timeout=3)
        return False

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id == "search":
            self.search_text = event.value
            self._jump(event.value, after=False)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "search":
            self._jump(event.value, after=True)

    def close_search(self) -> bool:
        """Esc: the search box closes (the selection stays where it jumped). False when it was not open."""
        me = self._me()
        box = me.query_one(self.SEARCH, Input)
        if not box.display:
            return False
        box.display = False
        me.query_one(ProcessTable).focus()
        return True

    def search_open(self) -> bool:
        return bool(self._me().query_one(self.SEARCH, Input).display)

    # -- users, kernel threads -------------------------------------------------
    def action_user(self) -> None:
        me = self._me()

        def chosen(user: str | None) -> None:
            if user is not None:
                me._set_view(user=user)

        me.app.push_screen(UserScreen(me.snapshot.processes if me.snapshot else (), me.view.user), chosen)

    def action_kernel_threads(self) -> None:
        me = self._me()
        on_now = not getattr(self, "kernel_threads", False)
        self.kernel_threads = on_now
        self.remember(kernel_threads=on_now)
        me.notify("kernel threads listed from the next refresh (sizes n/a: they own no user memory)" if on_now
                  else "kernel threads hidden from the next refresh")

    # -- one process's files -------------------------------------------------
    def _selected_running(self) -> bool:
        me = self._me()
        return me.selected is not None and me.exited is None

    def action_open_files(self) -> None:
        open_listing(self._me(), "files", self._me().selected, self._selected_running(), self.host_paths())

    def action_environment(self) -> None:
        open_listing(self._me(), "environ", self._me().selected, self._selected_running(), self.host_paths())

    # -- the rest: what memtop does instead ----------------------------------------
    def action_habit(self, key: str) -> None:
        self._me().notify(NOTES[key], timeout=5)

    def action_redraw(self) -> None:
        self._me().app.refresh(repaint=True, layout=True)


def chosen_columns(columns: tuple[str, ...] | None) -> tuple[str, ...]:
    """The columns to show: the settings', else the defaults (unknown keys dropped)."""
    kept = tuple(k for k in columns or () if k in BY_KEY)
    return kept or DEFAULT_COLUMNS
