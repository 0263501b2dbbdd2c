#!/usr/bin/env python3
"""What memtop.probe costs a Python program, and how long the gdb attach (H) pauses a C program.

Usage (from the repo, in its venv): .venv/bin/python bench/heap_sources.py [--seconds 5] [--attaches 5]

1. The probe: a Python program starts memtop.probe at 10 Hz, makes N free chunks in glibc's heap
   (N = 0, 10k, 100k, 400k of 520 bytes: mallinfo2 walks them all, feasibility.md §A3), then idles. Its CPU
   time over --seconds (utime + stime from /proc/PID/stat) is the probe's; printed with the
   period the probe chose, the period it kept (the wall time over the samples it took in the
   window: longer on a busy machine, whose scheduler wakes it late) and its smoothed cost per
   sample. The tests assert the rule that picks the period (tests/test_probe_schedule.py), never
   these figures: under load a sample costs more and the period stretches (0.15 s was seen where
   0.1 s was asked, issue 13).
2. The attach: a C program with a 1 ms heartbeat thread (it reports the longest gap between
   beats) and a main thread parked in read(); memtop.instrument.attach.sample_heap runs --attaches times.
   Printed: gdb's wall time, the longest heartbeat gap during it (the pause the program felt).

Figures are from this machine at the time of the run; the VM is noisy (10-15 %).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

PROBED = textwrap.dedent("""
    import sys, time
    import memtop.probe
    chunks = [bytearray(520) for _ in range({n} * 2)]  # over pymalloc's 512 bytes: from malloc
    del chunks[::2]  # every other one freed: {n} free chunks between live ones
    p = memtop.probe.start(0.1)
    print("ready", flush=True)
    while sys.stdin.readline():
        print(p.interval, p.cost, p.samples, time.monotonic(), flush=True)
""")

HEARTBEAT = textwrap.dedent(r"""
    #include <pthread.h>
    #include <stdio.h>
    #include <stdlib.h>
    #include <string.h>
    #include <time.h>
    static volatile double worst;
    static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec / 1e9; }
    static void *beat(void *a) {
        (void)a;
        double last = now();
        struct timespec ms = {0, 1000000};
        for (;;) { nanosleep(&ms, NULL); double t = now(); if (t - last > worst) worst = t - last; last = t; }
        return NULL;
    }
    int main(void) {
        for (int i = 0; i < 2000; i++) { char *p = malloc(10000); memset(p, 1, 10000); }
        pthread_t t; pthread_create(&t, NULL, beat, NULL);
        char line[64];
        printf("ready\n"); fflush(stdout);
        while (fgets(line, sizeof line, stdin)) {  /* "r": report and reset the worst gap */
            printf("%.1f\n", worst * 1000); fflush(stdout); worst = 0;
        }
        return 0;
    }
""")


def cpu(pid: int) -> float:
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2:].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def probe(seconds: float) -> None:
    print(f"memtop.probe at 10 Hz, idle program, CPU over {seconds:g} s")
    print(f"{'free chunks':>12} {'CPU %':>7} {'period s':>9} {'kept s':>7} {'ms/sample':>10} {'samples':>8}")
    for n in (0, 10_000, 100_000, 400_000):
        child = subprocess.Popen([sys.executable, "-c", PROBED.format(n=n)], stdin=subprocess.PIPE,
                                 stdout=subprocess.PIPE, text=True, env=dict(os.environ, MEMTOP_HEAP_DIR=tempfile.gettempdir()))
        assert child.stdout is not None and child.stdin is not None
        child.stdout.readline()
        time.sleep(1.0)  # let the rate settle

        def report() -> tuple[float, float, int, float]:
            assert child.stdout is not None and child.stdin is not None
            child.stdin.write("\n")
            child.stdin.flush()
            interval, cost, samples, when = child.stdout.readline().split()
            return float(interval), float(cost), int(samples), float(when)

        before = cpu(child.pid)
        _, _, first, began = report()
        time.sleep(seconds)
        used = cpu(child.pid) - before
        interval, cost, samples, ended = report()
        child.stdin.close()
        child.wait()
        taken = samples - first
        kept = f"{(ended - began) / taken:>7.3f}" if taken else f"{'-':>7}"
        print(f"{n:>12,} {used / seconds * 100:>7.2f} {interval:>9.2f} {kept} {cost * 1000:>10.3f} {samples:>8}")


def attach(times: int) -> None:
    from memtop.instrument.attach import sample_heap

    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None or shutil.which("gdb") is None:
        print("attach: needs cc and gdb")
        return
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "hb.c").write_text(HEARTBEAT)
        subprocess.run([cc, "-O1", "-pthread", "-o", f"{tmp}/hb", f"{tmp}/hb.c"], check=True)
        child = subprocess.Popen([f"{tmp}/hb"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert child.stdout is not None and child.stdin is not None
        child.stdout.readline()

        def worst() -> float:
            assert child.stdout is not None and child.stdin is not None
            child.stdin.write("r\n")
            child.stdin.flush()
            return float(child.stdout.readline())

        time.sleep(0.5)
        idle = worst()
        time.sleep(1.0)
        idle = max(idle, worst())
        walls, stalls = [], []
        for _ in range(times):
            time.sleep(0.5)
            worst()
            time.sleep(0.2)  # back in read()
            result = sample_heap(child.pid, directory=Path(tmp))
            if result.figures is None:
                print("attach:", result.message)
                continue
            walls.append(result.figures.cost * 1000)
            stalls.append(worst())
        child.kill()
        child.wait()
    print(f"gdb attach, {len(walls)} samples: gdb wall {min(walls):.0f}-{max(walls):.0f} ms (median "
          f"{statistics.median(walls):.0f}); longest heartbeat gap during it {min(stalls):.1f}-{max(stalls):.1f} ms "
          f"(median {statistics.median(stalls):.1f}); without gdb {idle:.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--attaches", type=int, default=5)
    args = parser.parse_args()
    probe(args.seconds)
    attach(args.attaches)


if __name__ == "__main__":
    main()
