"""What the THP panel shows: counter lines and the panel's view, built by the model (no textual)."""

from __future__ import annotations

from dataclasses import dataclass

from memtop.collectors.models import ThpState

#: Always listed, in this order (transhuge.rst "Monitoring usage"); any other
#: thp_* or compact_* counter is listed while it moves.
CORE_COUNTERS = (
    "thp_fault_alloc", "thp_fault_fallback", "thp_fault_fallback_charge",
    "thp_collapse_alloc", "thp_collapse_alloc_failed",
    "thp_split_page", "thp_deferred_split_page",
    "compact_stall", "compact_fail", "compact_success",
)

STALL_MARK = "‼"


@dataclass(frozen=True, slots=True)
class CounterLine:
    """One counter: events/s over the last refresh, events in the window, the window as buckets."""

    name: str
    rate: float | None
    window: int
    spark: tuple[float, ...]
    present: bool = True  # False: this kernel has no such counter


@dataclass(frozen=True, slots=True)
class ThpView:
    """Everything the panel shows; built by the model from its counter history (state/counters.py)."""

    state: ThpState | None
    anon_huge: int | None
    shmem_huge: int | None
    file_huge: int | None
    counters: tuple[CounterLine, ...]
    sizes: tuple[CounterLine, ...]
    fallback_ratio: float | None
    stalls: int  # compact_stall events in the window
    stalling: bool  # ... of which some in the last refresh
    window: float
    covered: float  # seconds of history so far (less than the window at start)
    has_vmstat: bool = True
