"""What a terminal would show of a headless Textual app: every update the compositor sends, applied to a grid.

A widget that skips a repaint (a line not marked dirty) leaves the old text on
a real terminal; ``export_screenshot`` would hide that, since it renders every
widget afresh. This applies the very updates ``App._display`` is given (full
and partial) to a grid of cells, so a test reads the screen as a person would.
"""

from __future__ import annotations

from typing import Any

from rich.cells import cell_len
from rich.segment import ControlType
from textual._compositor import CompositorUpdate


class Terminal:
    """A grid of cells fed by the app's compositor updates (install with ``attach``)."""

    def __init__(self, width: int, height: int) -> None:
        self.width, self.height = width, height
        self.cells = [[" "] * width for _ in range(height)]
        self.updates = 0

    @classmethod
    def attach(cls, app: Any) -> Terminal:
        terminal = cls(*app.size)
        display = app._display

        def shown(screen: Any, renderable: Any) -> None:
            if isinstance(renderable, CompositorUpdate):
                terminal.apply(app, renderable)
            display(screen, renderable)

        app._display = shown
        return terminal

    def apply(self, app: Any, update: CompositorUpdate) -> None:
        self.updates += 1
        if tuple(app.size) != (self.width, self.height):  # resized: Textual repaints it all
            self.width, self.height = app.size
            self.cells = [[" "] * self.width for _ in range(self.height)]
        console = app.console
        x = y = 0
        for segment in console.render(update, console.options):
            if segment.control:
                for control in segment.control:
                    if control[0] == ControlType.CURSOR_MOVE_TO:
                        x, y = int(control[1]), int(control[2])
                continue
            for char in segment.text:
                if char == "\n":
                    x, y = 0, y + 1
                    continue
                if 0 <= y < self.height and 0 <= x < self.width:
                    self.cells[y][x] = char
                x += max(cell_len(char), 1)

    def line(self, y: int) -> str:
        return "".join(self.cells[y])

    @property
    def text(self) -> str:
        return "\n".join(self.line(y) for y in range(self.height))
