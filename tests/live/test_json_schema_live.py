"""The real /proc's JSON holds to the published schemas (snapshot, NDJSON stream, one process's maps)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from tests.output.test_json_schema import check


def _memtop(*args: str) -> str:
    return subprocess.run([sys.executable, "-m", "memtop", *args], capture_output=True, text=True, check=True, timeout=120).stdout


def test_the_live_snapshot_validates() -> None:
    check("snapshot", json.loads(_memtop("--json")))


def test_the_live_stream_validates() -> None:
    lines = _memtop("--json", "--interval", "0.2", "--count", "2").splitlines()
    assert len(lines) == 2
    for line in lines:
        check("snapshot", json.loads(line))


def test_the_maps_of_a_live_process_validate() -> None:
    check("maps", json.loads(_memtop("--maps", str(os.getpid()), "--json")))
