"""Does a measured working set fit in what the process can have? Pure.

The guide's "Performance degradation (thrashing)" row: compare the working
set with the RAM the process could hold, which is its RSS plus what it can
still get: MemAvailable, or its cgroup's headroom (the smallest limit above
it minus that cgroup's usage) when that is less. A working set larger than
that cannot stay resident: the process will page.

Referenced counts resident pages only, so a working set measured this way
never exceeds RSS; a process already paging shows its whole RSS touched and
little headroom left. So a working set that fills ``TIGHT`` (80 %) or more of
what the process can have is reported too: it pages as soon as it grows or
something else takes the memory.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from memtop.collectors.models import WorkingSet
from memtop.views.format import human

TIGHT = 0.8


@dataclass(frozen=True, slots=True)
class Fit:
    can_have: int | None  # RSS + the smaller of available and the cgroup's headroom
    bound: str  # what bounds it, in words
    fits: bool | None  # None: not known
    coarse: int  # bytes in transparent huge pages (counted at 2 MiB granularity)
    tight: bool = False  # fits, but fills TIGHT or more of what it can have


def fit(ws: WorkingSet) -> Fit:
    coarse = ws.anon_huge or 0
    if ws.referenced is None or ws.rss is None:
        return Fit(None, "", None, coarse)
    room, bound = ws.available, f"available {human(ws.available)}"
    if ws.limit is not None and ws.cgroup_current is not None:
        headroom = max(ws.limit - ws.cgroup_current, 0)
        if room is None or headroom < room:
            room, bound = headroom, f"headroom {human(headroom)} of cgroup {ws.cgroup} ({human(ws.limit)} limit)"
    if room is None:
        return Fit(None, "", None, coarse)
    can_have = ws.rss + room
    fits = ws.referenced <= can_have
    return Fit(can_have, bound, fits, coarse, fits and can_have > 0 and ws.referenced >= TIGHT * can_have)


def describe(ws: WorkingSet, now: float | None) -> str:
    """One line: touched in the window, beside RSS, and whether it fits."""
    if ws.referenced is None:
        return f"working set of {ws.name} ({ws.pid}) not measured: {ws.error}"
    f = fit(ws)
    share = f" ({100 * ws.referenced / ws.rss:.0f}% of RSS {human(ws.rss)})" if ws.rss else ""
    age = f", measured {max(now - ws.time, 0):.0f} s ago" if now is not None else ""
    line = f"touched in the last {ws.window:g} s: {human(ws.referenced)}{share}{age}"
    if f.fits is False:
        line += f"; MORE than it can have ({human(f.can_have)} = RSS + {f.bound}): it will page"
    elif f.tight and f.can_have:
        line += (f"; fills {100 * ws.referenced / f.can_have:.0f}% of what it can have ({human(f.can_have)} = "
                 f"RSS + {f.bound}): it pages as soon as it grows")
    elif f.fits:
        line += f"; fits (it can have {human(f.can_have)} = RSS + {f.bound})"
    if f.coarse:
        line += f"; {human(f.coarse)} in huge pages counted whole (2 MiB granularity)"
    return line


def working_set_json(ws: WorkingSet, now: float) -> dict[str, Any]:
    f = fit(ws)
    return {
        "pid": ws.pid, "starttime": ws.starttime, "name": ws.name, "window": ws.window,
        "time": ws.time, "age": round(max(now - ws.time, 0.0), 3),
        "referenced": ws.referenced, "rss": ws.rss, "anon_huge": ws.anon_huge,
        "available": ws.available, "cgroup": ws.cgroup, "limit": ws.limit, "cgroup_current": ws.cgroup_current,
        "can_have": f.can_have, "fits": f.fits, "tight": f.tight, "error": ws.error,
    }
