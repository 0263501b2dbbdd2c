"""The allocator's own view of heap in use, for memtop's own process.

glibc's mallinfo2(3) (glibc >= 2.33; mallinfo's int fields wrap past 2 GiB)
gives the bytes handed out by malloc: ``uordblks`` in the arenas plus
``hblkhd`` in chunks big enough to get their own mmap. What it does not see
is memory a program maps by itself: CPython's small-object allocator takes
its 256 KiB arenas straight from mmap, so for memtop the kernel's RSS sits
above this figure by those arenas, the interpreter's code and its stacks.

Other processes' heaps need the preloaded counter library (a later issue):
this module only speaks for the process it runs in.
"""

from __future__ import annotations

import ctypes
import ctypes.util
from dataclasses import dataclass


class Mallinfo2(ctypes.Structure):
    # struct mallinfo2 in <malloc.h>: ten size_t fields, in this order.
    _fields_ = [
        (name, ctypes.c_size_t)
        for name in ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks", "fordblks", "keepcost")
    ]


@dataclass(frozen=True, slots=True)
class HeapReading:
    """Bytes the allocator has handed out and not taken back, and what said so."""

    in_use: int
    source: str


class OwnHeap:
    """mallinfo2 of the calling process, or the reason it is not available."""

    SOURCE = "glibc mallinfo2"

    def __init__(self, libc_name: str | None = None, own_namespace: bool = False) -> None:
        """``own_namespace``: look mallinfo2 up in the process's own symbols
        (no find_library, which may run ldconfig: the probe must start cheaply)."""
        self.reason: str | None = None
        self._call: ctypes._CFuncPtr | None = None  # type: ignore[name-defined]
        name = None if own_namespace else libc_name if libc_name is not None else ctypes.util.find_library("c")
        try:
            libc = ctypes.CDLL(name)
            call = libc.mallinfo2
        except (OSError, AttributeError, TypeError):
            # musl and glibc < 2.33 have no mallinfo2; mallinfo's int fields
            # would wrap at 2 GiB, so no figure is better than a wrong one.
            self.reason = "heap: unavailable (no mallinfo2: needs glibc >= 2.33; musl has none)"
            return
        call.restype = Mallinfo2
        call.argtypes = []
        self._call = call

    @property
    def available(self) -> bool:
        return self._call is not None

    def info(self) -> Mallinfo2 | None:
        """All ten mallinfo2 fields (the probe publishes several), None without mallinfo2."""
        return self._call() if self._call is not None else None

    def read(self) -> HeapReading | None:
        """Heap in use now; walks the arenas under their locks (microseconds for memtop)."""
        if self._call is None:
            return None
        info = self._call()
        return HeapReading(in_use=int(info.uordblks) + int(info.hblkhd), source=self.SOURCE)
