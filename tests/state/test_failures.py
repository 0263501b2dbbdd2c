"""A failed pass (state/failures.py): its traceback in a private file the header names, retries that back off."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from memtop.state.failures import MAX_BACKOFF, FailureLog, state_home


def boom(n: int = 1) -> OSError:
    try:
        raise OSError(5, f"Input/output error {n}")
    except OSError as exc:
        return exc


def test_the_traceback_goes_to_a_new_private_file_the_line_names(tmp_path: Path) -> None:
    folder = tmp_path / "state" / "memtop"
    log = FailureLog(folder, stem="collect-42")
    line, wait = log.failed(boom(), interval=2.0)
    path = folder / "collect-42.log"
    assert log.path == path and wait == 2.0
    assert line == f"OSError: [Errno 5] Input/output error 1 (traceback in {path}; next try in 2 s)"
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700 and stat.S_IMODE(path.stat().st_mode) == 0o600
    text = path.read_text()
    assert "Traceback (most recent call last)" in text and "in boom" in text and "Input/output error 1" in text
    log.failed(boom(), interval=2.0)  # the same again: one line
    log.failed(boom(2), interval=2.0)  # another: in full
    log.close()
    lines = path.read_text().rstrip().splitlines()
    assert lines[-1] == "OSError: [Errno 5] Input/output error 2" and "the same again (1 in a row)" in path.read_text()


def test_retries_back_off_while_passes_keep_failing_and_reset_after_one_works(tmp_path: Path) -> None:
    log = FailureLog(tmp_path)
    waits = [log.failed(boom(), interval=1.0)[1] for _ in range(9)]
    assert waits == [1, 2, 4, 8, 16, 32, MAX_BACKOFF, MAX_BACKOFF, MAX_BACKOFF]
    log.succeeded()
    assert log.failed(boom(), interval=1.0)[1] == 1.0
    assert log.failed(boom(), interval=600.0)[1] == 600.0  # never shorter than the interval itself
    log.close()


def test_a_name_taken_by_a_planted_link_is_not_followed(tmp_path: Path) -> None:
    target = tmp_path / "victim"
    target.write_text("keep me\n")
    folder = tmp_path / "memtop"
    folder.mkdir(mode=0o700)
    (folder / "collect-7.log").symlink_to(target)
    log = FailureLog(folder, stem="collect-7")
    line, _wait = log.failed(boom(), interval=1.0)
    log.close()
    assert target.read_text() == "keep me\n"
    assert log.path == folder / "collect-7-2.log" and f"traceback in {folder / 'collect-7-2.log'}" in line


def test_a_directory_others_may_write_in_is_refused_and_the_line_says_so(tmp_path: Path) -> None:
    folder = tmp_path / "memtop"
    folder.mkdir()
    folder.chmod(0o777)
    log = FailureLog(folder)
    line, wait = log.failed(boom(), interval=1.0)
    assert log.path is None and wait == 1.0 and list(folder.iterdir()) == []
    assert "traceback not saved:" in line and "mode 0777 lets others write in it" in line


@pytest.mark.skipif(os.geteuid() != 0, reason="giving a directory to another user needs root")
def test_a_directory_of_another_user_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "memtop"
    folder.mkdir(mode=0o700)
    os.chown(folder, 65534, 65534)
    line, _wait = FailureLog(folder).failed(boom(), interval=1.0)
    assert "owned by uid 65534, not by you (uid 0)" in line and list(folder.iterdir()) == []


def test_a_state_directory_that_is_a_link_is_refused(tmp_path: Path) -> None:
    real = tmp_path / "elsewhere"
    real.mkdir(mode=0o700)
    (tmp_path / "memtop").symlink_to(real)
    line, _wait = FailureLog(tmp_path / "memtop").failed(boom(), interval=1.0)
    assert "traceback not saved:" in line and list(real.iterdir()) == []


def test_the_state_home_follows_xdg(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    assert state_home() == tmp_path / "memtop"
    monkeypatch.setenv("XDG_STATE_HOME", "relative/ignored")  # the spec: relative paths are invalid
    assert state_home() == Path.home() / ".local" / "state" / "memtop"
