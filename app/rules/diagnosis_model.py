"""What a diagnosis is, what it is made from, and the thresholds behind it (values only).

The rules that apply them are in app/rules/diagnoses.py; its docstring says why
each threshold is where it is.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from memtop.collectors.models import CgroupMemory, WorkingSet

from memtop.rules.gap import GapVerdict

if TYPE_CHECKING:  # the JSON report uses this module and never imports textual
    from memtop.views.thp import ThpView

MIB = 1 << 20

AVAILABLE_WARN = 0.10
AVAILABLE_CRIT = 0.05
FREE_LOW = 0.10
PSI_FULL_WARN = 1.0  # percent, avg10
PSI_FULL_CRIT = 10.0
SWAP_IN_WARN = 1 * MIB  # bytes per second
SWAP_WINDOW = 10.0  # seconds
FALLBACK_WARN = 0.5
FALLBACK_MIN_EVENTS = 10
CGROUP_NEAR = 0.90
GROWTH_SPAN = 60.0  # seconds of history needed
GROWTH_FLOOR = 1 * MIB / 60  # bytes per second
GROWTH_SHARE = 0.005 / 60  # of the mean RSS, per second
GROWTH_SCATTER = 4.0

THRESHOLDS = (
    "Diagnoses (d): available < 10% of total warns, < 5% is critical; free < 10% with available >= 10% "
    "is only an info (the kernel uses idle memory as cache); PSI full avg10 >= 1% and above avg60 warns, "
    ">= 10% is critical; swap-in >= 1 MiB/s over 10 s warns; a compaction stall in the last 60 s, or a THP "
    "fallback ratio >= 50% over >= 10 faults, warns; a cgroup at >= 90% of its own (effective) limit warns, "
    "new OOM kills are critical; a growing heap gap warns; a working set (w) larger than RSS + available "
    "(or the cgroup's headroom) is critical, >= 80% of it warns; RSS growing by >= max(1 MiB/min, 0.5%/min) over >= 60 s, "
    "steadily (rise > 4x scatter), warns. Enter in the panel jumps to the pane with the numbers."
)

#: Most severe first.
SEVERITIES = ("critical", "warning", "info", "ok")
MARKS = {"critical": "‼", "warning": "!", "info": "i", "ok": "✓"}

Number = int | float | str | None


@dataclass(frozen=True, slots=True)
class Diagnosis:
    """One finding: what, how bad, the numbers behind it, and where memtop shows them.

    ``jump``: "system" (the system pane), "thp" (T), "cgroup" (c, ``target``
    the cgroup path), "process" (the process, ``target`` its pid: selected,
    then Enter), "chart" (the process selected: the heap-vs-RSS chart).
    """

    id: str
    severity: str
    text: str
    numbers: tuple[tuple[str, Number], ...]
    jump: str
    target: str | int | None = None

    @property
    def key(self) -> str:
        """The key that shows the numbers, as the panel says it."""
        return {"system": "the system pane, on top", "thp": "Enter: THP counters (T)",
                "cgroup": "Enter: the cgroup in the cgroup view (c)", "process": "Enter: the process screen",
                "chart": "Enter: the process selected, its RSS in the heap chart"}.get(self.jump, self.jump)

    def json(self) -> dict[str, Any]:
        return {"id": self.id, "severity": self.severity, "text": self.text, "numbers": dict(self.numbers)}


@dataclass(frozen=True, slots=True)
class Growth:
    """A process whose RSS grows steadily (see ``steady_growth``)."""

    pid: int
    name: str
    rss: int
    slope: float  # bytes per second
    span: float  # seconds of history used


@dataclass(frozen=True, slots=True)
class Signals:
    """What the model knows beyond one snapshot (empty: a one-shot report)."""

    swap_in: float | None = None  # bytes per second over SWAP_WINDOW
    thp: ThpView | None = None
    cgroups: tuple[CgroupMemory, ...] | None = None  # the last tree read
    oom_kills: Mapping[str, int] = field(default_factory=dict)  # new since memtop started, by path
    #: OOM kills anywhere since memtop started: /proc/vmstat oom_kill, read every pass (issue 15).
    system_oom_kills: int = 0
    verdicts: Mapping[int, GapVerdict] = field(default_factory=dict)
    growth: tuple[Growth, ...] = ()
    working_sets: tuple[WorkingSet, ...] = ()
    #: memtop itself: left out of the heap-gap and RSS-growth findings (its
    #: caches fill in its first minutes; that is not what the user debugs).
    own_pid: int | None = None
