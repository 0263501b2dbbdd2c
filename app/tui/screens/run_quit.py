"""Quitting while the program `memtop run` started is still running: stop it, or leave it?"""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Static

from memtop.views.format import escape

from memtop.instrument.run import RunChild


class QuitRunScreen(ModalScreen[str | None]):
    """Answers "stop" (SIGTERM, the default), "leave" or None (stay)."""

    BINDINGS = [Binding("escape", "cancel", "Stay")]

    def __init__(self, child: RunChild) -> None:
        super().__init__()
        self.child = child

    def compose(self) -> ComposeResult:
        with Vertical(id="signal-box"):
            yield Static(
                f"{escape(' '.join(self.child.argv))[:200]} (pid {self.child.pid}) is still running.\n"
                f"Its output goes on to {self.child.log}.",
                markup=False,
            )
            with Horizontal(id="signal-buttons"):
                yield Button("Stop it (SIGTERM)", id="stop", variant="warning")
                yield Button("Leave it running", id="leave")
                yield Button("Stay", id="stay")

    def on_mount(self) -> None:
        self.query_one("#stop", Button).focus()

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.dismiss({"stop": "stop", "leave": "leave"}.get(event.button.id or ""))

    def action_cancel(self) -> None:
        self.dismiss(None)
