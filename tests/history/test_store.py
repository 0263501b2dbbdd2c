"""The store: what goes in comes back, changes only, key frames, retention, one recorder, refusals."""

from __future__ import annotations

import os
import sqlite3
from dataclasses import replace
from pathlib import Path

import pytest

from memtop.history.recorder import Recorder, RecorderBusy
from memtop.history.schema import SCHEMA, StoreError
from memtop.history.store import History
from memtop.history.location import check_record_path

from tests.dashboard_fixtures import MIB
from tests.history.recordings import START, STEP, growth_snapshots, record


def test_every_sample_comes_back(tmp_path: Path) -> None:
    snaps = growth_snapshots()
    history = History(record(tmp_path / "h.sqlite", snaps))
    assert len(history) == len(snaps)
    for i, snap in enumerate(snaps):
        back = history.snapshot(i)
        assert back.time == snap.time
        assert back.system == snap.system
        assert [p.key for p in back.processes] == [p.key for p in snap.processes]
        train = next(p for p in back.processes if p.pid == 201)
        assert (train.rss, train.pss, train.uss, train.anon) == ((100 + 10 * i) * MIB, (90 + 10 * i) * MIB,
                                                               (80 + 10 * i) * MIB, (50 + 10 * i) * MIB)
        assert dict(back.vmstat)["thp_fault_alloc"] == 100 + i
        # The age of PSS counts from when it was read, not from the sample shown (its row may be older).
        assert train.memory_time == START + STEP * i
        assert next(p for p in back.processes if p.pid == 100).memory_time == 0.0
    assert 400 not in {p.pid for p in history.snapshot(6).processes}  # nginx exited at sample 6


def test_walk_matches_single_reads(tmp_path: Path) -> None:
    history = History(record(tmp_path / "h.sqlite", growth_snapshots(), key_every=35.0))
    walked = list(history.walk(2, 9))
    assert [s.time for s in walked] == [START + STEP * i for i in range(2, 10)]
    assert walked == [history.snapshot(i) for i in range(2, 10)]


def test_unchanged_processes_write_nothing(tmp_path: Path) -> None:
    snaps = growth_snapshots(4)
    path = record(tmp_path / "h.sqlite", snaps)
    db = sqlite3.connect(path)
    from memtop.history.packing import unpack_sample_figures

    per_sample = [len(unpack_sample_figures(b)) for (b,) in db.execute("SELECT figures FROM samples ORDER BY id")]
    # The first sample is a key frame (every process); then only train.py moved.
    assert per_sample == [len(snaps[0].processes), 1, 1, 1]


def test_a_key_frame_writes_every_process(tmp_path: Path) -> None:
    path = record(tmp_path / "h.sqlite", growth_snapshots(5), key_every=20.0)
    db = sqlite3.connect(path)
    keys = [k for (k,) in db.execute("SELECT key FROM samples ORDER BY id")]
    assert keys == [1, 0, 1, 0, 1]


def test_retention_by_age_keeps_the_newest_key_frame(tmp_path: Path) -> None:
    snaps = growth_snapshots(12)
    path = record(tmp_path / "h.sqlite", snaps, key_every=30.0, retain=25.0)
    recorder = Recorder(path, retain=25.0, key_every=30.0)
    recorder.enforce(START + STEP * 11)
    recorder.close()
    history = History(path)
    # Key frames at 0, 30, 60, 90 s; the newest older than 25 s before the end (110 s) is at 60 s.
    assert history.start == START + 60.0
    assert history.snapshot(0).processes  # it rebuilds: it is a key frame
    assert history.end == START + 110.0


def test_retention_never_deletes_the_last_key_frame(tmp_path: Path) -> None:
    path = record(tmp_path / "h.sqlite", growth_snapshots(6), key_every=1000.0, retain=1.0)
    history = History(path)
    assert history.start == START and len(history) == 6


def test_retention_by_size(tmp_path: Path) -> None:
    path = record(tmp_path / "h.sqlite", growth_snapshots(12), key_every=30.0)
    recorder = Recorder(path, max_size=1, key_every=30.0)
    recorder.enforce(START + 110)
    assert recorder.too_small is not None  # one key frame's stretch is more than a byte: said, kept
    recorder.close()
    history = History(path)
    assert history.start == START + 90.0 and history.end == START + 110.0


def test_a_second_recorder_is_refused_with_the_first_pid(tmp_path: Path) -> None:
    first = Recorder(tmp_path / "h.sqlite")
    try:
        with pytest.raises(RecorderBusy, match=rf"pid {os.getpid()}"):
            Recorder(tmp_path / "h.sqlite")
    finally:
        first.close()
    Recorder(tmp_path / "h.sqlite").close()  # released


def test_a_newer_schema_is_refused(tmp_path: Path) -> None:
    path = record(tmp_path / "h.sqlite", growth_snapshots(2))
    db = sqlite3.connect(path)
    db.execute("UPDATE meta SET value = ? WHERE key = 'schema'", (str(SCHEMA + 1),))
    db.commit()
    db.close()
    with pytest.raises(StoreError, match="newer memtop"):
        History(path)
    with pytest.raises(StoreError, match="newer memtop"):
        Recorder(path)


def test_not_a_history_file(tmp_path: Path) -> None:
    junk = tmp_path / "junk.sqlite"
    junk.write_bytes(b"hello" * 1000)
    with pytest.raises(StoreError, match="not a memtop history file"):
        History(junk)
    with pytest.raises(StoreError, match="no such history file"):
        History(tmp_path / "missing.sqlite")


def test_a_deleted_file_stops_the_recorder(tmp_path: Path) -> None:
    snaps = growth_snapshots(3)
    recorder = Recorder(tmp_path / "h.sqlite")
    recorder.add(snaps[0])
    os.unlink(tmp_path / "h.sqlite")
    with pytest.raises(StoreError, match="deleted"):
        recorder.add(snaps[1])
    recorder.close()


def test_a_read_only_file_is_said(tmp_path: Path) -> None:
    path = record(tmp_path / "h.sqlite", growth_snapshots(2))
    recorder = Recorder(path)
    recorder.db.execute("PRAGMA query_only = ON")  # what a read-only file answers, without needing non-root
    with pytest.raises(StoreError, match="read-only|readonly"):
        recorder.add(replace(growth_snapshots(3)[2]))
    recorder.close()
    assert len(History(path)) == 2  # what was recorded stays readable


def test_unsafe_directories_are_refused(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o777)
    with pytest.raises(StoreError, match="lets others"):
        check_record_path(shared / "h.sqlite")
    link = tmp_path / "link.sqlite"
    link.symlink_to(tmp_path / "elsewhere.sqlite")
    with pytest.raises(StoreError, match="link"):
        check_record_path(link)
    sticky = tmp_path / "sticky"
    sticky.mkdir()
    sticky.chmod(0o1777)
    assert check_record_path(sticky / "h.sqlite") == sticky / "h.sqlite"


def test_files_are_private(tmp_path: Path) -> None:
    path = record(tmp_path / "h.sqlite", growth_snapshots(1))
    assert path.stat().st_mode & 0o777 == 0o600


def test_a_damaged_sample_is_said_not_raised(tmp_path: Path) -> None:
    import zlib

    from memtop.cli import main

    path = record(tmp_path / "h.sqlite", growth_snapshots(3))
    db = sqlite3.connect(path)
    db.execute("UPDATE samples SET doc = ? WHERE id = 2", (zlib.compress(b'[{"sys": true, "sys:MemTotal": "lots"'),))
    db.commit()
    db.close()
    history = History(path)
    assert history.snapshot(0).processes
    with pytest.raises(StoreError, match="damaged sample"):
        history.snapshot(1)
    assert main(["--json", "--replay", str(path), "--at", str(START + STEP)]) == 2
    assert main(["history", "--replay", str(path), "--pid", "201"]) == 2


def test_history_series(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import json

    from memtop.cli import main

    path = record(tmp_path / "h.sqlite", growth_snapshots(4))
    assert main(["history", "--replay", str(path), "--pid", "201", "--json"]) == 0
    points = json.loads(capsys.readouterr().out)["points"]
    assert [p["rss"] for p in points] == [(100 + 10 * i) * MIB for i in range(4)]
    assert main(["history", "--replay", str(path), "--name", "postgres", "--json", "--to", "-15s"]) == 0
    points = json.loads(capsys.readouterr().out)["points"]
    assert len(points) == 2 and all(p["processes"] == 3 for p in points)  # samples at 0 and 10 s: up to 15 s
    assert main(["history", "--replay", str(path), "--cgroup", "/nowhere"]) == 1


def test_a_jump_gives_every_process_its_recorded_history(tmp_path: Path) -> None:
    from memtop.history.replay import Replay

    replay = Replay(History(record(tmp_path / "h.sqlite", growth_snapshots(12))))
    replay.goto(11)
    train = next(p for p in replay.model.snapshot.processes if p.pid == 201)  # type: ignore[union-attr]
    series = replay.model.chart_series(train, replay.time, exited=False)
    assert series is not None
    # The chart's 5 minutes hold all 12 recorded samples of train.py, not only the moment shown.
    assert len(series.rss) == 12 and series.rss[0] == 100 * MIB and series.rss[-1] == 210 * MIB


def test_json_replay_follows_the_snapshot_schema(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import json

    import jsonschema

    from memtop.cli import main
    from memtop.output.schemas import schema_text

    path = record(tmp_path / "h.sqlite", growth_snapshots(6))
    assert main(["--json", "--replay", str(path), "--at", "-25s"]) == 0
    report = json.loads(capsys.readouterr().out)
    jsonschema.validate(report, json.loads(schema_text("snapshot")))
    assert report["time"] == START + 20.0  # the sample at or just before the end minus 25 s
    train = next(p for p in report["processes"] if p["pid"] == 201)
    assert train["rss"] == 120 * MIB


def test_once_replay_prints_the_table_of_a_recorded_moment(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`memtop --once --replay DB --at TIME`: the report of --once, at that moment, under the moment's time."""
    from memtop.cli import main
    from memtop.history.timespec import describe_time

    path = record(tmp_path / "h.sqlite", growth_snapshots(6))
    assert main(["--once", "--replay", str(path), "--at", "-25s", "--bytes", "--filter", "train"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == f"recorded {describe_time(START + 20.0)} ({path})"
    header = next(i for i, line in enumerate(lines) if line.split()[:1] == ["PID"])
    train = lines[header + 1].split()
    assert train[0] == "201" and int(train[3]) == 120 * MIB  # RSS at 20 s, as --json says it


def test_command_lines_are_stored_once(tmp_path: Path) -> None:
    # postgres 300, 301 and 302 share one command line; every process here has the same (no) cgroup.
    path = record(tmp_path / "h.sqlite", growth_snapshots(3))
    db = sqlite3.connect(path)
    texts = [t for (t,) in db.execute("SELECT text FROM strings")]
    assert texts.count("/usr/bin/postgres") == 1
    assert len(texts) == len(set(texts))
    back = History(path).snapshot(2)
    assert [p.cmdline for p in back.processes if p.name == "postgres"] == [("/usr/bin/postgres",)] * 3
