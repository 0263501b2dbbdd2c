"""The OOM-kill parser on real kernel lines (4.19, 5.x, 6.x; memcg and global) and on arbitrary text."""

from __future__ import annotations

from hypothesis import given, strategies as st

from memtop.collectors.oom import parse_kills, parse_record

KIB = 1024

# 4.x (as the kernel printed them; quoted in Brendan Gregg's "Linux performance analysis in 60 s" and
# Red Hat 7's 3.10, which prints ", UID N," before the sizes).
V4_GLOBAL = [
    "Out of memory: Kill process 18694 (perl) score 246 or sacrifice child",
    "Killed process 18694 (perl) total-vm:1972392kB, anon-rss:1953348kB, file-rss:0kB, shmem-rss:0kB",
]
V4_MEMCG = [
    "Memory cgroup out of memory: Kill process 18286 (java) score 933 or sacrifice child",
    "Killed process 18286 (java) total-vm:3027492kB, anon-rss:2047696kB, file-rss:1020kB, shmem-rss:0kB",
]
RHEL7 = [
    "Out of memory: Kill process 21945 (tidb-server) score 956 or sacrifice child",
    "Killed process 21945 (tidb-server), UID 1000, total-vm:33027492kB, anon-rss:31303276kB, file-rss:0kB, shmem-rss:0kB",
]
# 5.3: UID, no pgtables (a Milk-V Duo's 5.10 vendor kernel prints this short form).
V5_3 = ["Out of memory: Killed process 3718 (opencv-mobile-t) total-vm:31168kB, anon-rss:11384kB, file-rss:4kB, "
        "shmem-rss:0kB, UID:0"]
# 5.4+ global, with the summary line.
V5_GLOBAL = [
    "oom-kill:constraint=CONSTRAINT_NONE,nodemask=(null),cpuset=/,mems_allowed=0,global_oom,"
    "task_memcg=/user.slice/user-1000.slice/user@1000.service,task=node,pid=4521,uid=1000",
    "Out of memory: Killed process 4521 (node) total-vm:1490304kB, anon-rss:1288436kB, file-rss:0kB, shmem-rss:0kB, "
    "UID:1000 pgtables:2516kB oom_score_adj:0",
]
# 6.x memcg (a kill in the cgroup /test, quoted in a 6.11 mm commit; LXC under Proxmox).
V6_MEMCG = [
    "oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),cpuset=test,mems_allowed=0,oom_memcg=/test,task_memcg=/test,"
    "task=dd,pid=4404,uid=0",
    "Memory cgroup out of memory: Killed process 4404 (dd) total-vm:10512kB, anon-rss:1152kB, file-rss:1824kB, "
    "shmem-rss:0kB, UID:0 pgtables:76kB oom_score_adj:0",
    "oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),cpuset=ns,mems_allowed=0,oom_memcg=/lxc/107,"
    "task_memcg=/lxc/107/ns/system.slice/paperless-task-queue.service,task=convert,pid=1562888,uid=100000",
    "Memory cgroup out of memory: Killed process 1562888 (convert) total-vm:2070820kB, anon-rss:863744kB, "
    "file-rss:0kB, shmem-rss:939264kB, UID:100000 pgtables:3640kB oom_score_adj:0",
]
# A kill of Fedora CoreOS's dnf (6.x), no summary line kept in the excerpt.
V6_ADJ = ["Out of memory: Killed process 2811 (dnf) total-vm:771032kB, anon-rss:144864kB, file-rss:988kB, "
          "shmem-rss:0kB, UID:501 pgtables:476kB oom_score_adj:200"]


def records(lines: list[str]) -> list[tuple[int, str]]:
    return [(1000 + i, line) for i, line in enumerate(lines)]


def test_4_19_global_and_memcg() -> None:
    (perl,) = parse_kills(records(V4_GLOBAL))
    assert (perl.pid, perl.name, perl.constraint, perl.uid) == (18694, "perl", "global", None)
    assert perl.anon_rss == 1953348 * KIB and perl.pgtables is None and perl.oom_score_adj is None
    (java,) = parse_kills(records(V4_MEMCG))
    assert java.constraint == "memcg" and java.memcg is None  # 4.19 does not name the cgroup


def test_rhel7_uid_before_sizes() -> None:
    (kill,) = parse_kills(records(RHEL7))
    assert (kill.pid, kill.uid, kill.anon_rss) == (21945, 1000, 31303276 * KIB)


def test_5_3_uid_without_pgtables() -> None:
    (kill,) = parse_kills(records(V5_3))
    assert (kill.uid, kill.pgtables, kill.oom_score_adj, kill.name) == (0, None, None, "opencv-mobile-t")


def test_5_x_global_with_summary() -> None:
    (kill,) = parse_kills(records(V5_GLOBAL))
    assert kill.constraint == "global" and kill.memcg is None
    assert kill.task_memcg == "/user.slice/user-1000.slice/user@1000.service"
    assert (kill.uid, kill.pgtables, kill.oom_score_adj) == (1000, 2516 * KIB, 0)


def test_6_x_memcg_kills() -> None:
    dd, convert = parse_kills(records(V6_MEMCG))
    assert (dd.pid, dd.constraint, dd.memcg, dd.task_memcg) == (4404, "memcg", "/test", "/test")
    assert convert.memcg == "/lxc/107" and convert.shmem_rss == 939264 * KIB and convert.uid == 100000
    assert "in /lxc/107" in convert.describe()
    (dnf,) = parse_kills(records(V6_ADJ))
    assert dnf.oom_score_adj == 200


def test_early_5_4_pgtables_in_bytes() -> None:
    # Early 5.4 printed mm_pgtables_bytes() labelled kB: 2,576,384 "kB" of page tables for 1.4 GB mapped.
    line = ("Out of memory: Killed process 4521 (node) total-vm:1490304kB, anon-rss:1288436kB, file-rss:0kB, "
            "shmem-rss:0kB, UID:1000 pgtables:2576384kB oom_score_adj:0")
    (kill,) = parse_kills(records([line]))
    assert kill.pgtables == 2576384  # bytes


def test_kmsg_records() -> None:
    assert parse_record("3,1234,5678901,-;Out of memory: Killed process 1 (x)") == (1234, 5678901,
                                                                                   "Out of memory: Killed process 1 (x)")
    assert parse_record(" SUBSYSTEM=memory") is None


@given(st.lists(st.text(), max_size=8))
def test_any_text_parses_without_error(lines: list[str]) -> None:
    for kill in parse_kills(records(lines)):
        assert kill.pid >= 0 and kill.total_vm is not None


@given(st.integers(0, 2**22), st.text(st.characters(blacklist_characters="\n()"), min_size=1, max_size=15),
       st.integers(0, 2**30), st.integers(-1000, 1000))
def test_generated_kill_lines_round_trip(pid: int, comm: str, anon: int, adj: int) -> None:
    line = (f"Memory cgroup out of memory: Killed process {pid} ({comm}) total-vm:{anon * 2}kB, anon-rss:{anon}kB, "
            f"file-rss:0kB, shmem-rss:0kB, UID:7 pgtables:4kB oom_score_adj:{adj}")
    (kill,) = parse_kills(records([line]))
    assert (kill.pid, kill.name, kill.anon_rss, kill.oom_score_adj, kill.uid) == (pid, comm, anon * KIB, adj, 7)
