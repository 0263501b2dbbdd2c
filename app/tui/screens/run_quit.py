"""Quitting while the program `memtop run` started is still running: stop it, or leave it?"""

from __future__ import annotations

from textual.binding import Binding

from memtop.instrument.run import RunChild
from memtop.tui.screens.frames import ConfirmScreen, command_line


class QuitRunScreen(ConfirmScreen[str | None]):
    """Answers "stop" (SIGTERM, the default), "leave" or None (stay)."""

    BINDINGS = [Binding("escape", "cancel", "Stay")]
    BUTTONS = (("Stop it (SIGTERM)", "stop", "warning"), ("Leave it running", "leave", "default"),
               ("Stay", "stay", "default"))
    DEFAULT = "stop"

    def __init__(self, child: RunChild) -> None:
        super().__init__()
        self.child = child

    def question(self) -> str:
        return (f"{command_line(self.child.argv)} (pid {self.child.pid}) is still running.\n"
                f"Its output goes on to {self.child.log}.")

    def answer(self, button: str | None) -> None:
        self.dismiss({"stop": "stop", "leave": "leave"}.get(button or ""))
