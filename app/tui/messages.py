"""Messages of the dashboard: readings from the collector task, requests from the screens to the app.

Data flows down (collector task -> app -> model -> screens, through
``MemtopApp.update``); what a screen wants changed goes up as a message the
app handles, forwarding it to the model or the monitor. Screens never call
into the app.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message

from memtop.collectors.models import WorkingSet

from memtop.instrument.attach import AttachResult
from memtop.state.model import Ingested, Reading


@dataclass(frozen=True, slots=True)
class ModelUpdate:
    """What the app tells the screens after the model changed.

    ``ingested``: a new snapshot and what the model derived from it; None when
    only derived state changed between snapshots (the chart window, a
    working-set result, a gdb sample).
    """

    ingested: Ingested | None = None


@dataclass
class SnapshotReady(Message):
    """One pass's reading, for the app to ingest.

    Replaceable: when the UI is behind, only the newest one is handled
    (toolong's ``can_replace``), so a slow screen never queues old data.
    """

    reading: Reading

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, SnapshotReady)


@dataclass
class CollectorFailed(Message):
    """A collection raised: the header's line (the error, where its traceback is, when the next try comes)."""

    error: str


# -- requests from the screens ------------------------------------------------
@dataclass
class IntervalChosen(Message):
    """Keys [ and ]: collect every ``seconds``."""

    seconds: float


@dataclass
class CgroupsWanted(Message):
    """The cgroup view opened (or closed): read the cgroup tree every pass (or every few)."""

    on: bool


@dataclass
class RowsOnScreen(Message):
    """The process rows on screen and the selected process: read in full every pass, given a history."""

    visible: frozenset[int]
    selected: tuple[int, int] | None


@dataclass
class Drilled(Message):
    """The process screen opened on ``pid`` (``open``), or closed."""

    pid: int
    open: bool


@dataclass
class ChartWindowChosen(Message):
    """Key W: the heap-vs-RSS chart (and the gap and RSS trends) over the last ``window`` seconds."""

    window: float


@dataclass
class WorkingSetMeasured(Message):
    """A working-set measurement ended: the diagnoses take it at once."""

    result: WorkingSet


@dataclass
class HeapSampled(Message):
    """Key H: a gdb sample of a process's heap ended (a point for its chart, or why there is none)."""

    key: tuple[int, int]
    result: AttachResult
