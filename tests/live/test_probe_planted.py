"""memtop.probe in a directory everyone writes (/dev/shm): a file planted under its name is refused (issue 13 item 1)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from memtop.probe import Probe


def test_a_fifo_under_the_probes_name_is_refused(tmp_path: Path) -> None:
    probe = Probe(directory=tmp_path)
    os.mkfifo(probe.path)
    assert not probe.open()
    assert probe.error is not None and "a FIFO, not a regular file" in probe.error


@pytest.mark.skipif(os.geteuid() != 0, reason="chown to another uid needs root")
def test_a_file_another_user_planted_under_the_probes_name_is_not_mapped(tmp_path: Path) -> None:
    # Mapped, its owner could truncate it under the program: SIGBUS in the program being watched.
    probe = Probe(directory=tmp_path)
    probe.path.write_bytes(b"")
    os.chown(probe.path, 4242, 4242)
    assert not probe.open()
    assert probe.error is not None and "owned by uid 4242" in probe.error


def test_its_own_file_is_made_and_mapped(tmp_path: Path) -> None:
    probe = Probe(directory=tmp_path)
    assert probe.open(), probe.error
    assert probe.path.stat().st_size > 0
    probe.close()
