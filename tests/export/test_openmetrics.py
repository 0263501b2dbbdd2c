"""memtop --once --openmetrics and --textfile: the exporter's families once, read back by prometheus_client's parsers."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from prometheus_client.openmetrics.parser import text_string_to_metric_families as parse_openmetrics
from prometheus_client.parser import text_string_to_metric_families as parse_text

from memtop.cli import main

from tests.dashboard_fixtures import CAPTURES

ROOT = str(CAPTURES / "vm-6.18-root")


def test_openmetrics_parses_with_the_clients_own_parser(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--once", "--openmetrics", "--root", ROOT]) == 0
    text = capsys.readouterr().out
    assert text.endswith("# EOF\n")
    families = {f.name: f for f in parse_openmetrics(text)}
    assert {"memtop_memory_bytes", "memtop_vmstat_compact_stall", "memtop_thp", "memtop_process_memory_bytes",
            "memtop_diagnosis", "memtop_build", "memtop_snapshot_timestamp_seconds"} <= set(families)
    assert families["memtop_vmstat_compact_stall"].type == "counter"
    assert families["memtop_thp"].type == "info"
    assert "memtop_snapshot_age_seconds" not in families  # a file's age is its mtime
    assert not any(name.startswith("process_") for name in families)  # not the report's own process
    parts = sum(s.value for s in families["memtop_memory_bytes"].samples)
    assert parts == families["memtop_memory_total_bytes"].samples[0].value


def test_processes_mode_and_the_one_shot_diagnoses(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--openmetrics", "--processes", "top:3", "--root", ROOT]) == 0
    families = {f.name: f for f in parse_openmetrics(capsys.readouterr().out)}
    pss = [s for s in families["memtop_process_memory_bytes"].samples if s.labels["memtype"] == "pss"]
    assert len(pss) <= 4 and all(set(s.labels) == {"pid", "name", "memtype"} for s in pss)
    assert families["memtop_diagnosis"].samples  # one snapshot still has findings (all clear, at least)


def test_textfile_is_the_text_format_node_exporter_reads_and_replaces_the_file(tmp_path: Path) -> None:
    target = tmp_path / "memtop.prom"
    target.write_text("old")
    assert main(["--textfile", str(target), "--root", ROOT]) == 0
    text = target.read_text()
    assert "# EOF" not in text and "# TYPE memtop_thp_info gauge" in text
    families = {f.name: f for f in parse_text(text)}
    assert families["memtop_vmstat_compact_stall"].type == "counter"
    assert os.stat(target).st_mode & 0o777 == 0o644  # node_exporter's user reads it
    assert [p.name for p in tmp_path.iterdir()] == ["memtop.prom"]  # no temporary left


@pytest.mark.parametrize(("argv", "says"), [
    (["--openmetrics", "--json"], "not with --json"),
    (["--openmetrics", "--interval", "5"], "not with --interval"),
    (["--openmetrics", "--textfile", "x.prom"], "not with --textfile"),
    (["--textfile", "x.txt"], "ending in .prom"),
    (["--openmetrics", "--processes", "top"], "top needs a number"),
    (["--once", "--processes", "top:3"], "--processes goes with --openmetrics"),
    (["--textfile", "/nonexistent/dir/memtop.prom"], "No such file or directory"),
])
def test_bad_combinations_one_line_exit_2(argv: list[str], says: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([*argv, "--root", ROOT]) == 2
    err = capsys.readouterr().err
    assert says in err and err.count("\n") == 1 and err.startswith("memtop: ")
