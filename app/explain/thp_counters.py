"""One line per THP and compaction counter, after the kernel's own words.

Documentation/admin-guide/mm/transhuge.rst ("Monitoring usage") for thp_*
and the per-size stats, Documentation/admin-guide/mm/concepts.rst and
mm/compaction.c for compact_*. Where ../shared/guide disagrees, the kernel
wins: thp_collapse_alloc counts khugepaged collapses (not compaction),
thp_fault_fallback_charge counts memory-cgroup charge failures, and
AnonHugePages is per process in smaps, not in status.
"""

from __future__ import annotations

COUNTER_HELP: dict[str, str] = {
    "thp_fault_alloc": "a huge page was allocated and charged to handle a page fault",
    "thp_fault_fallback": "a page fault could not allocate or charge a huge page and fell back to small pages",
    "thp_fault_fallback_charge": "a huge page was allocated at a fault but its memory-cgroup charge failed: small pages used",
    "thp_collapse_alloc": "khugepaged allocated a huge page to collapse a range of small pages into",
    "thp_collapse_alloc_failed": "khugepaged found a range worth collapsing but could not allocate the huge page",
    "thp_file_alloc": "a file (shmem/tmpfs) huge page was allocated",
    "thp_file_fallback": "a file huge page could not be allocated or charged: small pages used",
    "thp_file_fallback_charge": "a file huge page was allocated but its memory-cgroup charge failed",
    "thp_file_mapped": "a file huge page was mapped into a process's address space",
    "thp_split_page": "a huge page was split into base pages (often when it is old and being reclaimed)",
    "thp_split_page_failed": "a huge page could not be split (it was pinned, for instance)",
    "thp_deferred_split_page": "a partly unmapped huge page went on the split queue, to be split under memory pressure",
    "thp_underused_split_page": "a huge page on the split queue was split because most of it was zero-filled (underused)",
    "thp_split_pmd": "a PMD mapping was split into page-table entries (mprotect or munmap of part of a huge page); the page stays whole",
    "thp_split_pud": "a PUD mapping was split into PMD entries",
    "thp_zero_page_alloc": "the huge zero page was allocated (counts allocations, not each mapping of it)",
    "thp_zero_page_alloc_failed": "the huge zero page could not be allocated",
    "thp_swpout": "a huge page was swapped out in one piece",
    "thp_swpout_fallback": "a huge page had to be split before swap-out (no contiguous swap space)",
    "thp_migration_success": "a huge page was migrated without being split",
    "thp_migration_fail": "a huge page could neither be migrated nor split",
    "thp_migration_split": "a huge page was split to be migrated",
    "thp_scan_exceed_none_pte": "khugepaged skipped a range: more empty entries than khugepaged/max_ptes_none",
    "thp_scan_exceed_swap_pte": "khugepaged skipped a range: more swapped-out entries than khugepaged/max_ptes_swap",
    "thp_scan_exceed_share_pte": "khugepaged skipped a range: more shared pages than khugepaged/max_ptes_shared",
    "compact_stall": "a task stalled to run direct compaction so a huge page could be freed: it was blocked meanwhile",
    "compact_fail": "direct compaction ran but did not free a page of the order asked for",
    "compact_success": "direct compaction freed a page of the order asked for",
    "compact_migrate_scanned": "pages the migration scanner looked at during compaction",
    "compact_free_scanned": "pages the free scanner looked at during compaction",
    "compact_isolated": "pages isolated for migration during compaction",
    "compact_daemon_wake": "kcompactd, the background compaction thread, was woken",
    "compact_daemon_migrate_scanned": "pages kcompactd's migration scanner looked at",
    "compact_daemon_free_scanned": "pages kcompactd's free scanner looked at",
}

#: hugepages-<size>kB/stats (6.9+): the same events counted per page size.
SIZE_HELP: dict[str, str] = {
    "anon_fault_alloc": "an anonymous huge page of this size was allocated at a page fault",
    "anon_fault_fallback": "a fault could not get a page of this size and fell back to a smaller order or small pages",
    "anon_fault_fallback_charge": "a page of this size was allocated but its memory-cgroup charge failed",
    "swpout": "a page of this size was swapped out in one piece",
    "swpout_fallback": "a page of this size was split before swap-out",
    "shmem_alloc": "a shmem huge page of this size was allocated",
    "shmem_fallback": "a shmem huge page of this size could not be allocated",
    "split": "a page of this size was split into smaller ones",
    "split_failed": "a page of this size could not be split",
    "split_deferred": "a partly unmapped page of this size went on the split queue",
    # Not events: how many there are now.
    "nr_anon": "anonymous huge pages of this size in the system now (a count of pages of this size)",
    "nr_anon_partially_mapped": "of those, the ones partly unmapped, waiting on the split queue",
}

POLICY_HELP: dict[str, str] = {
    "enabled": "anonymous THP: always, only in MADV_HUGEPAGE regions (madvise), or never",
    "defrag": "what a fault does when no huge page is free: stall to compact (always), wake kcompactd (defer), ...",
    "shmem_enabled": "THP for shmem/tmpfs: always, within_size, advise, never, deny, force",
}


def explain(name: str) -> str:
    """The help line of a counter, ``<size> <name>`` for per-size ones."""
    if name in COUNTER_HELP:
        return COUNTER_HELP[name]
    _size, _sep, stat = name.rpartition(" ")
    return SIZE_HELP.get(stat, "see Documentation/admin-guide/mm/transhuge.rst")
