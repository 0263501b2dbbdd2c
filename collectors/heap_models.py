"""The heap figures an instrumented process publishes, as the snapshot carries them.

Apart from models.py (which re-exports both) because they come from memtop's
own counter files (heap_shm.py, heap_block.py), not from a kernel file.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class HeapDetail:
    """What a probe or gdb sample adds to the counters (collectors/heap_block.py); None: not given.

    ``python_blocks`` is sys.getallocatedblocks(): a count of blocks, not
    bytes. ``traced``/``traced_peak`` are tracemalloc's, only while it runs.
    """

    time: float  # Unix seconds when the figures were taken
    arena: int | None
    free_in_heap: int | None  # mallinfo2 fordblks: freed, kept by malloc
    mmapped: int | None  # mallinfo2 hblkhd: big chunks mmapped on their own
    releasable: int | None  # mallinfo2 keepcost: trimmable from the top
    python_blocks: int | None
    traced: int | None
    traced_peak: int | None
    cost: float | None  # seconds the last sample cost (probe: CPU; gdb: gdb's wall time)
    interval: float | None  # seconds between samples now (None: a one-off)
    missing: tuple[str, ...] = ()  # figures the source could not give, and why
    in_use: int | None = None  # uordblks + hblkhd, as the block says


@dataclass(frozen=True, slots=True)
class HeapCounters:
    """Heap in use as the allocator sees it, published by an instrumented process.

    ``in_use`` is the sum of malloc_usable_size over live blocks (preload)
    or mallinfo2's uordblks + hblkhd (probe, gdb); None when the source
    cannot know it (a probe without mallinfo2). ``peak`` the highest the
    source saw (preload: exact to about 1 MiB per thread; probe: the highest
    sample), None when it did not say; ``allocs``/``frees`` count calls
    since the process (or its exec) started, None where nothing counts them
    (probe, gdb). ``detail`` holds the probe's or gdb's extra figures.
    """

    pid: int
    source: str  # "preload" (memtop run / LD_PRELOAD), "probe" (memtop.probe) or "gdb" (key H)
    starttime: int
    in_use: int | None
    peak: int | None
    allocs: int | None
    frees: int | None
    generation: int = 0
    inherit: bool = True  # its children are instrumented too
    detail: HeapDetail | None = None
    #: Why the figures were refused as impossible (in_use and peak then None):
    #: the file is another user's to write, its claims are checked (issue 13, item 9).
    refused: str | None = None
