"""Frames for the exporter's tests: the captured host with hand-made processes, cgroups, heaps and findings."""

from __future__ import annotations

from collections.abc import Iterable

from prometheus_client import CollectorRegistry
from prometheus_client.metrics_core import Metric

from memtop.export.collector import FrameCollector, registry
from memtop.export.families import Frame
from memtop.export.processes import Mode, parse_mode
from memtop.rules.diagnoses import Signals, diagnose
from memtop.rules.diagnosis_model import Diagnosis
from memtop.rules.gap import GapVerdict

from tests.cgroup_fixtures import with_cgroups
from tests.dashboard_fixtures import MIB

#: train.py (pid 201, 240 MiB RSS) has a heap figure and a growing gap.
VERDICT = GapVerdict(gap=140 * MIB, trend="growing", gap_slope=2 * MIB / 60, heap_slope=0.0, flag="structural leak suspected")


def full_frame() -> Frame:
    """Every family has samples: cgroups with limits and OOM kills, a heap, diagnoses (one per cgroup too)."""
    snap = with_cgroups(oom_kills=2)
    found = diagnose(snap, Signals(cgroups=snap.cgroups, oom_kills={"/user.slice/user-1000.slice": 2},
                                   verdicts={201: VERDICT}))
    found += (Diagnosis("heap-gap-growing", "warning", "gap", (), "chart", 201),)
    return Frame(snap, found, heaps={201: 100 * MIB}, verdicts={201: VERDICT}, pass_seconds=0.25, rollups=9, passes=3)


def collected(frame: Frame, mode: Mode | str = "program", now: float | None = None) -> list[Metric]:
    """What one scrape of a collector that published ``frame`` yields (memtop's families only)."""
    collector = FrameCollector(parse_mode(mode) if isinstance(mode, str) else mode,
                               clock=lambda: frame.snapshot.time + 7.5 if now is None else now)
    collector.publish(frame)
    return list(collector.collect())


def by_name(families: Iterable[Metric]) -> dict[str, Metric]:
    return {f.name: f for f in families}


def scrape(frame: Frame, mode: str = "program") -> CollectorRegistry:
    collector = FrameCollector(parse_mode(mode))
    collector.publish(frame)
    return registry(collector)
