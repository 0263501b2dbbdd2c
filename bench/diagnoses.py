#!/usr/bin/env python3
"""What the diagnoses cost per refresh (prints figures; not a test).

Usage (from the repo, in its venv): .venv/bin/python bench/diagnoses.py [--processes 256] [--samples 2048]

1. ``diagnose()`` on a fixture snapshot with every input present (cgroups, THP view, gap
   verdicts, working sets): the part that runs every refresh.
2. ``growth()``, the RSS trend of every process with a history, at the worst the history
   allows (--processes tracked processes with --samples samples each, all moving): the app runs
   it at most every 5 s.
3. The memory cgroup tree read (``CgroupReader.tree()``) of this host, which the live session
   now does every fifth pass for the diagnoses.
Medians of CPU time (time.process_time) over --rounds.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from memtop.collectors.cgroup_tree import CgroupReader  # noqa: E402
from memtop.collectors.paths import HostPaths  # noqa: E402
from memtop.state.counters import CounterHistory, counter_values  # noqa: E402
from memtop.rules.diagnoses import Signals, diagnose  # noqa: E402
from memtop.state.diagnosis_watch import growth  # noqa: E402
from memtop.rules.gap import GapVerdict  # noqa: E402
from memtop.state.process_history import ProcessHistory  # noqa: E402
from tests.cgroup_fixtures import with_cgroups  # noqa: E402
from tests.dashboard_fixtures import MIB, proc  # noqa: E402


def cpu(fn, repeat: int) -> float:  # type: ignore[no-untyped-def]
    start = time.process_time()
    for _ in range(repeat):
        fn()
    return (time.process_time() - start) / repeat


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--processes", type=int, default=256)
    ap.add_argument("--samples", type=int, default=2048)
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()

    snap = with_cgroups(2)
    history = CounterHistory()
    history.add(0.0, counter_values(snap))
    history.add(1.0, counter_values(snap))
    signals = Signals(swap_in=2 * MIB, thp=history.view(snap), cgroups=snap.cgroups, oom_kills={"/user.slice": 1},
                      verdicts={201: GapVerdict(100 * MIB, "growing", MIB / 60, 0.0, None)})
    d = statistics.median(cpu(lambda: diagnose(snap, signals), 2000) for _ in range(args.rounds))
    print(f"diagnose(): {d * 1e6:.0f} µs per refresh")

    procs = tuple(proc(1000 + i, f"p{i}", 10) for i in range(args.processes))
    ph = ProcessHistory(capacity=args.samples, max_processes=args.processes)
    on_screen = frozenset(p.pid for p in procs)
    for t in range(args.samples):
        ph.record(float(t), (replace(p, rss=(p.rss or 0) + t * 4096) for p in procs), on_screen)
    now = float(args.samples - 1)
    g = statistics.median(cpu(lambda: growth(ph, procs, now, 300.0), 1) for _ in range(args.rounds))
    print(f"growth(): {g * 1e3:.1f} ms for {args.processes} histories of {args.samples} samples (every 5 s at most)")

    reader = CgroupReader(HostPaths(), 4096)
    tree = reader.tree()
    if tree is None:
        print("cgroup tree: no memory cgroups here")
        return
    c = statistics.median(cpu(reader.tree, 20) for _ in range(args.rounds))
    print(f"cgroup tree read: {c * 1e3:.2f} ms for {len(tree)} populated cgroups (every 5th refresh)")


if __name__ == "__main__":
    main()
