#!/usr/bin/env python3
"""What reading the memory cgroups costs: the whole tree, memtop's own limit, its usage.

Usage: python bench/cgroups.py [--make N]

Times CgroupReader.tree() (what the cgroup view and --json read each pass),
container() (the lookup of memtop's own limit, every 30 passes live) and
refresh() (that limit's usage, every pass), on this host as it is; with
``--make N`` (root, or a delegated v2 subtree) it first creates N empty
child cgroups under its own (every directory is read, populated or
not), times again, and removes them. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from memtop.collectors.cgroup_tree import CgroupReader  # noqa: E402
from memtop.collectors.paths import HostPaths  # noqa: E402
from memtop.collectors.procfs import memory_cgroup, parse_cgroup  # noqa: E402


def timed(label: str, call, repeat: int = 50) -> float:  # type: ignore[no-untyped-def]
    call()  # warm the dentry cache once
    cpu0, wall0 = time.process_time(), time.perf_counter()
    for _ in range(repeat):
        result = call()
    cpu, wall = (time.process_time() - cpu0) / repeat, (time.perf_counter() - wall0) / repeat
    size = "" if not isinstance(result, tuple) else f"  ({len(result)} populated cgroups)"
    print(f"{label:<28} {wall * 1e3:8.3f} ms wall  {cpu * 1e3:8.3f} ms CPU per call{size}")
    return wall


def count_dirs(top: Path | None) -> int:
    return 0 if top is None else sum(1 for _ in os.walk(top))


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--make", type=int, default=0, metavar="N", help="also time with N extra child cgroups")
    args = parser.parse_args()
    reader = CgroupReader(HostPaths(), os.sysconf("SC_PAGE_SIZE"))
    if reader.top is None or reader.mount is None:
        print(f"no memory cgroup hierarchy here ({reader.note or 'no cgroup fs'})")
        return 1
    print(f"cgroup v{reader.mount.version} memory at {reader.mount.point}: {count_dirs(reader.top)} cgroup directories")
    timed("tree()", reader.tree)
    limit = reader.container()
    timed("container() lookup", reader.container)
    if limit is not None:
        timed("refresh() of own usage", lambda: reader.refresh(limit))
    else:
        print("memtop is in no limited cgroup here: refresh() has nothing to read")
    if args.make <= 0:
        return 0
    own = memory_cgroup(parse_cgroup(Path("/proc/self/cgroup").read_text()))
    parent = reader.directory(own[1]) if own else None
    if parent is None:
        print("cannot find our own cgroup directory")
        return 1
    made: list[Path] = []
    try:
        for i in range(args.make):
            child = parent / f"memtop-bench-{os.getpid()}-{i}"
            child.mkdir()
            made.append(child)  # empty ones are read like any other, then left out of the view
        print(f"made {len(made)} child cgroups under {parent}: {count_dirs(reader.top)} directories")
        timed(f"tree() with +{len(made)}", reader.tree, repeat=20)
    finally:
        for child in made:
            child.rmdir()
    return 0


if __name__ == "__main__":
    sys.exit(main())
