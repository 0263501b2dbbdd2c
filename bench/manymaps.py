"""A process with ~65,000 mappings, as feasibility.md §D measured: run it, read its smaps.

One anonymous mapping of PAGES pages, every page written, then every other
page made read-only with mprotect: the kernel cannot merge neighbours with
different protections, so each page becomes its own VMA. Prints "ready" when
done and exits when its stdin closes. vm.max_map_count (65530 by default)
caps the count: 65,000 pages plus the interpreter's own mappings fit.

    python bench/manymaps.py [PAGES]
"""

from __future__ import annotations

import ctypes
import mmap
import sys

PROT_READ = 0x1


def main() -> int:
    pages = int(sys.argv[1]) if len(sys.argv) > 1 else 65_000
    size = pages * mmap.PAGESIZE
    area = mmap.mmap(-1, size, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
    for offset in range(0, size, mmap.PAGESIZE):
        area[offset] = 1  # resident: every page has RSS
    libc = ctypes.CDLL(None, use_errno=True)
    libc.mprotect.argtypes = (ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int)
    base = ctypes.addressof(ctypes.c_char.from_buffer(area))
    for page in range(0, pages, 2):
        if libc.mprotect(base + page * mmap.PAGESIZE, mmap.PAGESIZE, PROT_READ) != 0:
            print(f"mprotect failed at page {page}: errno {ctypes.get_errno()}", flush=True)
            return 1
    print("ready", flush=True)
    sys.stdin.read()  # until the parent closes our stdin
    return 0


if __name__ == "__main__":
    sys.exit(main())
