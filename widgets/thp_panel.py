"""The kernel's huge-page machinery as live rates: THP policy, counters, compaction stalls.

The model turns /proc/vmstat and hugepages-*kB/stats into a ThpView (rates,
window totals, sparklines); this widget only lays it out. A compaction stall
turns the panel's border to the error colour *and* puts a marker line with
the stall count on top, so it reads without colour too (NO_COLOR).
"""

from __future__ import annotations

from rich.text import Text

from memtop.collectors.models import ThpState

from memtop.views.format import events, human, sparkline
from memtop.views.thp import STALL_MARK, CounterLine, ThpView
from memtop.widgets.text_lines import TextLines


def _khugepaged(state: ThpState) -> str:
    values = dict(state.khugepaged or ())
    collapsed, scans = values.get("pages_collapsed"), values.get("full_scans")
    if collapsed is None and scans is None:
        return ""
    return f"khugepaged collapsed {collapsed if collapsed is not None else '-'} · full scans {scans if scans is not None else '-'}"


def _sizes(state: ThpState) -> str:
    """Per-size policies that differ from never, e.g. '2048kB inherit · 64kB always'."""
    words = [f"{size} {s.enabled}" for size, s in state.sizes or () if s.enabled and s.enabled != "never"]
    return ("mTHP " + " · ".join(words)) if words else ("mTHP sizes all never" if state.sizes else "")


class ThpPanel(TextLines):
    """THP and compaction: the full table where there is room, one or two lines otherwise."""

    DEFAULT_CSS = """
    ThpPanel { height: auto; padding: 0 1; }
    ThpPanel.-stalling.-full { border: heavy $error; }
    ThpPanel > .thp-panel--alert { color: $error; text-style: bold reverse; }
    ThpPanel > .thp-panel--muted { color: $text-muted; }
    ThpPanel > .thp-panel--moving { color: $warning; }
    ThpPanel > .thp-panel--head { text-style: bold; }
    """
    COMPONENT_CLASSES = {"thp-panel--alert", "thp-panel--muted", "thp-panel--moving", "thp-panel--head"}

    view: ThpView | None = None
    compact = False  # set by the screen from the layout
    _styles: dict[str, object] | None = None  # the styles of the drawing under way

    def show(self, view: ThpView | None, compact: bool) -> None:
        if view == self.view and compact == self.compact:
            return  # nothing moved: no repaint (most refreshes on a quiet host)
        self.view, self.compact = view, compact
        self.set_class(bool(view and view.stalls), "-stalling")
        self.set_class(not compact, "-full")
        self.set_lines(self._lines())

    def on_resize(self) -> None:
        self.set_lines(self._lines())

    def _style(self, name: str):  # noqa: ANN202 - a rich Style
        # Looked up once per drawing, not once per counter line: Textual's lookup
        # was a third of the panel's cost (bench/refresh.py); the theme cannot
        # change in the middle of one drawing.
        styles = self._styles
        if styles is None:
            return self.get_component_rich_style(f"thp-panel--{name}")
        style = styles.get(name)
        if style is None:
            style = styles[name] = self.get_component_rich_style(f"thp-panel--{name}")
        return style

    def _alert(self, view: ThpView) -> Text:
        now = " · stalling now" if view.stalling else ""
        return Text(f"{STALL_MARK} COMPACTION STALLS: {view.stalls} in the last {view.window:.0f} s{now}", style=self._style("alert"))

    def _lines(self) -> list[Text]:
        self._styles = {}
        try:
            return self._draw()
        finally:
            self._styles = None

    def _draw(self) -> list[Text]:
        view = self.view
        if view is None:
            return [Text("THP: waiting for two snapshots", style=self._style("muted"))]
        if view.state is None and not any(c.present for c in view.counters):
            muted = self._style("muted")
            if self.compact:
                return [Text("THP: not available here (no /sys/kernel/mm/transparent_hugepage)", style=muted)]
            return [Text("THP: not available here", style=muted),
                    Text("no /sys/kernel/mm/transparent_hugepage: compiled out,", style=muted),
                    Text("or sysfs not mounted in this container", style=muted)]
        return [self._compact(view)] if self.compact else self._full(view)

    def _policy(self, state: ThpState | None) -> Text:
        if state is None:
            return Text("THP policy: no sysfs (counters from vmstat only)", style=self._style("muted"))
        return Text.assemble(
            ("THP ", "bold"), f"enabled {state.enabled or '-'} · defrag {state.defrag or '-'} · "
            f"shmem {state.shmem_enabled or '-'}",
        )

    def _compact(self, view: ThpView) -> Text:
        """One line: a stall alert first when there is one, then as many rates as fit."""
        named = {c.name: c for c in view.counters}

        def part(label: str, name: str) -> str:
            line = named.get(name)
            return f"{label} {events(line.rate if line else None)}/s"

        state = view.state
        ratio = "-" if view.fallback_ratio is None else f"{view.fallback_ratio:.0%}"
        parts = (
            f"THP {state.enabled or '-'}/{state.defrag or '-'}" if state else "THP (vmstat)",
            part("fault", "thp_fault_alloc"), f"{part('fallback', 'thp_fault_fallback')} ({ratio})",
            part("collapse", "thp_collapse_alloc"), part("split", "thp_split_page"), f"huge anon {human(view.anon_huge)}",
        )
        width = max(self.size.width - 2, 20)
        line = Text()
        if view.stalls:
            line.append(f"{STALL_MARK} {view.stalls} COMPACTION STALLS/{view.window:.0f}s", style=self._style("alert"))
            line.append("  ")
        for index, more in enumerate(parts):  # as many as fit, most telling first
            if index == 0 or line.cell_len + len(more) <= width:
                line.append(more + "  ")
        line.rstrip()
        return line

    def _full(self, view: ThpView) -> list[Text]:
        width = max(self.size.width, 40)
        lines: list[Text] = []
        if view.stalls:
            lines.append(self._alert(view))
            lines.append(Text("tasks were blocked in direct compaction (see defrag)", style=self._style("muted")))
        lines.append(self._policy(view.state))
        if view.state is not None:
            extra = "   ".join(t for t in (_khugepaged(view.state), _sizes(view.state)) if t)
            if extra:
                lines.append(Text(extra, style=self._style("muted")))
        lines.append(Text(
            f"huge pages now: anon {human(view.anon_huge)} · shmem {human(view.shmem_huge)} · file {human(view.file_huge)}"
        ))
        name_width = max((len(c.name) for c in (*view.counters, *view.sizes)), default=20)
        name_width = min(name_width, max(width - 30, 16))
        spark_width = max(width - name_width - 18, 0)
        head = Text(f"{'counter':<{name_width}} {'/s':>7} {f'{view.window:.0f}s':>7}  ", style=self._style("head"))
        if spark_width:
            head.append(f"last {view.window:.0f} s"[:spark_width])
        lines.append(head)
        if not view.has_vmstat:
            lines.append(Text("no /proc/vmstat: no counters", style=self._style("muted")))
        for counter in (*view.counters, *view.sizes):
            lines.append(self._counter(counter, name_width, spark_width))
        if view.fallback_ratio is None:
            ratio = "no THP faults in the window"
        else:
            ratio = f"{view.fallback_ratio:.1%} fell back to small pages"
        lines.append(Text(f"fallback ratio ({view.window:.0f} s): {ratio}"))
        if not view.covered:
            lines.append(Text("rates from the second snapshot on", style=self._style("muted")))
        elif view.covered < view.window:
            lines.append(Text(f"window: {view.covered:.0f} of {view.window:.0f} s so far", style=self._style("muted")))
        return lines

    def _counter(self, counter: CounterLine, name_width: int, spark_width: int) -> Text:
        name = counter.name if len(counter.name) <= name_width else counter.name[: name_width - 1] + "…"
        if not counter.present:
            return Text(f"{name:<{name_width}} {'-':>7} {'-':>7}  not in this kernel", style=self._style("muted"))
        moving = bool(counter.window)
        text = Text(f"{name:<{name_width}} {events(counter.rate):>7} {counter.window:>7}  ",
                    style=self._style("moving") if moving else self._style("muted"))
        if spark_width:
            text.append(sparkline(counter.spark, spark_width))
        return text
