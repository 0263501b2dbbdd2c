"""Messages from the collector task to the UI."""

from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message

from memtop.collectors.models import Snapshot


@dataclass
class SnapshotReady(Message):
    """A new snapshot and what the app derived from its history.

    Replaceable: when the UI is behind, only the newest one is handled
    (toolong's ``can_replace``), so a slow screen never queues old data.
    """

    snapshot: Snapshot
    rates: dict[tuple[object, ...], float]
    own_cpu: float | None
    own_rss: int | None

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, SnapshotReady)


@dataclass
class CollectorFailed(Message):
    """A collection raised; the loop goes on and retries at the next tick."""

    error: str
