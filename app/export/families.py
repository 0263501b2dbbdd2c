"""Every metric family memtop exports, from one Frame: what one collection pass and the model made of it.

A Frame is built once per pass (never per scrape); the families are built
from it then, so a scrape only writes them out. HELP texts are the
dashboard's words (memtop.explain), so Grafana and ``?`` say the same.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, InfoMetricFamily
from prometheus_client.metrics_core import Metric

from memtop import __version__
from memtop.collectors.models import Snapshot
from memtop.explain.figures import CGROUP_FIGURES, HEAP_MEANS, PROCESS_FIGURES
from memtop.rules.cgroup_usage import pss_sums
from memtop.rules.diagnosis_model import Diagnosis
from memtop.rules.gap import GapVerdict

from memtop.export import kernel_families
from memtop.export.kernel_families import PREFIX
from memtop.export.processes import MEMTYPES, Mode, series


@dataclass(frozen=True, slots=True)
class Frame:
    """One pass as the exporter sees it: the snapshot and what the model derived from its history."""

    snapshot: Snapshot
    diagnoses: tuple[Diagnosis, ...] = ()
    #: Heap in use by pid, of the processes the model has a heap figure for.
    heaps: Mapping[int, int] = field(default_factory=dict)
    #: The model's gap verdict of each of them, by pid.
    verdicts: Mapping[int, GapVerdict] = field(default_factory=dict)
    #: Wall time of the pass that read the snapshot, and its smaps_rollup reads.
    pass_seconds: float | None = None
    rollups: int | None = None
    passes: int = 1
    #: smaps_rollup reads since memtop serve started.
    rollups_total: int | None = None


def processes(frame: Frame, mode: Mode) -> Iterator[Metric]:
    procs = frame.snapshot.processes
    unreadable = sum(1 for p in procs if p.pss is None and not p.kernel_thread and p.state not in ("Z", "X"))
    yield GaugeMetricFamily(PREFIX + "processes_pss_unreadable", "processes whose PSS, USS and swap could not be "
                            "read (another user's without root, or just exited): sums of pss leave them out",
                            value=unreadable)
    rows = series(procs, mode)
    if mode.kind == "none":
        return
    labels = list(mode.labels)
    memory = GaugeMetricFamily(
        PREFIX + "process_memory_bytes",
        f"memory of processes ({mode}; the rest in one series named other) by memtype: "
        + "; ".join(f"{m} = {PROCESS_FIGURES[m]}" for m in MEMTYPES),
        labels=[*labels, "memtype"], unit="bytes")
    count = GaugeMetricFamily(PREFIX + "processes", f"processes in each series of memtop_process_memory_bytes ({mode})",
                              labels=labels)
    for row in rows:
        for memtype in MEMTYPES:
            value = row.values.get(memtype)
            if value is not None:
                memory.add_metric([*row.labels, memtype], value)
        count.add_metric(list(row.labels), row.processes)
    yield memory
    yield count


def cgroups(snap: Snapshot) -> Iterator[Metric]:
    if not snap.cgroups:
        return
    usage = GaugeMetricFamily(PREFIX + "cgroup_memory_usage_bytes", CGROUP_FIGURES["current"], labels=["cgroup"], unit="bytes")
    limit = GaugeMetricFamily(PREFIX + "cgroup_memory_limit_bytes", CGROUP_FIGURES["limit"] + " (only limited cgroups)",
                              labels=["cgroup"], unit="bytes")
    kills = CounterMetricFamily(PREFIX + "cgroup_oom_kills", CGROUP_FIGURES["oom_kill"], labels=["cgroup"])
    pss = GaugeMetricFamily(PREFIX + "cgroup_pss_bytes", CGROUP_FIGURES["pss"] + " (unreadable ones left out)",
                            labels=["cgroup"], unit="bytes")
    sums = pss_sums(snap.cgroups, snap.processes)
    for group in snap.cgroups:
        path = [group.path]
        if group.current is not None:
            usage.add_metric(path, group.current)
        if isinstance(group.effective_max, int):
            limit.add_metric(path, group.effective_max)
        killed = group.event("oom_kill")
        if killed is not None:
            kills.add_metric(path, killed)
        if group.path in sums and sums[group.path].processes:
            pss.add_metric(path, sums[group.path].pss)
    yield from (m for m in (usage, limit, kills, pss) if m.samples)


def heaps(frame: Frame) -> Iterator[Metric]:
    if not frame.heaps:
        return
    names = {p.pid: p.name for p in frame.snapshot.processes}
    in_use = GaugeMetricFamily(PREFIX + "heap_in_use_bytes", HEAP_MEANS["in_use"], labels=["pid", "name"], unit="bytes")
    gap = GaugeMetricFamily(PREFIX + "heap_gap_bytes", HEAP_MEANS["gap"], labels=["pid", "name"], unit="bytes")
    slope = GaugeMetricFamily(PREFIX + "heap_gap_slope_bytes_per_second", HEAP_MEANS["slope"], labels=["pid", "name"])
    for pid, value in sorted(frame.heaps.items()):
        labels = [str(pid), names.get(pid, "")]
        in_use.add_metric(labels, value)
        verdict = frame.verdicts.get(pid)
        if verdict is not None and verdict.gap is not None:
            gap.add_metric(labels, verdict.gap)
        if verdict is not None and verdict.gap_slope is not None:
            slope.add_metric(labels, verdict.gap_slope)
    yield from (m for m in (in_use, gap, slope) if m.samples)


def diagnoses(frame: Frame) -> Iterator[Metric]:
    found = GaugeMetricFamily(
        PREFIX + "diagnosis", "each current finding of memtop's diagnoses (the dashboard's d panel), 1 while it holds: "
        "rule, severity (critical, warning, info, ok) and target (the cgroup or pid it is about, else empty)",
        labels=["rule", "severity", "target"])
    seen: set[tuple[str, str, str]] = set()
    for diagnosis in frame.diagnoses:
        labels = (diagnosis.id, diagnosis.severity, "" if diagnosis.target is None else str(diagnosis.target))
        if labels not in seen:  # one series per label set, whatever a rule returns
            seen.add(labels)
            found.add_metric(list(labels), 1)
    yield found


def own(frame: Frame) -> Iterator[Metric]:
    yield InfoMetricFamily(PREFIX + "build", "memtop's version", value={"version": __version__})
    yield GaugeMetricFamily(PREFIX + "snapshot_timestamp_seconds", "when the snapshot served was read (Unix time)",
                            value=frame.snapshot.time, unit="seconds")
    yield CounterMetricFamily(PREFIX + "passes", "collection passes since memtop serve started", value=frame.passes)
    if frame.pass_seconds is not None:
        yield GaugeMetricFamily(PREFIX + "pass_duration_seconds", "wall time of the pass that read the snapshot served",
                                value=frame.pass_seconds, unit="seconds")
    if frame.rollups is not None:
        yield GaugeMetricFamily(PREFIX + "pass_rollups", "smaps_rollup files that pass read (the costly part: the "
                                "kernel walks page tables; the rest kept their last PSS, read within 60 s)",
                                value=frame.rollups)
    if frame.rollups_total is not None:
        yield CounterMetricFamily(PREFIX + "smaps_rollup_reads", "smaps_rollup files read since memtop serve started",
                                  value=frame.rollups_total)
    snap = frame.snapshot
    read = [p.memory_time for p in snap.processes if p.memory_time is not None and p.pss is not None]
    if read:
        yield GaugeMetricFamily(PREFIX + "pss_oldest_age_seconds", "age of the oldest PSS served: every process's "
                                "smaps_rollup is re-read at least every 60 s, sooner when its RSS or page faults move",
                                value=max(snap.time - min(read), 0.0), unit="seconds")


def families(frame: Frame, mode: Mode) -> list[Metric]:
    """Every family for one frame, in a stable order."""
    snap = frame.snapshot
    return [
        *kernel_families.memory(snap), *kernel_families.pressure(snap), *kernel_families.vmstat(snap),
        *kernel_families.thp(snap), *processes(frame, mode), *cgroups(snap), *heaps(frame),
        *diagnoses(frame), *own(frame),
    ]
