"""``memtop capture DIR``: copy exactly the /proc and /sys files memtop reads.

The copy replays with ``memtop --root DIR``. It never copies environ; command
lines are cut to argv[0] unless asked (arguments often hold secrets), and
secret-looking words are masked in what is kept (``redact``). What a tree
cannot carry (user names, page size, clock ticks) goes into
``memtop-host.json`` beside proc/ and sys/; what was removed or refused, per
file, into ``memtop-capture.json``.

A capture run as root holds other users' command lines and smaps: every
directory is made 0700 and every file 0600 whatever the umask, files are
created with O_EXCL|O_NOFOLLOW (nothing planted is written through), and no
path may leave DIR (issue 13, item 5). Captured from a tree (``--root``), a
file is copied only if it resolves inside that tree and is a regular file:
a symlink to /etc/shadow or a FIFO is refused with the reason.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from .capture_files import CaptureDir, CaptureRefused, SourceTree
from .cgroup_tree import CgroupReader
from .host import HOST_FILE, HostFacts, load_facts, user_lookup
from .paths import HostPaths
from .procfs import parse_status
from .redact import redact_cmdline
from .thp import THP_DIR

__all__ = ["REPORT_FILE", "CaptureRefused", "CaptureResult", "capture"]

HOST_PROC_FILES = (
    "meminfo", "vmstat", "pressure/memory", "loadavg", "sys/kernel/hostname",
    "sys/kernel/osrelease", "sys/vm/min_free_kbytes", "self/mountinfo", "self/status", "self/cgroup",
)
PID_FILES = ("stat", "status", "smaps_rollup", "cmdline", "oom_score", "oom_score_adj", "cgroup")
#: What the capture removed and refused, per file (beside memtop-host.json).
REPORT_FILE = "memtop-capture.json"


@dataclass(frozen=True, slots=True)
class CaptureResult:
    files: int
    processes: int
    unreadable: int
    #: Secret-looking words masked, per copied file ("proc/123/cmdline": 2).
    masked: dict[str, int] = field(default_factory=dict)
    #: Arguments after argv[0] left out, per file (without --keep-cmdline).
    dropped: dict[str, int] = field(default_factory=dict)
    #: Files not copied because they were unsafe to copy, and why.
    refused: dict[str, str] = field(default_factory=dict)


class _Run:
    """One capture: the source tree, the destination, and what happened per file."""

    def __init__(self, source: SourceTree, out: CaptureDir) -> None:
        self.source = source
        self.out = out
        self.masked: dict[str, int] = {}
        self.dropped: dict[str, int] = {}
        self.refused: dict[str, str] = {}

    def copy(self, src: Path, dst: str, denied: set[str] | None = None, keep_cmdline: bool = True) -> bool:
        """Copy one file to ``dst`` (relative to the capture); False when missing, refused or unreadable."""
        try:
            data = self.source.read(src)
        except CaptureRefused as exc:
            self.refused[dst] = str(exc)
            return False
        except PermissionError:
            if denied is not None:
                denied.add(f"{src.parent.name}/{src.name}")
            return False
        except OSError:
            return False
        if src.name == "cmdline":
            data, masked, dropped = redact_cmdline(data, keep_cmdline)
            if masked:
                self.masked[dst] = masked
            if dropped:
                self.dropped[dst] = dropped
        try:
            self.out.write(dst, data)
        except CaptureRefused as exc:
            self.refused[dst] = str(exc)
            return False
        return True


def _relative(path: Path, base: Path) -> str | None:
    """``path`` under ``base`` as a relative string, None when it is not below it."""
    try:
        return path.relative_to(base).as_posix()
    except ValueError:
        return None


def capture(paths: HostPaths, dest: Path, keep_cmdline: bool = False, smaps: bool = False) -> CaptureResult:
    """Copy the host's memtop files under ``dest`` (created 0700; must be empty or new).

    Raises:
        CaptureRefused: ``dest`` is not a directory of this user that memtop can make private.
    """
    out = CaptureDir.create(dest)
    try:
        return _capture(paths, _Run(SourceTree(paths), out), keep_cmdline, smaps)
    finally:
        out.close()


def _capture(paths: HostPaths, run: _Run, keep_cmdline: bool, smaps: bool) -> CaptureResult:
    copy = run.copy
    files = unreadable = processes = 0
    for name in HOST_PROC_FILES:
        files += copy(paths.proc / name, f"proc/{name}")
    thp = paths.sys / THP_DIR
    for top, _dirs, names in os.walk(thp):
        for name in names:
            src = Path(top) / name
            files += copy(src, f"sys/{src.relative_to(paths.sys).as_posix()}")
    facts: HostFacts = load_facts(paths)
    for src in CgroupReader(paths, facts.page_size).files():  # the memory cgroup tree
        under_sys = _relative(src, paths.sys)
        where = f"sys/{under_sys}" if under_sys is not None else _relative(src, paths.root)
        if where is None:
            run.refused[str(src)] = "outside the tree captured"
            continue
        files += copy(src, where)
    lookup = user_lookup(facts, paths.live)
    users: dict[int, str] = {}
    denied: set[str] = set()
    per_pid = PID_FILES + (("smaps",) if smaps else ())
    for entry in sorted(os.listdir(paths.proc)):
        if not entry.isdigit() or not entry.isascii():
            continue
        copied = 0
        for name in per_pid:
            if copy(paths.proc / entry / name, f"proc/{entry}/{name}", denied, keep_cmdline):
                copied += 1
            else:
                unreadable += 1
        if not run.out.exists(f"proc/{entry}/smaps_rollup") and not smaps and f"{entry}/smaps_rollup" not in denied:
            # A kernel before 4.14 (or a tree without rollups): memtop sums smaps.
            copied += copy(paths.proc / entry / "smaps", f"proc/{entry}/smaps")
        status = run.out.read(f"proc/{entry}/status")
        if status is not None:
            uid = parse_status_uid(status)
            if uid is not None:
                user = lookup(uid)
                if user is not None:
                    users[uid] = user
        files += copied
        processes += copied > 0
    stored = HostFacts(facts.hostname, facts.kernel, facts.page_size, facts.clock_ticks, users, frozenset(denied))
    run.out.write(HOST_FILE, (json.dumps(stored.to_json(), indent=1, sort_keys=True) + "\n").encode())
    report = {
        "masked": dict(sorted(run.masked.items())), "dropped": dict(sorted(run.dropped.items())),
        "refused": dict(sorted(run.refused.items())),
        "note": "masked: secret-looking words replaced by ***; dropped: arguments after argv[0] left out "
                "(--keep-cmdline keeps them); refused: files not copied, and why",
    }
    run.out.write(REPORT_FILE, (json.dumps(report, indent=1) + "\n").encode())
    return CaptureResult(files=files, processes=processes, unreadable=unreadable, masked=run.masked,
                         dropped=run.dropped, refused=run.refused)


def parse_status_uid(raw: bytes) -> int | None:
    try:
        return parse_status(raw).uid
    except ValueError:
        return None
