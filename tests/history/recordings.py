"""Recordings made from fixture snapshots (known numbers, no clock or host on screen)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from memtop.collectors.models import Snapshot
from memtop.history.recorder import Recorder

from tests.dashboard_fixtures import MIB, PROCESSES, at

#: The recording starts here (Unix seconds): 2026-12-04 12:00:00 UTC.
START = 1_796_385_600.0
STEP = 10.0


def growth_snapshots(n: int = 12) -> list[Snapshot]:
    """``n`` samples 10 s apart; train.py (pid 201) grows by 10 MiB a sample; nginx exits at sample 6."""
    snaps = []
    for i in range(n):
        procs = tuple(
            replace(p, rss=(100 + 10 * i) * MIB, anon=(50 + 10 * i) * MIB, pss=(90 + 10 * i) * MIB,
                    uss=(80 + 10 * i) * MIB, memory_time=START + STEP * i) if p.pid == 201 else p
            for p in PROCESSES if not (p.pid == 400 and i >= 6)
        )
        snaps.append(at(START + STEP * i, {"thp_fault_alloc": 100 + i, "oom_kill": 0}, procs))
    return snaps


def record(path: Path, snaps: list[Snapshot], **options: object) -> Path:
    recorder = Recorder(path, **options)  # type: ignore[arg-type]
    try:
        for snap in snaps:
            recorder.add(snap)
    finally:
        recorder.close()
    return path
