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


def record_replayable(path: Path, snaps: list[Snapshot], kill_at: int | None = None, **options: object) -> Path:
    """Record as memtop record does: each snapshot through the model (its diagnoses kept), an OOM kill at ``kill_at``."""
    from memtop.history.oom_journal import kill_entry
    from memtop.collectors.oom import OomKill
    from memtop.state.model import MemtopModel
    from memtop.state.options import StartOptions

    model = MemtopModel(StartOptions(frozen=True))
    recorder = Recorder(path, **options)  # type: ignore[arg-type]
    try:
        for i, snap in enumerate(snaps):
            done = model.ingest(snap)
            recorder.add(snap, done.diagnoses)
            if i == kill_at:
                kill = OomKill(usec=0, pid=202, name="python3", uid=1000, total_vm=400 * MIB, anon_rss=70 * MIB,
                               file_rss=8 * MIB, shmem_rss=0, pgtables=MIB, oom_score_adj=0, constraint="memcg",
                               memcg="/user.slice", task_memcg="/user.slice/serve.service")
                recorder.event("oom", snap.time + 1, kill_entry(kill, snap.time + 1, snaps[i - 1]))
    finally:
        recorder.close()
    return path
