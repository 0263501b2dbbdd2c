"""``memtop capture DIR``: copy exactly the /proc and /sys files memtop reads.

The copy replays with ``memtop --root DIR``. It never copies environ; command
lines are cut to argv[0] unless asked (arguments often hold secrets). What a
tree cannot carry (user names, page size, clock ticks) goes into
``memtop-host.json`` beside proc/ and sys/.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from .cgroup_tree import CgroupReader
from .fs import read_file
from .host import HOST_FILE, HostFacts, load_facts, user_lookup
from .paths import HostPaths
from .procfs import parse_status
from .thp import THP_DIR

HOST_PROC_FILES = (
    "meminfo", "vmstat", "pressure/memory", "loadavg", "sys/kernel/hostname",
    "sys/kernel/osrelease", "sys/vm/min_free_kbytes", "self/mountinfo", "self/status", "self/cgroup",
)
PID_FILES = ("stat", "status", "smaps_rollup", "cmdline", "oom_score", "oom_score_adj", "cgroup")


@dataclass(frozen=True, slots=True)
class CaptureResult:
    files: int
    processes: int
    unreadable: int


def _copy(src: Path, dst: Path, transform: object = None, denied: set[str] | None = None) -> bool:
    try:
        data = read_file(src)
    except PermissionError:
        if denied is not None:
            denied.add(f"{src.parent.name}/{src.name}")
        return False
    except OSError:
        return False
    if callable(transform):
        data = transform(data)
    dst.parent.mkdir(parents=True, exist_ok=True)
    dst.write_bytes(data)
    return True


def _argv0(raw: bytes) -> bytes:
    first = raw.split(b"\0", 1)[0]
    return first + b"\0" if first else b""


def capture(paths: HostPaths, dest: Path, keep_cmdline: bool = False, smaps: bool = False) -> CaptureResult:
    """Copy the host's memtop files under ``dest`` (created; must be empty or new)."""
    dest.mkdir(parents=True, exist_ok=True)
    proc_out, sys_out = dest / "proc", dest / "sys"
    files = unreadable = processes = 0
    for name in HOST_PROC_FILES:
        files += _copy(paths.proc / name, proc_out / name)
    thp = paths.sys / THP_DIR
    for top, _dirs, names in os.walk(thp):
        for name in names:
            src = Path(top) / name
            ok = _copy(src, sys_out / src.relative_to(paths.sys))
            files += ok
    facts: HostFacts = load_facts(paths)
    for src in CgroupReader(paths, facts.page_size).files():  # the memory cgroup tree
        under_sys = src.is_relative_to(paths.sys)
        files += _copy(src, (sys_out / src.relative_to(paths.sys)) if under_sys else dest / src.relative_to(paths.root))
    lookup = user_lookup(facts, paths.live)
    users: dict[int, str] = {}
    denied: set[str] = set()
    per_pid = PID_FILES + (("smaps",) if smaps else ())
    for entry in sorted(os.listdir(paths.proc)):
        if not entry.isdigit():
            continue
        copied = 0
        for name in per_pid:
            transform = None if keep_cmdline or name != "cmdline" else _argv0
            if _copy(paths.proc / entry / name, proc_out / entry / name, transform, denied):
                copied += 1
            else:
                unreadable += 1
        if not (proc_out / entry / "smaps_rollup").exists() and not smaps and f"{entry}/smaps_rollup" not in denied:
            # A kernel before 4.14 (or a tree without rollups): memtop sums smaps.
            copied += _copy(paths.proc / entry / "smaps", proc_out / entry / "smaps")
        status = proc_out / entry / "status"
        if status.exists():
            uid = parse_status_uid(status)
            if uid is not None:
                user = lookup(uid)
                if user is not None:
                    users[uid] = user
        files += copied
        processes += copied > 0
    stored = HostFacts(facts.hostname, facts.kernel, facts.page_size, facts.clock_ticks, users, frozenset(denied))
    (dest / HOST_FILE).write_text(json.dumps(stored.to_json(), indent=1, sort_keys=True) + "\n")
    return CaptureResult(files=files, processes=processes, unreadable=unreadable)


def parse_status_uid(path: Path) -> int | None:
    try:
        return parse_status(path.read_bytes()).uid
    except (OSError, ValueError):
        return None
