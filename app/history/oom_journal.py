"""The OOM-kill journal: the kernel's reports, counted against /proc/vmstat's oom_kill, with what the recording knew.

Each kill keeps the kernel's figures (collectors/oom.py) and, from the
sample before it, the victim's last PSS and USS and the five largest
processes. The vmstat oom_kill counter is the ground truth of how many kills
happened: a kill the kernel did not print (its victim was already exiting),
or that happened while /dev/kmsg is refused, is kept as an unreported count.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any, Protocol

from memtop.collectors.kmsg import KMSG, Kmsg
from memtop.collectors.models import Snapshot
from memtop.collectors.oom import OomKill, parse_kills

TOP = 5


class EventSink(Protocol):
    def event(self, kind: str, time: float, data: dict[str, Any]) -> None: ...


def boot_time() -> float:
    """Unix time of the clock printk stamps records with (it stops in suspend, as CLOCK_MONOTONIC does)."""
    return time.time() - time.monotonic()


def kill_entry(kill: OomKill, when: float, before: Snapshot | None) -> dict[str, Any]:
    """What the journal keeps of a kill: the kernel's line, and the victim and the largest processes as last recorded."""
    entry: dict[str, Any] = {"time": when, **asdict(kill), "source": "kmsg"}
    if before is not None:
        victim = next((p for p in before.processes if p.pid == kill.pid), None)
        entry["victim_pss"] = None if victim is None else victim.pss
        entry["victim_uss"] = None if victim is None else victim.uss
        entry["victim_cgroup"] = None if victim is None else victim.cgroup
        largest = sorted(before.processes, key=lambda p: p.pss if p.pss is not None else (p.rss or 0), reverse=True)
        entry["top"] = [{"pid": p.pid, "name": p.name, "pss": p.pss, "uss": p.uss, "rss": p.rss} for p in largest[:TOP]]
    return entry


class OomJournal:
    """New kills at each poll: from /dev/kmsg when it can be read, counted by vmstat's oom_kill always."""

    def __init__(self, live: bool = True, path: Path = KMSG, from_start: bool = False,
                 boot: Callable[[], float] = boot_time) -> None:
        self.kmsg = Kmsg(path, from_start=from_start) if live else None
        self.boot = boot
        self._count: int | None = None
        self._previous: Snapshot | None = None

    @property
    def source(self) -> str:
        if self.kmsg is None:
            return "OOM kills: none (a captured tree)"
        if self.kmsg.refused is not None:
            return f"OOM kills counted from /proc/vmstat oom_kill only: {self.kmsg.refused}"
        return f"OOM kills from {self.kmsg.path}, counted by /proc/vmstat oom_kill"

    def poll(self, snap: Snapshot, sink: EventSink | None = None) -> list[str]:
        """The kills since the last poll, each stored in ``sink``; one line each for the log."""
        kills = parse_kills(self.kmsg.read()) if self.kmsg is not None else []
        lines = []
        base = self.boot()
        for kill in kills:
            entry = kill_entry(kill, base + kill.usec / 1e6, self._previous or snap)
            if sink is not None:
                sink.event("oom", entry["time"], entry)
            lines.append(kill.describe())
        count = dict(snap.vmstat).get("oom_kill")
        if count is not None and self._count is not None and count - self._count > len(kills):
            missing = count - self._count - len(kills)
            if sink is not None:
                sink.event("oom", snap.time, {"time": snap.time, "unreported": missing, "source": "vmstat oom_kill",
                                              "why": self.kmsg.refused if self.kmsg is not None else None})
            lines.append(f"{missing} kill(s) counted by /proc/vmstat oom_kill that the kernel's log did not show")
        if count is not None:
            self._count = count
        self._previous = snap
        return lines

    def close(self) -> None:
        if self.kmsg is not None:
            self.kmsg.close()


def _mib(value: Any) -> str:
    return "?" if value is None else f"{value / (1 << 20):.1f} MiB"


def kill_lines(entries: list[dict[str, Any]], describe_time: Callable[[float], str]) -> list[str]:
    """The kills list: one paragraph per kill (or per count the kernel's log did not show)."""
    out = []
    for e in entries:
        when = describe_time(e["time"])
        if "unreported" in e:
            out.append(f"{when}  {e['unreported']} kill(s) counted by /proc/vmstat oom_kill, not in the kernel's log"
                       + (f" ({e['why']})" if e.get("why") else ""))
            continue
        constraint = e.get("constraint")
        if constraint == "memcg":
            where = f"the cgroup {e['memcg']} reached its limit" if e.get("memcg") else "a cgroup reached its limit"
        elif constraint == "global":
            where = "the machine ran out of memory"
        else:
            where = f"out of memory under the {constraint} constraint"
        uid = "" if e.get("uid") is None else f", uid {e['uid']}"
        line = (f"{when}  {e['name']} (pid {e['pid']}{uid}) killed: {where}; "
                f"anon {_mib(e.get('anon_rss'))}, file {_mib(e.get('file_rss'))}, shmem {_mib(e.get('shmem_rss'))}")
        if e.get("task_memcg"):
            line += f"; in {e['task_memcg']}"
        if "victim_pss" in e:
            line += f"\n    last recorded: PSS {_mib(e['victim_pss'])}, USS {_mib(e['victim_uss'])}"
            top = ", ".join(f"{t['name']} ({t['pid']}) {_mib(t['pss'] if t['pss'] is not None else t['rss'])}"
                            for t in e.get("top", ()))
            line += f"\n    largest then: {top}"
        out.append(line)
    return out


def since_boot(vmstat_kills: int | None, path: Path = KMSG) -> tuple[list[dict[str, Any]], str]:
    """The kills the kernel's log still holds (since boot, as far as its ring buffer reaches), and where they come from."""
    log = Kmsg(path, from_start=True)
    try:
        kills = parse_kills(log.read())
    finally:
        log.close()
    base = boot_time()
    entries = [kill_entry(k, base + k.usec / 1e6, None) for k in kills]
    counted = "" if vmstat_kills is None else f"; /proc/vmstat oom_kill counts {vmstat_kills} since boot"
    if log.refused is not None:
        return entries, f"{log.refused}{counted}"
    missing = "" if vmstat_kills is None or vmstat_kills <= len(kills) else (
        f" ({vmstat_kills - len(kills)} not in the log: its victim was already exiting, or the ring buffer moved on)")
    return entries, f"since boot, from {path}{counted}{missing}"
