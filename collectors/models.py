"""Frozen snapshot dataclasses: the one boundary between collectors and the rest.

All sizes are integers in bytes. A value that could not be read is ``None``,
never 0, so that "unknown" and "nothing" stay apart on screen and in JSON.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# Re-exported: the snapshot carries them, and callers import every snapshot type from here.
from memtop.collectors.heap_models import HeapCounters as HeapCounters, HeapDetail as HeapDetail


@dataclass(frozen=True, slots=True)
class TaxonomyPart:
    """One named slice of MemTotal (see ``collectors.meminfo.TAXONOMY``)."""

    name: str
    bytes: int


@dataclass(frozen=True, slots=True)
class Reconciliation:
    """Sum of PSS over processes against AnonPages + Shmem + Mapped.

    The difference is memory that no process maps by itself: kernel memory and
    unmapped page cache, plus PSS that could not be read (``unreadable`` > 0).
    """

    pss_sum: int
    anon_shmem_mapped: int | None
    difference: int | None
    unreadable: int


@dataclass(frozen=True, slots=True)
class SystemMemory:
    """/proc/meminfo, as raw fields and as a taxonomy that adds up to MemTotal."""

    fields: tuple[tuple[str, int], ...]
    total: int | None
    free: int | None
    available: int | None
    available_estimated: bool
    used: int | None
    buffers: int | None
    cached: int | None
    shmem: int | None
    anon: int | None
    slab_reclaimable: int | None
    slab_unreclaimable: int | None
    kernel_stack: int | None
    page_tables: int | None
    percpu: int | None
    hugetlb: int | None
    zswap: int | None
    dirty: int | None
    writeback: int | None
    mapped: int | None
    swap_total: int | None
    swap_free: int | None
    swap_cached: int | None
    anon_huge: int | None
    shmem_huge: int | None
    file_huge: int | None
    taxonomy: tuple[TaxonomyPart, ...]
    overcount: int
    #: What in meminfo cannot be true, and which figures are left out for it
    #: (said in the snapshot's notes; never a negative "used").
    problems: tuple[str, ...] = ()

    def field(self, name: str) -> int | None:
        """A raw meminfo field in bytes (HugePages_* counts stay counts)."""
        for key, value in self.fields:
            if key == name:
                return value
        return None


@dataclass(frozen=True, slots=True)
class PressureLine:
    """One line of a PSI file: share of time stalled, in percent, and total in µs."""

    avg10: float
    avg60: float
    avg300: float
    total: int | None


@dataclass(frozen=True, slots=True)
class Pressure:
    """/proc/pressure/memory (Documentation/accounting/psi.rst)."""

    some: PressureLine | None
    full: PressureLine | None


@dataclass(frozen=True, slots=True)
class ThpSize:
    """One per-size (mTHP) directory, hugepages-<size>kB."""

    enabled: str | None
    stats: tuple[tuple[str, int], ...]


@dataclass(frozen=True, slots=True)
class ThpState:
    """/sys/kernel/mm/transparent_hugepage: policies and khugepaged.

    A policy holds the selected word (``[madvise]`` gives ``"madvise"``).
    """

    enabled: str | None
    defrag: str | None
    shmem_enabled: str | None
    khugepaged: tuple[tuple[str, int | str], ...] | None
    sizes: tuple[tuple[str, ThpSize], ...] | None


@dataclass(frozen=True, slots=True)
class ProcessMemory:
    """One process: identity from stat, figures from status and smaps_rollup."""

    pid: int
    ppid: int
    starttime: int
    name: str
    cmdline: tuple[str, ...]
    uid: int | None
    user: str | None
    state: str
    threads: int
    kernel_thread: bool
    rss: int | None = None
    vsize: int | None = None
    hwm: int | None = None
    anon: int | None = None
    file: int | None = None
    shmem: int | None = None
    swap: int | None = None
    hugetlb: int | None = None
    pss: int | None = None
    uss: int | None = None
    swap_pss: int | None = None
    pss_anon: int | None = None
    pss_file: int | None = None
    pss_shmem: int | None = None
    pss_dirty: int | None = None
    anon_huge: int | None = None
    referenced: int | None = None
    locked: int | None = None
    oom_score: int | None = None
    oom_score_adj: int | None = None
    cgroup: str | None = None
    error: str | None = None
    #: Minor + major page faults so far (stat): a cheap sign that memory moved.
    faults: int = 0
    #: When the smaps_rollup figures (pss, uss, swap_pss, pss_*, anon_huge,
    #: referenced, locked) were read; a live view refreshes them less often
    #: than the cheap ones, so each value knows its age.
    memory_time: float | None = None
    #: Figures shown as read but odd, each with why (PSS above RSS read a moment
    #: apart); unlike ``error``, nothing is missing.
    marks: tuple[str, ...] = ()

    @property
    def key(self) -> tuple[int, int]:
        """Identity across refreshes: a pid is reused, (pid, starttime) is not."""
        return (self.pid, self.starttime)


@dataclass(frozen=True, slots=True)
class Mapping:
    """One VMA of /proc/PID/smaps (Documentation/filesystems/proc.rst).

    Its fields are ``keys`` (one tuple shared by every mapping of a file with
    one layout: 65,000 mappings, one tuple) and ``values`` in the same order;
    sizes in bytes, unitless ones (THPeligible, ProtectionKey) as given.
    """

    start: int
    end: int
    perms: str
    offset: int
    device: str
    inode: int
    path: str
    kind: str
    keys: tuple[str, ...]
    values: tuple[int, ...]
    vmflags: tuple[str, ...]

    @property
    def fields(self) -> tuple[tuple[str, int], ...]:
        return tuple(zip(self.keys, self.values))

    @property
    def size(self) -> int:
        return self.end - self.start

    def get(self, name: str) -> int | None:
        try:
            return self.values[self.keys.index(name)]
        except (ValueError, IndexError):
            return None

    @property
    def rss(self) -> int:
        return self.get("Rss") or 0

    @property
    def pss(self) -> int:
        return self.get("Pss") or 0

    @property
    def uss(self) -> int:
        return (self.get("Private_Clean") or 0) + (self.get("Private_Dirty") or 0)

    @property
    def swap(self) -> int:
        return self.get("Swap") or 0

    @property
    def anon_huge(self) -> int:
        return self.get("AnonHugePages") or 0

    @property
    def dirty(self) -> int:
        return (self.get("Shared_Dirty") or 0) + (self.get("Private_Dirty") or 0)


@dataclass(frozen=True, slots=True)
class ProcessMaps:
    """One read of one process for the drill-down: its record, status and mappings.

    ``mappings`` is None when smaps could not be read; ``error`` says why.
    ``exited``: the process is gone (or its pid now names another process).
    """

    pid: int
    starttime: int | None
    process: ProcessMemory | None
    status: tuple[tuple[str, str], ...]
    mappings: tuple[Mapping, ...] | None
    error: str | None
    exited: bool
    read_seconds: float


@dataclass(frozen=True, slots=True)
class Snapshot:
    """Everything memtop knows about the host at one moment."""

    time: float
    hostname: str
    kernel: str
    page_size: int
    system: SystemMemory | None
    reconciliation: Reconciliation | None
    pressure: Pressure | None
    vmstat: tuple[tuple[str, int], ...]
    thp: ThpState | None
    processes: tuple[ProcessMemory, ...]
    hidden_processes: int | None
    cgroup_hierarchy: str | None
    notes: tuple[str, ...] = field(default=())
    #: Every populated memory cgroup; None when not read (the live view reads
    #: them only while the cgroup view is open) or when there is no cgroup fs.
    cgroups: tuple[CgroupMemory, ...] | None = None
    #: memtop's own memory limit, when it runs inside a limited cgroup.
    container: ContainerLimit | None = None
    #: Heap counters of instrumented processes (live hosts only).
    heaps: tuple[HeapCounters, ...] = ()


#: A memory limit: bytes, ``"max"`` when unlimited, None when unreadable.
Limit = int | str | None

#: The value of a Limit that means no limit (cgroup-v2.rst writes "max").
UNLIMITED = "max"


@dataclass(frozen=True, slots=True)
class CgroupMemory:
    """One memory cgroup: usage, limits, memory.stat, events, pressure, members.

    Each version keeps its own names (Documentation/admin-guide/cgroup-v2.rst,
    "Memory"; cgroup-v1/memory.rst): v2's memory.stat says anon/file/kernel,
    v1's says cache/rss/mapped_file; memtop maps neither onto the other.
    ``path`` is the path in the hierarchy as /proc/PID/cgroup writes it.
    """

    path: str
    version: int
    #: v2 memory.current; v1 memory.usage_in_bytes (both include descendants).
    current: int | None
    #: v2 memory.max; v1 memory.limit_in_bytes.
    max: Limit
    high: Limit  # v2 only (None on v1)
    low: Limit  # v2 only
    min: Limit  # v2 only
    soft_limit: Limit  # v1 memory.soft_limit_in_bytes (None on v2)
    #: The smallest max along the ancestors (v1: hierarchical_memory_limit).
    effective_max: Limit
    stat: tuple[tuple[str, int], ...]
    #: v2 memory.events (low, high, max, oom, oom_kill...); v1 has none, so
    #: memory.oom_control's oom_kill and under_oom and memory.failcnt.
    events: tuple[tuple[str, int], ...]
    pressure: Pressure | None  # v2 memory.pressure
    procs: tuple[int, ...]  # cgroup.procs: direct members only
    error: str | None = None

    @property
    def name(self) -> str:
        return self.path.rstrip("/").rsplit("/", 1)[-1] or "/"

    @property
    def parent(self) -> str | None:
        if self.path in ("/", ""):
            return None
        head = self.path.rstrip("/").rsplit("/", 1)[0]
        return head or "/"

    def event(self, name: str) -> int | None:
        for key, value in self.events:
            if key == name:
                return value
        return None


@dataclass(frozen=True, slots=True)
class ContainerLimit:
    """The memory limit that applies to memtop itself: what its OOM killer enforces.

    ``path`` is the cgroup (memtop's own or an ancestor) with the smallest
    limit, and ``current`` that cgroup's usage, which the limit is against.
    """

    path: str
    version: int
    current: int | None
    limit: int


@dataclass(frozen=True, slots=True)
class WorkingSet:
    """What one process touched over a window (clear_refs, then smaps_rollup ``Referenced``).

    ``referenced`` is None when the measurement failed; ``error`` says why
    (not permitted, the process exited, the kernel lacks the files).
    ``anon_huge``: AnonHugePages at the end; a huge page counts as referenced
    whole, so that part is measured at 2 MiB granularity. ``limit`` is the
    smallest cgroup limit above the process (None: unlimited or unknown),
    ``cgroup_current`` that cgroup's usage; ``available`` MemAvailable at the end.
    """

    pid: int
    starttime: int
    name: str
    window: float  # seconds between the clear and the read
    time: float  # when the window ended (unix seconds)
    referenced: int | None
    rss: int | None
    anon_huge: int | None
    available: int | None
    limit: int | None = None
    cgroup: str | None = None
    cgroup_current: int | None = None
    error: str | None = None
