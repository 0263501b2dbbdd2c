"""/proc/meminfo: every field, and a taxonomy of parts that adds up to MemTotal.

Field meanings follow Documentation/filesystems/proc.rst ("meminfo").
"""

from __future__ import annotations

from collections.abc import Mapping

from .errors import ParseError
from .models import SystemMemory, TaxonomyPart

KIB = 1024

#: The taxonomy's named parts, in display order, and the meminfo fields each is
#: made of. ``page_cache`` is Cached minus Shmem because Cached counts shmem and
#: tmpfs pages too (proc.rst: "Cached: in-memory cache for files read from the
#: disk (the pagecache) as well as tmpfs & shmem"). ``other_kernel`` closes the
#: sum: vmalloc, driver pages, and whatever the kernel does not itemise.
TAXONOMY: tuple[str, ...] = (
    "anon",
    "page_cache",
    "buffers",
    "shmem",
    "slab_reclaimable",
    "slab_unreclaimable",
    "kernel_stack",
    "page_tables",
    "percpu",
    "hugetlb",
    "zswap",
    "other_kernel",
    "free",
)


def parse_meminfo(text: str) -> dict[str, int]:
    """Parse meminfo text into {field: value}, sizes in bytes (see ``parse_meminfo_checked``).

    Raises:
        ParseError: when no field could be read at all.
    """
    return parse_meminfo_checked(text)[0]


def parse_meminfo_checked(text: str) -> tuple[dict[str, int], tuple[str, ...]]:
    """Parse meminfo text into {field: value}, sizes in bytes, and what was wrong with it.

    Lines that are not ``Key: number [kB]`` are skipped: some vendor kernels
    print a Linux-2.4 style summary table first (gopsutil issue 1002). Fields
    without a unit (HugePages_Total and friends) are page counts and stay counts.
    A field given twice with two values is not used at all (which one would
    be right?) and said so; the kernel prints each once (issue 13, item 9).

    Raises:
        ParseError: when no field could be read at all.
    """
    out: dict[str, int] = {}
    conflicts: dict[str, list[int]] = {}
    for line in text.splitlines():
        key, sep, rest = line.partition(":")
        if not sep or not key or " " in key.strip() or key != key.strip():
            continue
        parts = rest.split()
        if not parts or len(parts) > 2 or not parts[0].isdigit() or not parts[0].isascii():
            continue
        if len(parts[0]) > 40:
            raise ParseError(f"meminfo: number too long in {key!r}")
        if len(parts) == 2:
            if parts[1] != "kB":
                continue
            value = int(parts[0]) * KIB
        else:
            value = int(parts[0])
        if key in out and out[key] != value or key in conflicts:
            conflicts.setdefault(key, [out[key]] if key in out else []).append(value)
        out[key] = value
    if not out:
        raise ParseError("no 'Key: value kB' line found: not a meminfo file")
    for key in conflicts:
        del out[key]
    problems = tuple(
        f"meminfo gives {key} {len(values)} times with different values: not used" for key, values in conflicts.items()
    )
    return out, problems


def estimate_available(f: Mapping[str, int], min_free_kbytes: int | None) -> int | None:
    """MemAvailable for kernels before 3.14, as procps estimates it.

    procps-ng sysinfo.c (and the kernel's own si_mem_available() that replaced
    it): free memory above the low watermark, plus the part of the file LRU
    and of reclaimable slab that can go without dropping below it. The low
    watermark is min_free_kbytes * 5/4; without it the estimate uses 0.
    """
    need = ("MemFree", "Active(file)", "Inactive(file)")
    if any(k not in f for k in need):
        return None
    low = (min_free_kbytes or 0) * KIB * 5 // 4
    file_lru = f["Active(file)"] + f["Inactive(file)"]
    slab = f.get("SReclaimable", 0)
    estimate = f["MemFree"] - low + file_lru - min(file_lru // 2, low) + slab - min(slab // 2, low)
    return max(estimate, 0)


def _opt_sum(*values: int | None) -> int | None:
    present = [v for v in values if v is not None]
    return sum(present) if present else None


def system_memory(f: Mapping[str, int], min_free_kbytes: int | None = None, problems: tuple[str, ...] = ()) -> SystemMemory:
    """Build the SystemMemory view of parsed meminfo fields.

    Figures that cannot be true (MemAvailable above MemTotal, SwapFree above
    SwapTotal) are not turned into a negative "used": the figure derived from
    them is None and ``problems`` says why (issue 13, item 9).
    """
    total = f.get("MemTotal")
    available = f.get("MemAvailable")
    estimated = False
    if available is None:
        available = estimate_available(f, min_free_kbytes)
        estimated = available is not None
    found = list(problems)
    used = None if total is None or available is None else total - available
    if used is not None and used < 0 and total is not None and available is not None:
        found.append(f"meminfo says MemAvailable ({available // KIB} kB) is above MemTotal ({total // KIB} kB): "
                     "used not shown")
        used = None
    swap_total, swap_free = f.get("SwapTotal"), f.get("SwapFree")
    if swap_total is not None and swap_free is not None and swap_free > swap_total:
        found.append(f"meminfo says SwapFree ({swap_free // KIB} kB) is above SwapTotal ({swap_total // KIB} kB): "
                     "swap figures not shown")
        swap_total = swap_free = None
    cached = f.get("Cached")
    shmem = f.get("Shmem")
    hugetlb = f.get("Hugetlb")
    if hugetlb is None and "HugePages_Total" in f and "Hugepagesize" in f:
        # Before 4.16 there is no Hugetlb: line; count the default size only.
        hugetlb = f["HugePages_Total"] * f["Hugepagesize"]
    page_tables = _opt_sum(f.get("PageTables"), f.get("SecPageTables"))
    parts: dict[str, int | None] = {
        "anon": f.get("AnonPages"),
        "page_cache": None if cached is None else max(cached - (shmem or 0), 0),
        "buffers": f.get("Buffers"),
        "shmem": shmem,
        "slab_reclaimable": f.get("SReclaimable"),
        "slab_unreclaimable": f.get("SUnreclaim"),
        "kernel_stack": f.get("KernelStack"),
        "page_tables": page_tables,
        "percpu": f.get("Percpu"),
        "hugetlb": hugetlb,
        "zswap": f.get("Zswap"),
        "free": f.get("MemFree"),
    }
    named = sum(v for v in parts.values() if v is not None)
    overcount = 0
    taxonomy: list[TaxonomyPart] = []
    if total is not None:
        # meminfo counters are per-CPU approximations and may overshoot
        # MemTotal a little; say by how much instead of hiding it.
        overcount = max(named - total, 0)
        parts["other_kernel"] = max(total - named, 0)
    for name in TAXONOMY:
        value = parts.get(name)
        if value is None or (name == "zswap" and "Zswap" not in f):
            continue
        taxonomy.append(TaxonomyPart(name, value))
    return SystemMemory(
        fields=tuple(f.items()),
        total=total,
        free=f.get("MemFree"),
        available=available,
        available_estimated=estimated,
        used=used,
        buffers=f.get("Buffers"),
        cached=cached,
        shmem=shmem,
        anon=f.get("AnonPages"),
        slab_reclaimable=f.get("SReclaimable"),
        slab_unreclaimable=f.get("SUnreclaim"),
        kernel_stack=f.get("KernelStack"),
        page_tables=page_tables,
        percpu=f.get("Percpu"),
        hugetlb=hugetlb,
        zswap=f.get("Zswap"),
        dirty=f.get("Dirty"),
        writeback=f.get("Writeback"),
        mapped=f.get("Mapped"),
        swap_total=swap_total,
        swap_free=swap_free,
        swap_cached=f.get("SwapCached"),
        anon_huge=f.get("AnonHugePages"),
        shmem_huge=f.get("ShmemHugePages"),
        file_huge=f.get("FileHugePages"),
        taxonomy=tuple(taxonomy),
        overcount=overcount,
        problems=tuple(found),
    )
