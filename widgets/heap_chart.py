"""The selected process's memory over time: RSS, RssAnon and, where a source exists, heap in use.

The allocator's view (heap in use) under the kernel's (RSS): a gap that
grows while the heap does not is memory freed but never returned. Drawn
with plotext where there is room, as two sparklines (heap above, RSS below)
otherwise. A plotext build costs ~10 ms, so the chart is rebuilt only when
its samples change or time has moved it by a column, never on a plain
refresh of the screen.

Each chart draws on a plotext figure of its own, not on plotext's module-level
one (``plotext.plot`` ...), which every user of plotext in the process shares:
two charts, or a chart and a test, would draw into each other's plot.
plotext 5.3 exports no figure class, so it is the one its functions wrap
(``plotext._figure._figure_class``; textual-plotext uses it the same way);
pyproject pins plotext below 6.
"""

from __future__ import annotations

import math

from plotext._figure import _figure_class as Figure
from rich.text import Text
from textual.color import Color

from memtop.views.format import age, compact, human, sparkline
from memtop.views.heap_series import HeapSeries, column_extremes, resample, steps, thin
from memtop.widgets.text_lines import TextLines

#: Below this size the two-line sparkline form is drawn.
PLOT_MIN_HEIGHT = 9
PLOT_MIN_WIDTH = 40

#: Each series, its theme colour and its marker: the marker tells them apart without colour.
SERIES = (("RSS", "primary", "hd"), ("RssAnon", "warning", "braille"), ("heap", "success", "•"))
#: A one-off sample (gdb): its own glyph, so it never reads as part of a line.
POINT = ("heap (gdb)", "success", "◆")


def _unit(peak: float) -> tuple[str, float]:
    for name, size in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if peak >= size:
            return name, float(size)
    return "B", 1.0


def _axis_top(value: float) -> float:
    """``value`` rounded up to two significant figures (54.61 -> 55, 0.123 -> 0.13, 0 -> 0)."""
    if value <= 0:
        return 0.0
    step = 10.0 ** (math.floor(math.log10(value)) - 1)
    return math.ceil(value / step - 1e-9) * step


def _column_end(now: float, step: float) -> int:
    """The number of the column boundary at or after ``now`` (a float a hair above one is on it)."""
    return math.ceil(now / step - 1e-6)


class HeapChart(TextLines):
    """Heap in use against RSS and RssAnon for one process."""

    DEFAULT_CSS = """
    HeapChart { height: 1fr; min-height: 2; padding: 0 1; }
    HeapChart > .heap-chart--muted { color: $text-muted; }
    HeapChart > .heap-chart--head { text-style: bold; }
    HeapChart > .heap-chart--alarm { color: $error; text-style: bold; }
    """
    COMPONENT_CLASSES = {"heap-chart--muted", "heap-chart--head", "heap-chart--alarm"}

    series: HeapSeries | None = None
    builds = 0  # plotext builds so far (the costly part; the benchmark reads it)
    _key: tuple[object, ...] = ()
    _plot_cache: tuple[tuple[object, ...], list[Text]] | None = None
    _figure: Figure | None = None  # this chart's own plotext figure, made at the first plot

    def show(self, series: HeapSeries | None) -> None:
        """New samples; redrawn only when the picture would change."""
        self.series = series
        key = self._picture_key()
        if key != self._key:
            self._key = key
            self.set_lines(self._draw())

    def on_resize(self) -> None:
        self._key = self._picture_key()
        self.set_lines(self._draw())

    def _picture_key(self) -> tuple[object, ...]:
        s = self.series
        if s is None:
            return (None, self.size)
        # Time moves the lines left by one dot column every window/columns seconds (``_columns``).
        columns = self._columns()
        return (s.label, s.times, s.rss, s.anon, s.heap, s.heap_note, s.exited, s.window, s.verdict, s.alarm, s.points,
                _column_end(s.now, s.window / columns), self.size)

    def _columns(self) -> int:
        """Dot columns of the plot (braille: two a cell); the sparkline form's cells are fewer."""
        return max(max(self.size.width - 2, 20) - 8, 1) * 2

    def _muted(self, text: str) -> Text:
        return Text(text, style=self.get_component_rich_style("heap-chart--muted"))

    def _note_lines(self, head: Text, note: str) -> list[Text]:
        """``head`` with the note after it where it fits, else the note's parts (" · ") on up to two more lines."""
        width = max(self.size.width - 2, 10)
        if head.cell_len + 2 + len(note) <= width:
            head.append_text(self._muted(f"  {note}"))
            return [head]
        lines: list[str] = []
        for part in note.split(" · "):
            if lines and len(lines[-1]) + 3 + len(part) <= width:
                lines[-1] += " · " + part
            else:
                lines.append(part)
        return [head, *(self._muted(line) for line in lines[:2])]

    def _figures(self, s: HeapSeries) -> list[Text]:
        """The latest RSS and RssAnon; heap in use and the gap, or why there is no heap."""
        rss = next((v for v in reversed(s.rss) if v is not None), None)
        anon = next((v for v in reversed(s.anon) if v is not None), None)
        heap = next((v for v in reversed(s.heap) if v is not None), None)
        kernel = Text.assemble(("RSS ", "bold"), human(rss), ("  RssAnon ", "bold"), human(anon))
        if heap is None and s.points:
            # One-off sample: the gap is against RSS now, the sample's age says how old the heap is.
            when, value = s.points[-1]
            sampled = Text.assemble((f"heap {POINT[2]} ", "bold"), human(value))
            if rss is not None:
                sampled.append_text(Text.assemble(("  gap RSS−heap ", "bold"), human(rss - value)))
            sampled.append_text(self._muted(f"  gdb, {age(s.now - when)} ago"))
            return [kernel, sampled]
        if heap is None:
            return [kernel, self._muted(s.heap_note)]
        allocator = Text.assemble(("heap ", "bold"), human(heap))
        if rss is not None:
            allocator.append_text(Text.assemble(("  gap RSS−heap ", "bold"), human(rss - heap)))
        return [kernel, *self._note_lines(allocator, s.heap_note)]

    def _draw(self) -> list[Text]:
        s = self.series
        if s is None:
            return [self._muted("heap vs RSS: select a process")]
        title = Text.assemble((s.label, "bold"), f"  last {s.window / 60:g} min", "  (exited)" if s.exited else "")
        heap_known = any(v is not None for v in s.heap)
        if self.size.height < PLOT_MIN_HEIGHT or self.size.width < PLOT_MIN_WIDTH:
            return self._sparklines(s, heap_known)
        plot, unit = self._plot(s, heap_known)
        title.append(f"  ({unit}, seconds ago)" if unit else "", style=self.get_component_rich_style("heap-chart--muted"))
        verdict = [self._verdict(s)] if s.verdict else []
        return [title, *self._figures(s), *verdict, *plot]

    def _verdict(self, s: HeapSeries) -> Text:
        style = self.get_component_rich_style("heap-chart--alarm") if s.alarm else self.get_component_rich_style("heap-chart--muted")
        return Text(s.verdict, style=style)

    def _sparklines(self, s: HeapSeries, heap_known: bool) -> list[Text]:
        """Heap above RSS on one scale (the RSS peak), each with its latest figure."""
        width = max(self.size.width - 2, 10)
        cells = max(width - 30, 4)
        rss = resample(s.times, s.rss, s.now, s.window, cells)
        top = max(rss, default=0.0) or None
        last = next((v for v in reversed(s.rss) if v is not None), None)
        anon = next((v for v in reversed(s.anon) if v is not None), None)
        heap_line = Text("heap ", style="bold")
        if heap_known:
            now_heap = next((v for v in reversed(s.heap) if v is not None), None)
            heap_line.append(sparkline(resample(s.times, s.heap, s.now, s.window, cells), cells, top))
            gap = "" if now_heap is None or last is None else f" gap {compact(last - now_heap)}"
            heap_line.append(f" {compact(now_heap)}{gap}")
            if s.alarm:  # the whole verdict is on the help line and in the wide chart
                heap_line.append(" ‼", style=self.get_component_rich_style("heap-chart--alarm"))
        elif s.points:
            when, value = s.points[-1]
            gap = "" if last is None else f" gap {compact(last - value)}"
            heap_line.append(f"{POINT[2]} {compact(value)}{gap}")
            heap_line.append_text(self._muted(f" gdb {age(s.now - when)} ago"))
        else:
            # The line is labelled already: "heap heap: not instrumented" at 80x24 read as a stutter.
            heap_line.append_text(self._muted(s.heap_note.removeprefix("heap: ")))
        rss_line = Text("RSS  ", style="bold")
        rss_line.append(sparkline(rss, cells, top))
        rss_line.append(f" {compact(last)} anon {compact(anon)}")
        room = width - max(heap_line.cell_len, rss_line.cell_len) - 2
        if room >= len(s.label):  # which process, where it fits
            (heap_line if heap_line.cell_len < rss_line.cell_len else rss_line).append(f"  {s.label}")
        return [heap_line, rss_line]

    def _plot(self, s: HeapSeries, heap_known: bool) -> tuple[list[Text], str]:
        width = max(self.size.width - 2, 20)
        height = max(self.size.height - 3, 4)
        lines = [(name, color, marker, values) for (name, color, marker), values in zip(SERIES, (s.rss, s.anon, s.heap))]
        if not heap_known:
            lines = lines[:2]
        columns = self._columns()
        # The time axis moves a whole dot column at a time (issue 17): its right end is the next
        # column boundary at or after now, so between two boundaries every sample already drawn
        # keeps its dots and the picture changes only when a new sample moves one. The latest
        # sample is always in the last column; the axis is late by less than one column
        # (window / columns: 3 s of 5 min on a 60-column pane), which no dot can show.
        step = s.window / columns
        end = _column_end(s.now, step) * step
        # The step lines, thinned (~0.6 ms a series) only when a picture is built: most
        # refreshes find the picture unchanged (issue 17). Thinning keeps each column's extremes,
        # so the peak is the same before and after it.
        drawn = [(name, color, marker, *steps(s.times, values, end, s.window)) for name, color, marker, values in lines]
        shown = [(t - end, float(v)) for t, v in s.points if end - s.window <= t <= s.now]
        peak = max([*(max(ys) for *_rest, ys in drawn if ys), *(v for _x, v in shown)], default=0.0)
        if peak <= 0:
            return [self._muted("no samples in the window yet")], ""
        unit, scale = _unit(peak)
        # The y axis tops at a round figure above the peak, so a process that grows a little each
        # refresh moves neither the axis nor any dot until it nears that figure (issue 17).
        top = _axis_top(peak * 1.05 / scale) * scale
        # What the plot would draw, at its own resolution (two dots a column,
        # four a row): a process whose RSS moves by a few KiB each second
        # changes no dot, so the costly build is skipped (memtop selecting
        # itself at rest rebuilt the chart every refresh: ~0.8 % of a CPU).
        # Each column by its lowest, highest and last value: a spike between
        # two column ends is drawn, so it must rebuild too.
        quantum = top / (height * 4) or 1.0
        picture = (width, height, s.window, unit, top, tuple(
            column_extremes(s.times, values, end, s.window, columns, quantum)
            for _name, _color, _marker, values in lines
        ), tuple((int((x + s.window) * columns / s.window), int(v / quantum)) for x, v in shown),
            self.app.theme)
        if self._plot_cache is not None and self._plot_cache[0] == picture:
            return self._plot_cache[1], unit
        theme = self.app.theme_variables
        figure = self._figure
        if figure is None:
            figure = self._figure = Figure()
        figure.clear_figure()
        figure.plot_size(width, height)
        figure.theme("clear")
        for name, color, marker, xs, ys in drawn:
            xs, ys = thin(xs, ys, s.window, columns)
            rgb = Color.parse(theme.get(color, "white")).rgb
            figure.plot(xs, [y / scale for y in ys], label=name, marker=marker, color=rgb)
        if shown:
            name, color, marker = POINT
            rgb = Color.parse(theme.get(color, "white")).rgb
            figure.scatter([x for x, _v in shown], [v / scale for _x, v in shown], label=name, marker=marker, color=rgb)
        figure.xlim(-s.window, 0)
        figure.ylim(0, top / scale)
        self.builds += 1
        plot = list(Text.from_ansi(figure.build()).split("\n"))
        self._plot_cache = (picture, plot)
        return plot, unit
