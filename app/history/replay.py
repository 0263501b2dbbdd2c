"""Replay: recorded snapshots fed to the dashboard's own model, one moment at a time.

Going to a moment feeds the model the samples of the WARM seconds before it
(rates, trends and diagnoses need a history, as they do live), then the
moment; one sample forward is one more ingest. The screens watch the same
model as live; only the header (the time cursor) and the keys differ.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from memtop.state.model import Ingested, MemtopModel
from memtop.state.options import StartOptions

from memtop.history.store import Event, History
from memtop.history.timespec import describe_time, parse_time

#: Seconds of samples fed before the moment shown: the heap-vs-RSS chart's default window (5 min);
#: the THP rates need 60 s, the RSS trends 60 s and more.
WARM = 300.0


class Replay:
    """A recording and the model it feeds; ``index`` the sample shown."""

    def __init__(self, history: History, options: StartOptions = StartOptions(), model: MemtopModel | None = None) -> None:
        self.history = history
        self.model = model if model is not None else MemtopModel(replace(options, frozen=True))
        self.index = -1

    @classmethod
    def open(cls, path: Path, options: StartOptions = StartOptions()) -> Replay:
        return cls(History(path), options)

    def goto(self, index: int) -> Ingested:
        """Show sample ``index`` (clamped to the recording)."""
        history = self.history
        index = min(max(index, 0), len(history) - 1)
        model = self.model
        if index == self.index and model.last is not None:
            return model.last
        if index == self.index + 1 and model.last is not None:
            done = model.ingest(history.snapshot(index))
        else:
            model.forget()
            self.index = -1  # until the walk ends: a damaged sample (StoreError) leaves nothing half-fed
            first = history.index_at(history.times[index] - WARM)
            done = None
            focus = model.focus
            try:
                for snap in history.walk(first, index):
                    # Every process keeps a history over the warm-up, as if on screen: the heap-vs-RSS
                    # chart and GROW/m of whichever row is selected next are drawn from the recording.
                    model.focus = replace(focus, visible=frozenset(p.pid for p in snap.processes))
                    done = model.ingest(snap)
            finally:
                model.focus = focus
            assert done is not None
        self.index = index
        return done

    def goto_time(self, time: float) -> Ingested:
        """The sample at or just before ``time``."""
        return self.goto(self.history.index_at(time))

    def goto_text(self, text: str) -> Ingested:
        """A time as the user types it (timespec.parse_time); raises SpecError."""
        return self.goto_time(parse_time(text, self.history.start, self.history.end))

    def step(self, samples: int) -> Ingested:
        return self.goto(self.index + samples)

    def jump(self, seconds: float) -> Ingested:
        """``seconds`` away from the moment shown (at least one sample, when there is one)."""
        here = self.history.times[self.index]
        target = self.history.index_at(here + seconds)
        if target == self.index:
            target += 1 if seconds > 0 else -1
        return self.goto(target)

    def next_event(self, kind: str, forward: bool = True) -> Event | None:
        """Go to the next (or previous) event of ``kind`` ("diagnosis", "oom"); None when there is none."""
        here = self.history.times[self.index]
        events = self.history.events(kind)
        found = (next((e for e in events if e.time > here), None) if forward
                 else next((e for e in reversed(events) if e.time < here), None))
        if found is not None:
            self.goto_time(found.time)
        return found

    @property
    def time(self) -> float:
        return self.history.times[self.index]

    def cursor(self) -> str:
        """The header's time cursor: the moment, its place in the recording, the recording's span."""
        h = self.history
        return (f"REPLAY {describe_time(self.time)}  sample {self.index + 1}/{len(h)}  "
                f"({describe_time(h.start)} .. {describe_time(h.end)})")
