"""A process that touches a known part of a large allocation, for working-set tests and demos.

``python wss_child.py TOTAL_MIB HOT_MIB``: maps TOTAL_MIB anonymous (no THP,
so pages count at 4 KiB), writes every page once, prints "ready", then
writes one byte per page of the first HOT_MIB over and over (a C-speed
strided slice assignment, with short sleeps so it does not take a core).
"""

from __future__ import annotations

import mmap
import sys
import time

PAGE = mmap.PAGESIZE


def main() -> None:
    total, hot = (int(a) << 20 for a in sys.argv[1:3])
    area = mmap.mmap(-1, total, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
    if hasattr(mmap, "MADV_NOHUGEPAGE"):
        area.madvise(mmap.MADV_NOHUGEPAGE)
    view = memoryview(area)
    view[::PAGE] = bytes(total // PAGE)  # every page resident
    hot_pages = hot // PAGE
    ones = b"\x01" * hot_pages
    print("ready", flush=True)
    while True:
        view[0:hot:PAGE] = ones
        time.sleep(0.02)


if __name__ == "__main__":
    main()
