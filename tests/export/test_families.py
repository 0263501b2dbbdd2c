"""The metric families: names, types, HELP in the dashboard's words, and figures that add up."""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.exposition import generate_latest

from memtop.collectors.paths import HostPaths
from memtop.collectors.snapshot import Collector, Options
from memtop.explain.figures import AVAILABLE_MEANS, CGROUP_FIGURES, PROCESS_FIGURES, TAXONOMY_PARTS
from memtop.explain.thp_counters import COUNTER_HELP, SIZE_HELP
from memtop.export.collector import FrameCollector
from memtop.export.families import Frame
from memtop.export.passes import Passes
from memtop.export.processes import parse_mode
from memtop.rules.cgroup_usage import pss_sums

from tests.dashboard_fixtures import CAPTURES, MIB
from tests.export.frames import by_name, collected, full_frame


def test_every_family_is_memtops_and_every_counter_ends_in_total_without_created() -> None:
    families = collected(full_frame())
    assert families
    for family in families:
        assert family.name.startswith("memtop_"), family.name
        assert family.documentation, family.name
        for sample in family.samples:
            assert not sample.name.endswith("_created"), sample.name
            if family.type == "counter":
                assert sample.name == family.name + "_total"


def test_help_is_the_dashboards_words() -> None:
    families = by_name(collected(full_frame()))
    assert COUNTER_HELP["compact_stall"] in families["memtop_vmstat_compact_stall"].documentation
    assert COUNTER_HELP["thp_fault_fallback"] in families["memtop_vmstat_thp_fault_fallback"].documentation
    assert families["memtop_memory_available_bytes"].documentation == AVAILABLE_MEANS
    assert families["memtop_cgroup_memory_usage_bytes"].documentation == CGROUP_FIGURES["current"]
    for memtype in ("rss", "pss", "uss", "swap", "anon", "file", "shmem"):
        assert PROCESS_FIGURES[memtype] in families["memtop_process_memory_bytes"].documentation
    for text in TAXONOMY_PARTS.values():
        assert text in families["memtop_memory_bytes"].documentation
    assert SIZE_HELP["anon_fault_alloc"] in families["memtop_thp_size_anon_fault_alloc"].documentation


def test_the_taxonomy_adds_up_to_memtotal_and_psi_is_in_seconds_and_ratios() -> None:
    frame = full_frame()
    families = by_name(collected(frame))
    parts = {s.labels["kind"]: s.value for s in families["memtop_memory_bytes"].samples}
    assert sum(parts.values()) == families["memtop_memory_total_bytes"].samples[0].value == frame.snapshot.system.total  # type: ignore[union-attr]
    psi = frame.snapshot.pressure
    assert psi is not None and psi.some is not None and psi.some.total is not None
    stalled = {s.labels["kind"]: s.value for s in families["memtop_memory_pressure_seconds"].samples}
    assert stalled["some"] == psi.some.total / 1e6
    ratio = {(s.labels["kind"], s.labels["window"]): s.value for s in families["memtop_memory_pressure_ratio"].samples}
    assert ratio[("some", "10s")] == psi.some.avg10 / 100


def test_thp_counters_are_counters_policies_info_and_nr_anon_a_gauge() -> None:
    families = by_name(collected(full_frame()))
    assert isinstance(families["memtop_vmstat_thp_fault_alloc"], CounterMetricFamily)
    info = families["memtop_thp"].samples[0]
    assert info.name == "memtop_thp_info" and set(info.labels) >= {"enabled", "defrag"}
    assert isinstance(families["memtop_thp_size_nr_anon"], GaugeMetricFamily)
    assert {s.labels["size"] for s in families["memtop_thp_size_anon_fault_alloc"].samples} >= {"2048kB"}


def test_processes_by_program_with_counts_and_unreadable() -> None:
    families = by_name(collected(full_frame()))
    pss = {s.labels["groupname"]: s.value for s in families["memtop_process_memory_bytes"].samples
           if s.labels["memtype"] == "pss"}
    assert pss == {"postgres": 510 * MIB, "python3": 200 * MIB, "nginx": 12 * MIB, "sshd": 6 * MIB, "bash": 3 * MIB}
    counts = {s.labels["groupname"]: s.value for s in families["memtop_processes"].samples}
    assert counts["postgres"] == 3 and counts["init"] == 1
    assert families["memtop_processes_pss_unreadable"].samples[0].value == 1  # init


def test_top_mode_labels_pid_and_name_and_none_mode_has_no_series() -> None:
    families = by_name(collected(full_frame(), "top:2"))
    labels = {(s.labels["pid"], s.labels["name"]) for s in families["memtop_process_memory_bytes"].samples}
    assert labels == {("300", "postgres"), ("201", "python3"), ("", "other")}
    assert "memtop_process_memory_bytes" not in by_name(collected(full_frame(), "none"))


def test_cgroups_usage_effective_limit_oom_kills_and_pss_of_members() -> None:
    frame = full_frame()
    families = by_name(collected(frame))
    limits = {s.labels["cgroup"]: s.value for s in families["memtop_cgroup_memory_limit_bytes"].samples}
    assert limits["/user.slice/user-1000.slice/session-3.scope/train"] == 512 * MIB  # its parent's limit
    assert "/system.slice/nginx.service" not in limits  # unlimited: no series
    kills = {s.labels["cgroup"]: s.value for s in families["memtop_cgroup_oom_kills"].samples}
    assert kills["/user.slice/user-1000.slice"] == 2
    pss = {s.labels["cgroup"]: s.value for s in families["memtop_cgroup_pss_bytes"].samples}
    sums = pss_sums(frame.snapshot.cgroups or (), frame.snapshot.processes)
    assert pss["/system.slice/postgresql.service"] == sums["/system.slice/postgresql.service"].pss == 510 * MIB
    assert CGROUP_FIGURES["oom_kill"] in families["memtop_cgroup_oom_kills"].documentation


def test_heap_gap_and_diagnoses_come_from_the_frame() -> None:
    frame = full_frame()
    families = by_name(collected(frame))
    assert [(s.labels, s.value) for s in families["memtop_heap_in_use_bytes"].samples] == [({"pid": "201", "name": "python3"}, 100 * MIB)]
    assert families["memtop_heap_gap_bytes"].samples[0].value == 140 * MIB
    assert families["memtop_heap_gap_slope_bytes_per_second"].samples[0].value == 2 * MIB / 60
    found = {(s.labels["rule"], s.labels["severity"], s.labels["target"]) for s in families["memtop_diagnosis"].samples}
    assert ("cgroup-oom-kill", "critical", "/user.slice/user-1000.slice") in found
    assert ("heap-gap-growing", "warning", "201") in found
    assert len(found) == len({(d.id, d.severity, str(d.target or "")) for d in frame.diagnoses})


def test_own_figures_and_the_age_at_the_scrape() -> None:
    frame = full_frame()
    families = by_name(collected(frame, now=frame.snapshot.time + 42.0))
    assert families["memtop_snapshot_age_seconds"].samples[0].value == 42.0
    assert families["memtop_pass_duration_seconds"].samples[0].value == 0.25
    assert families["memtop_passes"].samples[0].value == 3
    assert families["memtop_pass_rollups"].samples[0].value == 9
    assert families["memtop_build"].samples[0].labels["version"]


def test_before_the_first_pass_a_scrape_has_no_memtop_family() -> None:
    assert list(FrameCollector(parse_mode("program")).collect()) == []


def test_a_scrape_answers_from_the_last_pass_and_reads_nothing(tmp_path: Path) -> None:
    tree = tmp_path / "host"
    shutil.copytree(CAPTURES / "vm-6.18-root", tree, symlinks=True)
    passes = Passes(Collector(HostPaths.from_root(tree), Options()), interval=15.0)
    collector = FrameCollector(parse_mode("top:5"), clock=lambda: 0.0)
    collector.publish(passes.step())
    before = _text(collector)
    shutil.rmtree(tree)  # the host is gone: a scrape that read /proc would fail or change
    assert _text(collector) == before
    assert passes.passes == 1


def _text(collector: FrameCollector) -> bytes:
    class One:
        def collect(self):  # type: ignore[no-untyped-def]
            return collector.collect()

    return generate_latest(One())  # type: ignore[arg-type]


def test_a_frame_without_system_or_thp_yields_what_it_has() -> None:
    bare = replace(full_frame().snapshot, system=None, thp=None, pressure=None, cgroups=None)
    names = set(by_name(collected(Frame(bare))))
    assert "memtop_memory_bytes" not in names and "memtop_thp" not in names
    assert {"memtop_process_memory_bytes", "memtop_snapshot_age_seconds", "memtop_diagnosis"} <= names


def test_a_pass_serves_the_models_own_diagnoses_and_verdicts() -> None:
    passes = Passes(Collector(HostPaths.from_root(CAPTURES / "vm-6.18-root"), Options()), interval=15.0, frozen=True)
    frame = passes.step()
    model = passes.monitor.model
    assert frame.diagnoses == model.diagnoses and frame.diagnoses  # at least "all clear"
    assert frame.verdicts == model.verdicts and frame.heaps == model.last.heaps  # type: ignore[union-attr]
    assert frame.snapshot is model.snapshot and frame.passes == 1


def test_the_oldest_pss_served_and_the_reads_so_far() -> None:
    frame = full_frame()
    snap = frame.snapshot
    older = tuple(replace(p, memory_time=snap.time - 42.0) if p.pid == 300 else p for p in snap.processes)
    families = by_name(collected(replace(frame, snapshot=replace(snap, processes=older), rollups_total=1234)))
    assert families["memtop_pss_oldest_age_seconds"].samples[0].value == 42.0
    assert families["memtop_smaps_rollup_reads"].samples[0].value == 1234
