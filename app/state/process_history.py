"""Per-process memory history for the heap-vs-RSS chart, kept by the model.

Bounded: a sample is stored only when RSS, RssAnon or heap changed (an idle
process costs one entry however long it is watched), at most ``capacity``
samples per process, at most ``max_processes`` processes (the ones seen on
screen most recently win), and a process's history is dropped when it exits.
A process once on screen keeps being sampled while it lives (from stat and
status, read for every process every refresh anyway), so its line has no
holes when it scrolls back into view.
"""

from __future__ import annotations

from collections import OrderedDict, deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from operator import attrgetter

from memtop.collectors.models import ProcessMemory
from memtop.views.heap_series import HeapSeries
from memtop.views.step_line import first_in_force

Key = tuple[int, int]
_time = attrgetter("time")

#: Chart windows offered by the window key, in seconds (default 5 min).
WINDOWS = (60.0, 300.0, 900.0, 1800.0)
DEFAULT_WINDOW = 300.0


def next_window(current: float) -> float:
    """The chart window after ``current`` (key W cycles them)."""
    return WINDOWS[(WINDOWS.index(current) + 1) % len(WINDOWS)] if current in WINDOWS else DEFAULT_WINDOW


@dataclass(frozen=True, slots=True)
class Sample:
    time: float
    rss: int | None
    anon: int | None
    heap: int | None


class ProcessHistory:
    """Samples of the processes that have been on screen."""

    def __init__(self, capacity: int = 2048, max_processes: int = 256) -> None:
        self.capacity = capacity
        self.max_processes = max_processes
        self._samples: OrderedDict[Key, deque[Sample]] = OrderedDict()
        self._names: dict[Key, str] = {}
        self.now = 0.0  # the time of the last record

    def __len__(self) -> int:
        return len(self._samples)

    def samples(self, key: Key) -> tuple[Sample, ...]:
        return tuple(self._samples.get(key, ()))

    def record(
        self,
        time: float,
        processes: Iterable[ProcessMemory],
        on_screen: frozenset[int],
        heap: Mapping[int, int] | None = None,
        keep: Key | None = None,
    ) -> None:
        """Add this refresh's figures for the tracked processes; start tracking those on screen.

        ``keep``: a process that exited while selected keeps its history
        until the selection moves on.
        """
        samples = self._samples
        self.now = time
        alive: set[Key] = set()
        heap = heap or {}
        for proc in processes:
            key = (proc.pid, proc.starttime)
            series = samples.get(key)
            if proc.pid in on_screen:
                if series is None:
                    series = samples[key] = deque(maxlen=self.capacity)
                else:
                    samples.move_to_end(key)  # seen on screen most recently
            elif series is None:
                continue
            alive.add(key)
            self._names[key] = proc.name
            sample = Sample(time, proc.rss, proc.anon, heap.get(proc.pid))
            last = series[-1] if series else None
            if last is not None and last.time >= time:
                continue  # the 10 Hz sampler was here after this snapshot was taken
            if last is None or (last.rss, last.anon, last.heap) != (sample.rss, sample.anon, sample.heap):
                series.append(sample)
        for key in [k for k in samples if k not in alive and k != keep]:
            del samples[key]  # exited: its history goes with it
            self._names.pop(key, None)
        while len(samples) > self.max_processes:
            gone, _ = samples.popitem(last=False)  # longest off screen
            self._names.pop(gone, None)

    def add(self, key: Key, sample: Sample) -> None:
        """One sample between refreshes (the 10 Hz sampler of `memtop run`), if the process is tracked."""
        series = self._samples.get(key)
        if series is None:
            return
        last = series[-1] if series else None
        if last is None or (last.rss, last.anon, last.heap) != (sample.rss, sample.anon, sample.heap):
            series.append(sample)
        self.now = max(self.now, sample.time)

    def reserve(self, key: Key, capacity: int) -> None:
        """A deeper history for one process (the one `memtop run` started: 10 samples a second)."""
        old = self._samples.get(key, ())
        self._samples[key] = deque(old, maxlen=capacity)

    def tracks(self, key: Key) -> bool:
        """Whether the history of this process is kept."""
        return key in self._samples

    def track(self, proc: ProcessMemory, time: float, heap: int | None = None) -> None:
        """Start the history of a process now (selected before the next refresh)."""
        if proc.key not in self._samples:
            self._samples[proc.key] = deque((Sample(time, proc.rss, proc.anon, heap),), maxlen=self.capacity)
            self._names[proc.key] = proc.name

    def series(self, key: Key, now: float, window: float, heap_note: str, exited: bool = False) -> HeapSeries | None:
        """What the chart draws for one process, or None when it was never tracked."""
        kept = self._samples.get(key)
        if kept is None:
            return None
        # The last sample before the window holds the value at its start.
        chosen = list(kept)
        del chosen[:first_in_force(chosen, now - window, key=_time)]
        return HeapSeries(
            label=f"{self._names.get(key, '?')} ({key[0]})",
            times=tuple(s.time for s in chosen),
            rss=tuple(s.rss for s in chosen),
            anon=tuple(s.anon for s in chosen),
            heap=tuple(s.heap for s in chosen),
            heap_note=heap_note,
            now=now,
            window=window,
            exited=exited,
        )
