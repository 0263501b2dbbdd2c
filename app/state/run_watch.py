"""The model's side of `memtop run`: the child's 10 Hz samples and its end.

The question asked when quitting while it runs is tui/screens/run_quit.py's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from memtop.collectors.models import Snapshot
from memtop.collectors.procfs import read_statm
from memtop.collectors.snapshot import Collector

from memtop.state.heap_sources import HeapSources
from memtop.state.process_history import ProcessHistory, Sample

if TYPE_CHECKING:  # the model imports this module; `memtop --json` starts no program
    from memtop.instrument.run import RunChild

#: Samples a second of the child's heap and RSS (feasibility.md §A1: a read costs ~11 µs).
SAMPLE_HZ = 10
#: 30 minutes of them: the longest chart window.
CAPACITY = 30 * 60 * SAMPLE_HZ


@dataclass
class RunWatch:
    """Samples the child between refreshes and notices when it ends."""

    child: RunChild
    collector: Collector
    history: ProcessHistory
    heap: HeapSources
    key: tuple[int, int] | None = None
    reported: bool = False
    #: The child's address space at the last refresh: a heap above it cannot be true.
    vsize: int | None = None

    def __post_init__(self) -> None:
        if self.child.not_instrumentable:
            self.heap.reasons[self.child.pid] = f"heap: not instrumentable: {self.child.not_instrumentable}"

    def snapshot(self, snap: Snapshot) -> bool:
        """After each refresh: find the child's identity; True once, when it has just ended."""
        proc = next((p for p in snap.processes if p.pid == self.child.pid), None)
        if proc is not None:
            self.vsize = proc.vsize
        if self.key is None and proc is not None:
            self.key = proc.key
            self.history.reserve(proc.key, CAPACITY)
        if self.child.poll() is not None and not self.reported:
            self.reported = True
            return True
        return False

    def sample(self) -> None:
        """One 10 Hz sample: RSS and RssAnon from statm, heap from the mapped counter file."""
        if self.key is None or self.child.returncode is not None:
            return
        files = self.collector.heap_files
        counters = files.sample(self.child.pid) if files is not None else None
        if counters is None:
            return  # not yet validated by a refresh, or not instrumented: the refresh's samples do
        paths = self.collector.paths
        kernel = read_statm(paths.proc, self.child.pid, self.collector.facts.page_size)
        if kernel is None:
            return
        rss, anon = kernel
        in_use = counters.in_use
        if in_use is not None and self.vsize is not None and in_use > self.vsize:
            in_use = None  # more than its whole address space: the refresh's counters say why (issue 13, item 9)
        self.history.add(self.key, Sample(self.collector.clock(), rss, anon, in_use))
