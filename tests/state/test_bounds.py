"""Issue 13 (the soak): every history memtop keeps is bounded, whatever the interval and the churn."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

from memtop.collectors.models import Snapshot
from memtop.state.model import MemtopModel
from memtop.state.options import StartOptions
from memtop.state.trends import MAX_SAMPLES, RssTrend

from tests.dashboard_fixtures import MIB, PROCESSES, made

TICK = 0.1  # the shortest interval memtop takes
LIFE = 5  # passes each short-lived process lives


def churning(passes: int) -> Iterator[Snapshot]:
    """A snapshot every TICK: the steady processes' RSS moves every pass, one process is born each pass."""
    base = made()
    for i in range(passes):
        steady = tuple(replace(p, rss=(p.rss or 0) + i * 4096) for p in PROCESSES)
        born = tuple(replace(PROCESSES[3], pid=10_000 + j, starttime=j, rss=(j % 7 + 1) * MIB)
                     for j in range(max(0, i - LIFE + 1), i + 1))
        yield replace(base, time=i * TICK, processes=steady + born)


def test_the_rss_trend_keeps_at_most_max_samples_per_process_at_any_interval() -> None:
    trend = RssTrend()
    for snap in churning(int(2 * trend.window / TICK)):
        trend.add(snap)
    alive = len(PROCESSES) + LIFE
    assert len(trend) <= alive * (MAX_SAMPLES + 2)  # 3,000 a process before the bound
    slopes = trend.slopes()
    steady = next(p for p in PROCESSES if p.pid == 201).key
    assert abs(slopes[steady] - 4096 / TICK) < 1  # still the slope: 4 KiB a pass


def _held(model: MemtopModel) -> int:
    history = model.history
    keys = list(history._samples)  # noqa: SLF001 - the test counts what is kept
    return sum(len(history.samples(k)) for k in keys) + len(model.counters._samples)  # noqa: SLF001


def test_the_model_holds_no_more_after_its_histories_filled() -> None:
    model = MemtopModel(StartOptions())
    counts = {}
    for i, snap in enumerate(churning(4000), start=1):
        model.show({p.pid for p in snap.processes}, None)  # everything on screen: every process gets a history
        model.ingest(snap)
        if i in (3000, 4000):  # the steady ones hit 2,048 samples at pass 2,048
            counts[i] = _held(model)
    assert counts[4000] <= counts[3000]
    assert len(model.history) <= model.history.max_processes
