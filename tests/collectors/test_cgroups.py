"""Memory cgroups: parsers on text, the reader on fixture trees (v1, v2, hybrid, none, upstream), JSON."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from memtop.rules.cgroup_usage import build_cgroup_rows, cgroups_json, event_baseline, in_cgroup, new_events, pss_sums
from memtop.collectors.cgroup_memory import (
    LONG_MAX, parse_counter, parse_flat_keyed, parse_limit, parse_procs, smallest, unlimited_floor, v1_events, v1_stat,
)
from memtop.collectors.cgroup_tree import CgroupReader, parse_memory_mount
from memtop.collectors.errors import ParseError
from memtop.collectors.models import UNLIMITED
from memtop.collectors.paths import HostPaths
from memtop.collectors.snapshot import Collector
from memtop.output.report import snapshot_json
from memtop.tables.select import select

GIB, MIB = 1 << 30, 1 << 20


# -- parsers ----------------------------------------------------------------
@pytest.mark.parametrize(("text", "page", "expected"), [
    ("max\n", 4096, UNLIMITED),
    ("9223372036854771712\n", 4096, UNLIMITED),  # v1 "unlimited" with 4 KiB pages
    ("9223372036854710272\n", 65536, UNLIMITED),  # ... and with 64 KiB pages
    ("9223372036854710272\n", 4096, 9223372036854710272),  # below the 4 KiB floor: a (huge) number
    ("9223372036854775807", 4096, UNLIMITED),  # LONG_MAX itself, no newline
    ("2147483648\n", 4096, 2 * GIB),
    ("0\n", 4096, 0),
])
def test_parse_limit(text: str, page: int, expected: object) -> None:
    assert parse_limit(text, page) == expected


@pytest.mark.parametrize("text", ["", "-1", "1.5G", "max max", "12 kB", "٣"])
def test_parse_limit_rejects(text: str) -> None:
    with pytest.raises(ParseError):
        parse_limit(text)


def test_flat_keyed_memory_events_and_stat() -> None:
    assert parse_flat_keyed("low 0\nhigh 3\nmax 2\noom 1\noom_kill 1\noom_group_kill 0\n") == (
        ("low", 0), ("high", 3), ("max", 2), ("oom", 1), ("oom_kill", 1), ("oom_group_kill", 0))
    assert parse_flat_keyed("anon 10\n\nanon 20\nfile 5") == (("anon", 10), ("file", 5))  # first wins, no final newline
    with pytest.raises(ParseError):
        parse_flat_keyed("anon\n")
    with pytest.raises(ParseError):
        parse_flat_keyed("anon -1\n")


def test_v1_stat_takes_the_limits_out() -> None:
    fields = parse_flat_keyed(f"cache 4096\nrss 8192\nhierarchical_memory_limit 9223372036854771712\n"
                              f"hierarchical_memsw_limit 9223372036854771712\ntotal_cache 4096\n")
    counters, limit = v1_stat(fields)
    assert limit == UNLIMITED and counters == (("cache", 4096), ("rss", 8192), ("total_cache", 4096))
    assert v1_stat((("hierarchical_memory_limit", 2 * GIB),))[1] == 2 * GIB
    assert v1_stat((("cache", 1),))[1] is None  # not printed: unknown, not unlimited


def test_v1_events_from_oom_control_and_failcnt() -> None:
    oom = parse_flat_keyed("oom_kill_disable 0\nunder_oom 0\noom_kill 3\n")
    assert v1_events(oom, 17) == (("oom_kill", 3), ("under_oom", 0), ("failcnt", 17))
    assert v1_events(parse_flat_keyed("oom_kill_disable 0\nunder_oom 1\n"), None) == (("under_oom", 1),)  # before 4.13
    assert v1_events(None, None) == ()


def test_procs_counter_and_smallest() -> None:
    assert parse_procs("500\n12\n500\n") == (12, 500)
    assert parse_procs("") == ()
    with pytest.raises(ParseError):
        parse_procs("12\nabc\n")
    assert parse_counter("805306368\n") == 805306368
    assert smallest(["max", 3, None, 2]) == 2
    assert smallest(["max", None]) == UNLIMITED
    assert smallest([None, None]) is None


def test_memory_mount_v1_wins_and_keeps_the_root() -> None:
    text = ("41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n"
            "35 31 0:32 /docker/abc /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n")
    mount = parse_memory_mount(text)
    assert mount is not None and (mount.version, mount.point, mount.root) == (1, "/sys/fs/cgroup/memory", "/docker/abc")
    only_v2 = parse_memory_mount(text.splitlines()[0])
    assert only_v2 is not None and only_v2.version == 2
    assert parse_memory_mount("23 28 0:22 / /proc rw - proc proc rw\n") is None
    with pytest.raises(ParseError):
        parse_memory_mount("garbage\n")


@given(st.integers(min_value=0, max_value=(1 << 64) - 1), st.sampled_from([4096, 16384, 65536]))
def test_limit_property(value: int, page: int) -> None:
    got = parse_limit(f"{value}\n", page)
    if value >= LONG_MAX // page * page:
        assert got == UNLIMITED
    else:
        assert got == value
    assert unlimited_floor(page) <= LONG_MAX


@given(st.text(max_size=80))
def test_parsers_raise_only_parse_error(text: str) -> None:
    for parse in (parse_limit, parse_counter, parse_flat_keyed, parse_procs, parse_memory_mount):
        try:
            parse(text)  # type: ignore[operator]
        except ParseError:
            pass


@given(st.dictionaries(st.from_regex(r"[a-z_]{1,12}", fullmatch=True), st.integers(0, 1 << 62), max_size=20))
def test_flat_keyed_round_trip(fields: dict[str, int]) -> None:
    text = "".join(f"{k} {v}\n" for k, v in fields.items())
    assert dict(parse_flat_keyed(text)) == fields


# -- the reader on fixture trees ----------------------------------------------
def tree(root: Path):  # type: ignore[no-untyped-def]
    reader = CgroupReader(HostPaths.from_root(root), 4096)
    found = reader.tree()
    return reader, ({c.path: c for c in found} if found is not None else None)


def test_v1_tree(hosts: Path) -> None:
    reader, cgroups = tree(hosts / "v1")
    assert cgroups is not None
    # Not populated (no usage, no processes): left out.
    assert list(cgroups) == ["/", "/user.slice", "/user.slice/user-1000.slice", "/user.slice/user-1000.slice/session-2.scope"]
    scope = cgroups["/user.slice/user-1000.slice/session-2.scope"]
    assert (scope.version, scope.current, scope.max, scope.soft_limit) == (1, 768 * MIB, UNLIMITED, 512 * MIB)
    assert scope.effective_max == 2 * GIB  # hierarchical_memory_limit: the slice's limit
    assert (scope.high, scope.low, scope.min, scope.pressure) == (None, None, None, None)  # v2 only
    assert dict(scope.events) == {"oom_kill": 3, "under_oom": 0, "failcnt": 17}
    assert dict(scope.stat)["total_cache"] == 500 * MIB and "hierarchical_memory_limit" not in dict(scope.stat)
    assert scope.procs == (500,)
    assert cgroups["/"].max == UNLIMITED
    limit = reader.container()
    assert limit is not None and (limit.path, limit.limit, limit.current) == ("/user.slice/user-1000.slice", 2 * GIB, GIB)


def test_v2_tree(hosts: Path) -> None:
    reader, cgroups = tree(hosts / "v2")
    assert cgroups is not None and "/system.slice" not in cgroups
    fox = cgroups["/user.slice/user-1000.slice/user@1000.service/app.slice/app-firefox.scope"]
    assert (fox.current, fox.max, fox.high, fox.low, fox.min) == (1536 * MIB, 1536 * MIB, 1400 * MIB, 256 * MIB, 0)
    assert dict(fox.events)["oom_kill"] == 1 and dict(fox.events)["max"] == 7
    assert dict(fox.stat)["kernel"] == 180 * MIB and dict(fox.stat)["sock"] == 4 * MIB
    assert fox.pressure is not None and fox.pressure.some is not None and fox.pressure.some.avg10 == 1.5
    assert fox.soft_limit is None
    app = cgroups["/user.slice/user-1000.slice/user@1000.service/app.slice"]
    assert app.max == UNLIMITED and app.effective_max == 4 * GIB  # smallest along the ancestors
    assert cgroups["/"].current is None and cgroups["/"].max is None  # the v2 root has no such files
    limit = reader.container()
    assert limit is not None and (limit.limit, limit.current) == (1536 * MIB, 1536 * MIB)


def test_hybrid_reads_the_v1_memory_tree(hosts: Path) -> None:
    reader, cgroups = tree(hosts / "hybrid")
    assert reader.mount is not None and reader.mount.version == 1
    assert cgroups is not None and set(cgroups) == {"/", "/system.slice", "/system.slice/memcg-v1.service"}
    service = cgroups["/system.slice/memcg-v1.service"]
    assert (service.max, service.effective_max, dict(service.events)["failcnt"]) == (512 * MIB, 512 * MIB, 4)


def test_no_cgroup_fs(hosts: Path) -> None:
    reader, cgroups = tree(hosts / "no-cgroupfs")
    assert cgroups is None and reader.container() is None and reader.note is None
    snap = Collector(HostPaths.from_root(hosts / "no-cgroupfs"), clock=lambda: 0.0).collect()
    assert snap.cgroups is None and snap.container is None
    assert snap.processes[0].cgroup == "/user.slice/user-1000.slice/session-2.scope"
    assert snapshot_json(snap, list(snap.processes))["cgroups"] is None


def test_v2_without_the_memory_controller(hosts: Path, tmp_path: Path) -> None:
    shutil.copytree(hosts / "v2", tmp_path / "v2")
    (tmp_path / "v2/sys/fs/cgroup/cgroup.controllers").write_text("cpu io pids\n")
    snap = Collector(HostPaths.from_root(tmp_path / "v2"), clock=lambda: 0.0).collect()
    assert snap.cgroups is None
    assert any("without the memory controller" in n for n in snap.notes)


def test_unreadable_and_garbage_files_are_marked_not_fatal(hosts: Path, tmp_path: Path) -> None:
    shutil.copytree(hosts / "v2", tmp_path / "v2")
    scope = tmp_path / "v2/sys/fs/cgroup/user.slice/user-1000.slice/user@1000.service/app.slice/app-firefox.scope"
    (scope / "memory.max").write_text("lots\n")
    (scope / "memory.stat").write_text("anon\n")
    (scope / "memory.events").unlink()
    _reader, cgroups = tree(tmp_path / "v2")
    assert cgroups is not None
    fox = cgroups[str(scope).split("/sys/fs/cgroup", 1)[1]]
    assert fox.max is None and fox.stat == () and fox.events == ()
    assert fox.error is not None and "memory.max" in fox.error and "memory.stat" in fox.error
    assert "memory.events" not in fox.error  # missing (an older kernel) is not an error
    assert fox.current == 1536 * MIB


def test_cgroup_namespace_root_and_dotdot_paths(hosts: Path) -> None:
    reader = CgroupReader(HostPaths.from_root(hosts / "v2"), 4096)
    assert reader.directory("/../../user-1000.slice/x") is None  # outside our namespace
    assert reader.directory("/") == reader.top


@pytest.mark.parametrize(("scenario", "version", "path"), [
    ("eas-docker-hybrid", 1, "/docker/b29faf21b7eff959f64b4192c34d5d67a707fe8561e9eaa608cb27693fba4242"),
    ("eas-ubuntu1804-hybrid", 1, "/system.slice/networkd-dispatcher.service"),
    ("eas-docker2-cgroup2-ns", 2, "/user.slice/user-1000.slice/session-520.scope"),
    ("oomd-cgroup2-handmade", 2, "/workload.slice/service1.service"),
])
def test_upstream_trees(upstream: Path, scenario: str, version: int, path: str) -> None:
    reader, cgroups = tree(upstream / scenario)  # no mountinfo there: found by the layout
    assert reader.mount is not None and reader.mount.version == version
    assert cgroups is not None and path in cgroups
    found = cgroups[path]
    assert found.current is not None and found.current > 0 and found.procs
    assert found.max == UNLIMITED  # v1 9223372036854771712 or v2 "max"
    assert all(c.error is None for c in cgroups.values())


def test_upstream_legacy_psi_and_missing_files(upstream: Path) -> None:
    _reader, cgroups = tree(upstream / "oomd-cgroup2-handmade")
    assert cgroups is not None
    legacy = cgroups["/system.slice/service3.service"]
    assert legacy.pressure is not None and legacy.pressure.some is not None and legacy.pressure.some.total is None
    nested = cgroups["/system.slice/slice1.slice/service1.service"]
    assert nested.max is None and nested.effective_max == UNLIMITED and nested.events == ()


def test_upstream_v2_events_of_an_oom(upstream: Path) -> None:
    # The hybrid zip's v2 files sit beside a v1 memory tree: the v1 tree wins,
    # so read the v2 scope directly as a v2 directory.
    from memtop.collectors.cgroup_tree import _read_v2
    import os

    scope = next((upstream / "eas-docker-hybrid/sys/fs/cgroup/system.slice").glob("docker-*.scope"))
    fd = os.open(scope, os.O_RDONLY)
    try:
        record = _read_v2(fd, "/x", 4096)
    finally:
        os.close(fd)
    assert dict(record.events) == {"low": 10, "high": 3, "max": 2, "oom": 1, "oom_kill": 1}
    assert record.low == 4 and record.max == UNLIMITED


# -- attribution, rows, JSON ------------------------------------------------------
def test_pss_sums_over_subtrees_and_json(hosts: Path) -> None:
    snap = Collector(HostPaths.from_root(hosts / "v1"), clock=lambda: 0.0).collect()
    assert snap.cgroups is not None
    sums = pss_sums(snap.cgroups, snap.processes)
    pss = snap.processes[0].pss
    assert pss is not None
    assert sums["/user.slice/user-1000.slice/session-2.scope"].pss == pss
    assert sums["/user.slice"].pss == pss and sums["/user.slice"].processes == 1  # descendants count
    assert sums["/"].pss == pss
    out = snapshot_json(snap, select(snap.processes))
    text = json.dumps(out, allow_nan=False)
    assert json.loads(text) == out
    scope = next(c for c in out["cgroups"] if c["path"].endswith("session-2.scope"))
    assert set(scope) == {"path", "version", "current", "max", "high", "low", "min", "soft_limit", "effective_max",
                          "stat", "events", "pressure", "pss_sum", "pss_unreadable", "procs", "error"}
    assert (scope["version"], scope["max"], scope["effective_max"], scope["high"]) == (1, "max", 2 * GIB, None)
    assert scope["procs"] == [500] and scope["pss_sum"] == pss and scope["events"]["oom_kill"] == 3
    assert cgroups_json(snap.cgroups, None)[0]["pss_sum"] is None  # type: ignore[index]


def test_rows_tree_order_and_new_events(hosts: Path) -> None:
    snap = Collector(HostPaths.from_root(hosts / "v2"), clock=lambda: 0.0).collect()
    assert snap.cgroups is not None
    baseline = event_baseline(snap.cgroups)
    rows = build_cgroup_rows(snap.cgroups, pss_sums(snap.cgroups, snap.processes), baseline)
    assert [r.depth for r in rows] == [0, 1, 2, 3, 4, 5]
    assert rows[0].name == "/" and rows[-1].name == "app-firefox.scope"
    assert all(r.new == () for r in rows)  # nothing new since the baseline
    fox = snap.cgroups[-1]
    assert new_events(fox, {}) == (("high", 42), ("max", 7), ("oom", 2), ("oom_kill", 1))  # new since: all
    older = {fox.path: {**dict(fox.events), "oom_kill": 0}}
    assert new_events(fox, older) == (("oom_kill", 1),)


def test_in_cgroup() -> None:
    assert in_cgroup("/a/b", "/a") and in_cgroup("/a", "/a") and in_cgroup("/a/b", "/")
    assert not in_cgroup("/ab", "/a") and not in_cgroup(None, "/")


def test_v1_container_without_cgroup_namespace(hosts: Path, tmp_path: Path) -> None:
    # Docker on v1 without a cgroup namespace: the container sees only its own
    # cgroup, mounted at /sys/fs/cgroup/memory with mountinfo's root field set
    # to its path; its limit sits on an ancestor it cannot see.
    scope = "/user.slice/user-1000.slice/session-2.scope"
    root = tmp_path / "ctr"
    shutil.copytree(hosts / "v1" / "proc", root / "proc")
    shutil.copytree(hosts / "v1" / "sys/fs/cgroup/memory" / scope.lstrip("/"), root / "sys/fs/cgroup/memory")
    (root / "proc/self/mountinfo").write_text(
        f"35 31 0:30 {scope} /sys/fs/cgroup/memory rw,nosuid,nodev,noexec,relatime - cgroup cgroup rw,memory\n")
    snap = Collector(HostPaths.from_root(root), clock=lambda: 0.0).collect()
    assert snap.cgroups is not None and [c.path for c in snap.cgroups] == [scope]  # paths as /proc/PID/cgroup has them
    assert snap.container is not None
    assert (snap.container.path, snap.container.limit, snap.container.current) == (scope, 2 * GIB, 768 * MIB)
    assert pss_sums(snap.cgroups, snap.processes)[scope].processes == 1  # pid 500 attributed


@given(st.lists(st.tuples(st.sampled_from(["/", "/a", "/a/b", "/a/b/c", "/ab", "/x", None]),
                          st.one_of(st.none(), st.integers(0, 1 << 40))), max_size=30))
def test_pss_sums_property(members: list[tuple[str | None, int | None]]) -> None:
    from memtop.collectors.models import CgroupMemory, ProcessMemory

    def cgroup(path: str) -> CgroupMemory:
        return CgroupMemory(path, 2, None, None, None, None, None, None, None, (), (), None, ())

    groups = [cgroup(p) for p in ("/", "/a", "/a/b", "/ab")]
    procs = [ProcessMemory(pid=i + 1, ppid=0, starttime=0, name="p", cmdline=(), uid=0, user="root", state="S",
                           threads=1, kernel_thread=False, pss=pss, cgroup=path) for i, (path, pss) in enumerate(members)]
    sums = pss_sums(groups, procs)
    for group in groups:
        inside = [p for p in procs if in_cgroup(p.cgroup, group.path)]
        assert sums[group.path].processes == len(inside)
        assert sums[group.path].pss == sum(p.pss for p in inside if p.pss is not None)
        assert sums[group.path].unreadable == sum(1 for p in inside if p.pss is None)
    assert sums["/a"].processes >= sums["/a/b"].processes  # a parent holds its children's members
