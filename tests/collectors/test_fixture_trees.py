"""Collectors over the real upstream /proc trees of shared/fixtures/upstream (see its README.md).

Several scenarios are assembled from more than one machine (README: "tests must
not assume cross-file consistency inside those scenarios"), so the expected
values below come from each file on its own.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from memtop.cli import main
from memtop.collectors.errors import ParseError
from memtop.collectors.models import Snapshot
from memtop.collectors.paths import HostPaths
from memtop.collectors.pressure import parse_pressure
from memtop.collectors.processes import KTHREAD, ProcessReader
from memtop.collectors.procfs import memory_cgroup, parse_cgroup, parse_status
from memtop.collectors.smaps import parse_smaps, parse_smaps_general
from memtop.collectors.snapshot import Collector, HostError, Options
from memtop.collectors.vmstat import parse_vmstat

KIB = 1024

WITH_MEMINFO = (
    "eas-oldkern-meminfo", "go-sysinfo-ubuntu1710", "gopsutil-32bit-highmem", "gopsutil-bigserver-truncated",
    "gopsutil-desktop-i5", "node-exporter", "oomd-cgroup2-handmade", "procfs-fixtures",
    "sysstat-desktop-5x-t1", "sysstat-desktop-5x-t2",
)
WITHOUT_MEMINFO = ("eas-docker-hybrid", "eas-docker2-cgroup2-ns", "eas-ubuntu1804-hybrid", "go-sysinfo-fedora40",
                   "gopsutil-procs-assorted")


def collect(root: Path, **options) -> Snapshot:
    return Collector(HostPaths.from_root(root), Options(**options), clock=lambda: 0.0).collect()


def pids(snap: Snapshot) -> list[int]:
    return [p.pid for p in snap.processes]


def proc(snap: Snapshot, pid: int):
    (found,) = [p for p in snap.processes if p.pid == pid]
    return found


def kb_sum(path: Path, *keys: str) -> int:
    """Sum of ``Key: N kB`` lines of a file, computed here independently of memtop."""
    text = path.read_text()
    return sum(int(n) * KIB for key in keys for n in re.findall(rf"^{re.escape(key)}:\s+(\d+) kB$", text, re.M))


def test_scenario_lists_match_the_tree(upstream):
    scenarios = {p.name for p in upstream.iterdir() if p.is_dir()}
    assert scenarios == set(WITH_MEMINFO) | set(WITHOUT_MEMINFO)
    assert {s for s in scenarios if (upstream / s / "proc" / "meminfo").is_file()} == set(WITH_MEMINFO)


# ---------------------------------------------------------------- meminfo variants

def test_node_exporter_no_memavailable_is_estimated(upstream):
    snap = collect(upstream / "node-exporter")
    sm = snap.system
    assert sm.field("MemAvailable") is None
    assert sm.available_estimated is True
    # No min_free_kbytes in the tree: MemFree + file LRU + SReclaimable (watermark 0).
    assert sm.available == (225472 + 213412 + 145676 + 44772) * KIB
    assert sm.used == sm.total - sm.available
    assert sm.total == 3742148 * KIB
    assert sm.hugetlb == 0  # HugePages_Total 0 * Hugepagesize (no Hugetlb: line before 4.16)


def test_eas_oldkern_no_memavailable_no_final_newline(upstream):
    raw = (upstream / "eas-oldkern-meminfo" / "proc" / "meminfo").read_bytes()
    assert not raw.endswith(b"\n")
    sm = collect(upstream / "eas-oldkern-meminfo").system
    assert sm.available_estimated is True
    assert sm.available == (25071456 + 7763360 + 18921300 + 1539312) * KIB
    assert sm.field("Zswapped") == 4335680 * KIB  # the last line, without its newline
    assert sm.zswap == 2952192 * KIB
    assert dict((p.name, p.bytes) for p in sm.taxonomy)["zswap"] == 2952192 * KIB
    # Hand-assembled figures overshoot MemTotal: the excess is reported, never hidden.
    assert sm.overcount > 0
    assert sum(p.bytes for p in sm.taxonomy) == sm.total + sm.overcount


def test_gopsutil_32bit_highmem_2_4_header(upstream):
    sm = collect(upstream / "gopsutil-32bit-highmem").system
    keys = [k for k, _ in sm.fields]
    assert "Mem" not in keys and "Swap" not in keys and not any(" " in k for k in keys)
    assert keys[0] == "MemTotal"
    assert sm.total == 254472 * KIB
    assert sm.available == 210156 * KIB and sm.available_estimated is False
    assert sm.field("MemShared") == 0
    assert sm.field("HighTotal") is not None and sm.field("LowTotal") is not None
    assert sm.hugetlb is None  # no HugePages lines at all
    assert "hugetlb" not in {p.name for p in sm.taxonomy}
    assert sm.overcount == 0 and sum(p.bytes for p in sm.taxonomy) == sm.total


def test_gopsutil_truncated_meminfo_without_trailing_newline(upstream):
    root = upstream / "gopsutil-bigserver-truncated"
    assert not (root / "proc" / "meminfo").read_bytes().endswith(b"\n")
    snap = collect(root)
    sm = snap.system
    assert [k for k, _ in sm.fields] == ["MemTotal", "MemFree", "MemAvailable", "AnonHugePages"]
    assert sm.anon_huge == 50409472 * KIB  # the cut last line is read
    assert sm.anon is None and sm.cached is None and sm.swap_total is None
    assert {p.name: p.bytes for p in sm.taxonomy} == {
        "other_kernel": (260799420 - 119443248) * KIB,
        "free": 119443248 * KIB,
    }
    assert snap.processes == () and snap.vmstat == () and snap.pressure is None


@pytest.mark.parametrize("scenario", WITH_MEMINFO)
def test_every_meminfo_scenario_collects_without_thp(upstream, scenario):
    snap = collect(upstream / scenario)
    assert snap.system is not None and snap.system.total
    assert snap.thp is None  # no sys/kernel/mm/transparent_hugepage in any upstream scenario
    assert not (upstream / scenario / "sys" / "kernel").exists()
    assert snap.time == 0.0
    assert snap.hostname == "unknown" and snap.kernel == "unknown"  # nothing in the tree says otherwise
    assert snap.notes == ()


@pytest.mark.parametrize("scenario", WITHOUT_MEMINFO)
def test_no_meminfo_raises_host_error(upstream, scenario):
    collector = Collector(HostPaths.from_root(upstream / scenario), Options(), clock=lambda: 0.0)
    with pytest.raises(HostError, match="meminfo"):
        collector.collect()


# ---------------------------------------------------------------- vmstat

def test_vmstat_without_trailing_newline(upstream):
    path = upstream / "go-sysinfo-ubuntu1710" / "proc" / "vmstat"
    raw = path.read_bytes()
    assert not raw.endswith(b"\n")
    snap = collect(upstream / "go-sysinfo-ubuntu1710")
    vm = dict(snap.vmstat)
    assert len(vm) == raw.count(b"\n") + 1 == 133
    assert list(vm)[-1] == "swap_ra_hit" and vm["swap_ra_hit"] == 0
    assert snap.system.available_estimated is False


def test_node_exporter_vmstat_old_and_new_counters(upstream):
    vm = dict(collect(upstream / "node-exporter").vmstat)
    assert "nr_alloc_batch" in vm and "thp_split" in vm  # 3.x/4.x counters
    assert "oom_kill" in vm  # 4.13+, appended at the end
    assert list(vm)[-1] == "oom_kill"


# ---------------------------------------------------------------- procfs-fixtures

def test_procfs_fixtures_processes(upstream):
    snap = collect(upstream / "procfs-fixtures")
    # 26232 is a kernel thread (hidden by default); 26233 and 26235 have no stat.
    assert pids(snap) == [584, 26231, 27079]
    p = proc(snap, 584)
    assert p.name == "(a b ) ( c d) "
    assert (p.state, p.ppid, p.starttime) == ("R", 28378, 10839175)
    assert proc(snap, 27079).threads == 5
    assert snap.pressure.some.total == 15 and snap.pressure.full.total == 25
    assert snap.pressure.some.avg300 == 3.85


def test_procfs_fixtures_4_14_rollup(upstream):
    root = upstream / "procfs-fixtures"
    p = proc(collect(root), 26231)
    rollup = root / "proc" / "26231" / "smaps_rollup"
    assert p.pss == kb_sum(rollup, "Pss") == 29944 * KIB
    assert p.uss == kb_sum(rollup, "Private_Clean", "Private_Dirty") == (15548 + 14396) * KIB
    assert p.swap == 1940 * KIB and p.swap_pss == 1940 * KIB
    assert p.referenced == 24752 * KIB and p.locked == 0 and p.anon_huge == 0 and p.hugetlb == 0
    # A 4.14-style rollup has no Pss_Anon/Pss_File/Pss_Shmem/Pss_Dirty: unknown, not zero.
    assert (p.pss_anon, p.pss_file, p.pss_shmem, p.pss_dirty) == (None, None, None, None)
    # status (of another process, README) starts with an empty line; it is read all the same.
    assert p.uid == 1000
    assert p.rss == 6716 * KIB
    assert p.cmdline == ("vim", "test.go", "+10")
    assert p.name == "vim" and p.error is None


def test_procfs_fixtures_kernel_thread(upstream):
    root = upstream / "procfs-fixtures"
    snap = collect(root, kernel_threads=True)
    assert pids(snap) == [584, 26231, 26232, 27079]
    kt = proc(snap, 26232)
    assert kt.kernel_thread is True
    assert kt.name == "ata_sff"
    assert kt.pss is None and kt.uss is None and kt.rss is None
    assert kt.cmdline == ()  # empty cmdline file
    assert kt.error == KTHREAD
    # The reconciliation counts 584 and 27079 (no smaps at all) as unreadable, never the kernel thread.
    assert [p.pid for p in snap.processes if p.pss is None] == [584, 26232, 27079]
    assert snap.reconciliation.unreadable == 2


def test_procfs_fixtures_smaps_parses(upstream):
    raw = (upstream / "procfs-fixtures" / "proc" / "26231" / "smaps").read_bytes()
    maps = parse_smaps(raw)
    assert maps == parse_smaps_general(raw)
    assert len(maps) == 12
    assert [m.path for m in maps[-4:]] == ["[stack]", "[vvar]", "[vdso]", "[vsyscall]"]
    assert [m.kind for m in maps[-4:]] == ["stack", "special", "special", "special"]
    assert [m.kind for m in maps[:3]] == ["file"] * 3
    assert [m.path for m in maps[3:8]] == [""] * 5  # anonymous, header with a trailing space
    assert sum(m.pss for m in maps) == kb_sum(upstream / "procfs-fixtures" / "proc" / "26231" / "smaps", "Pss")


def test_procfs_fixtures_status_with_spaces(upstream):
    st = parse_status((upstream / "procfs-fixtures" / "proc" / "26235" / "status").read_bytes())
    assert st.uid is not None
    assert st.rss is not None and st.rss > 0


# ---------------------------------------------------------------- sysstat pair: no smaps_rollup

@pytest.mark.parametrize("scenario", ["sysstat-desktop-5x-t1", "sysstat-desktop-5x-t2"])
def test_sysstat_smaps_summed_without_rollup(upstream, scenario):
    root = upstream / scenario
    snap = collect(root)
    expected_pids = [8407, 8741, 9009, 21342] if scenario.endswith("t1") else [7900, 8407, 8741, 9009, 21342]
    assert pids(snap) == expected_pids
    for p in snap.processes:
        assert not (root / "proc" / str(p.pid) / "smaps_rollup").exists()
        smaps = root / "proc" / str(p.pid) / "smaps"
        assert p.pss == kb_sum(smaps, "Pss") > 0
        assert p.uss == kb_sum(smaps, "Private_Clean", "Private_Dirty")
        assert p.swap == kb_sum(smaps, "Swap")  # summed smaps replaces status VmSwap
        assert p.referenced == kb_sum(smaps, "Referenced")
        assert p.rss is not None and p.rss > p.pss  # status VmRSS (smaps trimmed by sysstat)
        assert p.error is None
    term = proc(snap, 8407)
    assert term.name == "gnome-terminal-"  # comm truncated to 15 characters
    assert term.cmdline[0] == "/usr/libexec/gnome-terminal-server"
    assert proc(snap, 9009).cmdline[:2] == ("/usr/lib64/firefox/firefox", "-contentproc")
    assert snap.reconciliation.pss_sum == sum(p.pss for p in snap.processes)


def test_sysstat_pair_deltas(upstream):
    t1 = collect(upstream / "sysstat-desktop-5x-t1")
    t2 = collect(upstream / "sysstat-desktop-5x-t2")
    assert t1.system == t2.system  # identical meminfo
    v1, v2 = dict(t1.vmstat), dict(t2.vmstat)
    assert v1.keys() == v2.keys()
    assert (v1["pgsteal_anon"], v2["pgsteal_anon"]) == (0, 10)
    assert (v1["pgsteal_file"], v2["pgsteal_file"]) == (0, 7)
    assert t1.pressure.some.total == 0 and t1.pressure.some.avg10 == 0.0
    assert (t2.pressure.some.avg10, t2.pressure.some.avg60, t2.pressure.some.avg300) == (3.12, 1.40, 0.03)
    assert t2.pressure.some.total == 16030 and t2.pressure.full.total == 7200


# ---------------------------------------------------------------- node-exporter processes

def test_node_exporter_kernel_threads_and_stat_without_newline(upstream):
    root = upstream / "node-exporter"
    assert not (root / "proc" / "10" / "stat").read_bytes().endswith(b"\n")
    assert pids(collect(root)) == [1]
    snap = collect(root, kernel_threads=True)
    assert pids(snap) == [1, 10, 11]
    # The directory names the pid; proc/10/stat holds pid 17's line (README).
    assert proc(snap, 10).name == "khungtaskd" and proc(snap, 10).kernel_thread
    assert proc(snap, 11).state == "I" and proc(snap, 11).kernel_thread
    systemd = proc(snap, 1)
    assert systemd.name == "systemd" and systemd.kernel_thread is False
    assert systemd.pss is None and "smaps" in systemd.error  # nothing to read it from
    assert snap.reconciliation.unreadable == 1


# ---------------------------------------------------------------- trees without meminfo

def test_gopsutil_procs_assorted(upstream):
    root = upstream / "gopsutil-procs-assorted"
    with ProcessReader(HostPaths.from_root(root), lambda uid: None) as reader:
        assert reader.pids() == [1, 1060, 23819, 68927]
        assert reader.read(1) == (None, 0)  # no stat: dropped
        p, threads = reader.read(68927)
    assert p.name == "test(cmd).sh" and p.state == "S" and threads == 1
    ksoftirqd = parse_status((root / "proc" / "1" / "status").read_bytes())
    assert ksoftirqd.rss is None and ksoftirqd.vsize is None and ksoftirqd.uid == 0
    server = (root / "proc" / "1060" / "status").read_bytes()
    assert not server.endswith(b"\n")
    assert parse_status(server).rss == 2892 * KIB and parse_status(server).uid == 107
    pause = parse_status((root / "proc" / "23819" / "status").read_bytes())
    assert pause.uid == 4061200383 and pause.kthread is False and pause.rss == 0


def test_go_sysinfo_fedora40_single_stat(upstream):
    with ProcessReader(HostPaths.from_root(upstream / "go-sysinfo-fedora40"), lambda uid: None) as reader:
        p, _ = reader.read(33925)
    assert p.name == "rpc.statd" and p.pss is None


# ---------------------------------------------------------------- cgroup files

@pytest.mark.parametrize(
    "scenario, pid, expected",
    [
        ("eas-docker-hybrid", 1, (1, "/docker/123")),
        ("eas-docker-hybrid", 985, (1, "/docker/b29faf21b7eff959f64b4192c34d5d67a707fe8561e9eaa608cb27693fba4242")),
        ("eas-docker-hybrid", 312,
         (2, "/system.slice/docker-1c8fa019edd4b9d4b2856f4932c55929c5c118c808ed5faee9a135ca6e84b039.scope")),
        ("eas-docker2-cgroup2-ns", 2233801, (2, "/../../user-1000.slice/session-520.scope")),
        ("eas-ubuntu1804-hybrid", 3757, (1, "/system.slice/networkd-dispatcher.service")),
    ],
)
def test_upstream_cgroup_files(upstream, scenario, pid, expected):
    text = (upstream / scenario / "proc" / str(pid) / "cgroup").read_text()
    assert memory_cgroup(parse_cgroup(text)) == expected


def test_oomd_memory_pressure_files(upstream):
    files = sorted((upstream / "oomd-cgroup2-handmade" / "sys" / "fs" / "cgroup").rglob("memory.pressure"))
    assert len(files) == 10
    legacy = 0
    for path in files:
        text = path.read_text()
        p = parse_pressure(text)
        assert (p.some.avg10, p.some.avg60, p.some.avg300) == (1.11, 2.22, 3.33)
        assert (p.full.avg10, p.full.avg60, p.full.avg300) == (4.44, 5.55, 6.66)
        if text.startswith("aggr"):
            legacy += 1
            assert p.some.total is None and p.full.total is None
        else:
            assert p.some.total == 134829384400 and p.full.total == 128544748770
    assert legacy == 4


def test_every_upstream_vmstat_and_pressure_parses(upstream):
    for path in upstream.glob("*/proc/vmstat"):
        assert parse_vmstat(path.read_text())
    for path in list(upstream.glob("*/proc/pressure/memory")) + list(upstream.rglob("memory.pressure")):
        try:
            parse_pressure(path.read_text())
        except ParseError as exc:  # pragma: no cover - a failure message, not a branch
            pytest.fail(f"{path}: {exc}")


# ---------------------------------------------------------------- the CLI on every tree

@pytest.mark.parametrize("scenario", WITH_MEMINFO)
def test_cli_json_on_upstream(upstream, scenario, capsys):
    assert main(["--json", "--root", str(upstream / scenario), "--kernel-threads"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["schema"] == "memtop.snapshot/1"
    assert out["system"]["total"] == collect(upstream / scenario).system.total
    assert {p["pid"] for p in out["processes"]} == set(pids(collect(upstream / scenario, kernel_threads=True)))


@pytest.mark.parametrize("scenario", WITHOUT_MEMINFO)
def test_cli_on_tree_without_meminfo_exits_2(upstream, scenario, capsys):
    assert main(["--once", "--root", str(upstream / scenario)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.count("\n") == 1 and captured.err.startswith("memtop: ") and "meminfo" in captured.err


@pytest.mark.parametrize("scenario", ["sysstat-desktop-5x-t2", "procfs-fixtures", "node-exporter"])
def test_capture_and_replay_upstream(upstream, scenario, tmp_path, capsys):
    """A capture of a tree replays to the same processes (smaps copied where there is no rollup)."""
    def replay(root: Path) -> dict:
        assert main(["--json", "--kernel-threads", "--sort", "pid", "--root", str(root)]) == 0
        doc = json.loads(capsys.readouterr().out)
        doc.pop("time")
        for proc in doc["processes"]:
            proc.pop("memory_time")  # the time of each run
        return doc

    source = upstream / scenario
    dest = tmp_path / "cap"
    assert main(["capture", str(dest), "--root", str(source)]) == 0
    capsys.readouterr()
    original = replay(source)
    for p in original["processes"]:
        p["cmdline"] = p["cmdline"][:1]
    assert replay(dest) == original
    for pid_dir in (source / "proc").iterdir():
        if (pid_dir / "smaps").exists() and not (pid_dir / "smaps_rollup").exists() and (pid_dir / "stat").exists():
            assert (dest / "proc" / pid_dir.name / "smaps").read_bytes() == (pid_dir / "smaps").read_bytes()
