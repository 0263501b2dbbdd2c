"""Key ``d``: every diagnosis with the numbers behind it; Enter jumps to the pane that shows them.

Updated at each refresh while open (it watches the app's model updates); the
highlighted finding stays highlighted by its id and target.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from memtop.views.format import escape, human

from memtop.rules.diagnoses import MARKS, THRESHOLDS, Diagnosis
from memtop.tui.messages import ModelUpdate

#: Numbers that are sizes in bytes (shown in KiB/MiB/GiB, exact in the JSON).
SIZES = frozenset({"available", "total", "free", "current", "limit", "gap", "rss", "working_set", "can_have",
                   "swap_in_bytes_per_s"})


#: From this many lines on, the thresholds are listed under the findings.
TALL = 36


def numbers_text(d: Diagnosis) -> str:
    parts = []
    for name, value in d.numbers:
        if value is None:
            continue
        shown = human(value) if name in SIZES and isinstance(value, int) else str(value)
        parts.append(f"{name} {shown}")
    return "  ".join(parts)


def option_text(d: Diagnosis) -> Text:
    text = Text()
    text.append(f"{MARKS[d.severity]} {d.severity.upper():<8} ", style="bold")
    text.append(escape(d.text))
    text.append(f"\n           {escape(numbers_text(d))}", style="dim")
    text.append(f"   → {d.key}", style="bold")
    return text


def option_id(d: Diagnosis) -> str:
    return f"{d.id}:{d.target}"


class DiagnosesScreen(ModalScreen[Diagnosis | None]):
    """The findings, most severe first, and the thresholds behind them."""

    BINDINGS = [
        Binding("escape,d,q", "close", "Close", tooltip="Back to the dashboard"),
    ]

    def __init__(self, found: Sequence[Diagnosis]) -> None:
        super().__init__()
        self.found = tuple(found)

    def compose(self) -> ComposeResult:
        with Vertical(id="diagnoses-box"):
            yield Static(Text.assemble(("Diagnoses", "bold"), "  what matters now (the guide's decision "
                                       "framework) · Enter: jump to the numbers · Esc: close"),
                         id="diagnoses-title")
            yield OptionList(id="diagnoses")
            yield Static(Text(THRESHOLDS, style="dim"), id="diagnoses-thresholds")

    def on_mount(self) -> None:
        self.show(self.found)
        self.query_one(OptionList).focus()
        self._fit()
        self.watch(self.app, "update", self._model_changed, init=False)

    def _model_changed(self, update: ModelUpdate | None) -> None:
        if update is not None and update.ingested is not None and self.app.screen is self:
            self.show(update.ingested.diagnoses)

    def on_resize(self) -> None:
        self._fit()

    def _fit(self) -> None:
        # Short terminals keep the room for the findings; the help (?) lists the thresholds too.
        self.query_one("#diagnoses-thresholds").display = self.size.height >= TALL

    def show(self, found: Sequence[Diagnosis]) -> None:
        options = self.query_one(OptionList)
        current = options.highlighted_option.id if options.highlighted_option is not None else None
        self.found = tuple(found)
        options.clear_options()
        items: list[Option | None] = []
        for d in self.found:
            items.extend([Option(option_text(d), id=option_id(d)), None])  # None: a separator line
        options.add_options(items[:-1])
        ids = [option_id(d) for d in self.found]
        if ids:
            options.highlighted = ids.index(current) if current in ids else 0

    @on(OptionList.OptionSelected)
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        chosen = next((d for d in self.found if option_id(d) == event.option.id), None)
        self.dismiss(chosen)

    def action_close(self) -> None:
        self.dismiss(None)

