"""What every smaps field and VmFlags code means, one line each.

After the smaps section of the kernel's Documentation/filesystems/proc.rst
(fields and the "VmFlags" two-letter codes). Pure data and a pure decoder:
the drill-down screen and ``memtop --maps`` share them.
"""

from __future__ import annotations

import os
from collections.abc import Iterable

from memtop.collectors.models import ProcessMemory
from memtop.collectors.processes import DENIED, ROOT_REFUSED
from memtop.views.uss import USS_FORMULA, USS_FREES

#: smaps fields in the kernel's order, with one line of explanation.
FIELD_HELP: dict[str, str] = {
    "Size": "virtual size of the mapping: address space, not memory used",
    "KernelPageSize": "page size the kernel backs this mapping with",
    "MMUPageSize": "page size the MMU uses for it (differs from the above on some architectures)",
    "Rss": "resident: in RAM now and mapped here; pages shared with others counted in full",
    "Pss": "proportional: each resident page divided by the number of processes mapping it",
    "Pss_Dirty": "the part of Pss in dirty (modified) pages",
    "Pss_Anon": "the part of Pss in anonymous pages (smaps_rollup only)",
    "Pss_File": "the part of Pss in file-backed pages (smaps_rollup only)",
    "Pss_Shmem": "the part of Pss in shared memory, tmpfs and memfd pages (smaps_rollup only)",
    "Shared_Clean": "mapped by other processes too, unmodified: dropped and re-read from the file if needed",
    "Shared_Dirty": "mapped by other processes too, modified since read",
    "Private_Clean": "mapped only here, unmodified: the kernel can drop it and re-read it from the file",
    "Private_Dirty": "mapped only here, modified: freed only by exit, munmap or swapping it out",
    "Referenced": "pages marked accessed (recently used, as far as reclaim is concerned)",
    "Anonymous": "pages that belong to no file, including private copies of file pages written to",
    "KSM": "pages merged with identical ones by kernel samepage merging",
    "LazyFree": "pages freed with MADV_FREE: reclaimed under pressure without being written anywhere",
    "AnonHugePages": "anonymous memory backed by transparent huge pages",
    "ShmemPmdMapped": "shared memory mapped with huge pages",
    "FilePmdMapped": "file pages mapped with huge (PMD) page-table entries",
    "Shared_Hugetlb": "hugetlbfs pages shared with others (not counted in Rss or Pss)",
    "Private_Hugetlb": "hugetlbfs pages mapped only here (not counted in Rss or Pss)",
    "Swap": "anonymous memory of this mapping that is now in swap",
    "SwapPss": "proportional share of Swap: swapped pages divided by the processes sharing them",
    "Locked": "pages locked in RAM (mlock): never swapped or reclaimed",
    "THPeligible": "1 if this mapping may get transparent huge pages, 0 if not",
    "ProtectionKey": "memory protection key of the mapping (x86 and arm64 pkeys)",
}

#: Fields that are counts or flags, not sizes: shown as given.
UNITLESS = frozenset({"THPeligible", "ProtectionKey"})

#: VmFlags codes (proc.rst, "VmFlags"): the kernel prints one per set flag.
VMFLAGS: dict[str, str] = {
    "rd": "readable",
    "wr": "writeable",
    "ex": "executable",
    "sh": "shared",
    "mr": "may read",
    "mw": "may write",
    "me": "may execute",
    "ms": "may share",
    "gd": "stack segment grows down",
    "pf": "pure PFN range (no struct page)",
    "dw": "writes to the mapped file denied",
    "lo": "pages locked in memory",
    "io": "memory-mapped I/O area",
    "sr": "sequential read advised",
    "rr": "random read advised",
    "dc": "not copied on fork",
    "de": "not expanded on remapping",
    "ac": "accountable (counted against the commit limit)",
    "nr": "swap space not reserved",
    "ht": "uses huge TLB pages (hugetlbfs)",
    "sf": "synchronous page faults",
    "ar": "architecture-specific flag",
    "wf": "wiped on fork",
    "dd": "not included in core dumps",
    "sd": "soft-dirty",
    "mm": "mixed map area",
    "hg": "THP advised (MADV_HUGEPAGE)",
    "nh": "THP disabled (MADV_NOHUGEPAGE)",
    "mg": "mergeable (KSM advised)",
    "bt": "arm64 BTI guarded page",
    "mt": "arm64 MTE allocation tags enabled",
    "um": "userfaultfd missing-page tracking",
    "uw": "userfaultfd write-protect tracking",
    "ui": "userfaultfd minor-fault tracking",
    "ss": "shadow stack",
    "sl": "sealed (mseal)",
    "lf": "lock pages on fault",
    "dp": "always lazily freeable",
    "gu": "may contain guard regions",
}


def decode_vmflags(flags: Iterable[str]) -> tuple[tuple[str, str], ...]:
    """Each code with its meaning, in the kernel's order; unknown codes say so.

    A newer kernel may print codes this list lacks: they are kept, never
    dropped, as "(not in memtop's list)".
    """
    return tuple((code, VMFLAGS.get(code, "(not in memtop's list)")) for code in flags)


def field_help(name: str) -> str:
    return FIELD_HELP.get(name, "(not in memtop's list; see Documentation/filesystems/proc.rst)")


def denied_help(p: ProcessMemory | None, live: bool) -> str:
    """Why smaps is unreadable and what would make it readable.

    smaps needs ptrace read access (PTRACE_MODE_READ, proc.rst): the same
    user on a dumpable process, or CAP_SYS_PTRACE in the process's user
    namespace. Root in a container may lack the latter.
    """
    if not live:
        return ("smaps not readable: this capture was taken without root. "
                "Capture again as root (sudo memtop capture --smaps DIR) to see the mappings.")
    owner = (p.user or str(p.uid)) if p is not None else "another user"
    pid = p.pid if p is not None else "?"
    me = os.geteuid()
    if me == 0 or (p is not None and p.uid == me):
        return (f"smaps not readable: the kernel's ptrace access check refused pid {pid} (owner {owner}) "
                "although memtop runs as root or its owner: the process is not dumpable (setuid, "
                "prctl), or it lives in another user namespace, or memtop lacks CAP_SYS_PTRACE here "
                "(a container). Run memtop where it has CAP_SYS_PTRACE over that process.")
    return (f"smaps not readable: pid {pid} belongs to {owner}, memtop runs as uid {me}. "
            "The kernel shows a process's mappings only to its owner or root (ptrace read access, "
            "Documentation/filesystems/proc.rst). Run memtop as root (sudo memtop), or as that user, "
            "to see them.")


def why_no_mappings(error: str | None, p: ProcessMemory | None, live: bool) -> str:
    if error == DENIED:
        return denied_help(p, live)
    if error and ROOT_REFUSED in error:
        return f"{denied_help(p, live)} (The kernel said: {error}.)"
    return f"no mappings: {error}" if error else ""


def maps_help_notes(min_period: float, factor: float) -> tuple[str, ...]:
    """The process screen's notes on its help screen."""
    return (
        "Grouped view: one row per kind (bold) with its totals, then one row per path in it with its count "
        "of mappings. g shows the raw mappings. Enter on any row explains every smaps field it sums.",
        "PSS adds up over processes: shared pages are divided among the processes that map them. "
        f"USS ({USS_FORMULA}) is {USS_FREES}. RSS counts shared pages in full.",
        f"Live: /proc/PID/smaps is re-read every {min_period:.0f} s or {factor:.0f} times what the last "
        "read cost, whichever is longer, in a thread. ▲ marks rows whose RSS grew since the last read; "
        "ΔRSS is the change since this screen opened.",
        "Esc clears a filter first, then returns to the dashboard (Backspace too), the process still selected.",
    )
