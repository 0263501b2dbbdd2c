"""The probe block: figures a heap counter file of source 2 (probe) or 3 (gdb) carries beyond v1.

Version 1 of the counter file (heapcount.c, heap_layout.md) has a header and
255 slots of live/nalloc/nfree, nothing for the allocator's other figures.
A file written by ``memtop.probe`` (source 2) or by memtop's gdb attach
(source 3) uses slot 0 only (``live`` = mallinfo2 ``uordblks + hblkhd``,
nalloc = nfree = 0: mallinfo2 does not count calls), says ``nslots = 251``
and puts this block in the last four slots' room, at a fixed offset. The
reader looks at it only for those sources, so preload files read exactly as
before. For them header flags bit 1 means "no heap figure" (no mallinfo2:
slot 0 means nothing, in_use reads as None). Layout (little-endian, naturally aligned), offset from BLOCK_OFFSET:

-  0: u32 block version = 1
-  4: u32 present: bit 0 mallinfo2 figures, bit 1 sys.getallocatedblocks,
       bit 2 tracemalloc figures (tracemalloc was running)
-  8: u64 seq: odd while the writer is writing (a seqlock: the reader retries)
- 16: f64 time: when the figures were taken, Unix seconds (CLOCK_REALTIME)
- 24: u64 arena       mallinfo2: bytes the main arena got from brk
- 32: u64 uordblks    mallinfo2: bytes in use in the arenas
- 40: u64 hblkhd      mallinfo2: bytes in chunks mmapped on their own
- 48: u64 fordblks    mallinfo2: free bytes kept inside the heap
- 56: u64 keepcost    mallinfo2: releasable from the top of the heap
- 64: u64 blocks      sys.getallocatedblocks(): a COUNT of Python objects' blocks, not bytes
- 72: u64 traced      tracemalloc current bytes
- 80: u64 traced_peak tracemalloc peak bytes
- 88: f64 cost        CPU seconds the last sample cost (gdb: the wall time of gdb)
- 96: f64 interval    seconds between samples now (0: a one-off sample)
- 104..255: 0
"""

from __future__ import annotations

import mmap
import struct
from dataclasses import dataclass

from .models import HeapDetail

BLOCK_SIZE = 256
BLOCK_OFFSET = 16384 - BLOCK_SIZE
BLOCK_VERSION = 1
#: Slots a probe or gdb file declares: the block takes the room of the last four.
BLOCK_NSLOTS = 251
FIELDS = struct.Struct("<IIQdQQQQQQQQdd")
SEQ = struct.Struct("<Q")

HAS_MALLINFO2 = 1
HAS_BLOCKS = 2
HAS_TRACEMALLOC = 4

NO_MALLINFO2 = "no mallinfo2 (needs glibc >= 2.33; musl has none): malloc's view missing"


@dataclass(frozen=True, slots=True)
class BlockFigures:
    """What a writer puts in the block (None: it does not have that figure)."""

    time: float
    arena: int | None = None
    uordblks: int | None = None
    hblkhd: int | None = None
    fordblks: int | None = None
    keepcost: int | None = None
    blocks: int | None = None
    traced: int | None = None
    traced_peak: int | None = None
    cost: float = 0.0
    interval: float = 0.0


def pack_block(fig: BlockFigures, seq: int) -> bytes:
    """The block's bytes with sequence number ``seq`` (even: complete)."""
    present = (HAS_MALLINFO2 if fig.uordblks is not None else 0) | (HAS_BLOCKS if fig.blocks is not None else 0) \
        | (HAS_TRACEMALLOC if fig.traced is not None else 0)
    values = [fig.arena, fig.uordblks, fig.hblkhd, fig.fordblks, fig.keepcost, fig.blocks, fig.traced, fig.traced_peak]
    body = FIELDS.pack(BLOCK_VERSION, present, seq, fig.time, *(v or 0 for v in values), fig.cost, fig.interval)
    return body + bytes(BLOCK_SIZE - len(body))


def parse_block(data: bytes | memoryview) -> HeapDetail | None:
    """The figures of one block's bytes; None when it is not a version-1 block or is being written."""
    if len(data) < FIELDS.size:
        return None
    (version, present, seq, time, arena, uord, hblkhd, fordblks, keepcost, blocks, traced, traced_peak,
     cost, interval) = FIELDS.unpack_from(data, 0)
    if version != BLOCK_VERSION or seq & 1 or not time == time:  # NaN time: garbage
        return None
    malloc = bool(present & HAS_MALLINFO2)
    tracing = bool(present & HAS_TRACEMALLOC)
    return HeapDetail(
        time=time,
        arena=arena if malloc else None,
        free_in_heap=fordblks if malloc else None,
        mmapped=hblkhd if malloc else None,
        releasable=keepcost if malloc else None,
        python_blocks=blocks if present & HAS_BLOCKS else None,
        traced=traced if tracing else None,
        traced_peak=traced_peak if tracing else None,
        cost=cost if cost == cost and cost >= 0 else None,
        interval=interval if interval == interval and interval > 0 else None,
        missing=() if malloc else (NO_MALLINFO2,),
        in_use=uord + hblkhd if malloc else None,
    )


def read_block(view: bytes | mmap.mmap, offset: int = BLOCK_OFFSET, tries: int = 4) -> HeapDetail | None:
    """The block of a mapped file, retried while the writer is mid-update (seq odd or changed)."""
    for _ in range(tries):
        if len(view) < offset + BLOCK_SIZE:
            return None
        (before,) = SEQ.unpack_from(view, offset + 8)
        detail = parse_block(bytes(view[offset:offset + BLOCK_SIZE]))
        (after,) = SEQ.unpack_from(view, offset + 8)
        if detail is not None and before == after:
            return detail
    return None
