#!/usr/bin/env python3
"""Soak: memtop's RSS and descriptors over many passes with process churn, flat after warm-up? (prints figures; not a test).

Usage (from the repo, in a venv where memtop is installed, e.g. ``pip install -e .``):
  python bench/soak.py [--passes 100000] [--interval 0.1] [--mode both|dashboard|json]
                       [--churn 20] [--samples 20] [--warmup 0.3] [--trace]

Issue 13 ("And prove it stays so"): the dashboard grew 47 -> 75 MiB in its first minutes at rest.
Two runs, one after the other, each for --passes passes at --interval seconds:

  dashboard  the Textual app as `memtop` builds it (live host, the cost-aware monitor, the 0.1 s
             interval) run headless by Textual's run_test in a child process of its own, which
             prints a line per pass ingested; the real terminal driver is left out (tests/live/
             test_exit_signals.py runs that under a pty).
  json       ``memtop --json --interval S --count N`` as a user runs it; a pass is a line read.

Meanwhile a thread makes churn: --churn short-lived processes a second (``sleep`` of 0.05-1 s, so
each is seen by a few passes and leaves a pid, a start time and a history behind), reaped as they
end. The measured process's VmRSS (/proc/PID/status), open descriptors (/proc/PID/fd) and threads
are sampled --samples times, evenly over the passes, with the host's process count. After the
first --warmup share of the passes, and at least 2,048 (the per-process history fills for 2,048
changes: at one a pass that is its bound being reached, not a leak), the RSS must stay
within max(2 MiB, 3 %) of its value at the end of warm-up and the descriptors must not grow: the
table ends with that verdict for each run, and the exit status is 1 when one is not flat. A host
whose process count changed by half after warm-up is not judged (memtop's figures follow it).

--trace (dashboard only): tracemalloc in the child; the 12 allocation sites that grew most between
the end of warm-up and the last pass are printed (what to bound when it is not flat).
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

MIB = 1024 * 1024

#: The child of the dashboard run: builds the app as run_dashboard does and runs it headless.
DASHBOARD_CHILD = r"""
import asyncio, gc, os, sys, tracemalloc
def say(text):  # Textual takes print() and sys.stdout over while the app runs: write to the descriptor
    os.write(1, (text + "\n").encode())
passes, interval, trace, warmup = int(sys.argv[1]), float(sys.argv[2]), sys.argv[3] == "1", int(sys.argv[4])
if trace:
    tracemalloc.start(8)
from memtop.collectors.paths import HostPaths
from memtop.collectors.snapshot import Collector, Options
from memtop.state.monitor import Monitor
from memtop.state.options import StartOptions
from memtop.tui.app import MemtopApp

gc.freeze()
gc.set_threshold(20_000, 50, 1_000)
monitor = Monitor.build(Collector(HostPaths(), Options()), StartOptions(interval=interval))
app = MemtopApp(monitor.model, monitor)
done = asyncio.Event()
count = 0
before = None
ingest = monitor.model.ingest

def counted(reading):
    global count, before
    out = ingest(reading)
    count += 1
    say(f"pass {count}")
    if trace and count == warmup:
        before = tracemalloc.take_snapshot()
    if count >= passes:
        done.set()
    return out

monitor.model.ingest = counted

async def main():
    async with app.run_test(size=(160, 45)) as pilot:
        await done.wait()
        if trace and before is not None:
            after = tracemalloc.take_snapshot()
            for stat in after.compare_to(before, "traceback")[:12]:
                say(f"trace {stat.size_diff / 1024:+.1f} KiB {stat.count_diff:+d} blocks:")
                for line in stat.traceback.format(limit=4):
                    say(f"trace     {line}")
        app.exit(0)

asyncio.run(main())
"""


@dataclass
class Sample:
    passes: int
    seconds: float
    rss: int
    fds: int
    threads: int
    #: Processes on the host then: memtop's figures follow it (one JSON line of 2,000 processes is ~2 MB).
    population: int


def _measure(pid: int) -> tuple[int, int, int, int] | None:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
        fds = len(os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        return None
    fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
    population = sum(1 for d in os.listdir("/proc") if d.isdigit())
    return int(fields["VmRSS"].split()[0]) * 1024, fds, int(fields["Threads"]), population


@contextmanager
def churn(rate: float) -> Iterator[Callable[[], int]]:
    """Short-lived children, ``rate`` a second, reaped as they end; yields how many were started."""
    stop = threading.Event()
    started = 0
    sleep = shutil.which("sleep") or "/bin/sleep"

    def spawn() -> None:
        nonlocal started
        children: list[subprocess.Popen[bytes]] = []
        rng = random.Random(13)
        while not stop.wait(1 / rate):
            children.append(subprocess.Popen([sleep, f"{rng.uniform(0.05, 1.0):.2f}"]))
            started += 1
            children = [c for c in children if c.poll() is None]
        for c in children:
            c.kill()
            c.wait()

    thread = threading.Thread(target=spawn, daemon=True) if rate > 0 else None
    if thread is not None:
        thread.start()
    try:
        yield lambda: started
    finally:
        stop.set()
        if thread is not None:
            thread.join()


def soak(argv: list[str], passes: int, samples: int, pass_of: Callable[[str], int | None],
         extra: Callable[[str], None] = lambda line: None) -> tuple[list[Sample], int]:
    """Run ``argv``; sample it at evenly spaced passes (read from its stdout by ``pass_of``)."""
    every = max(1, passes // samples)
    out: list[Sample] = []
    start = time.monotonic()
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True, bufsize=1)
    assert proc.stdout is not None
    seen = 0
    for line in proc.stdout:
        got = pass_of(line)
        if got is None:
            extra(line)
            continue
        seen = got
        if seen == 1 or seen % every == 0 or seen == passes:
            measured = _measure(proc.pid)
            if measured is not None:
                out.append(Sample(seen, time.monotonic() - start, *measured))
                print(row(out[-1]), flush=True)  # as it goes: a long soak shows its progress
    return out, proc.wait()


#: The per-process history fills for 2,048 changes (one a pass for memtop itself and any
#: process whose RSS moves): before that its growth is the bound being reached, not a leak.
FILL = 2048


def verdict(samples: list[Sample], passes: int, warmup: float) -> tuple[bool, str]:
    warm = [s for s in samples if s.passes >= max(passes * warmup, FILL)]
    if len(warm) < 2:
        return False, f"not judged: too few samples after warm-up (pass {max(passes * warmup, FILL):.0f}; the histories fill for {FILL} passes)"
    populations = [s.population for s in warm]
    if max(populations) > 1.5 * min(populations) + 50:
        return False, (f"not judged: the host's processes went from {min(populations)} to {max(populations)} "
                       "after warm-up (memtop's figures follow them); run it on a quieter machine")
    first, last = warm[0], warm[-1]
    allowed = max(2 * MIB, first.rss * 0.03)
    peak = max(s.rss for s in warm)
    grew = peak - first.rss
    fds_grew = max(s.fds for s in warm) - first.fds
    flat = grew <= allowed and fds_grew <= 0
    return flat, (f"after warm-up (pass {first.passes}): RSS {first.rss / MIB:.1f} -> {last.rss / MIB:.1f} MiB "
                  f"(peak +{grew / MIB:.1f} MiB, allowed {allowed / MIB:.1f}), fds {first.fds} -> {last.fds}: "
                  + ("FLAT" if flat else "NOT FLAT"))


HEADER = f"{'pass':>8} {'seconds':>9} {'RSS MiB':>8} {'fds':>5} {'threads':>7} {'processes':>9}"


def row(s: Sample) -> str:
    return f"{s.passes:>8} {s.seconds:>9.1f} {s.rss / MIB:>8.1f} {s.fds:>5} {s.threads:>7} {s.population:>9}"


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    p.add_argument("--passes", type=int, default=100_000, help="passes of each run (default 100000)")
    p.add_argument("--interval", type=float, default=0.1, help="seconds between passes (default 0.1)")
    p.add_argument("--mode", choices=("both", "dashboard", "json"), default="both")
    p.add_argument("--churn", type=float, default=20.0, help="short-lived processes started a second (0: at rest)")
    p.add_argument("--samples", type=int, default=20, help="measurements over the run (default 20)")
    p.add_argument("--warmup", type=float, default=0.3, help="share of the passes before the flatness check (default 0.3)")
    p.add_argument("--trace", action="store_true", help="dashboard: print the allocation sites that grew after warm-up")
    args = p.parse_args()
    if args.passes < 10 or not 0 < args.warmup < 1:
        p.error("--passes at least 10, --warmup between 0 and 1")
    runs = ("dashboard", "json") if args.mode == "both" else (args.mode,)
    all_flat = True
    print(f"memtop soak: {args.passes} passes at {args.interval:g} s, churn {args.churn:g} processes/s, "
          f"python {sys.version.split()[0]}, pid_max {Path('/proc/sys/kernel/pid_max').read_text().strip()}, "
          f"{len([d for d in os.listdir('/proc') if d.isdigit()])} processes at start", flush=True)
    for run in runs:
        traced: list[str] = []
        print(f"\n{run}\n{HEADER}", flush=True)
        with churn(args.churn) as started:
            if run == "dashboard":
                warm_pass = max(1, int(args.passes * args.warmup))
                argv = [sys.executable, "-c", DASHBOARD_CHILD, str(args.passes), str(args.interval),
                        "1" if args.trace else "0", str(warm_pass)]

                def pass_of(line: str) -> int | None:
                    return int(line.split()[1]) if line.startswith("pass ") else None

                samples, status = soak(argv, args.passes, args.samples, pass_of,
                                       lambda line: traced.append(line.rstrip()) if line.startswith("trace") else None)
            else:
                argv = [sys.executable, "-m", "memtop", "--json", "--interval", str(args.interval),
                        "--count", str(args.passes)]
                lines = 0

                def pass_of(line: str) -> int | None:
                    nonlocal lines
                    lines += 1
                    return lines

                samples, status = soak(argv, args.passes, args.samples, pass_of)
            spawned = started()
        flat, said = verdict(samples, args.passes, args.warmup)
        all_flat &= flat and status == 0
        print(f"{run}: exit status {status}, {spawned} short-lived processes started meanwhile; {said}", flush=True)
        for line in traced:
            print(line)
    return 0 if all_flat else 1


if __name__ == "__main__":
    sys.exit(main())
