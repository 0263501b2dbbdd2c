"""One line per memory figure memtop shows: the dashboard's help and the exporter's HELP say the same.

The process columns (from memtop.views.columns), the cgroup columns (their help screen lines), the meminfo
taxonomy, available against free, PSI and the vmstat counters behind the
diagnoses. After Documentation/filesystems/proc.rst ("meminfo", "smaps"),
Documentation/accounting/psi.rst and Documentation/admin-guide/cgroup-v2.rst
(cgroup-v1/memory.rst for v1). THP and compaction counters are in
thp_counters.py, smaps fields in smaps_fields.py.
"""

from __future__ import annotations

from memtop.views.columns import BY_KEY

#: The process table's memory columns (and the exporter's ``memtype`` values), in the
#: words of the column catalogue the table and its help screen use (memtop.views.columns).
PROCESS_FIGURES: dict[str, str] = {
    key: BY_KEY[key].help for key in ("rss", "pss", "uss", "swap", "anon_huge", "anon", "file", "shmem", "hugetlb")
}

#: The cgroup view's columns.
CGROUP_FIGURES: dict[str, str] = {
    "current": "all memory charged to it and its descendants (v2 memory.current, v1 memory.usage_in_bytes)",
    "limit": "effective limit: the smallest along the ancestors (v1 hierarchical_memory_limit); max = none",
    "pss": "sum of the PSS of its processes and its descendants' (≥: some unreadable)",
    "oom_kill": "processes the OOM killer took from it (oom_kill)",
}

AVAILABLE_MEANS = "available = free plus reclaimable cache and slab: what new programs can get without swapping"

FREE_MEANS = ("free = MemFree: memory nothing uses at all; small on a healthy machine, "
              "because the kernel uses idle memory as cache")

#: The taxonomy's parts (collectors/meminfo.py TAXONOMY), each from its meminfo fields.
TAXONOMY_PARTS: dict[str, str] = {
    "anon": "AnonPages: anonymous memory of processes (heaps, stacks, private copies)",
    "page_cache": "Cached minus Shmem: file pages cached from disk",
    "buffers": "Buffers: block-device metadata cache",
    "shmem": "Shmem: shared memory, tmpfs and memfd pages",
    "slab_reclaimable": "SReclaimable: kernel caches it can free (dentries, inodes)",
    "slab_unreclaimable": "SUnreclaim: kernel objects it cannot free on demand",
    "kernel_stack": "KernelStack: a stack per thread",
    "page_tables": "PageTables + SecPageTables: page tables mapping processes' memory",
    "percpu": "Percpu: per-CPU allocations",
    "hugetlb": "Hugetlb: pages reserved for hugetlbfs",
    "zswap": "Zswap: compressed swap cache in RAM",
    "other_kernel": "MemTotal minus the named parts: vmalloc, drivers, what the kernel does not itemise",
    "free": "MemFree: used by nothing",
}

TAXONOMY_MEANS = ("MemTotal in parts that add up to it exactly (/proc/meminfo): "
                  + "; ".join(f"{name} = {text}" for name, text in TAXONOMY_PARTS.items()))

SWAP_FIGURES: dict[str, str] = {
    "total": "SwapTotal: swap space configured",
    "free": "SwapFree: swap space not in use",
}

HUGE_FIGURES: dict[str, str] = {
    "anon": "AnonHugePages: anonymous memory in transparent huge pages",
    "shmem": "ShmemHugePages: shared memory and tmpfs in huge pages",
    "file": "FileHugePages: file pages in huge pages",
}

PRESSURE_MEANS = ("memory pressure (PSI, /proc/pressure/memory): share of time tasks stalled waiting for memory; "
                  "some = at least one task, full = all non-idle tasks at once")

#: vmstat counters the diagnoses read, besides the THP and compaction ones.
VMSTAT_FIGURES: dict[str, str] = {
    "oom_kill": "processes the OOM killer killed, machine-wide (cgroup OOMs included)",
    "pswpin": "pages read back from swap: a process touched memory that had been swapped out",
    "pswpout": "pages written to swap",
    "pgmajfault": "major page faults: a page had to be read from disk or swap",
}

HEAP_MEANS = {
    "in_use": "heap in use as the allocator sees it (preload: sum of malloc_usable_size; probe, gdb: mallinfo2)",
    "gap": "gap = RSS - heap in use: code, stacks, memory mapped outside malloc, and freed pages the allocator keeps",
    "slope": "the gap's least-squares slope over the chart's window; growing with a flat heap is a structural leak",
}
