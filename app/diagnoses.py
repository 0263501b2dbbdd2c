"""Plain-language diagnoses: the guide's decision framework applied to live numbers.

memory-metrics.txt, "Decision Framework: Which Metric Matters?" and "Common
Debugging Scenarios", names the number that matters for each kind of trouble;
this module checks each against a threshold and says what it found, with the
numbers behind it and where memtop shows them. Pure: the app gathers the
inputs (``Signals``) from its histories; nothing here reads /proc or a clock.

Thresholds (also in the help, ``THRESHOLDS``):

- available < 10 % of MemTotal: warning; < 5 %: critical ("System running low
  on memory": check *available*, not free). free < 10 % of MemTotal while
  available is >= 10 %: info, "free is low but available is fine" (Scenario
  4: the kernel uses idle memory as cache; nothing to do).
- PSI memory ``full`` avg10 >= 1 % and above avg60 (rising): warning; avg10
  >= 10 %: critical (Documentation/accounting/psi.rst: "full" is time in which
  every non-idle task was stalled on memory at once).
- swap-in >= 1 MiB/s over the last 10 s: warning; any swap-in then: info
  (pswpin of /proc/vmstat, pages read back from swap: processes wait for them).
- a compaction stall in the last 60 s: warning (a task blocked while the
  kernel made a huge page); THP fallback ratio >= 50 % over >= 10 faults in
  60 s: warning (the guide: "if compact_stall and thp_fault_fallback are
  high and growing, THP is hurting more than helping").
- a cgroup whose own limit is the effective one, at >= 90 % of it: warning
  ("Container being OOM killed": usage counts page cache and kernel memory
  too); memtop's own container likewise; a cgroup with OOM kills since
  memtop started: critical (the deepest such cgroup only).
- a heap gap (RSS - heap) whose trend is "growing": warning, with the gap
  analysis' flag (app/gap.py) when it has one; "freed memory retained": info.
- a working set (measured with ``w``) larger than RSS + what the process can
  still get (available memory, or its cgroup's headroom when that is less):
  critical, it will page ("Performance degradation (thrashing)": WSS vs
  available RAM); filling >= 80 % of it: warning (Referenced counts resident
  pages only, so a process already paging shows at most its RSS: see
  app/working_set_fit.py).
- RSS growing steadily: over >= 60 s of history in the chart's window, a
  least-squares slope of >= max(1 MiB/min, 0.5 % of the mean RSS per minute)
  that moves RSS by more than 4 times its scatter around the line
  ("Process memory growth over time": RSS trend). Only processes memtop keeps
  a history of (those shown on screen since they started). memtop itself is
  left out of these two (its caches fill in its first minutes).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from memtop.collectors.models import CgroupMemory, ContainerLimit, Snapshot, WorkingSet
from memtop.widgets.format import human

if TYPE_CHECKING:  # the JSON report uses this module and never imports textual
    from memtop.widgets.thp_panel import ThpView

from .gap import LEAK, RETAINED, GapVerdict, slope
from .working_set_fit import fit

MIB = 1 << 20

AVAILABLE_WARN = 0.10
AVAILABLE_CRIT = 0.05
FREE_LOW = 0.10
PSI_FULL_WARN = 1.0  # percent, avg10
PSI_FULL_CRIT = 10.0
SWAP_IN_WARN = 1 * MIB  # bytes per second
SWAP_WINDOW = 10.0  # seconds
FALLBACK_WARN = 0.5
FALLBACK_MIN_EVENTS = 10
CGROUP_NEAR = 0.90
GROWTH_SPAN = 60.0  # seconds of history needed
GROWTH_FLOOR = 1 * MIB / 60  # bytes per second
GROWTH_SHARE = 0.005 / 60  # of the mean RSS, per second
GROWTH_SCATTER = 4.0

THRESHOLDS = (
    "Diagnoses (d): available < 10% of total warns, < 5% is critical; free < 10% with available >= 10% "
    "is only an info (the kernel uses idle memory as cache); PSI full avg10 >= 1% and above avg60 warns, "
    ">= 10% is critical; swap-in >= 1 MiB/s over 10 s warns; a compaction stall in the last 60 s, or a THP "
    "fallback ratio >= 50% over >= 10 faults, warns; a cgroup at >= 90% of its own (effective) limit warns, "
    "new OOM kills are critical; a growing heap gap warns; a working set (w) larger than RSS + available "
    "(or the cgroup's headroom) is critical, >= 80% of it warns; RSS growing by >= max(1 MiB/min, 0.5%/min) over >= 60 s, "
    "steadily (rise > 4x scatter), warns. Enter in the panel jumps to the pane with the numbers."
)

#: Most severe first.
SEVERITIES = ("critical", "warning", "info", "ok")
MARKS = {"critical": "‼", "warning": "!", "info": "i", "ok": "✓"}

Number = int | float | str | None


@dataclass(frozen=True, slots=True)
class Diagnosis:
    """One finding: what, how bad, the numbers behind it, and where memtop shows them.

    ``jump``: "system" (the system pane), "thp" (T), "cgroup" (c, ``target``
    the cgroup path), "process" (the process, ``target`` its pid: selected,
    then Enter), "chart" (the process selected: the heap-vs-RSS chart).
    """

    id: str
    severity: str
    text: str
    numbers: tuple[tuple[str, Number], ...]
    jump: str
    target: str | int | None = None

    @property
    def key(self) -> str:
        """The key that shows the numbers, as the panel says it."""
        return {"system": "the system pane, on top", "thp": "Enter: THP counters (T)",
                "cgroup": "Enter: the cgroup in the cgroup view (c)", "process": "Enter: the process screen",
                "chart": "Enter: the process selected, its RSS in the heap chart"}.get(self.jump, self.jump)

    def json(self) -> dict[str, Any]:
        return {"id": self.id, "severity": self.severity, "text": self.text, "numbers": dict(self.numbers)}


@dataclass(frozen=True, slots=True)
class Growth:
    """A process whose RSS grows steadily (see ``steady_growth``)."""

    pid: int
    name: str
    rss: int
    slope: float  # bytes per second
    span: float  # seconds of history used


@dataclass(frozen=True, slots=True)
class Signals:
    """What the app knows beyond one snapshot (empty: a one-shot report)."""

    swap_in: float | None = None  # bytes per second over SWAP_WINDOW
    thp: ThpView | None = None
    cgroups: tuple[CgroupMemory, ...] | None = None  # the last tree read
    oom_kills: Mapping[str, int] = field(default_factory=dict)  # new since memtop started, by path
    verdicts: Mapping[int, GapVerdict] = field(default_factory=dict)
    growth: tuple[Growth, ...] = ()
    working_sets: tuple[WorkingSet, ...] = ()
    #: memtop itself: left out of the heap-gap and RSS-growth findings (its
    #: caches fill in its first minutes; that is not what the user debugs).
    own_pid: int | None = None


def steady_growth(times: Sequence[float], rss: Sequence[int | None], now: float, window: float) -> tuple[float, float] | None:
    """(slope in bytes/s, span) when RSS grows steadily over ``[now - window, now]``, else None.

    Step samples (each holds until the next), read at evenly spaced moments
    as app/gap.py does, so a still process's one sample weighs its time.
    """
    points = [(t, r) for t, r in zip(times, rss) if r is not None]
    start = now - window
    inside = [(max(t, start), r) for t, r in points if t > start]
    before = [p for p in points if p[0] <= start][-1:]
    if before:
        inside.insert(0, (start, before[0][1]))
    if not inside:
        return None
    inside.append((now, inside[-1][1]))
    span = inside[-1][0] - inside[0][0]
    if span < GROWTH_SPAN:
        return None
    n = 60
    grid = [inside[0][0] + span * i / (n - 1) for i in range(n)]
    values: list[float] = []
    j = 0
    for moment in grid:
        while j + 1 < len(inside) and inside[j + 1][0] <= moment:
            j += 1
        values.append(float(inside[j][1]))
    rate = slope(grid, values)
    if rate is None:
        return None
    mean = sum(values) / n
    mean_t = sum(grid) / n
    scatter = (sum((v - mean - rate * (t - mean_t)) ** 2 for t, v in zip(grid, values)) / n) ** 0.5
    if rate >= max(GROWTH_FLOOR, GROWTH_SHARE * mean) and rate * span > GROWTH_SCATTER * scatter:
        return rate, span
    return None


def _pct(part: int, whole: int) -> float:
    return round(100.0 * part / whole, 1)


def _system(snap: Snapshot) -> list[Diagnosis]:
    system = snap.system
    if system is None or not system.total or system.available is None:
        return []
    total, avail = system.total, system.available
    out = []
    numbers: tuple[tuple[str, Number], ...] = (("available", avail), ("total", total), ("available_pct", _pct(avail, total)))
    if avail < AVAILABLE_WARN * total:
        severity = "critical" if avail < AVAILABLE_CRIT * total else "warning"
        out.append(Diagnosis(
            "available-low", severity,
            f"Low on memory: available {human(avail)} is {_pct(avail, total):g}% of {human(total)}. New allocations "
            "will reclaim cache, swap or OOM-kill; look at what grows (RSS trend) and what is largest (PSS).",
            numbers, "system"))
    elif system.free is not None and system.free < FREE_LOW * total:
        out.append(Diagnosis(
            "free-low-available-fine", "info",
            f"free is low ({human(system.free)}) but available is fine ({human(avail)}, {_pct(avail, total):g}%): "
            "the kernel uses idle memory as cache and gives it back on demand. Nothing to do.",
            (*numbers, ("free", system.free)), "system"))
    return out


def _pressure(snap: Snapshot, signals: Signals) -> list[Diagnosis]:
    out = []
    full = snap.pressure.full if snap.pressure is not None else None
    if full is not None and full.avg10 >= PSI_FULL_WARN and (full.avg10 > full.avg60 or full.avg10 >= PSI_FULL_CRIT):
        severity = "critical" if full.avg10 >= PSI_FULL_CRIT else "warning"
        out.append(Diagnosis(
            "pressure-full", severity,
            f"Memory pressure rising: every task stalled on memory {full.avg10:g}% of the last 10 s "
            f"(avg60 {full.avg60:g}%): the machine is thrashing or reclaiming hard.",
            (("full_avg10", full.avg10), ("full_avg60", full.avg60), ("full_avg300", full.avg300)), "system"))
    rate = signals.swap_in
    if rate:
        severity = "warning" if rate >= SWAP_IN_WARN else "info"
        out.append(Diagnosis(
            "swap-in", severity,
            f"Swapping in {human(int(rate))}/s (last {SWAP_WINDOW:g} s): processes wait for pages pushed out "
            "to swap; the working sets do not fit in RAM.",
            (("swap_in_bytes_per_s", round(rate)),), "system"))
    return out


def _thp(view: ThpView | None) -> list[Diagnosis]:
    if view is None:
        return []
    out = []
    if view.stalls:
        out.append(Diagnosis(
            "compaction-stalls", "warning",
            f"Compaction stalls: {view.stalls} in the last {view.window:g} s. Tasks were blocked while the kernel "
            "moved pages to make huge pages (THP defrag); latency-sensitive programs suffer.",
            (("compact_stall_60s", view.stalls), ("defrag", view.state.defrag if view.state else None)), "thp"))
    events = {c.name: c.window for c in view.counters}
    faults = events.get("thp_fault_alloc", 0) + events.get("thp_fault_fallback", 0)
    ratio = view.fallback_ratio
    if ratio is not None and ratio >= FALLBACK_WARN and faults >= FALLBACK_MIN_EVENTS:
        out.append(Diagnosis(
            "thp-fallback", "warning",
            f"THP falls back: {ratio:.0%} of huge-page faults in the last {view.window:g} s got small pages "
            "(memory too fragmented, or a cgroup charge failed): THP is costing more than it gives.",
            (("fallback_ratio", round(ratio, 3)), ("faults_60s", faults)), "thp"))
    return out


def _cgroups(snap: Snapshot, signals: Signals) -> list[Diagnosis]:
    out = []
    for c in signals.cgroups or ():
        limit = c.effective_max
        if isinstance(limit, int) and limit > 0 and c.max == limit and c.current is not None and c.current >= CGROUP_NEAR * limit:
            out.append(Diagnosis(
                "cgroup-near-limit", "warning",
                f"cgroup {c.path} uses {human(c.current)} of its {human(limit)} limit ({_pct(c.current, limit):g}%): "
                "the kernel reclaims its page cache, then OOM-kills inside it.",
                (("path", c.path), ("current", c.current), ("limit", limit), ("pct", _pct(c.current, limit))),
                "cgroup", c.path))
    kills = signals.oom_kills
    for path, count in sorted(kills.items()):
        if any(other != path and other.startswith(path.rstrip("/") + "/") for other in kills):
            continue  # a descendant has them: name the deepest
        out.append(Diagnosis(
            "cgroup-oom-kill", "critical",
            f"OOM kill{'s' if count > 1 else ''} in cgroup {path}: {count} since memtop started; a process there "
            "was killed for exceeding the limit.",
            (("path", path), ("oom_kills", count)), "cgroup", path))
    own: ContainerLimit | None = snap.container
    if own is not None and own.current is not None and own.limit > 0 and own.current >= CGROUP_NEAR * own.limit \
            and not any(d.target == own.path for d in out):
        out.append(Diagnosis(
            "container-near-limit", "warning",
            f"memtop's container ({own.path}) uses {human(own.current)} of its {human(own.limit)} limit "
            f"({_pct(own.current, own.limit):g}%).",
            (("path", own.path), ("current", own.current), ("limit", own.limit)), "system"))
    return out


def _processes(snap: Snapshot, signals: Signals) -> list[Diagnosis]:
    out = []
    names = {p.pid: p.name for p in snap.processes}
    for pid, verdict in sorted(signals.verdicts.items()):
        name = names.get(pid)
        if name is None or verdict.gap is None or pid == signals.own_pid:
            continue
        numbers: tuple[tuple[str, Number], ...] = (
            ("pid", pid), ("gap", verdict.gap),
            ("gap_mib_per_min", None if verdict.gap_slope is None else round(verdict.gap_slope * 60 / MIB, 2)))
        if verdict.trend == "growing" and verdict.gap_slope is not None:
            why = f" ({verdict.flag}: the heap does not grow, RSS does)" if verdict.flag == LEAK else ""
            out.append(Diagnosis(
                "heap-gap-growing", "warning",
                f"{name} ({pid}): the gap RSS - heap grows {verdict.gap_slope * 60 / MIB:+.1f} MiB/min{why}; "
                "memory freed but not returned, or allocated outside malloc.",
                numbers, "chart", pid))
        elif verdict.flag == RETAINED:
            out.append(Diagnosis(
                "heap-retained", "info",
                f"{name} ({pid}): {human(verdict.gap)} of RSS is not in the heap (freed memory retained by the "
                "allocator; malloc_trim can return glibc's).",
                numbers, "chart", pid))
    for g in signals.growth:
        if g.pid == signals.own_pid:
            continue
        over = f"{g.span:.0f} s" if g.span < 120 else f"{g.span / 60:.0f} min"
        out.append(Diagnosis(
            "rss-growing", "warning",
            f"{g.name} ({g.pid}): RSS grows steadily, {g.slope * 60 / MIB:+.1f} MiB/min over {over} "
            f"(now {human(g.rss)}): profile its heap (memtop run) or check for a leak.",
            (("pid", g.pid), ("rss", g.rss), ("mib_per_min", round(g.slope * 60 / MIB, 2)), ("span_s", round(g.span))),
            "chart", g.pid))
    alive = {p.key for p in snap.processes}
    for ws in signals.working_sets:
        f = fit(ws)
        if (ws.pid, ws.starttime) not in alive or ws.referenced is None or f.can_have is None:
            continue
        if f.tight:
            out.append(Diagnosis(
                "working-set-tight", "warning",
                f"{ws.name} ({ws.pid}) touched {human(ws.referenced)} in {ws.window:g} s, "
                f"{100 * ws.referenced / f.can_have:.0f}% of what it can have ({human(f.can_have)}: RSS + {f.bound}): "
                "it pages as soon as it grows or something else takes the memory.",
                (("pid", ws.pid), ("working_set", ws.referenced), ("window_s", ws.window), ("can_have", f.can_have)),
                "process", ws.pid))
            continue
        if f.fits is not False:
            continue
        out.append(Diagnosis(
            "working-set-too-large", "critical",
            f"{ws.name} ({ws.pid}) touched {human(ws.referenced)} in {ws.window:g} s, more than it can have "
            f"({human(f.can_have)}: RSS + {f.bound}): it will page (thrash).",
            (("pid", ws.pid), ("working_set", ws.referenced), ("window_s", ws.window), ("can_have", f.can_have)),
            "process", ws.pid))
    return out


def diagnose(snap: Snapshot, signals: Signals = Signals()) -> tuple[Diagnosis, ...]:
    """Every finding, most severe first; one "all clear" when nothing is wrong."""
    found = [*_system(snap), *_pressure(snap, signals), *_thp(signals.thp), *_cgroups(snap, signals),
             *_processes(snap, signals)]
    found.sort(key=lambda d: SEVERITIES.index(d.severity))
    if not any(d.severity in ("critical", "warning") for d in found):
        system = snap.system
        avail = system.available if system is not None else None
        total = system.total if system is not None else None
        what = f"available {human(avail)}" + (f" ({_pct(avail, total):g}%)" if avail is not None and total else "")
        found.insert(0, Diagnosis(
            "all-clear", "ok",
            f"Nothing needs attention: {what}, no memory pressure, no swap-in, no compaction stalls, "
            "no cgroup near its limit, no process growing steadily.",
            (("available", avail), ("total", total)), "system"))
    return tuple(found)


def summary(found: Sequence[Diagnosis]) -> str:
    """The main screen's line: the worst finding, marked."""
    if not found:
        return ""
    worst = found[0]
    return f"{MARKS[worst.severity]} {worst.text}"


def count_label(found: Sequence[Diagnosis]) -> str:
    """How many findings the panel holds, for the line's key hint."""
    serious = sum(1 for d in found if d.severity in ("critical", "warning"))
    if serious > 1:
        return f"{serious} findings"
    return "diagnoses"
