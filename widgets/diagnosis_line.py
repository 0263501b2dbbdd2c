"""The main screen's diagnosis line: the worst finding, marked, and the key to all of them.

The app decides what it says (app/rules/diagnoses.py); a severity also sets the
line's style class, but the marker glyph (‼ ! i ✓) says it without colour.
"""

from __future__ import annotations

from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

SEVERITY_CLASSES = ("-critical", "-warning", "-info", "-ok")


class DiagnosisLine(Widget):
    DEFAULT_CSS = """
    DiagnosisLine { height: 1; padding: 0 1; background: $panel; }
    DiagnosisLine.-critical { background: $error-muted; text-style: bold; }
    DiagnosisLine.-warning { background: $warning-muted; }
    """

    text: reactive[str] = reactive("")
    hint: reactive[str] = reactive("diagnoses")

    def show(self, severity: str, text: str, hint: str = "diagnoses") -> None:
        for name in SEVERITY_CLASSES:
            self.set_class(name == f"-{severity}", name)
        self.text = text
        self.hint = hint

    def render(self) -> Text:
        hint = f"  [d: {self.hint}]"
        width = max(self.size.width - 2, 0)
        body = self.text
        if len(body) + len(hint) > width:
            body = body[: max(width - len(hint) - 1, 0)] + "…"
        return Text(body + hint, no_wrap=True, overflow="ellipsis")
