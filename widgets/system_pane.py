"""The machine at a glance: MemTotal as a stacked bar of its parts, available, swap, pressure.

Each part has a colour *and* a glyph, so the bar reads without colour too
(NO_COLOR). The order puts what the kernel can reclaim next to free memory,
so the *available* tick falls inside the cache it counts.
"""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.text import Text
from textual.geometry import Region, Size
from textual.strip import Strip
from textual.visual import Visual, visualize
from textual.widget import Widget

from memtop.collectors.models import ContainerLimit, Pressure, Reconciliation, SystemMemory

from memtop.explain.figures import AVAILABLE_MEANS
from memtop.views.format import human, percent

__all__ = ["AVAILABLE_MEANS", "PARTS", "SystemPane"]

#: Bar order, label, glyph. Reclaimable parts sit beside free on the right.
PARTS: tuple[tuple[str, str, str], ...] = (
    ("anon", "anon", "█"),
    ("shmem", "shmem", "▓"),
    ("hugetlb", "hugetlb", "▒"),
    ("kernel_stack", "kstack", "▚"),
    ("page_tables", "pagetbl", "▞"),
    ("percpu", "percpu", "▗"),
    ("zswap", "zswap", "▘"),
    ("other_kernel", "kernel", "▙"),
    ("slab_unreclaimable", "slab-u", "▜"),
    ("slab_reclaimable", "slab-r", "▛"),
    ("buffers", "buffers", "▟"),
    ("page_cache", "cache", "░"),
    ("free", "free", "·"),
)

#: Below this many terminal lines the pane keeps to four lines.
COMPACT_BELOW = 36



class SystemPane(Widget):
    """System memory: taxonomy bar with legend, available vs free, swap and PSI."""

    DEFAULT_CSS = """
    SystemPane { height: auto; padding: 0 1; }
    SystemPane > .system-pane--anon { color: $error; }
    SystemPane > .system-pane--shmem { color: $warning; }
    SystemPane > .system-pane--hugetlb { color: $warning-darken-2; }
    SystemPane > .system-pane--kernel_stack { color: $secondary; }
    SystemPane > .system-pane--page_tables { color: $secondary-lighten-1; }
    SystemPane > .system-pane--percpu { color: $secondary-darken-1; }
    SystemPane > .system-pane--zswap { color: $accent-darken-1; }
    SystemPane > .system-pane--other_kernel { color: $secondary-darken-2; }
    SystemPane > .system-pane--slab_unreclaimable { color: $accent; }
    SystemPane > .system-pane--slab_reclaimable { color: $success-darken-1; }
    SystemPane > .system-pane--buffers { color: $success-lighten-1; }
    SystemPane > .system-pane--page_cache { color: $success; }
    SystemPane > .system-pane--free { color: $text-muted; }
    SystemPane > .system-pane--tick { color: $text; text-style: bold; }
    SystemPane > .system-pane--alert { color: $error; text-style: bold; }
    SystemPane > .system-pane--muted { color: $text-muted; }
    """

    COMPONENT_CLASSES = {f"system-pane--{name}" for name, _l, _g in PARTS} | {
        "system-pane--tick", "system-pane--alert", "system-pane--muted",
    }

    # Set together by show(); repainted only when what is drawn would change.
    system: SystemMemory | None = None
    pressure: Pressure | None = None
    reconciliation: Reconciliation | None = None
    container: ContainerLimit | None = None
    _shown: tuple[object, ...] = ()

    def show(
        self, system: SystemMemory | None, pressure: Pressure | None, reconciliation: Reconciliation | None,
        container: ContainerLimit | None = None,
    ) -> None:
        """New figures; a repaint only when a number as displayed (0.1 MiB, 0.01 %) moved."""
        self.system, self.pressure, self.reconciliation = system, pressure, reconciliation
        self.container = container
        shown: tuple[object, ...] = (
            None if system is None else (
                tuple((p.name, human(p.bytes)) for p in system.taxonomy),
                human(system.available), human(system.free), human(system.swap_total), human(system.swap_free),
            ),
            None if pressure is None else (pressure.some, pressure.full),
            None if reconciliation is None else (human(reconciliation.pss_sum), human(reconciliation.difference),
                                                 human(reconciliation.anon_shmem_mapped), reconciliation.unreadable),
            None if container is None else (human(container.current), human(container.limit)),
        )
        if shown != self._shown:
            self._shown = shown
            self._draw()

    # -- drawing: each line kept as strips, repainted only when it changes ------------------
    # The pane redrew all its lines whenever one figure moved (free memory does, every
    # second), through a rich Group: a quarter of the compositor's time at rest (py-spy,
    # issue 17). Each line is now turned into strips on its own, by the same Textual path a
    # render() result takes (so it looks the same, cell for cell), and only the lines whose
    # text changed are repainted; a layout only when the number of lines changes.
    _lines_drawn: list[RenderableType] = []
    _strips: list[list[Strip]] = []
    _drawn_for: tuple[int, bool] = (-1, False)

    def _line_strips(self, line: RenderableType, width: int) -> list[Strip]:
        visual: Visual = visualize(self, Group(line))
        return Visual.to_strips(self, visual, width, None, self.visual_style)

    def _draw(self, force: bool = False) -> None:
        width = self.size.width
        if width <= 0:
            return
        lines = self._build(width)
        layout = (width, self.screen.size.height < COMPACT_BELOW)
        old = self._lines_drawn
        same = not force and layout == self._drawn_for and len(lines) == len(old)
        changed = [y for y, line in enumerate(lines) if not same or line != old[y]]
        if same and not changed:
            return
        strips = list(self._strips) if same else [[] for _ in lines]
        reshaped = not same
        # The changed lines in one call (each call has a fixed cost); one at a time if any
        # of them takes more or less than one line of the screen.
        drawn = self._line_strips(Group(*(lines[y] for y in changed)), width)
        if len(drawn) == len(changed):
            fresh = [[strip] for strip in drawn]
        else:
            fresh = [self._line_strips(lines[y], width) for y in changed]
        for y, new in zip(changed, fresh):
            reshaped = reshaped or len(new) != len(strips[y])
            strips[y] = new
        height = sum(len(s) for s in strips)
        resized = height != sum(len(s) for s in self._strips)
        self._lines_drawn, self._strips, self._drawn_for = list(lines), strips, layout
        self._flat = [strip for line in strips for strip in line]
        if reshaped:
            self.refresh(layout=resized)
        else:  # one strip a line: line y is row y
            for y in changed:
                self.refresh(Region(0, y, width, 1))

    _flat: list[Strip] = []

    def render_line(self, y: int) -> Strip:
        if y < len(self._flat):
            return self._flat[y]
        return Strip.blank(self.size.width, self.rich_style)

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        if (width, self.screen.size.height < COMPACT_BELOW) != self._drawn_for:
            return sum(len(self._line_strips(line, width)) for line in self._build(width))
        return len(self._flat)

    def on_resize(self) -> None:
        self._draw(force=True)

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._styles = None
        if self.is_mounted:  # the theme changed: the same lines in its colours
            self.call_later(self._draw, True)

    def _style(self, name: str):  # noqa: ANN202 - a rich Style
        # Looked up once until the styles change (notify_style_update: a new theme), not 20-30
        # times a refresh: Textual works each out from the CSS on every call (py-spy, issue 17).
        styles = self._styles
        if styles is None:
            styles = self._styles = {}
        style = styles.get(name)
        if style is None:
            style = styles[name] = self.get_component_rich_style(f"system-pane--{name}")
        return style

    _styles: dict[str, object] | None = None

    def render(self) -> RenderableType:
        """The pane's lines as one renderable (what it draws, line by line)."""
        return Group(*self._build(self.size.width))

    def _build(self, size_width: int) -> list[RenderableType]:
        system = self.system
        width = max(size_width, 20)
        if system is None or not system.total:
            return [Text("system memory: waiting for the first snapshot", style=self._style("muted"))]
        total = system.total
        parts = dict((p.name, p.bytes) for p in system.taxonomy)
        bar_width = max(width - 14, 10)
        lines: list[RenderableType] = []
        # The available tick above the bar: everything right of it is available.
        bar = Text("mem ", style="bold")
        tick_line = Text(" " * 4)
        cells: list[tuple[str, int]] = []
        acc = 0
        for name, _label, _glyph in PARTS:
            value = parts.get(name)
            if not value:
                continue
            start = round(acc * bar_width / total)
            acc += value
            cells.append((name, round(acc * bar_width / total) - start))
        for name, count in cells:
            glyph = next(g for n, _l, g in PARTS if n == name)
            bar.append(glyph * count, style=self._style(name))
        bar.append(f" {human(total)}")
        if system.available is not None:
            at = min(max(round((total - system.available) * bar_width / total), 0), bar_width - 1)
            tick_line.append(" " * at + "▼ available", style=self._style("tick"))
        lines += [tick_line, bar]
        compact = self.screen.size.height < COMPACT_BELOW
        legend = Text()
        shown = [p for p in PARTS if p[0] in parts]
        if compact:  # the biggest parts on one line; the help and wide screens have the rest
            shown = sorted(shown, key=lambda p: -parts[p[0]])
        for name, label, glyph in shown:
            item = Text.assemble((glyph, self._style(name)), f" {label} {human(parts[name])} {percent(parts[name], total)}  ")
            if legend.cell_len + item.cell_len > width:
                if compact:
                    break
                lines.append(legend)
                legend = Text()
            legend.append_text(item)
        lines.append(legend)
        avail = [
            Text.assemble(("available ", "bold"), f"{human(system.available)} ({percent(system.available, total)})"),
            Text.assemble(("free ", "bold"), f"{human(system.free)} ({percent(system.free, total)})"),
            Text.assemble(("used ", "bold"), human(system.used)),
        ]
        if system.available_estimated:
            avail.append(Text("(available estimated: kernel before 3.14)", style=self._style("muted")))
        if system.overcount:
            avail.append(Text(f"parts overshoot MemTotal by {human(system.overcount)}", style=self._style("muted")))
        # meminfo that cannot be true: the figure is left out and this says why (issue 13, item 9).
        avail.extend(Text(f"! {problem}", style=self._style("alert")) for problem in system.problems)
        if compact:
            # Phrases move to the next line whole: never "pressure some 0%" / "full 0%" apart.
            lines.extend(flow([*avail, *self._swap_and_pressure(system, bar_width)], width - 2))
            if self.container is not None:
                lines.append(self._container(False, width))
            return lines
        lines.extend(flow(avail, width - 2))
        if self.container is not None:
            lines.append(self._container(True, width))
        if len(AVAILABLE_MEANS) <= width - 2:  # a sentence shown whole or not at all (help has it)
            lines.append(Text(AVAILABLE_MEANS, style=self._style("muted")))
        lines.extend(flow(list(self._swap_and_pressure(system, bar_width)), width - 2))
        if self.reconciliation is not None and width >= 150:
            rec = self.reconciliation
            if rec.unreadable:
                # The gap holds the unreadable processes' memory too: "mapped by no process" would
                # be wrong as soon as one is (a non-root run: most of it; a new user's report).
                unread = f"{rec.unreadable} unreadable process{'' if rec.unreadable == 1 else 'es'}"
                said = (f"PSS of the readable processes {human(rec.pss_sum)} vs anon+shmem+mapped "
                        f"{human(rec.anon_shmem_mapped)}: {human(rec.difference)} outside it ({unread}, unmapped cache, kernel)")
            else:
                said = (f"PSS of all processes {human(rec.pss_sum)} vs anon+shmem+mapped {human(rec.anon_shmem_mapped)}: "
                        f"{human(rec.difference)} mapped by no process (unmapped cache, kernel)")
            lines.append(Text(said, style=self._style("muted")))
        return lines

    def _container(self, explain: bool, width: int) -> Text:
        # memtop runs in a limited cgroup: that limit, not MemTotal, is what
        # the OOM killer enforces for it (cgroup-v2.rst, memory.max).
        limit = self.container
        assert limit is not None
        line = Text("container ", style="bold")
        line.append(f"{human(limit.current)} of {human(limit.limit)} ({percent(limit.current, limit.limit)})")
        if explain:
            name = limit.path.rstrip("/").rsplit("/", 1)[-1] or "/"
            line.append(f"  the OOM killer enforces this limit of cgroup {name}, not MemTotal", style=self._style("muted"))
        line.truncate(width - 2, overflow="ellipsis")
        return line

    def _swap_and_pressure(self, system: SystemMemory, bar_width: int) -> tuple[Text, Text]:
        line = Text("swap ", style="bold")
        if system.swap_total is None:
            line.append("n/a")
        elif not system.swap_total:
            line.append("none")
        else:
            used = system.swap_total - (system.swap_free or 0)
            width = max(min(bar_width // 3, 30), 5)
            filled = round(used * width / system.swap_total)
            line.append("█" * filled, style=self._style("anon"))
            line.append("·" * (width - filled), style=self._style("free"))
            line.append(f" {human(used)} of {human(system.swap_total)}")
        swap = line
        line = Text("pressure ", style="bold")
        psi = self.pressure
        if psi is None:
            line.append("n/a (no /proc/pressure: PSI off or kernel before 4.20)", style=self._style("muted"))
            return swap, line
        some = psi.some.avg10 if psi.some else None
        full = psi.full.avg10 if psi.full else None
        alert = (full or 0) > 0 or (some or 0) >= 10
        text = f"some {some if some is not None else '-'}%  full {full if full is not None else '-'}% (avg10)"
        line.append(("! " if alert else "") + text, style=self._style("alert") if alert else "")
        return swap, line


def flow(phrases: list[Text], width: int, gap: str = "   ") -> list[Text]:
    """Phrases on as few lines as fit ``width``, each kept whole (a too-long one is cut with …)."""
    lines: list[Text] = []
    line = Text()
    for phrase in phrases:
        if line.cell_len and line.cell_len + len(gap) + phrase.cell_len > width:
            lines.append(line)
            line = Text()
        if line.cell_len:
            line.append(gap)
        line.append_text(phrase)
    lines.append(line)
    for text in lines:
        if text.cell_len > width:
            text.truncate(width, overflow="ellipsis")
    return lines
