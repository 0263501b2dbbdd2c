"""The prometheus_client collector: yields the families of the last frame; a scrape reads nothing from /proc.

Collection runs on its own schedule (memtop serve's pass loop) and publishes
a Frame; ``collect`` is what a scrape calls, from the HTTP server's threads.
It hands out the families built at publish time and the snapshot's age,
measured now, so a scrape costs the writing out and never a smaps pass
(process-exporter users report smaps_rollup passes of 4-30 s on big
processes: history-and-fleet.md).
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Callable, Iterator

from prometheus_client import CollectorRegistry, ProcessCollector
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics import disable_created_metrics
from prometheus_client.metrics_core import Metric
from prometheus_client.exposition import generate_latest as text_format
from prometheus_client.openmetrics.exposition import generate_latest
from prometheus_client.registry import Collector

from memtop.export.families import Frame, families
from memtop.export.kernel_families import PREFIX
from memtop.export.processes import Mode

# Counters made with prometheus_client's own classes would add a *_created
# series each (issue 16: off). memtop's families carry no created time, so
# this only keeps it so for any the library adds.
disable_created_metrics()


class FrameCollector(Collector):
    """The families of the last published frame, plus its age at the moment of the scrape."""

    def __init__(self, mode: Mode, clock: Callable[[], float] = time.time, age: bool = True) -> None:
        self.mode = mode
        self.clock = clock
        self.age = age
        # One reference, swapped whole by publish(): a scrape in another
        # thread sees the old frame's families or the new one's, never a mix.
        self._published: tuple[Frame, list[Metric]] | None = None

    def publish(self, frame: Frame) -> None:
        """A new pass: build its families now, once, for every scrape until the next."""
        self._published = (frame, families(frame, self.mode))

    @property
    def frame(self) -> Frame | None:
        published = self._published
        return None if published is None else published[0]

    def describe(self) -> list[Metric]:
        return []  # the registry must not collect (read) at registration

    def collect(self) -> Iterator[Metric]:
        published = self._published
        if published is None:
            return  # no pass has finished yet: only memtop's own process figures
        frame, built = published
        yield from built
        if self.age:
            yield GaugeMetricFamily(
                PREFIX + "snapshot_age_seconds", "seconds since the snapshot served was read: a scrape answers "
                "from the last collection pass and never reads /proc itself", value=max(self.clock() - frame.snapshot.time, 0.0),
                unit="seconds")


def registry(collector: FrameCollector, own_process: bool = True) -> CollectorRegistry:
    """A registry of memtop's families, and memtop's own CPU, memory and open files (process_*)."""
    reg = CollectorRegistry()
    reg.register(collector)
    if own_process:
        ProcessCollector(registry=reg)  # process_cpu_seconds_total, process_resident_memory_bytes, ...
    return reg


def _once(frame: Frame, mode: Mode) -> CollectorRegistry:
    collector = FrameCollector(mode, age=False)  # a file's age is its mtime (node_textfile_mtime_seconds)
    collector.publish(frame)
    return registry(collector, own_process=False)  # memtop's own process lives for this report only


def openmetrics(frame: Frame, mode: Mode) -> str:
    """The families of one frame as OpenMetrics text (``memtop --once --openmetrics``)."""
    return generate_latest(_once(frame, mode)).decode()


def write_textfile(frame: Frame, mode: Mode, path: str) -> None:
    """The families of one frame in the text format node_exporter's textfile collector reads, replacing ``path`` whole.

    That collector parses the Prometheus text format, not OpenMetrics (node_exporter
    1.5 rejects an info family and reads OpenMetrics counters as untyped). It
    may read while memtop writes, so the text goes to a new file beside
    ``path`` that is renamed over it (node_exporter's README asks for that).
    mkstemp's file is new (O_EXCL) and unguessable, so nothing another user
    planted in the directory is followed; 0644 lets node_exporter's user read it.

    Raises:
        OSError: the directory is missing or not writable.
    """
    data = text_format(_once(frame, mode))
    folder, name = os.path.split(os.path.abspath(path))
    fd, temporary = tempfile.mkstemp(prefix=f".{name}.", dir=folder)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise
