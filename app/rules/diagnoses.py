"""Plain-language diagnoses: the guide's decision framework applied to live numbers.

memory-metrics.txt, "Decision Framework: Which Metric Matters?" and "Common
Debugging Scenarios", names the number that matters for each kind of trouble;
this module checks each against a threshold and says what it found, with the
numbers behind it and where memtop shows them. Pure: the model gathers the
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
  analysis' flag (app/rules/gap.py) when it has one; "freed memory retained": info.
- a working set (measured with ``w``) larger than RSS + what the process can
  still get (available memory, or its cgroup's headroom when that is less):
  critical, it will page ("Performance degradation (thrashing)": WSS vs
  available RAM); filling >= 80 % of it: warning (Referenced counts resident
  pages only, so a process already paging shows at most its RSS: see
  app/rules/working_set_fit.py).
- RSS growing steadily: over >= 60 s of history in the chart's window, a
  least-squares slope of >= max(1 MiB/min, 0.5 % of the mean RSS per minute)
  that moves RSS by more than 4 times its scatter around the line
  ("Process memory growth over time": RSS trend). Only processes memtop keeps
  a history of (those shown on screen since they started). memtop itself is
  left out of these two (its caches fill in its first minutes).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from memtop.collectors.models import ContainerLimit, Snapshot
from memtop.views.format import human

from memtop.rules.diagnosis_model import (
    AVAILABLE_CRIT, AVAILABLE_WARN, CGROUP_NEAR, FALLBACK_MIN_EVENTS, FALLBACK_WARN, FREE_LOW, MARKS, MIB,
    PSI_FULL_CRIT, PSI_FULL_WARN, SEVERITIES, SWAP_IN_WARN, SWAP_WINDOW, THRESHOLDS, Diagnosis, Growth, Number, Signals,
)
from memtop.rules.gap import LEAK, RETAINED
from memtop.rules.working_set_fit import fit

if TYPE_CHECKING:
    from memtop.views.thp import ThpView

__all__ = ["MARKS", "THRESHOLDS", "Diagnosis", "Growth", "Signals", "count_label", "diagnose", "summary"]


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
    outside = signals.system_oom_kills - sum(kills.values())
    if outside > 0:
        # vmstat counts every kill as it happens; the cgroup tree is read only every few passes.
        out.append(Diagnosis(
            "oom-kill", "critical",
            f"OOM kill{'s' if outside > 1 else ''}: {outside} since memtop started (/proc/vmstat oom_kill); "
            "O lists the kernel's reports.",
            (("oom_kills", outside),), "system"))
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
