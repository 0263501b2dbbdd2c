"""``u``: show one user's processes (htop's user filter), chosen from those running, with their memory."""

from __future__ import annotations

from collections.abc import Sequence

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from memtop.collectors.models import ProcessMemory
from memtop.views.format import escape, human

ALL = "\0all"


def users(processes: Sequence[ProcessMemory]) -> list[tuple[str, int, int]]:
    """(user, processes, PSS) of each user running something, most memory first."""
    found: dict[str, list[int]] = {}
    for p in processes:
        name = p.user or (str(p.uid) if p.uid is not None else "?")
        entry = found.setdefault(name, [0, 0])
        entry[0] += 1
        entry[1] += p.pss or 0
    return sorted(((u, n, pss) for u, (n, pss) in found.items()), key=lambda t: (-t[2], t[0]))


class UserScreen(ModalScreen[str | None]):
    """Enter keeps one user's processes; "all users" clears it; Esc changes nothing."""

    BINDINGS = [Binding("escape,u", "cancel", "Cancel")]

    def __init__(self, processes: Sequence[ProcessMemory], current: str) -> None:
        super().__init__()
        self.rows = users(processes)
        self.current = current

    def compose(self) -> ComposeResult:
        options = [Option("all users", id=ALL)]
        options += [Option(f"{escape(u):<16} {n:>5} processes  PSS {human(pss)}", id=u) for u, n, pss in self.rows]
        with Vertical(id="user-box"):
            yield Static("Show the processes of (Enter chooses, Esc cancels)")
            yield OptionList(*options, id="users")

    def on_mount(self) -> None:
        choice = self.query_one(OptionList)
        index = next((i + 1 for i, (u, _, _) in enumerate(self.rows) if u == self.current), 0)
        choice.highlighted = index
        choice.focus()

    @on(OptionList.OptionSelected)
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        self.dismiss("" if event.option.id == ALL else event.option.id)

    def action_cancel(self) -> None:
        self.dismiss(None)
