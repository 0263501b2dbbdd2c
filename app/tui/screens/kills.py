"""The OOM kills (O): the kernel's reports with what memtop knew of each victim (issue 15)."""

from __future__ import annotations

from rich.text import Text
from textual.binding import Binding

from memtop.tui.screens.frames import TextScreen


class KillsScreen(TextScreen):
    """The OOM kills of the recording, with what the recording knew of each victim."""

    BOX = "help"
    BINDINGS = [Binding("escape,q,O", "app.pop_screen", "Close")]

    def __init__(self, lines: list[str], source: str) -> None:
        super().__init__()
        self.lines = lines
        self.source = source

    def body(self) -> Text:
        text = Text(f"OOM kills ({self.source})\n\n", style="bold")
        text.append("\n\n".join(self.lines) if self.lines else "none")
        return text
