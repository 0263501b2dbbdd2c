"""One Snapshot of a host: system memory, kernel counters, THP and processes."""

from __future__ import annotations

import gc
import os
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace

from .cgroup_tree import CgroupReader
from .cgroups import proc_hidepid, read_memory_hierarchy
from .errors import ParseError
from .fs import read_file, read_optional
from .host import HostFacts, load_facts, user_lookup
from .meminfo import parse_meminfo_checked, system_memory
from .heap_shm import GDB_PREFIX, HeapFiles
from .models import ContainerLimit, HeapCounters, ProcessMemory, Reconciliation, Snapshot, SystemMemory, ThpState
from .paths import HostPaths
from .pressure import parse_pressure
from .processes import MemoryPolicy, ProcessReader, read_processes
from .procfs import parse_int
from .thp import read_thp, refresh_stats
from .vmstat import parse_vmstat

#: Refused heap counter files named one by one in the notes; the rest are counted.
MAX_REFUSAL_NOTES = 3


class HostError(Exception):
    """The host tree cannot be read at all (no proc/, no meminfo, garbage in it)."""


@dataclass(frozen=True, slots=True)
class Options:
    """What to collect. ``pids`` limits the per-process reads (and their cost)."""

    kernel_threads: bool = False
    pids: tuple[int, ...] | None = None


def read_system(paths: HostPaths) -> SystemMemory:
    """SystemMemory of the host; raises HostError when meminfo is missing or garbage."""
    try:
        text = read_file(paths.proc / "meminfo").decode("utf-8", "backslashreplace")
    except OSError as exc:
        raise HostError(f"cannot read {paths.proc / 'meminfo'}: {exc.strerror}") from None
    try:
        fields, problems = parse_meminfo_checked(text)
    except ParseError as exc:
        raise HostError(f"{paths.proc / 'meminfo'}: {exc}") from None
    min_free: int | None = None
    if "MemAvailable" not in fields:  # kernels before 3.14 need the estimate
        raw = read_optional(paths.proc / "sys" / "vm" / "min_free_kbytes")
        try:
            min_free = parse_int(raw.encode()) if raw is not None else None
        except ParseError:
            min_free = None
    return system_memory(fields, min_free, problems)


def reconcile(system: SystemMemory, processes: Iterable[ProcessMemory]) -> Reconciliation:
    """Sum of PSS against AnonPages + Shmem + Mapped (see models.Reconciliation)."""
    pss_sum = 0
    unreadable = 0
    for proc in processes:
        if proc.pss is None:
            unreadable += 0 if proc.kernel_thread or proc.state in "ZX" else 1
        else:
            pss_sum += proc.pss
    parts = (system.anon, system.shmem, system.mapped)
    expected = None if any(p is None for p in parts) else sum(p for p in parts if p is not None)
    return Reconciliation(
        pss_sum=pss_sum,
        anon_shmem_mapped=expected,
        difference=None if expected is None else expected - pss_sum,
        unreadable=unreadable,
    )


def can_hide(paths: HostPaths) -> bool:
    """Whether /proc may hide processes from us: a hidepid mount, or a child PID namespace."""
    status = read_optional(paths.proc / "self" / "status") or ""
    nested = any(line.startswith("NSpid:") and len(line.split()) > 2 for line in status.splitlines())
    return nested or proc_hidepid(paths)


def hidden_tasks(paths: HostPaths, visible_tasks: int) -> int | None:
    """Tasks /proc does not show.

    loadavg's fourth field counts every task of the kernel, not of the
    namespace, so its excess over the tasks we saw is what is hidden (an upper
    bound on hidden processes, which have at least one task each).
    """
    loadavg = read_optional(paths.proc / "loadavg")
    try:
        total = int(loadavg.split()[3].split("/")[1]) if loadavg else None
    except (IndexError, ValueError):
        total = None
    return None if total is None else max(total - visible_tasks, 0)


class Collector:
    """Collects snapshots of one host; keeps what does not change between them."""

    def __init__(
        self,
        paths: HostPaths,
        options: Options = Options(),
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not paths.proc.is_dir():
            raise HostError(f"{paths.proc} is not a directory: no proc/ to read")
        for name, top in (("proc", paths.proc), ("sys", paths.sys)):
            # A captured tree whose proc/ or sys/ is a link out of it would show another host's
            # files, or the live one's, as the capture's (issue 13 item 6).
            if not paths.live and paths.inside(paths.root, name) is None:
                raise HostError(f"{top} leads out of the tree {paths.root} (a link to {os.path.realpath(top)}): refused")
        self.paths = paths
        self.options = options
        self.clock = clock
        self.facts: HostFacts = load_facts(paths)
        self._users = user_lookup(self.facts, paths.live)
        self.cgroup_hierarchy = read_memory_hierarchy(paths)
        self.can_hide = can_hide(paths)  # mount options and namespaces do not change under us
        self.cgroups = CgroupReader(paths, self.facts.page_size)
        # Heap counter files live in /dev/shm of the running host: a captured
        # tree has none (and another host's pids would not match anyway).
        self.heap_files = HeapFiles(proc=paths.proc) if paths.live else None
        #: The last gdb sample of a process (key H), shown where no live source speaks.
        self.gdb_files = HeapFiles(proc=paths.proc, prefix=GDB_PREFIX) if paths.live else None

    def _container(self, container: bool | ContainerLimit | None) -> ContainerLimit | None:
        if container is True:
            return self.cgroups.container()
        return self.cgroups.refresh(container) if isinstance(container, ContainerLimit) else None

    def collect(
        self,
        policy: MemoryPolicy | None = None,
        thp: bool | ThpState | None = True,
        cgroups: bool = True,
        container: bool | ContainerLimit | None = True,
    ) -> Snapshot:
        """One snapshot.

        ``policy`` chooses whose files to read (default: every file of every
        process). ``thp`` False skips the ~180 THP files; a ThpState given
        keeps its policies and has only the stats of the sizes that can
        fault re-read (a live view reads the rest less often).
        ``cgroups`` False skips the memory cgroup tree (7-9 files per cgroup);
        ``container`` True looks up memtop's own limit; a ContainerLimit given
        has only its usage read again (the live view looks the limit up seldom).
        """
        paths = self.paths
        stamp = self.clock()
        system = read_system(paths)
        vmstat_text = read_optional(paths.proc / "vmstat")
        notes: list[str] = list(system.problems)
        vmstat: dict[str, int] = {}
        if vmstat_text is not None:
            try:
                vmstat = parse_vmstat(vmstat_text)
            except ParseError as exc:
                notes.append(f"vmstat: {exc}")
        pressure_text = read_optional(paths.proc / "pressure" / "memory")
        pressure = None
        if pressure_text is not None:
            try:
                pressure = parse_pressure(pressure_text)
            except ParseError as exc:
                notes.append(f"pressure: {exc}")
        # Thousands of small objects per pass would trigger the cyclic GC
        # over and over; none of them forms a cycle, so pause it meanwhile.
        gc_was_enabled = gc.isenabled()
        gc.disable()
        try:
            with ProcessReader(
                paths, self._users, self.options.kernel_threads, self.facts.denied, policy, stamp
            ) as reader:
                processes, tasks = read_processes(reader, self.options.pids)
        finally:
            if gc_was_enabled:
                gc.enable()
        if cgroups and self.cgroups.note:
            notes.append(self.cgroups.note)
        hidden = None
        if self.options.pids is None:
            hidden = hidden_tasks(paths, tasks) if self.can_hide else 0
        # The sum of PSS means something only over every process.
        reconciliation = reconcile(system, processes) if self.options.pids is None else None
        heaps = self._heaps(processes)
        notes.extend(self._heap_refusals(heaps))
        return Snapshot(
            time=stamp,
            hostname=self.facts.hostname,
            kernel=self.facts.kernel,
            page_size=self.facts.page_size,
            system=system,
            reconciliation=reconciliation,
            pressure=pressure,
            vmstat=tuple(vmstat.items()),
            thp=read_thp(paths.sys) if thp is True else (refresh_stats(paths.sys, thp) if thp else None),
            processes=processes,
            hidden_processes=hidden,
            cgroup_hierarchy=self.cgroup_hierarchy,
            notes=tuple(notes),
            cgroups=self.cgroups.tree() if cgroups else None,
            container=self._container(container),
            heaps=heaps,
        )

    def _heaps(self, processes: tuple[ProcessMemory, ...]) -> tuple[HeapCounters, ...]:
        """Counters of the instrumented processes among ``processes`` (a listdir when there are none)."""
        if self.heap_files is None:
            return ()
        known = lambda: {p.pid: (p.starttime, p.uid) for p in processes}  # noqa: E731
        found = self.gdb_files.read(known) if self.gdb_files is not None else {}
        found.update(self.heap_files.read(known))  # a live source wins over a one-off sample
        if not found:
            return ()
        sizes = {p.pid: p.vsize for p in processes}
        return tuple(_plausible(h, sizes.get(h.pid)) for h in found.values())

    def _heap_refusals(self, heaps: tuple[HeapCounters, ...]) -> list[str]:
        """"no heap figure (why)" for counter files refused at this read (issue 13): a few, then a count,
        since a user can plant one for each of their processes."""
        counted = {h.pid for h in heaps}
        refused: dict[int, str] = {}
        for files in (self.gdb_files, self.heap_files):
            if files is not None:
                refused.update((pid, why) for pid, why in files.refused.items() if pid not in counted)
        notes = [f"no heap figure for pid {pid}: {why}" for pid, why in sorted(refused.items())[:MAX_REFUSAL_NOTES]]
        if len(refused) > MAX_REFUSAL_NOTES:
            notes.append(f"no heap figure for {len(refused) - MAX_REFUSAL_NOTES} more processes whose counter files were refused")
        return notes


def _plausible(counters: HeapCounters, vsize: int | None) -> HeapCounters:
    """Counters whose heap fits in the process's address space; else refused, saying why.

    The counter file is written by the process (any user's): a heap in use
    larger than VmSize, all the process has mapped, cannot be true and is
    not shown as given (issue 13, item 9).
    """
    claims = [n for n in (counters.in_use, counters.peak) if n is not None]
    if vsize is None or not claims or max(claims) <= vsize:
        return counters
    return replace(
        counters, in_use=None, peak=None,
        refused=(f"heap refused: the counter file claims {max(claims)} bytes, more than the process's whole "
                 f"address space (VmSize {vsize} bytes)"),
    )
