"""memtop capture keeps what it copies private and secret-free, and stays inside the tree it copies (issue 13, item 5)."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from memtop.collectors.capture import REPORT_FILE, capture
from memtop.collectors.capture_files import CaptureDir, CaptureRefused
from memtop.collectors.paths import HostPaths
from memtop.collectors.redact import redact_cmdline

CAPTURE = Path(__file__).resolve().parents[1] / "fixtures" / "captures" / "vm-6.18-root"


def _cmd(*args: str) -> bytes:
    return b"".join(a.encode() + b"\0" for a in args)


@pytest.mark.parametrize(("given", "kept"), [
    (("mysql", "--password=hunter2", "db"), ("mysql", "--password=***", "db")),
    (("mysql", "-phunter2", "db"), ("mysql", "-p***", "db")),
    (("/usr/bin/mariadb-dump", "-p", "db"), ("/usr/bin/mariadb-dump", "-p", "db")),  # -p alone prompts: db is no secret
    (("tool", "--password", "hunter2", "--verbose"), ("tool", "--password", "***", "--verbose")),
    (("tool", "--db-password", "hunter2"), ("tool", "--db-password", "***")),
    (("env", "token=abc", "secret=def", "key=ghi", "API_KEY=jkl"), ("env", "token=***", "secret=***", "key=***", "API_KEY=***")),
    (("psql", "postgres://app:hunter2@db:5432/x"), ("psql", "postgres://app:***@db:5432/x")),
    (("redis-cli", "-a", "hunter2", "ping"), ("redis-cli", "-a", "***", "ping")),
    (("sshpass", "-phunter2", "ssh", "h"), ("sshpass", "-p***", "ssh", "h")),
    (("curl", "-u", "me:hunter2", "https://x"), ("curl", "-u", "***", "https://x")),
    (("ssh", "-p2222", "--monkey=1", "keyboard"), ("ssh", "-p2222", "--monkey=1", "keyboard")),  # nothing secret here
])
def test_secret_looking_arguments_are_masked(given: tuple[str, ...], kept: tuple[str, ...]) -> None:
    out, masked, dropped = redact_cmdline(_cmd(*given), keep_arguments=True)
    assert out == _cmd(*kept)
    assert masked == sum(a != b for a, b in zip(given, kept)) and dropped == 0


def test_argv0_holding_a_whole_command_line_is_masked_too() -> None:
    """exec -a "mysql --password=x": argv[0] has spaces; cutting on NUL alone kept the password."""
    out, masked, dropped = redact_cmdline(_cmd("mysql --password=hunter2 -pS3cret", "db"), keep_arguments=False)
    assert b"hunter2" not in out and b"S3cret" not in out
    assert out == _cmd("mysql --password=*** -p***")
    assert (masked, dropped) == (2, 1)


def _tree(tmp_path: Path) -> Path:
    src = tmp_path / "src"
    shutil.copytree(CAPTURE, src, symlinks=True)
    return src


def test_capture_is_private_whatever_the_umask(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        capture(HostPaths.from_root(_tree(tmp_path)), tmp_path / "new" / "cap", smaps=True)
    finally:
        os.umask(old)
    modes = {}
    for top, dirs, files in os.walk(tmp_path / "new"):
        for name in dirs:
            modes[os.path.join(top, name)] = stat.S_IMODE(os.lstat(os.path.join(top, name)).st_mode)
        for name in files:
            modes[os.path.join(top, name)] = stat.S_IMODE(os.lstat(os.path.join(top, name)).st_mode)
    assert modes and all(
        mode == (0o700 if os.path.isdir(path) else 0o600) for path, mode in modes.items()
    ), {p: oct(m) for p, m in modes.items() if m not in (0o600, 0o700)}


def test_argv0_secret_is_not_in_the_capture_and_the_report_counts_it(tmp_path: Path) -> None:
    src = _tree(tmp_path)
    (src / "proc" / "1084" / "cmdline").write_bytes(_cmd("mysql --password=hunter2", "-pS3cret"))
    result = capture(HostPaths.from_root(src), tmp_path / "cap")
    copied = (tmp_path / "cap" / "proc" / "1084" / "cmdline").read_bytes()
    assert copied == _cmd("mysql --password=***")
    report = json.loads((tmp_path / "cap" / REPORT_FILE).read_text())
    assert report["masked"] == {"proc/1084/cmdline": 1} and report["dropped"] == {"proc/1084/cmdline": 1}
    assert result.masked == {"proc/1084/cmdline": 1}


def test_a_symlink_out_of_the_tree_is_refused_with_a_reason(tmp_path: Path) -> None:
    secret = tmp_path / "shadow"
    secret.write_text("root:$6$hash:19000::::::\n")
    src = _tree(tmp_path)
    (src / "proc" / "2347" / "status").unlink()
    (src / "proc" / "2347" / "status").symlink_to(secret)
    result = capture(HostPaths.from_root(src), tmp_path / "cap")
    assert not (tmp_path / "cap" / "proc" / "2347" / "status").exists()
    assert "out of the tree" in result.refused["proc/2347/status"] and str(secret) in result.refused["proc/2347/status"]
    assert all(b"$6$hash" not in p.read_bytes() for p in (tmp_path / "cap").rglob("*") if p.is_file())


def test_a_symlink_inside_the_tree_is_followed(tmp_path: Path) -> None:
    src = _tree(tmp_path)
    (src / "proc" / "2347" / "oom_score").unlink(missing_ok=True)
    (src / "proc" / "2347" / "oom_score").symlink_to("../1084/oom_score")
    result = capture(HostPaths.from_root(src), tmp_path / "cap")
    assert (tmp_path / "cap" / "proc" / "2347" / "oom_score").read_bytes() == (src / "proc" / "1084" / "oom_score").read_bytes()
    assert result.refused == {}


def test_a_fifo_in_the_tree_is_refused_not_waited_on(tmp_path: Path) -> None:
    src = _tree(tmp_path)
    (src / "proc" / "2347" / "oom_score").unlink(missing_ok=True)
    os.mkfifo(src / "proc" / "2347" / "oom_score")
    done = subprocess.run([sys.executable, "-m", "memtop", "capture", str(tmp_path / "cap"), "--root", str(src)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "refused proc/2347/oom_score: a FIFO" in done.stderr
    assert "removed: " in done.stdout


def test_a_destination_that_is_a_symlink_is_refused(tmp_path: Path) -> None:
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "cap").symlink_to(tmp_path / "elsewhere")
    with pytest.raises(CaptureRefused, match="symlink"):
        capture(HostPaths.from_root(_tree(tmp_path)), tmp_path / "cap")
    assert list((tmp_path / "elsewhere").iterdir()) == []


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to hand the directory to another user")
def test_a_destination_of_another_user_is_refused(tmp_path: Path) -> None:
    dest = tmp_path / "cap"
    dest.mkdir()
    os.chown(dest, 65534, 65534)
    with pytest.raises(CaptureRefused, match="belongs to uid 65534"):
        capture(HostPaths.from_root(_tree(tmp_path)), dest)


def test_no_path_leaves_the_capture_directory(tmp_path: Path) -> None:
    """A mountinfo point like /sys/../../../ gives paths with '..': never written outside DIR."""
    out = CaptureDir.create(tmp_path / "cap")
    try:
        for bad in ("sys/../../escaped", "/etc/x", "proc//x"):
            with pytest.raises(CaptureRefused):
                out.write(bad, b"x")
    finally:
        out.close()
    assert not (tmp_path / "escaped").exists()
