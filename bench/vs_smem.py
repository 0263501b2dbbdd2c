#!/usr/bin/env python3
"""Hold memtop's PSS and USS against smem's on this machine (a user's check, not a CI test).

Starts three idle processes of known size (17, 24 and 31 MiB written), then
reads smem, memtop --json, smem again, and compares each target (all of 10 MiB
PSS or more) with the mean of the two smem readings. Busy processes, and small
ones that move whenever a tool maps its own libraries, are left out.

Usage: bench/vs_smem.py [--memtop PATH]   (needs `smem`: apt-get install smem)
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time

# Perl, not Python: the targets then share no library pages with either tool,
# so neither tool's own start-up moves their PSS.
TARGET = '$| = 1; my $x = "x" x ({n} << 20); print "\\n"; sleep 600;'


def smem() -> dict[int, tuple[int, int]]:
    out = subprocess.run(["smem", "-c", "pid pss uss"], capture_output=True, text=True, check=True).stdout
    rows = (line.split() for line in out.splitlines()[1:])
    return {int(pid): (int(pss) * 1024, int(uss) * 1024) for pid, pss, uss in rows}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--memtop", default=shutil.which("memtop") or "memtop")
    args = parser.parse_args()
    if shutil.which("smem") is None:
        print("smem is not installed (apt-get install smem)", file=sys.stderr)
        return 2
    targets = [subprocess.Popen(["perl", "-e", TARGET.format(n=n)], stdout=subprocess.PIPE) for n in (17, 24, 31)]
    try:
        for t in targets:
            assert t.stdout is not None
            t.stdout.readline()
        time.sleep(0.5)
        before = smem()
        snap = json.loads(subprocess.run([args.memtop, "--json"], capture_output=True, text=True, check=True).stdout)
        after = smem()
    finally:
        for t in targets:
            t.kill()
            t.wait()
    worst = 0.0
    print(f"{'pid':>7} {'name':15} {'memtop PSS':>11} {'smem PSS':>9} {'diff':>8} {'memtop USS':>11} {'smem USS':>9} {'diff':>8}")
    for p in snap["processes"]:
        pid = p["pid"]
        if pid not in {t.pid for t in targets} or p["pss"] is None or p["pss"] < 10 << 20:
            continue
        spss = (before[pid][0] + after[pid][0]) / 2
        suss = (before[pid][1] + after[pid][1]) / 2
        dp, du = (p["pss"] - spss) / spss * 100, (p["uss"] - suss) / suss * 100
        worst = max(worst, abs(dp), abs(du))
        print(f"{pid:>7} {p['name'][:15]:15} {p['pss'] >> 10:>8} kB {int(spss) >> 10:>6} kB {dp:+7.3f}% "
              f"{p['uss'] >> 10:>8} kB {int(suss) >> 10:>6} kB {du:+7.3f}%")
    print(f"largest difference: {worst:.3f}% (goal: within 1%)")
    return 0 if worst <= 1.0 else 1


if __name__ == "__main__":
    sys.exit(main())
