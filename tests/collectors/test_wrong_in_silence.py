"""Figures that cannot be trusted get a reason or a mark, never a plausible wrong number (issue 13, item 9)."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from pathlib import Path

import pytest

from memtop.cli import main
from memtop.collectors.errors import ParseError
from memtop.collectors.models import HeapCounters, ProcessMemory
from memtop.collectors.paths import HostPaths
from memtop.collectors.process_build import CgroupCache, build_process
from memtop.collectors.processes import RawProcess
from memtop.collectors.procfs import parse_stat
from memtop.collectors.smaps import parse_smaps
from memtop.collectors.snapshot import Collector, Options, _plausible
from memtop.output.report import process_json, table

from tests.dashboard_fixtures import CAPTURES

HOSTS = Path(__file__).resolve().parents[1] / "fixtures" / "hosts"
PID1 = HOSTS / "basic" / "proc" / "1"
ROLLUP = (PID1 / "smaps_rollup").read_bytes()
STATUS = (PID1 / "status").read_bytes()
KIB = 1024


def build(status: bytes | None = STATUS, memory: bytes | None = ROLLUP, why: str | None = None) -> ProcessMemory:
    stat = parse_stat((PID1 / "stat").read_bytes())
    raw = RawProcess(1, stat, status, b"/sbin/init\0", b"0\n", b"0\n", None, memory, why)
    return build_process(raw, lambda _uid: "root", CgroupCache(), now=0.0)


def test_the_fixture_process_reads_clean() -> None:
    p = build()
    assert p.error is None and p.uss == 6000 * KIB and p.pss == 8000 * KIB and p.marks == ()


@pytest.mark.parametrize("cut", ["Private_Clean:", "Private_Dirty:      50", "Swap:", "Locked:"])
def test_a_rollup_cut_short_gives_a_reason_not_a_small_uss(cut: str) -> None:
    p = build(memory=ROLLUP[: ROLLUP.index(cut.encode())])
    assert p.uss is None and p.pss is None
    assert p.error is not None and "cut short" in p.error


@pytest.mark.parametrize("memory", [b"", b"\n", bytes(range(256)) * 4, b"\x00" * 100], ids=["empty", "newline", "binary", "zeros"])
def test_an_empty_or_binary_rollup_gives_a_reason(memory: bytes) -> None:
    p = build(memory=memory)
    assert p.pss is None and p.uss is None and p.error is not None and p.error.startswith("smaps_rollup: ")


def test_a_rollup_with_a_line_twice_gives_a_reason() -> None:
    p = build(memory=ROLLUP.replace(b"Pss:                8000 kB\n", b"Pss:                8000 kB\nPss:  8000 kB\n"))
    assert p.pss is None and p.error is not None and "twice" in p.error


def test_a_rollup_with_uss_above_pss_gives_a_reason() -> None:
    p = build(memory=ROLLUP.replace(b"Private_Dirty:      5000 kB", b"Private_Dirty:      9000 kB"))
    assert p.pss is None and p.uss is None and p.error is not None and "above Pss" in p.error


@pytest.mark.parametrize("status", [b"", b"\n\n", bytes(range(256)), b"Name:\tx\n"], ids=["empty", "newlines", "binary", "no-uid"])
def test_an_empty_or_binary_status_gives_a_reason(status: bytes) -> None:
    p = build(status=status)
    assert p.rss is None and p.error is not None and "status: " in p.error


def test_pss_above_rss_is_marked() -> None:
    p = build(status=STATUS.replace(b"VmRSS:\t   12000 kB", b"VmRSS:\t    7000 kB"))
    assert p.pss == 8000 * KIB and p.rss == 7000 * KIB
    assert p.marks and "above RSS" in p.marks[0]
    assert process_json(p)["marks"] == list(p.marks)


def test_the_table_marks_pss_above_rss_and_says_why() -> None:
    snap = Collector(HostPaths.from_root(HOSTS / "basic"), Options(), clock=lambda: 0.0).collect()
    p = build(status=STATUS.replace(b"VmRSS:\t   12000 kB", b"VmRSS:\t    7000 kB"))
    lines = table(snap, [p]).splitlines()
    assert "7.8 MiB!" in lines[-1]  # the one row
    assert lines[1].startswith("! PSS above RSS for 1 process")  # the note above the table, under the summary


def test_a_user_sees_swap_n_a_for_another_users_process_not_zero() -> None:
    snap = Collector(HostPaths.from_root(CAPTURES / "vm-6.18-user"), Options(), clock=lambda: 0.0).collect()
    assert snap.processes
    for p in snap.processes:
        assert p.swap is None and p.pss is None and p.error is not None


def test_swap_stays_for_a_process_whose_rollup_was_read() -> None:
    assert build().swap == 300 * KIB


def _tree(tmp_path: Path, meminfo: str) -> Path:
    root = tmp_path / "host"
    shutil.copytree(HOSTS / "basic", root)
    (root / "proc" / "meminfo").write_text(meminfo)
    return root


MEMINFO = (HOSTS / "basic" / "proc" / "meminfo").read_text()


def _json(root: Path, capsys: pytest.CaptureFixture[str]) -> dict:  # type: ignore[type-arg]
    assert main(["--json", "--root", str(root)]) == 0
    return json.loads(capsys.readouterr().out)


def test_memavailable_above_memtotal_leaves_used_out_and_says_why(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    total = next(line for line in MEMINFO.splitlines() if line.startswith("MemTotal:"))
    root = _tree(tmp_path, MEMINFO.replace(total, "MemTotal:        1000 kB"))
    doc = _json(root, capsys)
    assert doc["system"]["used"] is None
    assert any("above MemTotal" in n for n in doc["notes"])
    assert main(["--once", "--root", str(root)]) == 0
    out = capsys.readouterr().out
    assert "used n/a" in out and "above MemTotal" in out and "used -" not in out


def test_a_meminfo_field_given_twice_is_not_used(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = _tree(tmp_path, MEMINFO + "MemAvailable:   99999999 kB\n")
    doc = _json(root, capsys)
    # Neither value is taken: available is estimated as on kernels without the line, and marked so.
    assert doc["system"]["available"] != 99999999 * KIB and doc["system"]["available_estimated"] is True
    assert any("MemAvailable 2 times" in n for n in doc["notes"])


def test_swapfree_above_swaptotal_is_not_a_negative_swap(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    swap = next(line for line in MEMINFO.splitlines() if line.startswith("SwapFree:"))
    root = _tree(tmp_path, MEMINFO.replace(swap, "SwapFree:   999999999 kB"))
    doc = _json(root, capsys)
    assert doc["system"]["swap_total"] is None and any("SwapFree" in n for n in doc["notes"])


SMAPS = b"""00400000-00452000 r-xp 00000000 08:02 173521 /usr/bin/dbus-daemon
Size:                328 kB
Rss:                 100 kB
Pss:                 100 kB
Private_Clean:       100 kB
Private_Dirty:         0 kB
VmFlags: rd ex mr mw me dw
00651000-00652000 r--p 00051000 08:02 173521 /usr/bin/dbus-daemon
Size:                  4 kB
Rss:                   4 kB
Pss:                   4 kB
Private_Clean:         0 kB
Private_Dirty:         4 kB
VmFlags: rd mr mw me dw
"""


@pytest.mark.parametrize("hostile", [
    SMAPS.replace(b"Rss:                   4 kB", b"Rss:                  -4 kB"),
    SMAPS.replace(b"Private_Clean:       100 kB", b"Private_Clean:      -100 kB"),
    SMAPS.replace(b"00651000-00652000", b"00652000-00651000"),
], ids=["negative-rss", "negative-private", "end-before-start"])
def test_hostile_smaps_never_gives_a_negative_size(hostile: bytes) -> None:
    assert all(m.size >= 0 and min(m.values) >= 0 for m in parse_smaps(SMAPS))
    with pytest.raises(ParseError):
        parse_smaps(hostile)


def test_maps_of_a_hostile_smaps_says_so(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = tmp_path / "host"
    shutil.copytree(HOSTS / "no-rollup", root)
    smaps = root / "proc" / "900" / "smaps"
    smaps.write_bytes(smaps.read_bytes().replace(b"Rss:                1500 kB", b"Rss:               -1500 kB"))
    assert main(["--maps", "900", "--root", str(root)]) == 2
    out = capsys.readouterr()
    assert out.out == "" and "malformed" in out.err


def test_a_heap_larger_than_the_address_space_is_refused() -> None:
    counters = HeapCounters(pid=1, source="preload", starttime=5, in_use=10 << 30, peak=10 << 30, allocs=1, frees=0)
    refused = _plausible(counters, vsize=170000 * KIB)
    assert refused.in_use is None and refused.peak is None and refused.refused is not None
    assert "more than the process's whole address space" in refused.refused
    assert _plausible(replace(counters, in_use=1 << 20, peak=2 << 20), vsize=170000 * KIB).in_use == 1 << 20
    doc = process_json(build(), refused)
    assert doc["heap"]["in_use"] is None and doc["heap"]["gap"] is None and refused.refused in doc["heap"]["missing"]


@pytest.mark.parametrize("trap", ["missing", "fifo"])
def test_a_status_missing_or_refused_says_why_rss_is_n_a(tmp_path: Path, trap: str) -> None:
    root = tmp_path / "host"
    shutil.copytree(HOSTS / "basic", root)
    status = root / "proc" / "1" / "status"
    status.unlink()
    if trap == "fifo":
        import os

        os.mkfifo(status)
    snap = Collector(HostPaths.from_root(root), Options(pids=(1,)), clock=lambda: 0.0).collect()
    p = snap.processes[0]
    assert p.rss is None and p.error is not None and p.error.startswith("status: ")


def test_memtop_runs_10_hz_samples_drop_a_heap_above_the_address_space() -> None:
    """The child's counter file is read between refreshes too: the same rule holds there."""
    import os
    from types import SimpleNamespace

    from memtop.state.heap_sources import HeapSources
    from memtop.state.process_history import ProcessHistory
    from memtop.state.run_watch import RunWatch

    me = os.getpid()
    counters = HeapCounters(pid=me, source="preload", starttime=1, in_use=1 << 50, peak=None, allocs=1, frees=0)
    child = SimpleNamespace(pid=me, not_instrumentable=None, returncode=None, poll=lambda: None, name="child")
    collector = SimpleNamespace(heap_files=SimpleNamespace(sample=lambda _pid: counters), paths=HostPaths(),
                                facts=SimpleNamespace(page_size=os.sysconf("SC_PAGE_SIZE")), clock=lambda: 1.0)
    history = ProcessHistory()
    watch = RunWatch(child, collector, history, HeapSources())  # type: ignore[arg-type]
    snap = Collector(HostPaths(), Options(pids=(me,))).collect(thp=False, cgroups=False, container=False)
    watch.snapshot(snap)
    watch.sample()
    (sample,) = history.samples(watch.key)  # type: ignore[arg-type]
    assert sample.rss is not None and sample.heap is None
