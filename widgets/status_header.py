"""One-line bars: the header (host, refresh, paused, memtop's own cost) and the totals line."""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

from memtop.views.format import human


@dataclass(frozen=True, slots=True)
class HeaderInfo:
    """What the header shows; the main screen fills it (widgets read no clock and no /proc)."""

    hostname: str = ""
    kernel: str = ""
    interval: float | None = None
    paused: bool = False
    own_cpu: float | None = None
    own_rss: int | None = None
    processes: int = 0
    hidden: int | None = None
    frozen: bool = False  # a captured tree (--root): nothing moves
    error: str | None = None
    run: str | None = None  # the program `memtop run` started: running or how it ended
    replay: str | None = None  # memtop --replay: the time cursor (the moment shown, its place in the recording)


class StatusHeader(Widget):
    DEFAULT_CSS = """
    StatusHeader { height: 1; background: $panel; padding: 0 1; }
    StatusHeader > .status-header--alert { color: $error; text-style: bold reverse; }
    """
    COMPONENT_CLASSES = {"status-header--alert"}

    info: reactive[HeaderInfo] = reactive(HeaderInfo)

    def show(self, info: HeaderInfo) -> None:
        """New figures; a repaint only when the line as drawn changes.

        memtop's own CPU and RSS differ every refresh at full precision but seldom at the
        precision shown (0.1 %, 0.1 MiB): a header that would draw the same text is not
        repainted (issue 17), its figures are kept all the same.
        """
        if info == self.info:
            return
        if self._line(info) == self._line(self.info):
            self.set_reactive(StatusHeader.info, info)
        else:
            self.info = info

    def render(self) -> Text:
        line = self._line(self.info)
        if line.cell_len > self.size.width:
            # The kernel release goes first: at 80 columns the line ended in "RSS" without
            # its figure (a new user's report at 80x24), and a collector error was cut sooner.
            line = self._line(self.info, kernel=False)
        return line

    def _line(self, info: HeaderInfo, kernel: bool = True) -> Text:
        line = Text.assemble(("memtop", "bold"), f"  {info.hostname}  " + (f"{info.kernel}  " if kernel else ""))
        if info.replay:
            line.append(f" {info.replay} ", style="bold reverse")
            line.append("  ")
        elif info.frozen:
            line.append("captured tree (frozen)  ")
        elif info.interval is not None:
            line.append(f"every {info.interval:g}s  ")
        if info.paused:
            line.append(" PAUSED ", style=self.get_component_rich_style("status-header--alert"))
            line.append("  ")
        line.append(f"{info.processes} processes  ")
        if info.hidden:
            line.append(f"{info.hidden} hidden by /proc  ", style=self.get_component_rich_style("status-header--alert"))
        if info.own_cpu is not None:
            line.append(f"memtop: CPU {info.own_cpu:.1f}%  RSS {human(info.own_rss)}")
        if info.run:
            line.append(f"  {info.run}", style="bold")
        if info.error:
            line.append(f"  collector: {info.error}", style=self.get_component_rich_style("status-header--alert"))
        return line


class TotalsLine(Widget):
    """Sums over the processes that match the filter.

    A reactive repaint, not Static.update(): that re-lays out the screen
    every refresh, which was most of memtop's idle cost (bench/live.py).
    """

    DEFAULT_CSS = """
    TotalsLine { height: 1; background: $panel; padding: 0 1; }
    """

    text: reactive[Text] = reactive(Text)

    def render(self) -> Text:
        return whole_phrases(self.text, self.size.width)


def whole_phrases(text: Text, width: int, separator: str = "   ") -> Text:
    """The line cut after the last phrase that fits whole (phrases are separated by three spaces):
    never a half phrase such as a figure without its unit (issue 18)."""
    if text.cell_len <= width or width <= 0:
        return text
    plain = text.plain
    end = plain.rfind(separator, 0, width + 1)
    while end > 0 and len(plain[:end].rstrip()) > width:
        end = plain.rfind(separator, 0, end)
    if end <= 0:
        cut = text.copy()
        cut.truncate(width, overflow="ellipsis")
        return cut
    return text[:end]
