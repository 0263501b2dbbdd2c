"""memtop record on the live host: a child growing in known steps, replayed to each step; kill -9 mid-recording."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from memtop.history.schema import StoreError
from memtop.history.store import History

from tests.waiting import wait_until

MIB = 1 << 20
STEP = 16 * MIB
STEPS = 4

# Grows by STEP (touched, so resident) each time a line arrives on stdin, and says "ok".
CHILD = f"""
import mmap, sys
blocks = []
print("ok", flush=True)
for line in sys.stdin:
    block = mmap.mmap(-1, {STEP})  # its own mapping: exactly STEP resident once touched, no allocator in between
    for offset in range(0, {STEP}, 4096):
        block[offset] = 1
    blocks.append(block)
    print("ok", flush=True)
"""


def recorder(db: Path, *extra: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "memtop", "record", "--db", str(db), "--interval", "1", *extra],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def samples(db: Path) -> History | None:
    try:
        return History(db)
    except StoreError:
        return None


def child_rss(history: History, index: int, pid: int) -> int | None:
    found = next((p for p in history.snapshot(index).processes if p.pid == pid), None)
    return None if found is None else found.rss


def test_a_growing_child_replayed_to_each_step(tmp_path: Path) -> None:
    db = tmp_path / "h.sqlite"
    child = subprocess.Popen([sys.executable, "-c", CHILD], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    rec = recorder(db)
    assert child.stdin is not None and child.stdout is not None
    moments = []
    try:
        child.stdout.readline()
        for step in range(STEPS + 1):
            if step:
                child.stdin.write(b"grow\n")
                child.stdin.flush()
                assert child.stdout.readline() == b"ok\n"
            grown = time.time()

            def sampled_after() -> float | None:
                history = samples(db)
                if history is None or history.end <= grown:
                    return None
                return history.end

            # The first sample taken after the step finished is that step's moment.
            moments.append(wait_until(sampled_after, what=f"a sample after step {step}"))
    finally:
        rec.send_signal(signal.SIGTERM)
        _, err = rec.communicate(timeout=30)
        child.kill()
        child.wait()
    assert rec.returncode == 0, err.decode()
    assert b"Traceback" not in err
    history = History(db)
    base = child_rss(history, history.index_at(moments[0]), child.pid)
    assert base is not None
    for step, moment in enumerate(moments):
        rss = child_rss(history, history.index_at(moment), child.pid)
        assert rss is not None
        # Each step adds STEP of touched memory; the interpreter's own pages move by far less than a step.
        assert base + step * STEP - 2 * MIB <= rss <= base + step * STEP + 4 * MIB, (step, rss - base)
        found = next(p for p in history.snapshot(history.index_at(moment)).processes if p.pid == child.pid)
        assert found.uss is not None and found.pss is not None  # the dashboard's rule read them when RSS moved
    # Scripts read the same moment: memtop --json --replay DB --at TIME (the time whole: rounded to
    # milliseconds it could fall before the sample and name the one before).
    out = subprocess.run([sys.executable, "-m", "memtop", "--json", "--replay", str(db), "--at", repr(moments[-1])],
                         capture_output=True, check=True).stdout
    report = json.loads(out)
    proc = next(p for p in report["processes"] if p["pid"] == child.pid)
    assert proc["rss"] == child_rss(history, history.index_at(moments[-1]), child.pid)


def test_kill_9_leaves_a_readable_file(tmp_path: Path) -> None:
    db = tmp_path / "h.sqlite"
    rec = recorder(db)
    try:
        wait_until(lambda: (h := samples(db)) is not None and len(h) >= 3, timeout=30, what="three samples")
    finally:
        os.kill(rec.pid, signal.SIGKILL)
        rec.wait()
    history = History(db)
    assert len(history) >= 3
    assert history.snapshot(len(history) - 1).processes  # the last committed sample rebuilds whole
    # The lock went with the process: a new recorder takes the file and goes on.
    again = recorder(db, "--count", "1")
    _, err = again.communicate(timeout=60)
    assert again.returncode == 0, err.decode()
    assert len(History(db)) == len(history) + 1


def test_a_second_recorder_is_refused(tmp_path: Path) -> None:
    db = tmp_path / "h.sqlite"
    rec = recorder(db)
    try:
        wait_until(lambda: samples(db) is not None, timeout=30, what="a first sample")
        second = subprocess.run([sys.executable, "-m", "memtop", "record", "--db", str(db)], capture_output=True)
        assert second.returncode == 2
        assert f"pid {rec.pid}" in second.stderr.decode() and b"Traceback" not in second.stderr
    finally:
        rec.send_signal(signal.SIGTERM)
        rec.communicate(timeout=30)
    assert rec.returncode == 0


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="no /dev/full")
def test_an_unwritable_directory_is_said(tmp_path: Path) -> None:
    out = subprocess.run([sys.executable, "-m", "memtop", "record", "--db", "/proc/h.sqlite", "--count", "1"],
                         capture_output=True)
    assert out.returncode == 2 and b"Traceback" not in out.stderr and b"/proc" in out.stderr
