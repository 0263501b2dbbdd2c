"""Collectors over the hand-made trees of tests/fixtures/hosts (see its README.md)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from memtop.cli import main
from memtop.collectors import processes as processes_module
from memtop.collectors.models import Snapshot, ThpSize
from memtop.collectors.paths import HostPaths
from memtop.collectors.processes import DENIED, KTHREAD, RACED, ZOMBIE, ProcessReader
from memtop.collectors.snapshot import Collector, Options
from memtop.output.report import footnotes, snapshot_json

KIB = 1024


def collect(root: Path, **options) -> Snapshot:
    return Collector(HostPaths.from_root(root), Options(**options), clock=lambda: 0.0).collect()


def proc(snap: Snapshot, pid: int):
    (found,) = [p for p in snap.processes if p.pid == pid]
    return found


def pids(snap: Snapshot) -> list[int]:
    return [p.pid for p in snap.processes]


@pytest.fixture
def tree(hosts, tmp_path):
    """A writable copy of one hand-made scenario."""

    def copy(name: str) -> Path:
        dest = tmp_path / name
        shutil.copytree(hosts / name, dest)
        return dest

    return copy


def test_readme_lists_every_scenario(hosts):
    readme = (hosts / "README.md").read_text()
    for scenario in sorted(p.name for p in hosts.iterdir() if p.is_dir()):
        assert f"`{scenario}`" in readme, scenario


# ---------------------------------------------------------------- basic: everything present

def test_basic_host(hosts):
    snap = collect(hosts / "basic")
    assert (snap.hostname, snap.kernel, snap.page_size) == ("fixture-basic", "6.8.0-fixture", 4096)
    assert pids(snap) == [1, 1234, 1300]
    sm = snap.system
    assert (sm.total, sm.available, sm.available_estimated) == (8000000 * KIB, 5000000 * KIB, False)
    assert sm.overcount == 0
    assert dict(snap.vmstat) == {"nr_free_pages": 250000, "nr_inactive_anon": 150000, "nr_active_file": 375000,
                                 "pgfault": 123456789, "pgmajfault": 4321, "pswpin": 10, "pswpout": 20,
                                 "oom_kill": 2}
    assert (snap.pressure.some.avg10, snap.pressure.some.total) == (1.5, 123456)
    assert (snap.pressure.full.avg300, snap.pressure.full.total) == (0.05, 65432)
    assert snap.hidden_processes == 0 and snap.notes == ()


def test_basic_thp(hosts):
    thp = collect(hosts / "basic").thp
    assert (thp.enabled, thp.defrag, thp.shmem_enabled) == ("madvise", "madvise", "never")
    assert thp.khugepaged == (("defrag", 1), ("pages_to_scan", 4096))
    # Sizes in numeric order, not in name order ("2048kB" < "64kB" as text).
    assert thp.sizes == (
        ("64kB", ThpSize("madvise", (("anon_fault_alloc", 12),))),
        ("2048kB", ThpSize("inherit", (("anon_fault_alloc", 3),))),
    )


def test_basic_processes(hosts):
    snap = collect(hosts / "basic")
    init = proc(snap, 1)
    assert (init.name, init.user, init.uid, init.ppid, init.starttime) == ("systemd", "root", 0, 0, 10)
    assert init.cmdline == ("/sbin/init", "splash")
    # 6.x rollup: every PSS split is there.
    assert (init.pss, init.pss_anon, init.pss_file, init.pss_shmem, init.pss_dirty) == tuple(
        v * KIB for v in (8000, 5000, 2900, 100, 5100))
    assert init.uss == (1000 + 5000) * KIB
    assert (init.swap, init.swap_pss) == (300 * KIB, 250 * KIB)
    assert (init.rss, init.anon, init.file, init.shmem, init.vsize, init.hwm) == tuple(
        v * KIB for v in (12000, 5000, 6900, 100, 170000, 14000))
    assert (init.anon_huge, init.referenced, init.locked, init.hugetlb) == (2048 * KIB, 12000 * KIB, 0, 0)
    assert (init.oom_score, init.oom_score_adj, init.cgroup, init.error) == (0, 0, "/init.scope", None)
    py = proc(snap, 1234)
    assert (py.user, py.threads, py.oom_score, py.pss) == ("alice", 3, 668, 75000 * KIB)
    assert py.cgroup == "/user.slice/user-1000.slice/session-2.scope"
    web = proc(snap, 1300)
    assert web.name == "Web Content" and web.oom_score_adj == 100 and web.cgroup is None


def test_basic_reconciliation(hosts):
    snap = collect(hosts / "basic")
    rec = snap.reconciliation
    assert rec.pss_sum == (8000 + 75000 + 15000) * KIB
    assert rec.anon_shmem_mapped == (2500000 + 100000 + 400000) * KIB
    assert rec.difference == rec.anon_shmem_mapped - rec.pss_sum
    assert rec.unreadable == 0


def test_pids_option_limits_reads_and_drops_reconciliation(hosts):
    snap = collect(hosts / "basic", pids=(1234, 424242))
    assert pids(snap) == [1234]
    assert snap.reconciliation is None and snap.hidden_processes is None


# ---------------------------------------------------------------- optional host features

def test_no_psi(hosts):
    assert collect(hosts / "basic").pressure is not None
    snap = collect(hosts / "no-psi")
    assert not (hosts / "no-psi" / "proc" / "pressure").exists()
    assert snap.pressure is None
    assert snap.notes == ()  # absence is not an error
    assert snap.thp is not None


def test_no_thp(hosts):
    snap = collect(hosts / "no-thp")
    assert not (hosts / "no-thp" / "sys").exists()
    assert snap.thp is None
    assert snap.pressure is not None


def test_garbage_pressure_and_vmstat_become_notes(tree):
    root = tree("basic")
    (root / "proc" / "pressure" / "memory").write_text("this is not psi\n")
    (root / "proc" / "vmstat").write_text("pgfault many\n")
    snap = collect(root)
    assert snap.pressure is None and snap.vmstat == ()
    assert len(snap.notes) == 2
    assert snap.notes[0].startswith("vmstat: ") and snap.notes[1].startswith("pressure: ")


# ---------------------------------------------------------------- zombie / kernel threads

def test_zombie(hosts):
    snap = collect(hosts / "zombie")
    assert pids(snap) == [1, 4242]
    z = proc(snap, 4242)
    assert z.state == "Z"
    assert z.kernel_thread is False
    assert "zombie" in z.error
    assert z.error == ZOMBIE
    assert z.pss is None and z.uss is None
    assert z.rss is None and z.vsize is None  # status without Vm lines
    assert z.uid == 1000
    assert z.cmdline == ()
    assert snap.reconciliation.unreadable == 0  # a zombie's PSS is not "unreadable"


def test_kthread_excluded_by_default(hosts):
    snap = collect(hosts / "kthread")
    assert pids(snap) == [1]
    assert not any(p.kernel_thread for p in snap.processes)


def test_kthread_included_on_request(hosts):
    snap = collect(hosts / "kthread", kernel_threads=True)
    assert pids(snap) == [1, 2, 14]
    for pid, name, state in ((2, "kthreadd", "S"), (14, "rcu_preempt", "I")):
        p = proc(snap, pid)
        assert (p.name, p.state, p.kernel_thread) == (name, state, True)
        assert p.pss is None and p.uss is None and p.rss is None
        assert p.error == KTHREAD
    assert proc(snap, 1).kernel_thread is False
    assert snap.reconciliation.unreadable == 0


def test_kthread_reader_counts_threads_of_hidden_kernel_threads(hosts):
    with ProcessReader(HostPaths.from_root(hosts / "kthread"), lambda uid: None) as reader:
        assert reader.read(2) == (None, 1)
        p, threads = reader.read(1)
    assert p.pid == 1 and threads == 1


def test_kthread_recognised_by_status_only(hosts):
    """`Kthread: 1` marks a kernel thread (processes.py docstring): hidden unless asked for."""
    snap = collect(hosts / "kthread-status-only", kernel_threads=True)
    assert proc(snap, 3).kernel_thread is True
    default = collect(hosts / "kthread-status-only")
    assert [p.pid for p in default.processes if p.kernel_thread] == []
    assert pids(default) == [1]


# ---------------------------------------------------------------- stat/smaps quirks

def test_weird_comm(hosts):
    snap = collect(hosts / "weird-comm")
    assert pids(snap) == [30372, 30400, 30500]
    a, b, c = snap.processes
    assert a.name == "x) (y\nR 1 2" and (a.state, a.ppid, a.starttime) == ("S", 30364, 8000)
    assert b.name == "ab cd) S 1 1 1" and (b.state, b.ppid, b.starttime) == ("S", 30364, 8100)
    assert c.name == "caf\u00e9 \\xff\x1b[31m"  # invalid UTF-8 escaped, valid kept
    assert (a.pss, b.pss, c.pss) == (8000 * KIB, 7000 * KIB, 6000 * KIB)


def test_weird_comm_report(hosts, capsys):
    assert main(["--once", "--root", str(hosts / "weird-comm"), "--sort", "pid"]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert len(lines) == 2 + 3  # summary, header, one line per process: no raw newline from a comm
    assert "x) (y\\nR 1 2" in lines[2]
    assert "\x1b" not in out and "\\x1b[31m" in lines[4]
    assert main(["--json", "--root", str(hosts / "weird-comm"), "--sort", "pid"]) == 0
    names = [p["name"] for p in json.loads(capsys.readouterr().out)["processes"]]
    assert names == ["x) (y\nR 1 2", "ab cd) S 1 1 1", "caf\u00e9 \\xff\x1b[31m"]


def test_no_rollup_sums_smaps_and_estimates_available(hosts):
    snap = collect(hosts / "no-rollup")
    p = proc(snap, 900)
    assert p.pss == (300 + 1500 + 700 + 100) * KIB
    assert p.uss == (1500 + 100) * KIB
    assert p.referenced == (900 + 1500 + 2100 + 100) * KIB
    assert p.swap == 0 and p.error is None
    assert p.pss_anon is None  # smaps has no Pss_Anon
    sm = snap.system
    assert sm.available_estimated is True
    # procps estimate with min_free_kbytes 67584 (low watermark 84480 kB).
    assert sm.available == (500000 - 84480 + 500000 - 84480 + 100000 - 50000) * KIB
    assert sm.percpu is None and "percpu" not in {t.name for t in sm.taxonomy}


def test_truncated_smaps_counts_only_complete_lines(hosts):
    raw = (hosts / "truncated-smaps" / "proc" / "910" / "smaps").read_bytes()
    assert raw.rsplit(b"\n", 1)[1].split() == [b"Pss:", b"10"]  # cut inside "100 kB", no newline
    p = proc(collect(hosts / "truncated-smaps"), 910)
    assert p.pss == (300 + 1500) * KIB
    assert p.rss == 12000 * KIB  # status


def test_no_final_newline(hosts):
    root = hosts / "no-final-newline"
    for path in [root / "proc" / n for n in ("meminfo", "vmstat", "pressure/memory")] + list(
            (root / "proc" / "700").iterdir()):
        assert not path.read_bytes().endswith(b"\n"), path
    snap = collect(root)
    sm = snap.system
    assert sm.total == 8000000 * KIB and sm.hugetlb == 0 and sm.field("Hugetlb") == 0  # last line
    assert dict(snap.vmstat)["oom_kill"] == 2  # last line
    assert snap.pressure.full.total == 65432  # last line
    p = proc(snap, 700)
    assert p.cmdline == ("sleep", "infinity")
    assert (p.oom_score, p.oom_score_adj) == (42, -17)
    assert p.cgroup == "/user.slice/sleep.scope"
    assert p.locked == 0 and p.pss == 8000 * KIB  # Locked is the rollup's last line
    assert p.swap == 0
    assert p.uid == 1000 and p.rss == 12000 * KIB


# ---------------------------------------------------------------- cgroups

@pytest.mark.parametrize(
    "scenario, path, hierarchy",
    [
        ("v1", "/user.slice/user-1000.slice/session-2.scope", "v1 memory at /sys/fs/cgroup/memory"),
        ("v2", "/user.slice/user-1000.slice/user@1000.service/app.slice/app-firefox.scope", "v2 at /sys/fs/cgroup"),
        ("hybrid", "/system.slice/memcg-v1.service", "v1 memory at /sys/fs/cgroup/memory"),
    ],
)
def test_cgroup_layouts(hosts, scenario, path, hierarchy):
    snap = collect(hosts / scenario)
    assert proc(snap, 500).cgroup == path
    assert snap.cgroup_hierarchy == hierarchy


def test_malformed_cgroup_file_leaves_cgroup_unknown(tree):
    root = tree("v2")
    (root / "proc" / "500" / "cgroup").write_text("not a cgroup line\n")
    p = proc(collect(root), 500)
    assert p.cgroup is None and p.pss == 8000 * KIB


# ---------------------------------------------------------------- processes that vanish or refuse

def test_vanished_tree(hosts):
    snap = collect(hosts / "vanished")
    assert pids(snap) == [1]
    with ProcessReader(HostPaths.from_root(hosts / "vanished"), lambda uid: None) as reader:
        assert reader.pids() == [1, 200, 201]
        assert reader.read(200) == (None, 0)  # listed, but its stat is gone
        assert reader.read(201) == (None, 0)
        assert reader.read(99999) == (None, 0)  # not even listed


def _reader(root: Path, live: bool = False) -> ProcessReader:
    paths = HostPaths(proc=root / "proc", sys=root / "sys", live=live)
    return ProcessReader(paths, lambda uid: None)


def _patch_read_at(monkeypatch, hook):
    """Call ``hook(name)`` before each per-process read; it may raise or change the tree."""
    for reader_name in ("read_at", "read_record"):  # whole-file and one-shot reads alike
        real = getattr(processes_module, reader_name)

        def read(dir_fd, name, *limit, real=real):
            hook(name)
            return real(dir_fd, name, *limit)

        monkeypatch.setattr(processes_module, reader_name, read)


def test_process_exits_after_its_stat_was_read(tree, monkeypatch):
    root = tree("basic")

    def hook(name):
        if name == "1234/status":
            shutil.rmtree(root / "proc" / "1234")  # reaped between stat and status

    _patch_read_at(monkeypatch, hook)
    with _reader(root) as reader:
        assert reader.read(1234) == (None, 0)


def test_process_gone_with_esrch(tree, monkeypatch):
    root = tree("basic")

    def hook(name):
        if name == "1234/cmdline":
            raise ProcessLookupError(3, "No such process")

    _patch_read_at(monkeypatch, hook)
    with _reader(root) as reader:
        assert reader.read(1234) == (None, 0)
        assert reader.read(1)[0].pid == 1


def test_rollup_esrch_then_pid_reused(tree, monkeypatch):
    root = tree("basic")
    stat = root / "proc" / "1234" / "stat"

    def hook(name):
        if name == "1234/smaps_rollup":
            stat.write_bytes(stat.read_bytes().replace(b" 5000 ", b" 5999 "))  # a new process, same pid
            raise ProcessLookupError(3, "No such process")

    _patch_read_at(monkeypatch, hook)
    with _reader(root) as reader:
        assert reader.read(1234) == (None, 0)


def test_rollup_esrch_same_process_is_a_zombie(tree, monkeypatch):
    root = tree("basic")

    def hook(name):
        if name == "1234/smaps_rollup":
            raise ProcessLookupError(3, "No such process")

    _patch_read_at(monkeypatch, hook)
    with _reader(root) as reader:
        p, threads = reader.read(1234)
    assert p.error == ZOMBIE and p.pss is None and threads == 3
    assert p.rss == 80000 * KIB  # status was read before


def test_rollup_permission_denied(tree, monkeypatch):
    root = tree("basic")

    def hook(name):
        if name == "1234/smaps_rollup":
            raise PermissionError(13, "Permission denied")

    _patch_read_at(monkeypatch, hook)
    snap = collect(root)
    p = proc(snap, 1234)
    assert p.error == DENIED and p.pss is None and p.uss is None
    assert p.rss == 80000 * KIB and p.user == "alice"  # status stays readable
    assert snap.reconciliation.unreadable == 1
    assert snap.reconciliation.pss_sum == (8000 + 15000) * KIB
    notes = footnotes(snap, snap.processes)
    assert notes == ["PSS/USS n/a for 1 process: its smaps_rollup needs root or the same user"]
    assert snapshot_json(snap, snap.processes)["processes"][1]["error"] == DENIED


def test_live_smaps_read_of_a_process_that_exits_is_discarded(tree, monkeypatch):
    """On a live host a zombie's smaps may be silently truncated: never trust it."""
    root = tree("no-rollup")
    stat = root / "proc" / "900" / "stat"

    def hook(name):
        if name == "900/stat" and hook.smaps_read:
            stat.write_bytes(stat.read_bytes().replace(b") S ", b") Z "))
        if name == "900/smaps":
            hook.smaps_read = True

    hook.smaps_read = False
    _patch_read_at(monkeypatch, hook)
    with _reader(root, live=True) as reader:
        p, _ = reader.read(900)
    assert p.error == RACED and p.pss is None


def test_live_smaps_read_kept_when_process_still_runs(tree):
    with _reader(tree("no-rollup"), live=True) as reader:
        p, _ = reader.read(900)
    assert p.error is None and p.pss == (300 + 1500 + 700 + 100) * KIB


def test_malformed_status_is_reported_not_fatal(tree):
    root = tree("basic")
    status = root / "proc" / "1234" / "status"
    status.write_bytes(status.read_bytes().replace(b"VmRSS:\t   80000 kB", b"VmRSS:\tlots kB"))
    p = proc(collect(root), 1234)
    assert p.rss is None and p.error and "VmRSS" in p.error
    assert p.pss == 75000 * KIB  # the rollup is still read


@pytest.mark.parametrize(
    "name, content",
    [("oom_score", b"--1\n"), ("oom_score_adj", b"9" * 5000 + b"\n"), ("status", b"Name:\tx\nVmRSS:\t" + b"9" * 5000 + b" kB\n")],
    ids=["oom_score-double-minus", "oom_score_adj-5000-digits", "status-VmRSS-5000-digits"],
)
def test_malformed_process_file_never_aborts_the_snapshot(tree, name, content):
    """README: a malformed process file leaves that process's figures empty, never the whole snapshot."""
    root = tree("basic")
    (root / "proc" / "1234" / name).write_bytes(content)
    snap = collect(root)
    assert pids(snap) == [1, 1234, 1300]
    p = proc(snap, 1234)
    assert p.pss == 75000 * KIB  # the rest of the process is still read
    field = {"oom_score": p.oom_score, "oom_score_adj": p.oom_score_adj, "status": p.rss}[name]
    assert field is None


# ---------------------------------------------------------------- smaps.read_mappings (drill-down)

def test_read_mappings(hosts):
    from memtop.collectors.smaps import read_mappings

    maps = read_mappings(hosts / "no-rollup" / "proc", 900, starttime=9000)
    assert [m.kind for m in maps] == ["file", "heap", "lib", "stack"]
    assert sum(m.pss for m in maps) == proc(collect(hosts / "no-rollup"), 900).pss
    with pytest.raises(FileNotFoundError):
        read_mappings(hosts / "basic" / "proc", 1)  # a tree with rollups only


def test_read_mappings_discards_a_raced_read(tree):
    from memtop.collectors.smaps import SmapsRaced, read_mappings

    root = tree("no-rollup")
    with pytest.raises(SmapsRaced):
        read_mappings(root / "proc", 900, starttime=1)  # the pid now names another process
    stat = root / "proc" / "900" / "stat"
    stat.write_bytes(stat.read_bytes().replace(b") S ", b") Z "))
    with pytest.raises(SmapsRaced):
        read_mappings(root / "proc", 900, starttime=9000)  # it became a zombie
    stat.unlink()
    with pytest.raises(SmapsRaced):
        read_mappings(root / "proc", 900)  # it is gone
