"""Selection rules (app/tables/select.py), text/JSON report (app/output/report.py) and the command line (app/cli/)."""

from __future__ import annotations

import dataclasses
import shutil
import json
import subprocess
import sys
from pathlib import Path

import pytest

from memtop.cli import HINT, main
from memtop.collectors.models import ProcessMemory
from memtop.collectors.paths import HostPaths
from memtop.collectors.snapshot import Collector, Options
from memtop.output.report import SCHEMA, escape, human, snapshot_json, summary_line, table
from memtop.tables.select import SelectError, matches, select, sort_processes

KIB = 1024


def mk(pid: int, name: str = "proc", **kw) -> ProcessMemory:
    base = dict(pid=pid, ppid=1, starttime=pid * 10, name=name, cmdline=(), uid=None, user=None, state="S",
                threads=1, kernel_thread=False)
    base.update(kw)
    return ProcessMemory(**base)


def order(procs) -> list[int]:
    return [p.pid for p in procs]


# ---------------------------------------------------------------- sorting

PROCS = [
    mk(10, "bash", pss=300, rss=1000, user="alice", threads=1, oom_score=5),
    mk(2, "Xorg", pss=900, rss=500, user="root", threads=4, oom_score=200),
    mk(33, "zsh", pss=None, rss=2000, user=None, threads=2, oom_score=None),
    mk(4, "alpha", pss=100, rss=None, user="Bob", threads=9, oom_score=0),
    mk(5, "Beta", pss=None, rss=50, user="carol", threads=1, oom_score=1000),
]


@pytest.mark.parametrize(
    "field, expected, expected_reversed",
    [
        ("pss", [2, 10, 4, 5, 33], [4, 10, 2, 5, 33]),  # sizes: largest first, None last both ways
        ("rss", [33, 10, 2, 5, 4], [5, 2, 10, 33, 4]),
        ("threads", [4, 2, 33, 5, 10], [5, 10, 33, 2, 4]),  # ties by pid in both directions
        ("oom_score", [5, 2, 10, 4, 33], [4, 10, 2, 5, 33]),
        ("pid", [2, 4, 5, 10, 33], [33, 10, 5, 4, 2]),
        ("name", [4, 10, 5, 2, 33], [33, 2, 5, 10, 4]),  # case-insensitive: alpha bash Beta Xorg zsh
        ("user", [10, 4, 5, 2, 33], [2, 5, 4, 10, 33]),  # alice Bob carol root, None last both ways
    ],
)
def test_sort_rules(field, expected, expected_reversed):
    assert order(sort_processes(PROCS, field)) == expected
    assert order(sort_processes(PROCS, field, reverse=True)) == expected_reversed
    assert order(select(PROCS, sort=field)) == expected
    assert order(select(PROCS, sort=field, reverse=True)) == expected_reversed


def test_sort_ties_fall_back_to_pid():
    procs = [mk(9, pss=5), mk(3, pss=5), mk(7, pss=8), mk(1, pss=5)]
    assert order(sort_processes(procs, "pss")) == [7, 1, 3, 9]
    assert order(sort_processes(procs, "pss", reverse=True)) == [1, 3, 9, 7]


def test_sort_by_cmdline_joins_arguments():
    procs = [mk(1, cmdline=("b",)), mk(2, cmdline=("a", "z")), mk(3, cmdline=("a", "b"))]
    assert order(sort_processes(procs, "cmdline")) == [3, 2, 1]


def test_sort_does_not_modify_input():
    procs = list(PROCS)
    select(procs, sort="pss")
    assert procs == PROCS


def test_unknown_sort_field():
    with pytest.raises(SelectError, match="unknown sort column 'bogus'"):
        select(PROCS, sort="bogus")


# ---------------------------------------------------------------- filtering and limits

FILTERABLE = [
    mk(12, "python3", cmdline=("python3", "-m", "http.server"), user="alice"),
    mk(123, "nginx", cmdline=("nginx: worker process",), user="www-data"),
    mk(7, "Web Content", cmdline=(), user="ALICE"),
    mk(8, "cron", cmdline=("/usr/sbin/cron", "-f"), user=None),
]


@pytest.mark.parametrize(
    "text, expected",
    [
        ("PYTHON", [12]),  # name, case-insensitive
        ("http.SERVER", [12]),  # command line
        ("worker process", [123]),
        ("alice", [7, 12]),  # user, either case
        ("web c", [7]),
        ("12", [12]),  # digits: pid 12 exactly, never pid 123 (no "12" in its name, cmdline or user)
        ("123", [123]),
        ("7", [7]),  # pid 7; nothing else holds a "7"
        ("3", [12]),  # "python3" holds a 3; pid 123 is not matched by substring
        ("/usr/sbin", [8]),
        ("nomatch", []),
    ],
)
def test_filter(text, expected):
    assert sorted(order(select(FILTERABLE, sort="pid", text=text))) == expected


def test_filter_digits_match_pid_exactly():
    assert matches(mk(12, "x"), "12") is True
    assert matches(mk(123, "x"), "12") is False
    assert matches(mk(12, "x"), "1") is False


def test_filter_with_non_ascii_digits_does_not_crash():
    """str.isdigit() is true for "²" but int("²") raises: a --filter must never crash."""
    procs = [mk(2, "x"), mk(5, "E=mc²")]
    assert order(select(procs, sort="pid", text="²")) == [5]


def test_pids_and_limit():
    assert order(select(PROCS, sort="pid", pids=[33, 2, 999])) == [2, 33]
    assert order(select(PROCS, sort="pss", limit=2)) == [2, 10]
    assert order(select(PROCS, sort="pss", limit=0)) == []
    assert order(select(PROCS, sort="pss", limit=-3)) == []
    assert order(select(PROCS, sort="pss", limit=None)) == [2, 10, 4, 5, 33]
    assert order(select(PROCS, sort="pss", reverse=True, limit=1)) == [4]  # cut after sorting
    assert order(select(PROCS, sort="pid", text="A", limit=2)) == [4, 5]  # filter, sort, then cut (of 4, 5, 10)


# ---------------------------------------------------------------- human / escape

@pytest.mark.parametrize(
    "n, text",
    [
        (None, "n/a"),
        (0, "0 B"),
        (1, "1 B"),
        (1023, "1.0 KiB"),  # never four digits of a unit: the next unit from 1000 on
        (1024, "1.0 KiB"),
        (1536, "1.5 KiB"),
        (1024**2, "1.0 MiB"),
        (5 * 1024**3 + 512 * 1024**2, "5.5 GiB"),
        (1024**4, "1.0 TiB"),
        (3 * 1024**5, "3.0 PiB"),
        (1024**6, "1024.0 PiB"),  # no unit above PiB
        (-5, "-5 B"),
        (-2048, "-2.0 KiB"),
        (8000000 * KIB, "7.6 GiB"),
    ],
)
def test_human(n, text):
    assert human(n) == text


@pytest.mark.parametrize(
    "raw, shown",
    [
        ("plain name", "plain name"),
        ("caf\u00e9", "caf\u00e9"),
        ("x) (y\nR 1 2", "x) (y\\nR 1 2"),
        ("tab\there", "tab\\there"),
        ("\x1b[31mred", "\\x1b[31mred"),
        ("del\x7f", "del\\x7f"),
        ("nul\x00", "nul\\x00"),
        ("zero\u200bwidth", "zero\\u200bwidth"),
        ("cr\r", "cr\\r"),
    ],
)
def test_escape(raw, shown):
    assert escape(raw) == shown
    assert escape(raw).isprintable()


# ---------------------------------------------------------------- JSON schema memtop.snapshot/1

TOP_KEYS = {"schema", "time", "hostname", "kernel", "page_size", "system", "pressure", "vmstat", "thp",
            "hidden_processes", "cgroup_hierarchy", "notes", "processes", "cgroups", "diagnoses", "working_sets"}
SYSTEM_KEYS = {"total", "free", "available", "available_estimated", "used", "buffers", "cached", "shmem", "anon",
               "slab_reclaimable", "slab_unreclaimable", "kernel_stack", "page_tables", "percpu", "hugetlb", "zswap",
               "dirty", "writeback", "swap_total", "swap_free", "swap_cached", "anon_huge", "shmem_huge",
               "file_huge", "mapped", "taxonomy", "overcount", "reconciliation"}
RECONCILIATION_KEYS = {"pss_sum", "anon_shmem_mapped", "difference", "unreadable"}
PRESSURE_LINE_KEYS = {"avg10", "avg60", "avg300", "total"}
THP_KEYS = {"enabled", "defrag", "shmem_enabled", "khugepaged", "sizes"}
PROCESS_KEYS = [
    "pid", "ppid", "starttime", "name", "cmdline", "uid", "user", "state",
    "rss", "pss", "uss", "swap", "swap_pss", "pss_anon", "pss_file", "pss_shmem", "pss_dirty",
    "anon", "file", "shmem", "vsize", "hwm", "anon_huge", "hugetlb",
    "oom_score", "oom_score_adj", "cgroup", "error",
    "threads", "kernel_thread", "referenced", "locked", "faults", "memory_time", "heap", "marks",
]


def snap_of(root: Path, **options):
    return Collector(HostPaths.from_root(root), Options(**options), clock=lambda: 1700000000.5).collect()


def test_snapshot_json_schema(hosts):
    snap = snap_of(hosts / "basic")
    out = snapshot_json(snap, select(snap.processes))
    assert set(out) == TOP_KEYS
    assert out["schema"] == SCHEMA == "memtop.snapshot/1"
    assert out["time"] == 1700000000.5
    assert set(out["system"]) == SYSTEM_KEYS
    assert set(out["system"]["reconciliation"]) == RECONCILIATION_KEYS
    assert all(set(t) == {"name", "bytes"} for t in out["system"]["taxonomy"])
    assert sum(t["bytes"] for t in out["system"]["taxonomy"]) == out["system"]["total"]
    assert set(out["pressure"]) == {"some", "full"}
    assert set(out["pressure"]["some"]) == set(out["pressure"]["full"]) == PRESSURE_LINE_KEYS
    assert set(out["thp"]) == THP_KEYS
    assert out["thp"]["sizes"] == {"64kB": {"enabled": "madvise", "stats": {"anon_fault_alloc": 12}},
                                   "2048kB": {"enabled": "inherit", "stats": {"anon_fault_alloc": 3}}}
    assert out["thp"]["khugepaged"] == {"defrag": 1, "pages_to_scan": 4096}
    assert out["vmstat"]["oom_kill"] == 2
    assert [p["pid"] for p in out["processes"]] == [1234, 1300, 1]
    for p in out["processes"]:
        assert list(p) == PROCESS_KEYS  # schema order
        assert isinstance(p["cmdline"], list)
    # Plain JSON: no NaN, no tuples, survives a round trip.
    text = json.dumps(out, allow_nan=False)
    assert json.loads(text) == out


def test_snapshot_json_nulls(hosts):
    snap = snap_of(hosts / "no-thp")
    bare = dataclasses.replace(snap, system=None, pressure=None, thp=None, reconciliation=None)
    out = snapshot_json(bare, [])
    assert set(out) == TOP_KEYS
    assert (out["system"], out["pressure"], out["thp"], out["processes"]) == (None, None, None, [])
    json.dumps(out, allow_nan=False)
    legacy = snap_of(hosts / "basic")
    # A PSI file without a full line (CPU before 5.13) gives null, not a missing key.
    half = dataclasses.replace(legacy, pressure=dataclasses.replace(legacy.pressure, full=None))
    assert snapshot_json(half, [])["pressure"]["full"] is None


def test_snapshot_json_unknown_is_null_not_zero(hosts):
    snap = snap_of(hosts / "zombie")
    (z,) = [p for p in snapshot_json(snap, snap.processes)["processes"] if p["pid"] == 4242]
    assert z["pss"] is None and z["rss"] is None and z["state"] == "Z"


def test_summary_line_and_table(hosts):
    snap = snap_of(hosts / "basic")
    assert summary_line(snap.system, exact=False).startswith("total 7.6 GiB  used 2.9 GiB  available 4.8 GiB")
    assert summary_line(snap.system, exact=True).startswith("total 8192000000  used 3072000000")
    assert summary_line(None, exact=False) == "system: n/a"
    text = table(snap, select(snap.processes))
    lines = text.splitlines()
    assert lines[1].split() == ["PID", "USER", "NAME", "RSS", "PSS", "USS", "SWAP", "COMMAND"]
    assert [line.split()[0] for line in lines[2:]] == ["1234", "1300", "1"]
    assert lines[2].endswith("python3 -m http.server --secret=hunter2")
    narrow = table(snap, select(snap.processes), width=40)
    assert all(len(line) <= 40 for line in narrow.splitlines()[1:])


# ---------------------------------------------------------------- CLI

def run_cli(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_cli_once(hosts, capsys):
    code, out, err = run_cli(capsys, "--once", "--root", str(hosts / "basic"))
    assert code == 0 and err == ""
    lines = out.splitlines()
    assert lines[0].startswith("total 7.6 GiB")
    assert [line.split()[0] for line in lines[2:5]] == ["1234", "1300", "1"]
    assert "alice" in lines[2]


def test_the_notes_on_the_cells_come_before_the_table(capsys):
    """`memtop --once | head` keeps why PSS/USS are n/a: the notes follow the summary line, above the table."""
    capture = Path(__file__).resolve().parents[1] / "fixtures" / "captures" / "vm-6.18-user"
    code, out, _ = run_cli(capsys, "--once", "--root", str(capture))
    assert code == 0
    lines = out.splitlines()
    header = next(i for i, line in enumerate(lines) if line.split()[:1] == ["PID"])
    assert lines[1].startswith("PSS/USS n/a for ") and "needs root or the same user" in lines[1]
    assert header == 2 and all(line.split()[0].isdigit() and " n/a " in line for line in lines[header + 1:])


def test_cli_once_bytes_sort_limit(hosts, capsys):
    code, out, _ = run_cli(capsys, "--once", "--bytes", "--sort", "pid", "--limit", "2", "--root", str(hosts / "basic"))
    assert code == 0
    lines = out.splitlines()
    assert lines[0].startswith("total 8192000000")
    assert [line.split()[0] for line in lines[2:]] == ["1", "1234"]
    assert str(8000 * KIB) in lines[2]


def test_cli_json(hosts, capsys):
    code, out, err = run_cli(capsys, "--json", "--root", str(hosts / "basic"), "--filter", "ALICE", "--sort", "rss")
    assert code == 0 and err == ""
    doc = json.loads(out)
    assert set(doc) == TOP_KEYS
    assert [p["pid"] for p in doc["processes"]] == [1234, 1300]
    assert doc["hostname"] == "fixture-basic"


def test_cli_json_pid(hosts, capsys):
    code, out, _ = run_cli(capsys, "--json", "--root", str(hosts / "basic"), "--pid", "1", "--pid", "1300")
    assert code == 0
    doc = json.loads(out)
    assert sorted(p["pid"] for p in doc["processes"]) == [1, 1300]
    assert doc["system"]["reconciliation"] is None  # a partial read says nothing of the whole


def test_cli_filter_non_ascii_digit(hosts, capsys):
    code, out, _ = run_cli(capsys, "--json", "--root", str(hosts / "basic"), "--filter", "\u00b2")
    assert code == 0
    assert json.loads(out)["processes"] == []


def one_error_line(err: str) -> str:
    assert err.endswith("\n") and err.count("\n") == 1, err
    assert err.startswith("memtop: ")
    return err


def test_cli_unknown_sort(hosts, capsys):
    code, out, err = run_cli(capsys, "--once", "--sort", "bogus", "--root", str(hosts / "basic"))
    assert code == 2 and out == ""
    assert "unknown sort column 'bogus'" in one_error_line(err)


def test_cli_unknown_pid(hosts, capsys):
    code, out, err = run_cli(capsys, "--json", "--pid", "999999", "--root", str(hosts / "basic"))
    assert code == 2 and out == ""
    assert "no such process: 999999" in one_error_line(err)


def test_cli_root_without_proc(tmp_path, capsys):
    code, out, err = run_cli(capsys, "--once", "--root", str(tmp_path))
    assert code == 2 and out == ""
    assert "no proc/" in one_error_line(err)


def test_cli_without_mode_prints_hint(capsys):
    code, out, err = run_cli(capsys)
    assert code == 2 and out == "" and err == HINT + "\n"


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--interval", "1"], "stdout is not a terminal"),  # the dashboard needs a terminal
        (["--json", "--count", "2"], "--count goes with --interval and --once or --json"),
    ],
)
def test_cli_option_combinations(hosts, capsys, argv, message):
    code, out, err = run_cli(capsys, *argv, "--root", str(hosts / "basic"))
    assert code == 2 and out == ""
    assert message in one_error_line(err)


@pytest.mark.parametrize("argv", [["--interval", "0"], ["--interval", "-1"], ["--interval", "nan"],
                                  ["--json", "--interval", "1", "--count", "0"]])
def test_cli_rejects_bad_numbers(hosts, capsys, argv):
    with pytest.raises(SystemExit) as exc:
        main([*argv, "--root", str(hosts / "basic")])
    assert exc.value.code == 2


def test_cli_interval_ndjson(hosts, capsys):
    code, out, err = run_cli(capsys, "--json", "--interval", "0.1", "--count", "2", "--root", str(hosts / "basic"))
    assert code == 0 and err == ""
    lines = out.splitlines()
    assert len(lines) == 2
    docs = [json.loads(line) for line in lines]
    assert all(set(d) == TOP_KEYS for d in docs)
    assert lines[0] == json.dumps(docs[0], separators=(",", ":"))  # compact separators: one object per line
    for doc in docs:
        for proc in doc["processes"]:
            assert proc.pop("memory_time") in (doc["time"], None)
    assert docs[0]["processes"] == docs[1]["processes"]


def test_cli_once_does_not_import_textual(hosts):
    code = (
        "import sys; from memtop.cli import main; "
        f"rc = main(['--once', '--root', {str(hosts / 'basic')!r}]); "
        "assert rc == 0, rc; "
        "assert 'textual' not in sys.modules, 'textual imported'; "
        "assert {m for m in sys.modules if m.startswith('memtop.widgets')} <= {'memtop.widgets', 'memtop.views.format'}"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "PID" in done.stdout


# ---------------------------------------------------------------- capture and replay

def replay(capsys, root: Path, *extra: str) -> dict:
    code, out, err = run_cli(capsys, "--json", "--kernel-threads", "--sort", "pid", "--root", str(root), *extra)
    assert code == 0, err
    doc = json.loads(out)
    stamp = doc.pop("time")
    for proc in doc["processes"]:
        # Figures from smaps_rollup carry the time they were read: this run's.
        assert proc.pop("memory_time") in (stamp, None)
    return doc


@pytest.mark.parametrize("scenario", ["basic", "zombie", "kthread", "no-rollup", "weird-comm", "hybrid"])
def test_capture_then_replay(hosts, tmp_path, capsys, scenario):
    source = hosts / scenario
    original = replay(capsys, source)
    dest = tmp_path / "cap"
    code, out, err = run_cli(capsys, "capture", str(dest), "--root", str(source))
    assert code == 0 and err == ""
    assert out.startswith("captured ") and f"--root {dest}" in out
    copy = replay(capsys, dest)
    # Everything survives the trip except the arguments of each command line.
    for p in original["processes"]:
        p["cmdline"] = p["cmdline"][:1]
    assert copy == original
    assert not any(p.name == "environ" for p in dest.rglob("*"))


def test_capture_cuts_cmdline_to_argv0(hosts, tmp_path, capsys):
    dest = tmp_path / "cap"
    assert main(["capture", str(dest), "--root", str(hosts / "basic")]) == 0
    capsys.readouterr()
    assert (dest / "proc" / "1234" / "cmdline").read_bytes() == b"python3\0"
    assert not any(b"hunter2" in p.read_bytes() for p in dest.rglob("*") if p.is_file())
    procs = {p["pid"]: p for p in replay(capsys, dest)["processes"]}
    assert procs[1234]["cmdline"] == ["python3"]
    assert procs[1234]["user"] == "alice"  # user names travel in memtop-host.json


def test_capture_keep_cmdline(hosts, tmp_path, capsys):
    source = hosts / "basic"
    dest = tmp_path / "cap"
    assert main(["capture", str(dest), "--keep-cmdline", "--root", str(source)]) == 0
    capsys.readouterr()
    copy, original = replay(capsys, dest), replay(capsys, source)
    # Every argument is kept, but a secret-looking one is masked all the same (issue 13, item 5).
    for p in original["processes"]:
        p["cmdline"] = [a.replace("--secret=hunter2", "--secret=***") for a in p["cmdline"]]
    assert copy == original
    assert (dest / "proc" / "1234" / "cmdline").read_bytes() == b"python3\0-m\0http.server\0--secret=***\0"


def test_capture_into_non_empty_dir(hosts, tmp_path, capsys):
    (tmp_path / "keep.txt").write_text("mine\n")
    code, out, err = run_cli(capsys, "capture", str(tmp_path), "--root", str(hosts / "basic"))
    assert code == 2 and out == ""
    assert "not empty" in one_error_line(err)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.txt"]


@pytest.mark.parametrize(
    "meminfo",
    [b"", b"garbage\n", b"\x00\xff\xfe", b"MemTotal: " + b"9" * 5000 + b" kB\n"],
    ids=["empty", "garbage", "binary", "absurd-number"],
)
def test_cli_garbage_meminfo_exits_2(hosts, tmp_path, capsys, meminfo):
    """README: garbage in /proc/meminfo gives one line on stderr and exit status 2."""
    root = tmp_path / "host"
    shutil.copytree(hosts / "basic", root)
    (root / "proc" / "meminfo").write_bytes(meminfo)
    code, out, err = run_cli(capsys, "--once", "--root", str(root))
    assert code == 2 and out == ""
    assert "meminfo" in one_error_line(err)
