"""Unit tests of every pure parser, on text (no file system except the fixture meminfo files)."""

from __future__ import annotations

from pathlib import Path

import pytest

from memtop.collectors import cgroups, meminfo, pressure, procfs, smaps, thp, vmstat
from memtop.collectors.errors import ParseError
from memtop.collectors.meminfo import TAXONOMY, estimate_available, parse_meminfo, system_memory
from memtop.collectors.paths import HostPaths
from memtop.collectors.procfs import (
    PF_KTHREAD,
    memory_cgroup,
    parse_cgroup,
    parse_cmdline,
    parse_int,
    parse_kb_fields,
    parse_stat,
    parse_status,
)
from memtop.collectors.smaps import classify, parse_smaps, parse_smaps_general

KIB = 1024
HOSTS = Path(__file__).resolve().parents[1] / "fixtures" / "hosts"


# ---------------------------------------------------------------- meminfo

MEMINFO = """\
MemTotal:        8000000 kB
MemFree:         1000000 kB
MemAvailable:    5000000 kB
Buffers:          200000 kB
Cached:          3000000 kB
SwapCached:         1234 kB
Active(file):    1500000 kB
Inactive(file):  1700000 kB
SwapTotal:       2000000 kB
SwapFree:        1500000 kB
Dirty:              1000 kB
Writeback:            12 kB
AnonPages:       2500000 kB
Mapped:           400000 kB
Shmem:            100000 kB
SReclaimable:     300000 kB
SUnreclaim:       200000 kB
KernelStack:       20000 kB
PageTables:        40000 kB
SecPageTables:      1000 kB
Percpu:            10000 kB
AnonHugePages:    100000 kB
ShmemHugePages:     2048 kB
FileHugePages:      4096 kB
HugePages_Total:       4
HugePages_Free:        4
Hugepagesize:       2048 kB
Hugetlb:           16384 kB
Zswap:              5000 kB
Zswapped:          20000 kB
"""


def test_parse_meminfo_units_and_counts():
    f = parse_meminfo(MEMINFO)
    assert f["MemTotal"] == 8000000 * KIB
    assert f["Active(file)"] == 1500000 * KIB
    assert f["Hugepagesize"] == 2048 * KIB
    # Unit-less HugePages_* are page counts, kept as counts.
    assert f["HugePages_Total"] == 4
    assert f["HugePages_Free"] == 4
    assert len(f) == MEMINFO.count("\n")


def test_parse_meminfo_keeps_file_order():
    assert list(parse_meminfo(MEMINFO))[:3] == ["MemTotal", "MemFree", "MemAvailable"]


def test_parse_meminfo_skips_linux_2_4_summary_header():
    text = (
        "        total:    used:    free:  shared: buffers:  cached:\n"
        "Mem:  260579328 136073216 124506112        0  4915200 94064640\n"
        "Swap:        0        0        0\n"
        "MemTotal:         254472 kB\n"
        "MemShared:             0 kB\n"
    )
    assert parse_meminfo(text) == {"MemTotal": 254472 * KIB, "MemShared": 0}


@pytest.mark.parametrize(
    "line",
    [
        "Bad Key:   12 kB",  # space inside the key
        " MemTotal: 12 kB",  # key with surrounding space
        "MemTotal: 12 MB",  # unknown unit
        "MemTotal: 12 kB extra",  # too many words
        "MemTotal: -12 kB",  # negative
        "MemTotal: 1.5 kB",  # not an integer
        "MemTotal: \u0661\u0662 kB",  # non-ASCII digits
        "MemTotal:",  # no value
        ": 12 kB",  # no key
        "MemTotal 12 kB",  # no colon
    ],
)
def test_parse_meminfo_skips_malformed_lines(line):
    assert parse_meminfo(line + "\nMemFree: 5 kB\n") == {"MemFree": 5 * KIB}


def test_parse_meminfo_without_trailing_newline():
    assert parse_meminfo("MemTotal: 10 kB\nMemFree: 4 kB") == {"MemTotal": 10 * KIB, "MemFree": 4 * KIB}


@pytest.mark.parametrize("text", ["", "\n\n", "hello world\n", "Mem:  1 2 3\n", "MemTotal: lots kB\n"])
def test_parse_meminfo_rejects_text_without_fields(text):
    with pytest.raises(ParseError):
        parse_meminfo(text)


def test_estimate_available_needs_free_and_file_lru():
    assert estimate_available({"MemFree": 1, "Active(file)": 2}, None) is None
    assert estimate_available({"Active(file)": 2, "Inactive(file)": 3}, 100) is None


def test_estimate_available_without_watermark_is_free_plus_file_plus_slab():
    f = {"MemFree": 1000 * KIB, "Active(file)": 300 * KIB, "Inactive(file)": 200 * KIB, "SReclaimable": 50 * KIB}
    assert estimate_available(f, None) == 1550 * KIB
    assert estimate_available(f, 0) == 1550 * KIB


def test_estimate_available_procps_formula_with_watermark():
    # procps-ng: free - low + file - min(file/2, low) + slab - min(slab/2, low), low = min_free*5/4.
    f = {"MemFree": 500000 * KIB, "Active(file)": 300000 * KIB, "Inactive(file)": 200000 * KIB,
         "SReclaimable": 100000 * KIB}
    low = 67584 * 5 // 4  # 84480 kB
    expected = 500000 - low + 500000 - min(250000, low) + 100000 - min(50000, low)
    assert estimate_available(f, 67584) == expected * KIB == 881040 * KIB


def test_estimate_available_without_sreclaimable_and_clamped_at_zero():
    f = {"MemFree": 10 * KIB, "Active(file)": 0, "Inactive(file)": 0}
    assert estimate_available(f, None) == 10 * KIB
    assert estimate_available(f, 1000) == 0  # below the watermark: never negative


def _parts(sm) -> dict[str, int]:
    return {p.name: p.bytes for p in sm.taxonomy}


def test_system_memory_full_taxonomy():
    sm = system_memory(parse_meminfo(MEMINFO))
    parts = _parts(sm)
    assert [p.name for p in sm.taxonomy] == list(TAXONOMY)
    assert parts == {
        "anon": 2500000 * KIB,
        "page_cache": (3000000 - 100000) * KIB,  # Cached counts shmem too
        "buffers": 200000 * KIB,
        "shmem": 100000 * KIB,
        "slab_reclaimable": 300000 * KIB,
        "slab_unreclaimable": 200000 * KIB,
        "kernel_stack": 20000 * KIB,
        "page_tables": 41000 * KIB,  # PageTables + SecPageTables
        "percpu": 10000 * KIB,
        "hugetlb": 16384 * KIB,  # the Hugetlb line wins over HugePages_Total * Hugepagesize
        "zswap": 5000 * KIB,
        "other_kernel": (8000000 - 2500000 - 2900000 - 200000 - 100000 - 300000 - 200000 - 20000 - 41000
                         - 10000 - 16384 - 5000 - 1000000) * KIB,
        "free": 1000000 * KIB,
    }
    assert sm.overcount == 0
    assert sum(parts.values()) == sm.total == 8000000 * KIB


def test_system_memory_headline_figures():
    sm = system_memory(parse_meminfo(MEMINFO))
    assert sm.total == 8000000 * KIB
    assert sm.available == 5000000 * KIB
    assert sm.available_estimated is False
    assert sm.used == 3000000 * KIB
    assert sm.swap_total == 2000000 * KIB and sm.swap_free == 1500000 * KIB and sm.swap_cached == 1234 * KIB
    assert sm.dirty == 1000 * KIB and sm.writeback == 12 * KIB and sm.mapped == 400000 * KIB
    assert sm.anon_huge == 100000 * KIB and sm.shmem_huge == 2048 * KIB and sm.file_huge == 4096 * KIB
    assert sm.page_tables == 41000 * KIB
    assert sm.field("Zswapped") == 20000 * KIB
    assert sm.field("HugePages_Total") == 4
    assert sm.field("NoSuchField") is None


def test_system_memory_hugetlb_from_page_count_before_4_16():
    f = {"MemTotal": 100 * KIB, "MemFree": 10 * KIB, "HugePages_Total": 3, "Hugepagesize": 2048 * KIB}
    sm = system_memory(f)
    assert sm.hugetlb == 3 * 2048 * KIB
    # 6 MiB of huge pages on a 100 KiB host: more than MemTotal, so overcount says so.
    assert sm.overcount == 10 * KIB + 3 * 2048 * KIB - 100 * KIB


def test_system_memory_page_cache_never_negative():
    sm = system_memory({"MemTotal": 100, "Cached": 10, "Shmem": 30, "MemFree": 0})
    assert _parts(sm)["page_cache"] == 0


def test_system_memory_zswap_only_when_present():
    sm = system_memory({"MemTotal": 100, "MemFree": 40})
    assert "zswap" not in _parts(sm)
    assert sm.zswap is None
    assert _parts(sm) == {"other_kernel": 60, "free": 40}


def test_system_memory_overcount_when_parts_exceed_total():
    f = {"MemTotal": 100, "MemFree": 60, "AnonPages": 50, "Buffers": 5}
    sm = system_memory(f)
    assert sm.overcount == 15
    parts = _parts(sm)
    assert parts["other_kernel"] == 0
    assert sum(parts.values()) == sm.total + sm.overcount


def test_system_memory_without_memtotal():
    sm = system_memory({"MemFree": 10, "MemAvailable": 20})
    assert sm.total is None and sm.used is None and sm.overcount == 0
    assert "other_kernel" not in _parts(sm)
    assert sm.available == 20


def test_system_memory_estimates_available_when_missing():
    f = {"MemTotal": 1000, "MemFree": 100, "Active(file)": 200, "Inactive(file)": 100, "SReclaimable": 50}
    sm = system_memory(f)
    assert sm.available == 450 and sm.available_estimated is True and sm.used == 550
    sm = system_memory({"MemTotal": 1000, "MemFree": 100})
    assert sm.available is None and sm.available_estimated is False and sm.used is None


UPSTREAM_MEMINFO = (
    "eas-oldkern-meminfo", "go-sysinfo-ubuntu1710", "gopsutil-32bit-highmem", "gopsutil-bigserver-truncated",
    "gopsutil-desktop-i5", "node-exporter", "oomd-cgroup2-handmade", "procfs-fixtures",
    "sysstat-desktop-5x-t1", "sysstat-desktop-5x-t2",
)
HAND_MEMINFO = tuple(sorted(p.parent.parent.name for p in HOSTS.glob("*/proc/meminfo")))


def test_upstream_meminfo_list_is_complete(upstream):
    """Every upstream meminfo is covered by the taxonomy property below."""
    assert tuple(sorted(p.parent.parent.name for p in upstream.glob("*/proc/meminfo"))) == UPSTREAM_MEMINFO


def _check_taxonomy(text: str) -> None:
    sm = system_memory(parse_meminfo(text))
    parts = _parts(sm)
    assert sm.total is not None
    assert all(v >= 0 for v in parts.values())
    assert [p.name for p in sm.taxonomy] == [n for n in TAXONOMY if n in parts]
    if sm.overcount == 0:
        assert sum(parts.values()) == sm.total
    else:
        assert parts["other_kernel"] == 0
        assert sum(parts.values()) == sm.total + sm.overcount


@pytest.mark.parametrize("scenario", UPSTREAM_MEMINFO)
def test_taxonomy_adds_up_upstream(upstream, scenario):
    _check_taxonomy((upstream / scenario / "proc" / "meminfo").read_text())


@pytest.mark.parametrize("scenario", HAND_MEMINFO)
def test_taxonomy_adds_up_hand_made(scenario):
    text = (HOSTS / scenario / "proc" / "meminfo").read_text()
    _check_taxonomy(text)
    assert system_memory(parse_meminfo(text)).overcount == 0  # hand-made trees are consistent


# ---------------------------------------------------------------- pressure

def test_parse_pressure_upstream_format():
    p = pressure.parse_pressure(
        "some avg10=0.10 avg60=2.00 avg300=3.85 total=15\nfull avg10=0.20 avg60=3.00 avg300=4.95 total=25\n"
    )
    assert (p.some.avg10, p.some.avg60, p.some.avg300, p.some.total) == (0.10, 2.00, 3.85, 15)
    assert (p.full.avg10, p.full.avg60, p.full.avg300, p.full.total) == (0.20, 3.00, 4.95, 25)
    assert isinstance(p.some.total, int)


def test_parse_pressure_legacy_format():
    p = pressure.parse_pressure("aggr 128544748770\nsome 1.11 2.22 3.33\nfull 4.44 5.55 6.66\n0 0 0\n0 0 0\n")
    assert (p.some.avg10, p.some.avg60, p.some.avg300, p.some.total) == (1.11, 2.22, 3.33, None)
    assert (p.full.avg10, p.full.avg60, p.full.avg300, p.full.total) == (4.44, 5.55, 6.66, None)


def test_parse_pressure_missing_full_line():
    p = pressure.parse_pressure("some avg10=1.00 avg60=0.50 avg300=0.10 total=99")
    assert p.full is None
    assert p.some.total == 99


def test_parse_pressure_only_full_line():
    p = pressure.parse_pressure("full avg10=1.00 avg60=0.50 avg300=0.10 total=7\n")
    assert p.some is None and p.full.total == 7


def test_parse_pressure_without_total():
    p = pressure.parse_pressure("some avg10=1.00 avg60=2.00 avg300=3.00\n")
    assert p.some.total is None and p.some.avg300 == 3.0


def test_parse_pressure_first_line_of_a_kind_wins():
    p = pressure.parse_pressure("some 1 2 3\nsome 4 5 6\n")
    assert p.some.avg10 == 1.0


@pytest.mark.parametrize(
    "text",
    [
        "",
        "aggr 12\n",
        "garbage\n",
        "some\n",
        "some 1 2\n",
        "some 1 2 3 4\n",
        "some avg10=1 avg60=2\n",
        "some avg10=x avg60=2 avg300=3 total=1\n",
        "some avg10=1 avg60=2 avg300=3 total=1.5\n",
        "some nan 1 2\n",
        "some inf 1 2\n",
        "full avg10=1 avg60=-inf avg300=3 total=1\n",
        "some avg10=1 2 3\n",
    ],
)
def test_parse_pressure_malformed(text):
    with pytest.raises(ParseError):
        pressure.parse_pressure(text)


# ---------------------------------------------------------------- vmstat

def test_parse_vmstat_counters_and_signed_gauges():
    out = vmstat.parse_vmstat("nr_free_pages 250000\nnr_zone_write_pending -3\n\noom_kill 2")
    assert out == {"nr_free_pages": 250000, "nr_zone_write_pending": -3, "oom_kill": 2}


def test_parse_vmstat_empty():
    assert vmstat.parse_vmstat("") == {}
    assert vmstat.parse_vmstat("\n  \n") == {}


@pytest.mark.parametrize(
    "line", ["pgfault", "pgfault 1 2", "pgfault x", "pgfault --5", "pgfault -", "pgfault 1.0", "pgfault \u0663"]
)
def test_parse_vmstat_malformed(line):
    with pytest.raises(ParseError):
        vmstat.parse_vmstat("nr_free_pages 1\n" + line + "\n")


# ---------------------------------------------------------------- thp

@pytest.mark.parametrize(
    "text, expected",
    [
        ("always [madvise] never\n", "madvise"),
        ("[always] madvise never\n", "always"),
        ("always within_size advise [never] deny force\n", "never"),
        ("always defer defer+madvise [madvise] never", "madvise"),
        ("4096\n", "4096"),
        ("  plain  \n", "plain"),
        ("", None),
        ("\n", None),
        ("[]", None),
        ("always [madvise", None),
    ],
)
def test_parse_selected(text, expected):
    assert thp.parse_selected(text) == expected


# ---------------------------------------------------------------- procfs.parse_stat

def _stat(head: bytes, state=b"S", ppid=1, flags=4194560, threads=1, starttime=1000) -> bytes:
    rest = [state, ppid, 7, 7, 0, -1, flags, 100, 0, 2, 0, 5, 3, 0, 0, 20, 0, threads, 0, starttime,
            123456, 789, 18446744073709551615] + [0] * 27
    return head + b" " + b" ".join(x if isinstance(x, bytes) else str(x).encode() for x in rest) + b"\n"


def test_parse_stat_plain():
    st = parse_stat(_stat(b"1234 (python3)", ppid=1, threads=3, starttime=5000))
    assert (st.pid, st.name, st.state, st.ppid, st.threads, st.starttime) == (1234, "python3", "S", 1, 3, 5000)
    assert st.flags == 4194560 and st.kernel_thread is False


def test_parse_stat_comm_with_spaces_paren_and_newline():
    raw = _stat(b"30372 (x) (y\nR 1 2)", ppid=30364, starttime=777)
    assert raw.startswith(b"30372 (x) (y\nR 1 2) S 30364 ")
    st = parse_stat(raw)
    assert st.pid == 30372
    assert st.name == "x) (y\nR 1 2"
    assert st.state == "S"
    assert st.ppid == 30364
    assert st.starttime == 777


def test_parse_stat_comm_imitating_fields():
    st = parse_stat(_stat(b"30400 (ab cd) S 1 1 1)", state=b"R", ppid=99, flags=0, threads=2, starttime=8))
    assert st.name == "ab cd) S 1 1 1"
    assert (st.state, st.ppid, st.flags, st.threads, st.starttime) == ("R", 99, 0, 2, 8)


def test_parse_stat_upstream_style_comm_and_trailing_line():
    raw = _stat(b"1020 ((a b ) ( c d) )", state=b"R", ppid=28378) + b"#!/bin/cat /proc/self/stat\n"
    st = parse_stat(raw)
    assert st.name == "(a b ) ( c d) "
    assert st.state == "R" and st.ppid == 28378


def test_parse_stat_kernel_thread_flag():
    assert parse_stat(_stat(b"2 (kthreadd)", flags=PF_KTHREAD | 0x8040)).kernel_thread is True
    assert parse_stat(_stat(b"3 (rcu_gp)", state=b"I", flags=69238880)).kernel_thread is True
    assert parse_stat(_stat(b"4 (bash)", flags=0x400100)).kernel_thread is False


def test_parse_stat_without_trailing_newline_and_non_utf8_comm():
    st = parse_stat(_stat(b"5 (caf\xc3\xa9 \xff)").rstrip(b"\n"))
    assert st.name == "caf\u00e9 \\xff"


def test_parse_stat_extreme_values():
    st = parse_stat(_stat(b"33 (ata_sff)", flags=69238880, starttime=9223372036854775807))
    assert st.starttime == 9223372036854775807


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"1234 python3 S 1 2 3",
        b"1234 (python3 S 1 2 3",  # no closing paren
        b"1234 )python3( S 1 2 3",  # closing before opening
        b"1234 (python3) S 1 2 3\n",  # too few fields
        _stat(b"abc (x)"),  # pid not a number
        _stat(b"1 (x)", state=b"1"),  # state not a letter
        _stat(b"1 (x)", state=b"SS"),  # state of two letters
        _stat(b"1 (x)", state=b"\xc3\x9f"),  # non-ASCII state
        _stat(b"1 (x)", ppid=b"one"),
        _stat(b"1 (x)", flags=b"0x10"),
        _stat(b"1 (x)", threads=b"-"),
        _stat(b"1 (x)", starttime=b"1e3"),
    ],
)
def test_parse_stat_malformed(raw):
    with pytest.raises(ParseError):
        parse_stat(raw)


# ---------------------------------------------------------------- procfs.parse_status

STATUS = b"""Name:\tpython3
Umask:\t0022
State:\tS (sleeping)
Tgid:\t1234
Pid:\t1234
PPid:\t1
Uid:\t1000\t1001\t1002\t1003
Gid:\t1000\t1000\t1000\t1000
Kthread:\t0
VmPeak:\t  401000 kB
VmSize:\t  400000 kB
VmLck:\t       0 kB
VmHWM:\t   90000 kB
VmRSS:\t   80000 kB
RssAnon:\t   70000 kB
RssFile:\t    9000 kB
RssShmem:\t    1000 kB
VmSwap:\t      12 kB
HugetlbPages:\t    2048 kB
Threads:\t3
"""


def test_parse_status_user_process():
    st = parse_status(STATUS)
    assert st.uid == 1000  # the real uid, first of four
    assert st.kthread is False
    assert (st.vsize, st.rss, st.anon, st.file, st.shmem, st.swap, st.hwm, st.hugetlb) == tuple(
        v * KIB for v in (400000, 80000, 70000, 9000, 1000, 12, 90000, 2048)
    )


def test_parse_status_kernel_thread_without_vm_lines():
    raw = b"Name:\tkthreadd\nState:\tS (sleeping)\nPid:\t2\nPPid:\t0\nUid:\t0\t0\t0\t0\nKthread:\t1\nThreads:\t1\n"
    st = parse_status(raw)
    assert st.kthread is True
    assert st.uid == 0
    assert (st.vsize, st.rss, st.anon, st.file, st.shmem, st.swap, st.hwm, st.hugetlb) == (None,) * 8


def test_parse_status_without_kthread_line():
    assert parse_status(b"Name:\tx\nUid:\t5\t5\t5\t5\n").kthread is False


def test_parse_status_spaces_instead_of_tabs():
    raw = b"Name:   kube-proxy\nUid:    0       0       0       0\nVmRSS:     1234 kB\nVmSwap: 0 kB\nKthread: 1\n"
    st = parse_status(raw)
    assert st.uid == 0 and st.rss == 1234 * KIB and st.swap == 0 and st.kthread is True


def test_parse_status_first_line_and_no_trailing_newline():
    st = parse_status(b"Uid:\t42\t42\t42\t42\nVmRSS:\t7 kB")
    assert st.uid == 42 and st.rss == 7 * KIB


def test_parse_status_leading_empty_line():
    st = parse_status(b"\nName:\tprometheus\nUid:\t1000\t1000\t1000\t0\nVmRSS:\t6716 kB\n")
    assert st.uid == 1000 and st.rss == 6716 * KIB


def test_parse_status_keys_match_whole_names_only():
    st = parse_status(b"Name:\tx\nNotVmRSS:\t5 kB\nVmRSSx:\t6 kB\n")
    assert st.rss is None and st.uid is None


def test_parse_status_empty():
    st = parse_status(b"")
    assert st.uid is None and st.rss is None and st.kthread is False


@pytest.mark.parametrize(
    "raw",
    [
        b"Uid:\t\n",
        b"Uid:\tabc\t0\t0\t0\n",
        b"Uid:\t-1\t0\t0\t0\n",
        b"VmRSS:\tabc kB\n",
        b"VmRSS:\t12\n",
        b"VmRSS:\t12 MB\n",
        b"VmSwap:\t1 2 kB\n",
        b"RssAnon:\t-5 kB\n",
    ],
)
def test_parse_status_malformed(raw):
    with pytest.raises(ParseError):
        parse_status(b"Name:\tx\n" + raw)


# ---------------------------------------------------------------- procfs.parse_kb_fields

ROLLUP_4_14 = b"""00400000-ffffffffff601000 ---p 00000000 00:00 0                          [rollup]
Rss:               29948 kB
Pss:               29944 kB
Shared_Clean:          4 kB
Private_Clean:     15548 kB
Private_Dirty:     14396 kB
Swap:               1940 kB
"""


def test_parse_kb_fields_rollup():
    assert parse_kb_fields(ROLLUP_4_14) == {
        "Rss": 29948 * KIB, "Pss": 29944 * KIB, "Shared_Clean": 4 * KIB,
        "Private_Clean": 15548 * KIB, "Private_Dirty": 14396 * KIB, "Swap": 1940 * KIB,
    }


def test_parse_kb_fields_sums_smaps_and_skips_other_lines():
    raw = (
        b"00400000-0040b000 r-xp 00000000 fd:01 41 /bin/cat\n"
        b"Rss:                  8 kB\nPss:                  4 kB\nTHPeligible:    0\nProtectionKey:         0\n"
        b"VmFlags: rd ex mr mw me dw \n"
        b"7ffd2b1d8000-7ffd2b1f9000 rw-p 00000000 00:00 0                          [stack]\n"
        b"Rss:                 12 kB\nPss:                 12 kB\nTHPeligible:    0\n"
        b"VmFlags: rd wr mr mw me gd ac \n"
    )
    assert parse_kb_fields(raw) == {"Rss": 20 * KIB, "Pss": 16 * KIB}


def test_parse_kb_fields_empty():
    assert parse_kb_fields(b"") == {}


@pytest.mark.parametrize("line", [b"Rss: x kB", b"Rss: kB", b"Rss: -4 kB", b"Rss 4 kB", b"Rss: 1.5 kB"])
def test_parse_kb_fields_malformed(line):
    with pytest.raises(ParseError):
        parse_kb_fields(b"Pss: 4 kB\n" + line + b"\n")


def test_parse_kb_fields_mapping_path_ending_in_kB():
    """A file whose name ends in " kB" is a valid mapping; its header is not a field line."""
    raw = (
        b"7f0000000000-7f0000001000 r--p 00000000 08:01 1234                       /home/u/report 12 kB\n"
        b"Rss:                  4 kB\nPss:                  2 kB\n"
    )
    assert parse_kb_fields(raw) == {"Rss": 4 * KIB, "Pss": 2 * KIB}


# ---------------------------------------------------------------- procfs.parse_cmdline / parse_int

@pytest.mark.parametrize(
    "raw, expected",
    [
        (b"vim\0test.go\0+10\0", ("vim", "test.go", "+10")),
        (b"sleep\0infinity", ("sleep", "infinity")),
        (b"com.github.uiautomator" + b"\0" * 77, ("com.github.uiautomator",)),
        (b"nginx: worker process", ("nginx: worker process",)),
        (b"a\0\0b\0", ("a", "", "b")),
        (b"", ()),
        (b"\0\0\0", ()),
        (b"caf\xc3\xa9\0\xff\0", ("caf\u00e9", "\\xff")),
    ],
)
def test_parse_cmdline(raw, expected):
    assert parse_cmdline(raw) == expected


@pytest.mark.parametrize("raw, expected", [(b"0\n", 0), (b"-17\n", -17), (b" 42 ", 42), (b"1000", 1000)])
def test_parse_int(raw, expected):
    assert parse_int(raw) == expected


@pytest.mark.parametrize("raw", [b"", b"\n", b"abc", b"-", b"1.5", b"1 2", b"0x10", b"--1", b"-1-"])
def test_parse_int_malformed(raw):
    with pytest.raises(ParseError):
        parse_int(raw)


# ---------------------------------------------------------------- procfs.parse_cgroup / memory_cgroup

CGROUP_V1 = (
    "12:pids:/user.slice/user-1000.slice/session-2.scope\n"
    "11:memory:/user.slice/user-1000.slice/session-2.scope\n"
    "10:cpu,cpuacct:/user.slice\n"
    "1:name=systemd:/user.slice/user-1000.slice/session-2.scope\n"
)
CGROUP_V2 = "0::/user.slice/user-1000.slice/user@1000.service/app.slice/app-firefox.scope\n"
CGROUP_HYBRID = (
    "9:memory:/system.slice/memcg-v1.service\n"
    "6:cpu,cpuacct:/system.slice\n"
    "1:name=systemd:/system.slice/unified-v2.service\n"
    "0::/system.slice/unified-v2.service\n"
)


def test_parse_cgroup_v1():
    lines = parse_cgroup(CGROUP_V1)
    assert lines[1] == ("11", ("memory",), "/user.slice/user-1000.slice/session-2.scope")
    assert lines[2] == ("10", ("cpu", "cpuacct"), "/user.slice")
    assert lines[3] == ("1", ("name=systemd",), "/user.slice/user-1000.slice/session-2.scope")
    assert memory_cgroup(lines) == (1, "/user.slice/user-1000.slice/session-2.scope")


def test_parse_cgroup_v2():
    lines = parse_cgroup(CGROUP_V2)
    assert lines == (("0", (), "/user.slice/user-1000.slice/user@1000.service/app.slice/app-firefox.scope"),)
    assert memory_cgroup(lines) == (2, "/user.slice/user-1000.slice/user@1000.service/app.slice/app-firefox.scope")


def test_memory_cgroup_hybrid_v1_memory_line_wins():
    assert memory_cgroup(parse_cgroup(CGROUP_HYBRID)) == (1, "/system.slice/memcg-v1.service")
    # whatever the order of the lines
    reordered = "0::/system.slice/unified-v2.service\n" + CGROUP_HYBRID.replace("0::/system.slice/unified-v2.service\n", "")
    assert memory_cgroup(parse_cgroup(reordered)) == (1, "/system.slice/memcg-v1.service")


def test_parse_cgroup_path_with_colons_relative_path_and_no_newline():
    lines = parse_cgroup("0::/../../user-1000.slice/session-520.scope")
    assert memory_cgroup(lines) == (2, "/../../user-1000.slice/session-520.scope")
    assert parse_cgroup("5:memory:/a:b:c\n\n") == (("5", ("memory",), "/a:b:c"),)


def test_memory_cgroup_none_without_memory_or_v2_line():
    assert memory_cgroup(parse_cgroup("4:cpu:/x\n1:name=systemd:/y\n")) is None
    assert memory_cgroup(parse_cgroup("")) is None


@pytest.mark.parametrize("text", ["garbage\n", "1:memory\n", "0:/path\n"])
def test_parse_cgroup_malformed(text):
    with pytest.raises(ParseError):
        parse_cgroup("0::/ok\n" + text)


# ---------------------------------------------------------------- cgroups.parse_mountinfo

MOUNT_BASE = (
    "22 28 0:21 / /sys rw,nosuid,nodev,noexec,relatime shared:7 - sysfs sysfs rw\n"
    "23 28 0:22 / /proc rw,nosuid,nodev,noexec,relatime shared:13 - proc proc rw\n"
)
MOUNT_V1 = MOUNT_BASE + (
    "31 22 0:26 / /sys/fs/cgroup ro,nosuid,nodev,noexec shared:9 - tmpfs tmpfs ro,mode=755\n"
    "32 31 0:27 / /sys/fs/cgroup/systemd rw,nosuid,relatime shared:10 - cgroup cgroup rw,xattr,name=systemd\n"
    "35 31 0:30 / /sys/fs/cgroup/memory rw,nosuid,nodev,noexec,relatime shared:15 - cgroup cgroup rw,memory\n"
)
MOUNT_V2 = MOUNT_BASE + (
    "31 22 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:9 - cgroup2 cgroup2 rw,nsdelegate\n"
)
MOUNT_HYBRID = MOUNT_BASE + (
    "31 22 0:26 / /sys/fs/cgroup ro,nosuid,nodev,noexec shared:9 - tmpfs tmpfs ro,mode=755\n"
    "32 31 0:27 / /sys/fs/cgroup/unified rw,nosuid,nodev,noexec,relatime shared:10 - cgroup2 cgroup2 rw,nsdelegate\n"
    "35 31 0:30 / /sys/fs/cgroup/memory rw,nosuid,nodev,noexec,relatime shared:15 - cgroup cgroup rw,memory\n"
)


def test_parse_mountinfo_fields():
    mounts = cgroups.parse_mountinfo(MOUNT_V1)
    assert len(mounts) == 5
    point, fstype, options = mounts[4]
    assert (point, fstype) == ("/sys/fs/cgroup/memory", "cgroup")
    assert "memory" in options  # super options
    assert "nosuid" in options  # mount options
    assert mounts[0][:2] == ("/sys", "sysfs")


def test_parse_mountinfo_no_optional_fields_and_blank_lines():
    mounts = cgroups.parse_mountinfo("\n36 35 98:0 /mnt1 /mnt2 rw,noatime - ext3 /dev/root rw,errors=continue\n\n")
    assert mounts == (("/mnt2", "ext3", ("rw", "errors=continue", "rw", "noatime")),)


@pytest.mark.parametrize(
    "text, expected",
    [
        (MOUNT_V1, "v1 memory at /sys/fs/cgroup/memory"),
        (MOUNT_V2, "v2 at /sys/fs/cgroup"),
        (MOUNT_HYBRID, "v1 memory at /sys/fs/cgroup/memory"),
        (MOUNT_BASE, None),
    ],
)
def test_memory_hierarchy(text, expected):
    assert cgroups.memory_hierarchy(cgroups.parse_mountinfo(text)) == expected


@pytest.mark.parametrize("line", ["garbage", "1 2 3 4 5 rw no separator", "1 2 3 - ext4 /dev/x rw", "1 2 3 4 5 rw -"])
def test_parse_mountinfo_malformed(line):
    with pytest.raises(ParseError):
        cgroups.parse_mountinfo(MOUNT_BASE + line + "\n")


def _tree_with_mountinfo(tmp_path: Path, text: str) -> HostPaths:
    (tmp_path / "proc" / "self").mkdir(parents=True)
    (tmp_path / "proc" / "self" / "mountinfo").write_text(text)
    return HostPaths.from_root(tmp_path)


@pytest.mark.parametrize(
    "options, hidden",
    [("rw", False), ("rw,hidepid=2", True), ("rw,hidepid=invisible", True), ("rw,hidepid=0", False),
     ("rw,hidepid=off", False)],
)
def test_proc_hidepid(tmp_path, options, hidden):
    paths = _tree_with_mountinfo(tmp_path, f"23 28 0:22 / /proc rw,nosuid shared:13 - proc proc {options}\n")
    assert cgroups.proc_hidepid(paths) is hidden


def test_read_memory_hierarchy_from_tree(tmp_path):
    assert cgroups.read_memory_hierarchy(_tree_with_mountinfo(tmp_path, MOUNT_HYBRID)) == (
        "v1 memory at /sys/fs/cgroup/memory"
    )


def test_read_memory_hierarchy_missing_or_garbage(tmp_path):
    assert cgroups.read_memory_hierarchy(HostPaths.from_root(tmp_path)) is None
    assert cgroups.read_memory_hierarchy(_tree_with_mountinfo(tmp_path, "garbage\n")) is None


# ---------------------------------------------------------------- smaps

SMAPS_KEYS = ("Size", "KernelPageSize", "MMUPageSize", "Rss", "Pss", "Pss_Dirty", "Shared_Clean", "Shared_Dirty",
              "Private_Clean", "Private_Dirty", "Referenced", "Anonymous", "KSM", "LazyFree", "AnonHugePages",
              "ShmemPmdMapped", "FilePmdMapped", "Shared_Hugetlb", "Private_Hugetlb", "Swap", "SwapPss", "Locked")


def smaps_entry(header: str, flags: str = "rd mr mw me", skip: tuple[str, ...] = (), **kb: int) -> str:
    """One VMA in the kernel's layout (show_smap()), values in kB; unnamed fields are 0."""
    values = dict.fromkeys(SMAPS_KEYS, 0)
    values.update(KernelPageSize=4, MMUPageSize=4)
    values.update(kb)
    body = "".join(f"{k + ':':<16}{values[k]:8d} kB\n" for k in SMAPS_KEYS if k not in skip)
    return f"{header}\n{body}THPeligible:    {kb.get('thp', 0)}\nProtectionKey:  {0:8d}\nVmFlags: {flags} \n"


REGULAR = (
    smaps_entry("55d5e0a00000-55d5e0a08000 r-xp 00002000 08:01 1312                       /usr/bin/cat",
                "rd ex mr mw me dw", Size=32, Rss=32, Pss=16, Shared_Clean=32, Referenced=32)
    + smaps_entry("55d5e1a00000-55d5e1a21000 rw-p 00000000 00:00 0                          [heap]",
                  "rd wr mr mw me ac", Size=132, Rss=8, Pss=8, Pss_Dirty=8, Private_Dirty=8, Referenced=8,
                  Anonymous=8, Swap=4, SwapPss=4)
    + smaps_entry("7f0a1c000000-7f0a1c028000 r-xp 00028000 08:01 2621                       "
                  "/usr/lib/x86_64-linux-gnu/libc.so.6", "rd ex mr mw me", Size=160, Rss=160, Pss=20,
                  Shared_Clean=160, Referenced=160, thp=1)
    + smaps_entry("7f0a1d000000-7f0a1d100000 rw-s 00000000 00:01 4242                       /memfd:x (deleted)",
                  "rd wr sh mr mw me ms", Size=1024, Rss=512, Pss=256, Shared_Dirty=512, Referenced=512)
    + smaps_entry("7f0a1e000000-7f0a1e001000 rw-p 00000000 00:00 0 ", "rd wr mr mw me ac", Size=4, Rss=4,
                  Pss=4, Private_Dirty=4, Anonymous=4)
    + smaps_entry("7ffd2b1d8000-7ffd2b1f9000 rw-p 00000000 00:00 0                          [stack]",
                  "rd wr mr mw me gd ac", Size=132, Rss=12, Pss=12, Private_Dirty=12, Referenced=12, Anonymous=12)
    + smaps_entry("7ffd2b1fc000-7ffd2b1fe000 r-xp 00000000 00:00 0                          [vdso]",
                  "rd ex mr mw me de sd", Size=8, Rss=4, Pss=0, Shared_Clean=4)
).encode()


def _lines(raw: bytes) -> list[bytes]:
    lines = raw.split(b"\n")
    while lines and not lines[-1]:
        lines.pop()
    return lines


def test_parse_smaps_regular_takes_fast_path_and_matches_general():
    assert smaps._parse_strided(_lines(REGULAR)) is not None  # the fast path applies
    fast = parse_smaps(REGULAR)
    assert fast == parse_smaps_general(REGULAR)
    assert len(fast) == 7


def test_parse_smaps_regular_values():
    maps = parse_smaps(REGULAR)
    cat, heap, libc, memfd, anon, stack, vdso = maps
    assert (cat.start, cat.end, cat.perms, cat.offset, cat.device, cat.inode, cat.path) == (
        0x55D5E0A00000, 0x55D5E0A08000, "r-xp", 0x2000, "08:01", 1312, "/usr/bin/cat")
    assert cat.size == 32 * KIB
    assert cat.rss == 32 * KIB and cat.pss == 16 * KIB and cat.uss == 0
    assert heap.uss == 8 * KIB and heap.swap == 4 * KIB and heap.get("SwapPss") == 4 * KIB
    # Fields without a unit stay plain numbers; every field is kept in file order.
    assert libc.get("THPeligible") == 1 and libc.get("ProtectionKey") == 0
    assert [k for k, _ in libc.fields] == list(SMAPS_KEYS) + ["THPeligible", "ProtectionKey"]
    assert memfd.path == "/memfd:x (deleted)" and memfd.perms == "rw-s"
    assert anon.path == ""
    assert stack.vmflags == ("rd", "wr", "mr", "mw", "me", "gd", "ac")
    assert vdso.get("NoSuchField") is None
    assert [m.kind for m in maps] == ["file", "heap", "lib", "shm", "anon", "stack", "special"]


def test_parse_smaps_irregular_one_mapping_lacks_a_field():
    raw = (
        smaps_entry("00400000-0040b000 r-xp 00000000 fd:01 41 /bin/cat", Size=44, Rss=40, Pss=40)
        + smaps_entry("0060a000-0060b000 r--p 0000a000 fd:01 41 /bin/cat", skip=("SwapPss",), Size=4, Rss=4,
                      Pss=4, Swap=4)
        + smaps_entry("7ffd2b1d8000-7ffd2b1f9000 rw-p 00000000 00:00 0 [stack]", Size=132, Rss=12, Pss=12)
    ).encode()
    assert smaps._parse_strided(_lines(raw)) is None  # irregular: the general parser decides
    maps = parse_smaps(raw)
    assert maps == parse_smaps_general(raw)
    assert [m.get("SwapPss") for m in maps] == [0, None, 0]
    assert maps[1].swap == 4 * KIB
    assert [m.kind for m in maps] == ["file", "file", "stack"]


def test_parse_smaps_upstream_style_without_vmflags_and_with_unknown_field():
    raw = (
        b"00400000-00401000 r-xp 00000000 fd:01 41 /bin/x\nRss:  4 kB\nNewField:  7 kB\n"
        b"00600000-00601000 rw-p 00000000 00:00 0\nRss:  8 kB\nNewField:  9 kB\n"
    )
    maps = parse_smaps(raw)
    assert maps == parse_smaps_general(raw)
    assert [m.get("NewField") for m in maps] == [7 * KIB, 9 * KIB]
    assert [m.vmflags for m in maps] == [(), ()]


def test_parse_smaps_single_mapping_and_header_only():
    one = smaps_entry("00400000-00401000 r-xp 00000000 fd:01 41 /bin/x", Rss=4).encode()
    assert parse_smaps(one) == parse_smaps_general(one)
    assert parse_smaps(one)[0].rss == 4 * KIB
    bare = b"00400000-00401000 r-xp 00000000 fd:01 41 /bin/x\n00600000-00601000 rw-p 00000000 00:00 0\n"
    maps = parse_smaps(bare)
    assert [m.fields for m in maps] == [(), ()] and [m.kind for m in maps] == ["file", "anon"]


def test_parse_smaps_first_mapping_without_fields():
    """A mapping may come with no field lines (a trimmed capture); later mappings still have theirs."""
    raw = (
        b"00400000-00401000 r-xp 00000000 08:01 42 /usr/bin/a\n"
        b"00401000-00402000 rw-p 00000000 08:01 42 /usr/bin/a\n"
        b"Rss:                  4 kB\n"
    )
    general = parse_smaps_general(raw)
    assert [m.fields for m in general] == [(), (("Rss", 4 * KIB),)]
    assert parse_smaps(raw) == general


def test_parse_smaps_empty():
    assert parse_smaps(b"") == ()
    assert parse_smaps(b"\n\n") == ()


@pytest.mark.parametrize(
    "raw",
    [
        b"Rss: 4 kB\n",  # field before any header
        b"00400000-00401000 r-xp\nRss: 4 kB\n",  # header of too few words
        b"zz-00401000 r-xp 00000000 fd:01 41 /x\n",  # address not hex
        b"00400000-00401000 r-xp 00000000 fd:01 forty /x\n",  # inode not a number
        b"00400000-00401000 r-xp 00000000 fd:01 41 /x\nRss: four kB\n",
        b"00400000-00401000 r-xp 00000000 fd:01 41 /x\nRss: 4 kB\nno colon here\n",
    ],
)
def test_parse_smaps_malformed(raw):
    with pytest.raises(ParseError):
        parse_smaps(raw)
    with pytest.raises(ParseError):
        parse_smaps_general(raw)


@pytest.mark.parametrize(
    "path, perms, kind",
    [
        ("", "rw-p", "anon"),
        ("[heap]", "rw-p", "heap"),
        ("[stack]", "rw-p", "stack"),
        ("[stack:1234]", "rw-p", "stack"),
        ("[anon:dalvik-main space]", "rw-p", "anon"),
        ("[anon_shmem:ashmem]", "rw-s", "shm"),
        ("[vdso]", "r-xp", "special"),
        ("[vvar]", "r--p", "special"),
        ("[vsyscall]", "--xp", "special"),
        ("/usr/lib/x86_64-linux-gnu/libc.so.6", "r-xp", "lib"),
        ("/usr/lib/libfoo.so", "r-xp", "lib"),
        ("/usr/lib/libstdc++.so.6.0.30", "r--p", "lib"),
        ("/usr/lib/libc.so.6 (deleted)", "r-xp", "lib"),
        ("/usr/bin/python3.11", "r-xp", "file"),
        ("/usr/bin/cat (deleted)", "r-xp", "file"),
        ("/var/cache/fontconfig/x.cache-8", "r--s", "file"),
        ("/memfd:x (deleted)", "rw-s", "shm"),
        ("/memfd:wayland-shm", "rw-s", "shm"),
        ("/SYSV00000000 (deleted)", "rw-s", "shm"),
        ("/dev/shm/pulse-shm-1", "rw-s", "shm"),
        ("/dev/zero (deleted)", "rw-s", "shm"),
        ("/dev/zero", "rw-p", "file"),
        ("/dev/zero (deleted)", "rw-p", "file"),
    ],
)
def test_classify(path, perms, kind):
    assert classify(path, perms) == kind


# ---------------------------------------------------------------- ParseError only, even for absurd numbers

GIANT = "9" * 5000  # beyond Python's int() digit limit (4300): int() raises plain ValueError


@pytest.mark.parametrize(
    "call",
    [
        pytest.param(lambda: parse_meminfo(f"MemTotal: {GIANT} kB\n"), id="parse_meminfo"),
        pytest.param(lambda: parse_status(f"VmRSS:\t{GIANT} kB\n".encode()), id="parse_status VmRSS"),
        pytest.param(lambda: parse_status(f"Uid:\t{GIANT}\t0\t0\t0\n".encode()), id="parse_status Uid"),
        pytest.param(lambda: parse_kb_fields(f"Rss: {GIANT} kB\n".encode()), id="parse_kb_fields"),
        pytest.param(lambda: parse_int(GIANT.encode()), id="parse_int"),
        pytest.param(lambda: vmstat.parse_vmstat(f"pgfault {GIANT}\n"), id="parse_vmstat"),
        pytest.param(lambda: pressure.parse_pressure(f"some avg10=1 avg60=2 avg300=3 total={GIANT}\n"), id="parse_pressure"),
        pytest.param(lambda: parse_stat(_stat(b"1 (x)", ppid=GIANT.encode())), id="parse_stat"),
        pytest.param(lambda: parse_smaps(f"00400000-00401000 r-xp 00000000 fd:01 41 /x\nRss: {GIANT} kB\n".encode()), id="parse_smaps"),
    ],
)
def test_absurd_numbers_raise_parse_error_only(call):
    """ParseError is the parsers' only exception (errors.py); a 5000-digit number is malformed input.

    Any other exception escapes the collectors' ``except ParseError`` and aborts a whole snapshot.
    """
    try:
        call()
    except ParseError:
        pass
    except Exception as exc:  # noqa: BLE001 - the point of the test
        pytest.fail(f"raised {type(exc).__name__} instead of ParseError: {str(exc)[:80]}")


def test_parse_status_fast_path_with_an_absurd_number_raises_parse_error():
    """The token path (VmPeak..HugetlbPages all present) must not leak another exception."""
    from memtop.collectors.errors import ParseError
    from memtop.collectors.procfs import parse_status

    lines = ["Name:\tx", "Uid:\t0\t0\t0\t0"]
    for key in ("VmPeak", "VmSize", "VmLck", "VmPin", "VmHWM", "VmRSS", "RssAnon", "RssFile", "RssShmem",
                "VmData", "VmStk", "VmExe", "VmLib", "VmPTE", "VmSwap", "HugetlbPages"):
        lines.append(f"{key}:\t{'9' * 5000 if key == 'VmRSS' else '4'} kB")
    with pytest.raises(ParseError):
        parse_status(("\n".join(lines) + "\n").encode())


def test_parse_smaps_keeps_only_the_fields_asked_for():
    full = parse_smaps(REGULAR)
    quick = parse_smaps(REGULAR, frozenset({"Rss", "Pss"}))
    assert [m.start for m in quick] == [m.start for m in full]
    for q, f in zip(quick, full):
        assert q.keys == ("Rss", "Pss") and q.vmflags == ()
        assert (q.get("Rss"), q.get("Pss")) == (f.get("Rss"), f.get("Pss"))
