#!/usr/bin/env python3
"""memtop record and replay: bytes per sample, MB per day, recorder CPU and RSS, replay open and jump times.

Prints figures; not a test. Run from the repo with its venv (memtop installed):
  .venv/bin/python bench/history.py [--spawn 260,1960] [--seconds 180] [--interval 10] [--hours 24] [--procs 300]

Recording (the live host): for each population (the machine as it is plus N idle processes from
shared/bench-peers/spawn_procs.py), ``memtop record --interval 10`` runs for --seconds into a fresh
file; after it stops the samples are read back: the key frame's bytes, the mean bytes of the other
samples (document + figures, SQLite's own page overhead counted by the file's size over the
payload) and MB per day at the interval (one key frame every 30 min). CPU % of one core is the
recorder's utime+stime over the window after its first pass (which reads every smaps_rollup);
RSS its VmRSS at the end. atop 10 is measured beside it when installed.

Replay (a synthetic file of --hours at --interval with --procs processes, 3 % of them moving each
sample): the time to open it (History), to show its end (the model fed the 5 min before), a jump to
20 random moments (median and max), one step forward, and the dashboard's first paint (headless).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SPAWN = REPO.parent.parent / "shared" / "bench-peers" / "spawn_procs.py"
TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def rss(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def processes() -> int:
    return sum(1 for d in os.listdir("/proc") if d.isdigit())


def payload(db: Path) -> tuple[int, float, int, int, int]:
    """(samples, key frame bytes, mean bytes of a non-key sample, file bytes, payload bytes)."""
    con = sqlite3.connect(db)
    per = {sid: (key, len(doc) + len(figures or b"") + 12)
           for sid, key, doc, figures in con.execute("SELECT id, key, doc, figures FROM samples")}
    rows = {sid: 0 for sid in per}
    procs = con.execute("SELECT count(*), sum(length(name) + 30) + (SELECT coalesce(sum(length(text) + 4), 0) "
                        "FROM strings) FROM procs").fetchone()
    con.close()
    total = {sid: per[sid][1] + rows[sid] for sid in per}
    keys = [total[s] for s in per if per[s][0]]
    others = [total[s] for s in per if not per[s][0]]
    body = sum(total.values()) + (procs[1] or 0)
    return len(per), statistics.mean(keys), statistics.mean(others) if others else 0.0, db.stat().st_size, body


def empty_size(work: Path) -> int:
    from memtop.history.recorder import Recorder

    path = work / "empty.sqlite"
    if not path.exists():
        Recorder(path).close()
    return path.stat().st_size


def record_population(extra: int, seconds: float, interval: float, work: Path) -> None:
    spawner = None
    if extra:
        spawner = subprocess.Popen([sys.executable, str(SPAWN), str(extra), "--until-stdin-eof", "--quiet",
                                    "--timeout", str(int(seconds + 120))],
                                   stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert spawner.stdout is not None
        while not spawner.stdout.readline().startswith("READY"):
            pass
    db = work / f"rec-{extra}.sqlite"
    atop = shutil.which("atop")
    peer = subprocess.Popen([atop, "-w", str(work / "atop.raw"), "10"], stdout=subprocess.DEVNULL) if atop else None
    try:
        count = processes()
        rec = subprocess.Popen([sys.executable, "-m", "memtop", "record", "--db", str(db), "--interval", str(interval)],
                               stderr=subprocess.PIPE)
        time.sleep(interval * 1.5)  # the first pass (every smaps_rollup) is over
        cpu0, wall0 = cpu_seconds(rec.pid), time.monotonic()
        peer0 = cpu_seconds(peer.pid) if peer else None
        time.sleep(seconds)
        cpu = (cpu_seconds(rec.pid) - cpu0) / (time.monotonic() - wall0) * 100
        peer_cpu = None if peer is None or peer0 is None else (cpu_seconds(peer.pid) - peer0) / (time.monotonic() - wall0) * 100
        resident = rss(rec.pid)
        rec.send_signal(signal.SIGTERM)
        rec.communicate(timeout=60)
    finally:
        if peer is not None:
            peer.terminate()
            peer.wait()
        if spawner is not None:
            spawner.communicate("")
    samples, key, other, file_size, body = payload(db)
    # A 20-sample file is mostly the empty schema's pages: count SQLite's overhead on what was added.
    overhead = max(file_size - empty_size(work), 0) / body if body else 1.0
    per_day = 86400 / interval
    keys_per_day = 86400 / 1800
    day = ((per_day - keys_per_day) * other + keys_per_day * key) * overhead
    print(f"~{count} processes: {samples} samples at {interval:g} s; key frame {key / 1024:.1f} KiB, other samples "
          f"{other:.0f} B each (payload), file/payload {overhead:.2f}; => {other * overhead:.0f} B a sample, "
          f"{day / 1e6:.1f} MB/day; recorder CPU {cpu:.2f} % of a core, RSS {resident / 2**20:.1f} MiB"
          + ("" if peer_cpu is None else f"; atop 10 beside it: CPU {peer_cpu:.2f} %")
          + ("" if atop else "; atop not installed here: not compared"), flush=True)


def synthetic(path: Path, hours: float, interval: float, count: int) -> float:
    """A recording of ``hours`` at ``interval`` with ``count`` processes, 3 % of them moving each sample; seconds it took."""
    from memtop.history.recorder import Recorder
    from tests.dashboard_fixtures import MIB, at, proc

    rng = random.Random(15)
    procs = [proc(1000 + i, f"worker{i % 40}", 5 + i % 50, ppid=1, rss=10 + i % 90) for i in range(count)]
    start = 1_796_385_600.0
    recorder = Recorder(path, retain=None, max_size=None)
    began = time.perf_counter()
    for n in range(int(hours * 3600 / interval)):
        for i in rng.sample(range(count), max(1, count * 3 // 100)):
            p = procs[i]
            procs[i] = replace(p, rss=(p.rss or 0) + 4096 * rng.randint(-8, 16), pss=(p.pss or 0) + 4096 * rng.randint(-4, 8))
        recorder.add(at(start + n * interval, {"thp_fault_alloc": n, "pgfault": n * 1000}, tuple(procs)))
    recorder.close()
    return time.perf_counter() - began


def replay_figures(path: Path) -> None:
    from memtop.history.replay import Replay
    from memtop.history.store import History

    t0 = time.perf_counter()
    history = History(path)
    opened = time.perf_counter() - t0
    replay = Replay(history)
    t0 = time.perf_counter()
    replay.goto(len(history) - 1)
    end = time.perf_counter() - t0
    rng = random.Random(1)
    jumps = []
    for _ in range(20):
        t0 = time.perf_counter()
        replay.goto(rng.randrange(len(history)))
        jumps.append(time.perf_counter() - t0)
    t0 = time.perf_counter()
    replay.step(1)
    step = time.perf_counter() - t0
    paint = asyncio.run(first_paint(path))
    size = path.stat().st_size
    _, key, other, _, body = payload(path)
    print(f"synthetic file: key frame {key / 1024:.1f} KiB, other samples {other:.0f} B (payload); "
          f"file/payload {size / body:.2f} over 24 h", flush=True)
    print(f"synthetic {len(history)} samples ({(history.end - history.start) / 3600:.1f} h), file {size / 1e6:.1f} MB "
          f"({size / len(history):.0f} B a sample): open {opened * 1000:.0f} ms, show its end {end * 1000:.0f} ms, "
          f"jump median {statistics.median(jumps) * 1000:.0f} ms max {max(jumps) * 1000:.0f} ms, step {step * 1000:.0f} ms, "
          f"dashboard first paint {paint * 1000:.0f} ms", flush=True)


async def first_paint(path: Path) -> float:
    from memtop.history.replay import Replay
    from memtop.tui.replay_app import ReplayApp
    from memtop.tui.screens.replay import ReplayScreen

    began = time.perf_counter()
    replay = Replay.open(path)
    replay.goto(len(replay.history) - 1)
    app = ReplayApp(replay)
    async with app.run_test(size=(160, 45)) as pilot:
        while not (isinstance(app.screen, ReplayScreen) and app.screen.snapshot is not None):
            await pilot.pause(0.01)
        return time.perf_counter() - began


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--spawn", default="0,260,1960", help="extra idle processes per population (comma list)")
    parser.add_argument("--seconds", type=float, default=180.0, help="recording window per population")
    parser.add_argument("--interval", type=float, default=10.0)
    parser.add_argument("--hours", type=float, default=24.0, help="the synthetic file's span")
    parser.add_argument("--procs", type=int, default=300, help="the synthetic file's processes")
    parser.add_argument("--skip-record", action="store_true")
    parser.add_argument("--skip-replay", action="store_true")
    args = parser.parse_args()
    sys.path.insert(0, str(REPO))
    with tempfile.TemporaryDirectory(prefix="memtop-bench-history-") as tmp:
        work = Path(tmp)
        if not args.skip_record:
            for extra in (int(x) for x in args.spawn.split(",") if x.strip()):
                record_population(extra, args.seconds, args.interval, work)
        if not args.skip_replay:
            path = work / "synthetic.sqlite"
            took = synthetic(path, args.hours, args.interval, args.procs)
            samples = args.hours * 3600 / args.interval
            print(f"synthetic recording ({args.procs} processes, 3 % moving a sample) written in {took:.0f} s "
                  f"({took * 1000 / samples:.1f} ms a sample); {path.stat().st_size / args.hours * 24 / 1e6:.1f} MB a day",
                  flush=True)
            replay_figures(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
