"""Working-set measurements (key ``w``, ``memtop --wss``), and where the last ones are kept.

``WorkingSets.measure`` owns the schedule: the clear_refs write and the smaps_rollup read
(~12 ms per GiB each, feasibility.md §B1) run in a thread, and the window is
an ``asyncio.sleep`` in between, so the screen never waits. One measurement
per process at a time: two at once would spoil each other's window.

The last measurement of each process is kept in
``$XDG_CACHE_HOME/memtop/working-sets.json`` (at most ``KEEP``), so that
``memtop --json`` can report it with its window and age; with this boot's
id, since a pid and start time name a process within one boot only. The
directory must be the user's alone and the file a regular file of the user
(collectors/safe_open.py); it is replaced whole through a new temporary file.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, fields
from pathlib import Path

from memtop.collectors.cgroup_tree import CgroupReader
from memtop.collectors.fs import read_optional
from memtop.collectors.models import ProcessMemory, WorkingSet
from memtop.collectors.paths import HostPaths
from memtop.collectors.safe_open import OTHERS_WRITE, read_regular, trusted_directory, write_atomically
from memtop.collectors.snapshot import Collector, Options
from memtop.collectors.working_set import Refused, clear, measure, read_end, why_not
from memtop.instrument.cache import cache_home

from memtop.rules.working_set_fit import describe

#: Windows offered (seconds); the default is 5 s (feasibility.md §B: a window
#: much shorter than the program's access cycle jumps between 0 and all).
WINDOWS = (1.0, 2.0, 5.0, 10.0, 30.0, 60.0)
DEFAULT_WINDOW = 5.0
KEEP = 64
#: The kept file holds KEEP small records: far less than this.
STORE_LIMIT = 1 << 20

Key = tuple[int, int]


def store_path() -> Path:
    return cache_home() / "working-sets.json"


def boot_id() -> str | None:
    """This boot's id: a pid and start time name one process only within one boot."""
    text = read_optional(HostPaths().proc / "sys" / "kernel" / "random" / "boot_id")
    return text.strip() if text else None


def load(path: Path | None = None) -> tuple[WorkingSet, ...]:
    """The kept measurements of this boot (none when the file is missing or not ours)."""
    target = path or store_path()
    try:
        # In the checked cache directory, a regular file of ours: never a FIFO, a link, another's file.
        folder = trusted_directory(target.parent, create=False)
        try:
            raw = read_regular(target.name, dir_fd=folder, limit=STORE_LIMIT, owners={os.geteuid()}, forbid=OTHERS_WRITE)
        finally:
            os.close(folder)
        data = json.loads(raw)
        if data.get("boot_id") != boot_id():
            return ()  # measured before a reboot: pid 1 started at tick 1 is another process now
        names = {f.name for f in fields(WorkingSet)}
        return tuple(WorkingSet(**{k: v for k, v in item.items() if k in names}) for item in data["working_sets"])
    except (OSError, ValueError, KeyError, TypeError):
        return ()


def save(results: Iterable[WorkingSet], path: Path | None = None) -> None:
    """Keep the newest ``KEEP`` measurements (written whole, then renamed: never half a file)."""
    target = path or store_path()
    kept = sorted(results, key=lambda w: w.time)[-KEEP:]
    data = json.dumps({"schema": "memtop.working-sets/1", "boot_id": boot_id(), "working_sets": [asdict(w) for w in kept]})
    try:
        # A new temporary file (O_EXCL, an unguessable name) in the checked directory, renamed over
        # the target: a planted working-sets.*.tmp link cannot redirect the write (issue 13 item 3).
        write_atomically(target.parent, target.name, data.encode())
    except OSError:
        pass  # a read-only home or a refused directory: the dashboard still shows them


def remember(result: WorkingSet, path: Path | None = None) -> None:
    """Add one measurement to the kept ones (it replaces the same process's last)."""
    others = [w for w in load(path) if (w.pid, w.starttime) != (result.pid, result.starttime)]
    save([*others, result], path)


class WorkingSets:
    """The model's measurements: running ones and the last result per process."""

    def __init__(self, paths: HostPaths | None, cgroups: CgroupReader | None, path: Path | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        self.paths = paths
        self.cgroups = cgroups
        self.path = path
        self.clock = clock
        self.results: dict[Key, WorkingSet] = {(w.pid, w.starttime): w for w in load(path)} if paths is not None and paths.live else {}
        #: Measurements in progress: seconds left, by process.
        self.running: dict[Key, float] = {}

    def reload(self) -> None:
        """The kept measurements as the file has them now (another memtop may have added one), then
        this process's own that it lacks (those with no count are not kept)."""
        if self.paths is None or not self.paths.live:
            return
        kept = {(w.pid, w.starttime): w for w in load(self.path)}
        self.results = {**kept, **{k: w for k, w in self.results.items() if k not in kept}}

    def why_not(self, proc: ProcessMemory) -> str | None:
        if self.paths is None:
            return "no live host to measure (tests, or a captured tree)"
        if proc.key in self.running:
            return "a measurement of this process is already running"
        return why_not(self.paths, proc.pid, proc.starttime)

    def last(self, proc: ProcessMemory) -> WorkingSet | None:
        return self.results.get(proc.key)

    def current(self, alive: Iterable[Key]) -> tuple[WorkingSet, ...]:
        """The last result of each process still alive."""
        keys = set(alive)
        return tuple(w for k, w in self.results.items() if k in keys)

    async def measure(self, proc: ProcessMemory, window: float, progress: Callable[[float], None]) -> WorkingSet:
        """Clear, wait the window (reporting the seconds left), read. Never blocks the event loop.

        Raises:
            Refused: when the window cannot start (the reason in words).
        """
        import asyncio  # here: `memtop --json` and `--once` do not pay ~11 ms to import it (issue 17, goal 5)

        if self.paths is None:
            raise Refused("no live host to measure")
        paths, key = self.paths, proc.key
        if key in self.running:
            raise Refused("a measurement of this process is already running")
        self.running[key] = window
        try:
            name = await asyncio.to_thread(clear, paths, proc.pid, proc.starttime)
            started = time.monotonic()
            left = window
            while left > 0:
                progress(left)
                await asyncio.sleep(min(1.0, left))
                left = window - (time.monotonic() - started)
                self.running[key] = max(left, 0.0)
            elapsed = time.monotonic() - started
            result = await asyncio.to_thread(
                read_end, paths, proc.pid, proc.starttime, name, max(window, round(elapsed, 1)), self.clock(), self.cgroups, proc.cgroup)
        finally:
            self.running.pop(key, None)
        self.results[key] = result
        if result.referenced is not None:
            await asyncio.to_thread(remember, result, self.path)
        return result


def measure_once(collector: Collector, pid: int, window: float, say: Callable[[str], None]) -> WorkingSet:
    """``memtop --wss PID``: one measurement, said before and after, kept for the JSON.

    Raises:
        Refused: no such process, not permitted, a kernel thread, exited meanwhile.
    """
    found = Collector(collector.paths, Options(kernel_threads=True, pids=(pid,))).collect(
        thp=False, cgroups=False, container=False)
    proc = next((p for p in found.processes if p.pid == pid), None)
    if proc is None:
        raise Refused(f"no such process: {pid}")
    # Refuse before saying "measuring": a kernel thread, a zombie, another user's
    # process or a captured tree is never measured (issue 13, item 10).
    why = why_not(collector.paths, pid, proc.starttime)
    if why is not None:
        raise Refused(why)
    say(f"measuring the working set of {proc.name} ({pid}) over {window:g} s "
        "(this resets its page reference bits, which reclaim uses)")
    result = measure(collector.paths, pid, proc.starttime, window, cgroups=collector.cgroups, cgroup=proc.cgroup)
    if result.referenced is None:
        raise Refused(result.error or "not measured")
    remember(result)
    say(f"{proc.name} ({pid}) {describe(result, result.time)}")
    return result
