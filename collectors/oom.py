"""The kernel's OOM-kill reports: /dev/kmsg records, parsed (mm/oom_kill.c, Documentation/ABI/testing/dev-kmsg).

Formats by kernel version:

- 4.19: ``<scope>: Kill process PID (COMM) score N or sacrifice child``,
  then ``Killed process PID (COMM) total-vm:NkB, anon-rss:NkB, file-rss:NkB, shmem-rss:NkB``;
  no summary line.
- 5.0: the summary ``oom-kill:constraint=C,nodemask=...,cpuset=...,mems_allowed=...,
  [oom_memcg=...,]task_memcg=...,task=COMM,pid=N,uid=N`` (``global_oom`` in place of
  oom_memcg when the whole machine ran out), and ``<scope>: Killed process ...``.
- 5.3 adds ``, UID:N``; 5.4 ``pgtables:NkB oom_score_adj:N`` (early 5.4 printed
  pgtables in bytes labelled kB: a figure no page table can reach is read as bytes).

The kernel may print nothing when the victim was already exiting; the
oom_kill counters of /proc/vmstat and of the cgroups count every kill.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

KIB = 1024


@dataclass(frozen=True, slots=True)
class OomKill:
    """One kill the kernel reported. Sizes in bytes; None when this kernel's line does not say."""

    usec: int  # the record's time: microseconds since boot (printk's clock)
    pid: int
    name: str
    uid: int | None
    total_vm: int | None
    anon_rss: int | None
    file_rss: int | None
    shmem_rss: int | None
    pgtables: int | None
    oom_score_adj: int | None
    #: "memcg" (a cgroup's limit), "global" (the machine), or the kernel's word (cpuset, memory policy).
    constraint: str
    #: The cgroup whose limit was hit (memcg), and the victim's cgroup, when the summary line says.
    memcg: str | None = None
    task_memcg: str | None = None

    def describe(self) -> str:
        where = f"in {self.memcg}" if self.constraint == "memcg" and self.memcg else self.constraint
        anon = "" if self.anon_rss is None else f", anon {self.anon_rss >> 20} MiB"
        return f"{self.name} (pid {self.pid}) killed ({where}{anon})"


_RECORD = re.compile(r"(\d+),(\d+),(\d+),[^;]*;(.*)")
_KILL = re.compile(
    r"(?:(?P<scope>Out of memory|Memory cgroup out of memory)(?: \(oom_kill_allocating_task\))?: )?"
    r"Killed process (?P<pid>\d+) \((?P<comm>.*)\)(?:, UID (?P<uid0>\d+),)? total-vm:(?P<vm>\d+)kB, anon-rss:(?P<anon>\d+)kB, "
    r"file-rss:(?P<file>\d+)kB, shmem-rss:(?P<shmem>\d+)kB"
    r"(?:, UID:(?P<uid>\d+))?(?: pgtables:(?P<pgt>\d+)kB)?(?: oom_score_adj:(?P<adj>-?\d+))?")
_SCOPE_419 = re.compile(r"(?P<scope>Out of memory|Memory cgroup out of memory)(?: \(oom_kill_allocating_task\))?: "
                        r"Kill process (?P<pid>\d+) \(")
_SUMMARY = re.compile(r"oom-kill:constraint=CONSTRAINT_(?P<constraint>[A-Z_]+),(?P<middle>.*)"
                      r"task=(?P<comm>.*),pid=(?P<pid>\d+),uid=(?P<uid>\d+)\s*$")


def parse_record(line: str) -> tuple[int, int, str] | None:
    """A /dev/kmsg record ``PRIO,SEQ,USEC,FLAGS;TEXT``: (seq, usec, text); None for a continuation or garbage."""
    m = _RECORD.match(line)
    if m is None:
        return None
    return int(m.group(2)), int(m.group(3)), m.group(4).rstrip("\n")


def _field(middle: str, name: str) -> str | None:
    m = re.search(rf"(?:^|,){name}=([^,]*)", middle)
    return m.group(1) if m else None


def parse_kills(records: Iterable[tuple[int, str]]) -> list[OomKill]:
    """The kills in (usec, text) records, in order: each ``Killed process`` line with what its summary or scope line said."""
    kills: list[OomKill] = []
    summary: dict[int, tuple[str, str | None, str | None, int]] = {}
    scopes: dict[int, str] = {}
    for usec, text in records:
        m = _SUMMARY.search(text)
        if m is not None:
            middle = m.group("middle")
            word = m.group("constraint").lower()
            constraint = "global" if word == "none" else word
            summary[int(m.group("pid"))] = (constraint, _field(middle, "oom_memcg"), _field(middle, "task_memcg"),
                                            int(m.group("uid")))
            continue
        m = _SCOPE_419.search(text)
        if m is not None and "Killed process" not in text:
            scopes[int(m.group("pid"))] = m.group("scope")
            continue
        m = _KILL.search(text)
        if m is None:
            continue
        pid = int(m.group("pid"))
        scope = m.group("scope") or scopes.pop(pid, None)
        constraint, memcg, task_memcg, uid = summary.pop(pid, (None, None, None, None))
        if constraint is None:
            constraint = "memcg" if scope == "Memory cgroup out of memory" else "global"
        if m.group("uid") is not None or m.group("uid0") is not None:
            uid = int(m.group("uid") or m.group("uid0"))  # uid0: RHEL 7's 3.10 prints ", UID N," before the sizes
        vm = int(m.group("vm"))
        pgtables = None if m.group("pgt") is None else int(m.group("pgt"))
        if pgtables is not None and pgtables > max(vm // 64, 1024):
            # Early 5.4 printed mm_pgtables_bytes() labelled kB: no page table is a 64th of the mapped size.
            pgtables //= KIB
        kills.append(OomKill(
            usec=usec, pid=pid, name=m.group("comm"), uid=uid, total_vm=vm * KIB, anon_rss=int(m.group("anon")) * KIB,
            file_rss=int(m.group("file")) * KIB, shmem_rss=int(m.group("shmem")) * KIB,
            pgtables=None if pgtables is None else pgtables * KIB,
            oom_score_adj=None if m.group("adj") is None else int(m.group("adj")),
            constraint=constraint, memcg=memcg, task_memcg=task_memcg,
        ))
    return kills
