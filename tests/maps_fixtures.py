"""A process's mappings for the drill-down tests: smaps text in the kernel's layout, and fake sources."""

from __future__ import annotations

from dataclasses import dataclass, field

from memtop.collectors.models import ProcessMaps, ProcessMemory
from memtop.collectors.smaps import parse_smaps
from memtop.state.maps_source import MapsSource

FIELDS = ("Size", "KernelPageSize", "MMUPageSize", "Rss", "Pss", "Pss_Dirty", "Shared_Clean", "Shared_Dirty",
          "Private_Clean", "Private_Dirty", "Referenced", "Anonymous", "KSM", "LazyFree", "AnonHugePages",
          "ShmemPmdMapped", "FilePmdMapped", "Shared_Hugetlb", "Private_Hugetlb", "Swap", "SwapPss", "Locked")

#: (start, pages, perms, path, rss kB, pss kB, private kB, swap kB, vmflags)
LAYOUT = (
    (0x55d5e0a00000, 256, "r-xp", "/usr/bin/python3.11", 900, 300, 0, 0, "rd ex mr mw me"),
    (0x55d5e1a00000, 512, "rw-p", "[heap]", 1500, 1500, 1500, 64, "rd wr mr mw me ac"),
    (0x7f0000000000, 4096, "rw-p", "", 8000, 8000, 8000, 0, "rd wr mr mw me ac hg"),
    (0x7f0001000000, 1024, "rw-p", "", 2000, 2000, 2000, 512, "rd wr mr mw me ac nh"),
    (0x7f0002000000, 2048, "rw-s", "/memfd:shared-buffer (deleted)", 4096, 2048, 0, 0, "rd wr sh mr mw me ms"),
    (0x7f0003000000, 400, "r-xp", "/usr/lib/x86_64-linux-gnu/libc.so.6", 1400, 140, 24, 0, "rd ex mr mw me"),
    (0x7f0003200000, 4, "rw-p", "/usr/lib/x86_64-linux-gnu/libc.so.6", 16, 16, 16, 0, "rd wr mr mw me ac"),
    (0x7f0004000000, 900, "r-xp", "/usr/lib/x86_64-linux-gnu/libcrypto.so.3", 2900, 400, 0, 0, "rd ex mr mw me"),
    (0x7f0005000000, 100, "r--p", "/usr/share/locale/locale-archive", 120, 12, 0, 0, "rd mr mw me"),
    (0x7ffc00000000, 33, "rw-p", "[stack]", 68, 68, 68, 0, "rd wr mr mw me gd ac"),
    (0x7ffc10000000, 2, "r-xp", "[vdso]", 8, 0, 0, 0, "rd ex mr mw me de"),
)


def smaps_text(layout: tuple[tuple[object, ...], ...] = LAYOUT, grow: int = 0) -> bytes:
    """smaps as the kernel prints it; ``grow`` kB more RSS in the heap."""
    out = []
    for start, pages, perms, path, rss, pss, private, swap, flags in layout:  # type: ignore[misc]
        end = start + pages * 4096  # type: ignore[operator]
        inode = 0 if not str(path).startswith("/") else 1312
        dev = "00:00" if not inode else "08:01"
        out.append(f"{start:x}-{end:x} {perms} 00000000 {dev} {inode} {path}".rstrip() + "\n")
        extra = grow if path == "[heap]" else 0
        values = dict.fromkeys(FIELDS, 0)
        values.update(Size=pages * 4, KernelPageSize=4, MMUPageSize=4, Rss=rss + extra, Pss=pss + extra,  # type: ignore[operator]
                      Private_Dirty=private + extra, Shared_Clean=rss - private, Referenced=rss, Swap=swap,  # type: ignore[operator]
                      SwapPss=swap, Anonymous=private if not inode else 0)
        values["AnonHugePages"] = 2048 if "hg" in str(flags) else 0
        out.extend(f"{key + ':':<16}{value:>8} kB\n" for key, value in values.items())
        out.append(f"THPeligible:    {1 if 'hg' in str(flags) else 0}\n")
        out.append(f"VmFlags: {flags} \n")
    return "".join(out).encode()


STATUS = (("Name", "python3"), ("VmPeak", "60000 kB"), ("VmSize", "52000 kB"), ("VmHWM", "21000 kB"),
          ("VmRSS", "20000 kB"), ("RssAnon", "11000 kB"), ("RssFile", "5000 kB"), ("RssShmem", "4000 kB"),
          ("VmSwap", "576 kB"), ("HugetlbPages", "0 kB"), ("THP_enabled", "1"))


@dataclass
class FakeSource:
    """Reads that the test scripts: the next read grows the heap, exits, or is refused."""

    proc: ProcessMemory
    grow: int = 0
    exited: bool = False
    error: str | None = None
    calls: list[int] = field(default_factory=list)

    def read(self, pid: int, starttime: int | None) -> ProcessMaps:
        self.calls.append(pid)
        if self.exited:
            return ProcessMaps(pid, starttime, None, (), None, None, True, 0.0)
        mappings = None if self.error else parse_smaps(smaps_text(grow=self.grow))
        return ProcessMaps(pid, self.proc.starttime, self.proc, STATUS, mappings, self.error, False, 0.0)

    def source(self) -> MapsSource:
        return MapsSource(self.read, live=True)
