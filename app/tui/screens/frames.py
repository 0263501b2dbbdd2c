"""The two frames memtop's small screens share: a box of text to read, and a question to answer.

A ``TextScreen`` is the help of a screen (?), the THP counters explained (T)
and a mapping's smaps fields (Enter): text in a scrolling box, closed with
Esc. A ``ConfirmScreen`` asks before memtop does something to a process or
leaves one behind: signal it (F9), pause it for a gdb sample (H), reset its
reference bits to measure its working set (w), quit while the program
`memtop run` started still runs. Each screen keeps its own words, buttons and
default; the frame holds what they share: the centred box, the question,
the buttons, the focus on the default, Esc as the way out. Sizes and colours
are in memtop.tcss, by the box's id.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar, TypeVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Static
from textual.widgets.button import ButtonVariant

from memtop.collectors.models import ProcessMemory
from memtop.views.format import escape

ResultT = TypeVar("ResultT")

#: A question shows this much of a command line (a Java one runs to kilobytes).
COMMAND_SHOWN = 200


def named(proc: ProcessMemory) -> str:
    """Who a question is about: its name, pid and user."""
    return f"{escape(proc.name)} (pid {proc.pid}, user {proc.user})"


def command_line(argv: Sequence[str]) -> str:
    """A command line as a question shows it: control characters escaped, cut at COMMAND_SHOWN."""
    return escape(" ".join(argv))[:COMMAND_SHOWN]


class TextScreen(ModalScreen[None]):
    """Text in a scrolling box; the keys close it (the screen's BINDINGS)."""

    #: The box's id (its size and border in memtop.tcss).
    BOX: ClassVar[str]

    def body(self) -> Text:
        """What the box says."""
        raise NotImplementedError

    def compose(self) -> ComposeResult:
        with VerticalScroll(id=self.BOX):
            yield Static(self.body())


class ConfirmScreen(ModalScreen[ResultT]):
    """A question and its buttons; the default has the focus (Enter presses it), Esc answers None.

    A subclass says ``question()``, lists ``BUTTONS`` (none where keys answer,
    as in the working-set box) and turns the button pressed into its result
    in ``answer``.
    """

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    #: The box's id (its size and border in memtop.tcss).
    BOX: ClassVar[str] = "signal-box"
    #: The question's id (tests and the screen's own updates find it by it).
    TEXT: ClassVar[str | None] = None
    #: (label, id, variant) of each button, left to right.
    BUTTONS: ClassVar[tuple[tuple[str, str, ButtonVariant], ...]] = ()
    #: The id of the button that has the focus: what Enter does.
    DEFAULT: ClassVar[str | None] = None

    def question(self) -> str | Text:
        """The question, with what it would do (plain text: no markup is read in it)."""
        raise NotImplementedError

    def answer(self, button: str | None) -> None:
        """Dismiss with the result of the button pressed (None: Esc)."""
        raise NotImplementedError

    def compose(self) -> ComposeResult:
        with Vertical(id=self.BOX):
            yield Static(self.question(), id=self.TEXT, markup=False)
            if self.BUTTONS:
                with Horizontal(id="signal-buttons"):
                    for label, ident, variant in self.BUTTONS:
                        yield Button(label, id=ident, variant=variant)

    def on_mount(self) -> None:
        if self.DEFAULT is not None:
            self.query_one(f"#{self.DEFAULT}", Button).focus()

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.answer(event.button.id)

    def action_cancel(self) -> None:
        self.answer(None)
