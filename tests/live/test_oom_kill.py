"""A real OOM kill in a small memory cgroup: the kernel's report parsed, and memtop record keeps it with the victim's last PSS."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from memtop.history.oom_journal import OomJournal
from memtop.history.store import History
from memtop.history.schema import StoreError

from tests.waiting import wait_until

V1 = Path("/sys/fs/cgroup/memory")
V2 = Path("/sys/fs/cgroup")
LIMIT = 64 << 20

# Takes 32 MiB, says so, waits for a line, then grows by 4 MiB (touched) until the cgroup's limit kills it.
GROW = """
import mmap, sys
blocks = []
def grow():
    block = mmap.mmap(-1, 4 << 20)
    for offset in range(0, 4 << 20, 4096):
        block[offset] = 1
    blocks.append(block)
for _ in range(8):
    grow()
print("ok", flush=True)
sys.stdin.readline()
while True:
    grow()
"""


def small_cgroup(name: str) -> tuple[Path, str]:
    """A memory cgroup limited to LIMIT: (its directory, its path as the kernel prints it)."""
    if os.geteuid() != 0:
        pytest.skip("a memory cgroup needs root")
    if (V1 / "memory.limit_in_bytes").exists():
        directory = V1 / name
        directory.mkdir()
        (directory / "memory.limit_in_bytes").write_text(str(LIMIT))
    elif "memory" in (V2 / "cgroup.controllers").read_text():
        directory = V2 / name
        directory.mkdir()
        (directory / "memory.max").write_text(str(LIMIT))
        (directory / "memory.swap.max").write_text("0")
    else:
        pytest.skip("no memory cgroup controller here")
    return directory, "/" + name


def test_a_kill_in_a_small_cgroup(tmp_path: Path) -> None:
    directory, path = small_cgroup(f"memtop-oom-{os.getpid()}")
    db = tmp_path / "h.sqlite"
    journal = OomJournal(from_start=False)
    if journal.kmsg is None or journal.kmsg.refused:
        pytest.skip(f"no kernel log: {journal.source}")
    rec = subprocess.Popen([sys.executable, "-m", "memtop", "record", "--db", str(db), "--interval", "1"],
                           stderr=subprocess.PIPE)
    child = None
    try:
        wait_until(lambda: db.exists() and _samples(db) >= 1, timeout=30, what="the recorder's first sample")
        # The shell joins the cgroup, then becomes the growing program: the victim is the pid we know.
        child = subprocess.Popen(["sh", "-c", f'echo $$ > {directory}/cgroup.procs && exec "$0" -c "$1"',
                                  sys.executable, GROW], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        assert child.stdin is not None and child.stdout is not None
        assert child.stdout.readline() == b"ok\n"
        # The recording holds it, with a PSS, before it grows into the limit.
        wait_until(lambda: _recorded_pss(db, child.pid), timeout=30, what="the victim in the recording")
        child.stdin.write(b"go\n")
        child.stdin.flush()
        child.wait(timeout=60)
        assert child.returncode == -signal.SIGKILL
        kills = wait_until(lambda: [k for k in _parse(journal) if k.pid == child.pid], what="the kernel's report")
        kill = kills[0]
        assert kill.constraint == "memcg" and kill.name.startswith("python")
        if kill.memcg is not None:  # 5.0+: the summary line names the cgroup
            assert kill.memcg == path
        # Python's mmap(-1, n) is shared anonymous memory: the kernel counts it as shmem-rss.
        assert kill.anon_rss is not None and kill.shmem_rss is not None
        assert kill.anon_rss + kill.shmem_rss > LIMIT // 2
        wait_until(lambda: any(e.data.get("pid") == child.pid for e in History(db).events("oom")), timeout=30,
                   what="the recorder's kill")
    finally:
        rec.send_signal(signal.SIGTERM)
        _, err = rec.communicate(timeout=60)
        if child is not None and child.poll() is None:
            child.kill()
            child.wait()
        for _ in range(50):
            try:
                directory.rmdir()
                break
            except OSError:
                time.sleep(0.1)  # the killed task leaves the cgroup a moment after it is reaped
    assert rec.returncode == 0, err.decode()
    event = next(e for e in History(db).events("oom") if e.data.get("pid") == child.pid)
    # The victim's last PSS as recorded before the kill, and the largest processes of that moment.
    assert event.data["victim_pss"] is not None and event.data["victim_pss"] > 0
    assert len(event.data["top"]) == 5
    assert b"OOM kill: python" in err


_seen: list[object] = []


def _parse(journal: OomJournal) -> list:  # type: ignore[type-arg]
    from memtop.collectors.oom import parse_kills

    assert journal.kmsg is not None
    _seen.extend(parse_kills(journal.kmsg.read()))
    return _seen


def _recorded_pss(db: Path, pid: int) -> bool:
    history = History(db)
    return any(p.pid == pid and p.pss for p in history.snapshot(len(history) - 1).processes)


def _samples(db: Path) -> int:
    try:
        return len(History(db))
    except StoreError:
        return 0
