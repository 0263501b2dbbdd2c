"""Where the process screen reads a process from: the collector's host, or what a test scripts."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from memtop.collectors.host import load_facts, user_lookup
from memtop.collectors.models import ProcessMaps
from memtop.collectors.paths import HostPaths
from memtop.collectors.process_maps import read_process_maps
from memtop.collectors.snapshot import Collector

from memtop.tables.mapping_rows import TABLE_FIELDS


@dataclass(frozen=True, slots=True)
class MapsSource:
    """How to read one process: ``read(pid, starttime)``; ``live`` for the advice on denial."""

    read: Callable[[int, int | None], ProcessMaps]
    live: bool = True
    #: The same read parsing only the table's fields (a first paint of a huge process), if offered.
    quick: Callable[[int, int | None], ProcessMaps] | None = None


def source_for(given: MapsSource | None, collector: Collector | None) -> MapsSource:
    """``given`` (tests set one), else the collector's host, else the live /proc."""
    if given is not None:
        return given
    paths: HostPaths = collector.paths if collector is not None else HostPaths()
    facts = collector.facts if collector is not None else load_facts(paths)
    users = user_lookup(facts, paths.live)
    return MapsSource(
        lambda pid, start: read_process_maps(paths, pid, users, start, facts.denied),
        paths.live,
        lambda pid, start: read_process_maps(paths, pid, users, start, facts.denied, fields=TABLE_FIELDS),
    )
