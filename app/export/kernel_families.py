"""The machine's metric families: the meminfo taxonomy, available and free, swap, PSI, THP and vmstat.

Prometheus conventions (prometheus.io "Metric and label naming"): base units
(bytes, seconds), ``_total`` on counters, ratios from 0 to 1. Kernel
counters are exported as counters, never as rates: Prometheus computes rates
(``rate(memtop_vmstat_compact_stall_total[5m])``) over any window. node_exporter's
vmstat collector leaves thp_* and compact_* out by default; these are them,
each with the dashboard's words as HELP (memtop.explain).
"""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, InfoMetricFamily
from prometheus_client.metrics_core import Metric

from memtop.collectors.models import Snapshot
from memtop.explain.figures import (
    AVAILABLE_MEANS, FREE_MEANS, HUGE_FIGURES, PRESSURE_MEANS, SWAP_FIGURES, TAXONOMY_MEANS, VMSTAT_FIGURES,
)
from memtop.explain.thp_counters import COUNTER_HELP, POLICY_HELP, SIZE_HELP, explain

PREFIX = "memtop_"


def vmstat_exported(name: str) -> bool:
    """The vmstat counters memtop exports: THP, compaction, and the ones its diagnoses read."""
    return name.startswith(("thp_", "compact_")) or name in VMSTAT_FIGURES


def memory(snap: Snapshot) -> Iterator[Metric]:
    system = snap.system
    if system is None:
        return
    parts = GaugeMetricFamily(PREFIX + "memory_bytes", TAXONOMY_MEANS, labels=["kind"], unit="bytes")
    for part in system.taxonomy:
        parts.add_metric([part.name], part.bytes)
    yield parts
    for name, value, text in (
        ("memory_total_bytes", system.total, "MemTotal: usable RAM, what the parts of memtop_memory_bytes add up to"),
        ("memory_available_bytes", system.available, AVAILABLE_MEANS),
        ("memory_free_bytes", system.free, FREE_MEANS),
        ("swap_total_bytes", system.swap_total, SWAP_FIGURES["total"]),
        ("swap_free_bytes", system.swap_free, SWAP_FIGURES["free"]),
    ):
        if value is not None:
            yield GaugeMetricFamily(PREFIX + name, text, value=value, unit="bytes")
    yield GaugeMetricFamily(
        PREFIX + "memory_available_estimated",
        "1 when the kernel has no MemAvailable (before 3.14) and memtop estimates it as procps does, else 0",
        value=int(system.available_estimated))
    huge = GaugeMetricFamily(PREFIX + "memory_huge_bytes", "memory in transparent huge pages: "
                             + "; ".join(f"{k} = {v}" for k, v in HUGE_FIGURES.items()), labels=["kind"], unit="bytes")
    for kind, value in (("anon", system.anon_huge), ("shmem", system.shmem_huge), ("file", system.file_huge)):
        if value is not None:
            huge.add_metric([kind], value)
    yield huge


def pressure(snap: Snapshot) -> Iterator[Metric]:
    psi = snap.pressure
    if psi is None:
        return
    total = CounterMetricFamily(PREFIX + "memory_pressure_seconds", PRESSURE_MEANS + "; time stalled since boot",
                                labels=["kind"], unit="seconds")
    share = GaugeMetricFamily(PREFIX + "memory_pressure_ratio", PRESSURE_MEANS + "; the kernel's running "
                              "averages over 10 s, 60 s and 300 s, as a ratio from 0 to 1", labels=["kind", "window"])
    for kind, line in (("some", psi.some), ("full", psi.full)):
        if line is None:
            continue
        if line.total is not None:
            total.add_metric([kind], line.total / 1e6)  # psi.rst: total is in microseconds
        for window, value in (("10s", line.avg10), ("60s", line.avg60), ("300s", line.avg300)):
            share.add_metric([kind, window], value / 100.0)
    yield from (m for m in (total, share) if m.samples)


def vmstat(snap: Snapshot) -> Iterator[Metric]:
    for name, value in snap.vmstat:
        if vmstat_exported(name):
            text = COUNTER_HELP.get(name) or VMSTAT_FIGURES.get(name) or explain(name)
            yield CounterMetricFamily(f"{PREFIX}vmstat_{name}", f"{text} (/proc/vmstat {name})", value=value)


def thp(snap: Snapshot) -> Iterator[Metric]:
    state = snap.thp
    if state is None:
        return
    policies = {k: v for k, v in (("enabled", state.enabled), ("defrag", state.defrag),
                                  ("shmem_enabled", state.shmem_enabled)) if v is not None}
    yield InfoMetricFamily(PREFIX + "thp", "THP policies (/sys/kernel/mm/transparent_hugepage): "
                           + "; ".join(f"{k}: {v}" for k, v in POLICY_HELP.items()), value=policies)
    khugepaged = dict(state.khugepaged or ())
    for name, text in (("pages_collapsed", "pages khugepaged collapsed into huge pages"),
                       ("full_scans", "complete passes khugepaged made over every eligible mapping")):
        value = khugepaged.get(name)
        if isinstance(value, int):
            yield CounterMetricFamily(f"{PREFIX}thp_khugepaged_{name}", f"{text} (khugepaged/{name})", value=value)
    if not state.sizes:
        return
    enabled = InfoMetricFamily(PREFIX + "thp_size", "per-size (mTHP) policy, hugepages-<size>/enabled: "
                               "never, always, madvise or inherit (the top-level policy)", labels=["size"])
    stats: dict[str, GaugeMetricFamily | CounterMetricFamily] = {}
    for size, size_state in state.sizes:
        if size_state.enabled is not None:
            enabled.add_metric([size], {"enabled": size_state.enabled})
        for name, value in size_state.stats:
            family = stats.get(name)
            if family is None:
                text = SIZE_HELP.get(name, "see Documentation/admin-guide/mm/transhuge.rst")
                # nr_anon, nr_anon_partially_mapped: pages there now, not events.
                kind = GaugeMetricFamily if name.startswith("nr_") else CounterMetricFamily
                family = stats[name] = kind(f"{PREFIX}thp_size_{name}", f"{text} (hugepages-<size>/stats/{name})",
                                            labels=["size"])
            family.add_metric([size], value)
    if enabled.samples:
        yield enabled
    yield from stats.values()
