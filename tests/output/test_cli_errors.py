"""Issue 13 item 7: what used to be a traceback is one line on stderr and exit 2; every number has a range."""

from __future__ import annotations

import functools
import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from memtop.cli import main
from memtop.instrument.run import RunError, start

CAPTURE = Path(__file__).resolve().parents[1] / "fixtures" / "captures" / "vm-6.18-root"
NOBODY = 65534


def _memtop(*args: str, as_nobody: bool = False) -> subprocess.CompletedProcess[str]:
    prefix: list[str] = []
    if as_nobody and os.geteuid() == 0:
        setpriv = shutil.which("setpriv")
        if setpriv is None:
            pytest.skip("running as another user needs setpriv (util-linux)")
        prefix = [setpriv, f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups"]
        why = _nobody_cannot_run(tuple(prefix))
        if why:
            pytest.skip(f"this Python cannot run as uid {NOBODY}: {why}")
    return subprocess.run([*prefix, sys.executable, "-m", "memtop", *args], capture_output=True, text=True,
                          timeout=60, cwd="/")


@functools.cache
def _nobody_cannot_run(prefix: tuple[str, ...]) -> str:
    """Why the interpreter does not start as another user ('' when it does): a Python under
    root's 0700 home (pyenv's, whose libpython is found through it) is out of that user's reach."""
    probe = subprocess.run([*prefix, sys.executable, "-c", "pass"], capture_output=True, text=True, timeout=60, cwd="/")
    return "" if probe.returncode == 0 else (probe.stderr.strip().splitlines() or [f"exit {probe.returncode}"])[-1]


def test_as_another_user_the_reason_for_n_a_is_above_the_table() -> None:
    """Not root: other users' PSS/USS are n/a; the note says why before the first row (`| head` keeps it)."""
    result = _memtop("--once", as_nobody=True)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    header = next(i for i, line in enumerate(lines) if line.split()[:1] == ["PID"])
    if not any(" n/a " in line for line in lines[header + 1:]):
        pytest.skip("no process of another user is visible here (hidepid?)")
    note = next(i for i, line in enumerate(lines) if line.startswith("PSS/USS n/a for "))
    assert 0 < note < header, lines[:header + 2]


def _one_line(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 2, (result.returncode, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("memtop"), result.stderr
    return result.stderr


@pytest.fixture
def shared_dir() -> Iterator[Path]:
    """A directory under /tmp that another user can enter (pytest's tmp_path is root's 0700)."""
    path = Path(tempfile.mkdtemp(prefix="memtop-13c-"))
    path.chmod(0o755)
    try:
        yield path
    finally:
        for sub in path.rglob("*"):
            if sub.is_dir() and not sub.is_symlink():
                sub.chmod(0o755)
        shutil.rmtree(path)


@pytest.mark.parametrize(("argv", "flag"), [
    (["--json", "--interval", "inf"], "--interval"),
    (["--json", "--interval", "1e300"], "--interval"),   # time.sleep: OverflowError
    (["--once", "--interval", "0.001"], "--interval"),   # a busy loop
    (["--interval", "inf"], "--interval"),               # the dashboard
    (["--wss", "1", "--wss-window", "inf"], "--wss-window"),
    (["--wss", "1", "--wss-window", "1e300"], "--wss-window"),
    (["--json", "--interval", "1", "--count", "1e3"], "--count"),
    (["--once", "--limit", "-1"], "--limit"),            # an empty table, exit 0
    (["--once", "--pid", "9" * 5000], "--pid"),
    (["--maps", "-5"], "--maps"),
    (["--wss", "0"], "--wss"),
    (["run", "--interval", "nan", "--", "sleep", "1"], "--interval"),  # spun at 80 % CPU
    (["run", "--interval", "inf", "--", "sleep", "1"], "--interval"),
    (["serve", "--interval", "1e300"], "--interval"),
])
def test_a_number_out_of_its_range_is_one_line_and_exit_2(argv: list[str], flag: str) -> None:
    err = _one_line(_memtop(*argv))
    assert f"argument {flag}" in err and "measuring" not in err


def test_numbers_in_range_still_work() -> None:
    result = _memtop("--json", "--interval", "0.1", "--count", "2", "--limit", "1", "--root", str(CAPTURE))
    assert result.returncode == 0, result.stderr
    assert len(result.stdout.splitlines()) == 2


def test_capture_into_a_file_is_refused(tmp_path: Path) -> None:
    target = tmp_path / "a-file"
    target.write_text("mine\n")
    err = _one_line(_memtop("capture", str(target), "--root", str(CAPTURE)))
    assert "not a directory" in err
    assert target.read_text() == "mine\n"


def test_capture_into_a_directory_it_cannot_write(shared_dir: Path) -> None:
    locked = shared_dir / "locked"
    locked.mkdir(mode=0o555)
    err = _one_line(_memtop("capture", str(locked / "x"), "--root", str(CAPTURE), as_nobody=True))
    assert "Permission denied" in err


def _in_a_small_tmpfs(options: str, command: str) -> subprocess.CompletedProcess[str]:
    """``command`` (sh, $M is memtop, $D the mount) in a mount namespace of its own, over a tmpfs."""
    if os.geteuid() != 0 or shutil.which("unshare") is None:
        pytest.skip("mounting a small tmpfs needs root and unshare (util-linux)")
    mount = Path(tempfile.mkdtemp(prefix="memtop-13c-mnt-"))
    try:
        script = f"mount -t tmpfs -o {options} tmpfs \"$D\" || exit 99; {command}"
        env = {**os.environ, "M": f"{sys.executable} -m memtop", "D": str(mount)}
        result = subprocess.run(["unshare", "-m", "sh", "-c", script], capture_output=True, text=True,
                                timeout=120, env=env, cwd="/")
    finally:
        mount.rmdir()
    if result.returncode == 99:
        pytest.skip(f"cannot mount a tmpfs here: {result.stderr.strip()}")
    return result


def test_capture_into_a_full_directory() -> None:
    err = _one_line(_in_a_small_tmpfs("size=64k", f"$M capture \"$D/x\" --root {CAPTURE}"))
    assert "No space left on device" in err


def test_capture_into_a_read_only_directory() -> None:
    err = _one_line(_in_a_small_tmpfs("ro", f"$M capture \"$D/x\" --root {CAPTURE}"))
    assert "Read-only file system" in err


def test_run_log_in_a_missing_directory(tmp_path: Path) -> None:
    with pytest.raises(RunError, match="No such file or directory"):
        start(["true"], log=str(tmp_path / "missing" / "run.log"), library=tmp_path / "unused.so")


def test_a_sys_of_mode_000_read_as_another_user(shared_dir: Path) -> None:
    tree = shared_dir / "tree"
    shutil.copytree(CAPTURE, tree)
    for sub in [tree, *tree.rglob("*")]:
        sub.chmod(sub.stat().st_mode | stat.S_IROTH | (stat.S_IXOTH if sub.is_dir() else 0))
    (tree / "sys").chmod(0)
    err = _one_line(_memtop("--root", str(tree), "--once", as_nobody=True))
    assert "Permission denied" in err and str(tree / "sys") in err


def test_a_5000_digit_uid_in_the_host_file_is_ignored(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    tree = tmp_path / "tree"
    shutil.copytree(CAPTURE, tree)
    host = tree / "memtop-host.json"
    facts = json.loads(host.read_text())
    facts["users"]["9" * 5000] = "forged"
    facts["users"]["4294967296"] = "too-big"  # uid_t is 32 bits
    host.write_text(json.dumps(facts))
    assert main(["--root", str(tree), "--json"]) == 0
    users = {p["user"] for p in json.loads(capsys.readouterr().out)["processes"]}
    assert not users & {"forged", "too-big"}


def _recording(tmp_path: Path) -> Path:
    from tests.history.recordings import growth_snapshots, record_replayable

    return record_replayable(tmp_path / "h.sqlite", growth_snapshots(3))


def test_a_recording_on_a_read_only_mount_replays(tmp_path: Path) -> None:
    """SQLite reads a WAL file only where it can make FILE-shm: a copy on a read-only file system
    (or in a directory the user cannot write) said "not a memtop history file"; it is read immutable."""
    path = _recording(tmp_path)
    result = _in_a_small_tmpfs("size=4m", f"cp {path} \"$D/h.sqlite\" && mount -o remount,ro \"$D\" && "
                                          "$M --json --replay \"$D/h.sqlite\" && $M history --replay \"$D/h.sqlite\" --pid 201")
    assert result.returncode == 0, result.stderr
    snapshot = json.loads(result.stdout.splitlines()[0])
    assert snapshot["schema"] == "memtop.snapshot/1" and any(p["pid"] == 201 for p in snapshot["processes"])
    assert len([line for line in result.stdout.splitlines()[1:] if line[:4].isdigit()]) == 3  # three samples


def test_a_recording_whose_wal_holds_samples_on_a_read_only_mount_is_said(tmp_path: Path) -> None:
    """Immutable would leave out what FILE-wal holds: a plausible, shorter history. It is refused with the reason."""
    import sqlite3

    path = _recording(tmp_path)
    writer = sqlite3.connect(path)  # a write still in the WAL when the file was copied (the recorder running)
    writer.execute("PRAGMA wal_autocheckpoint = 0")
    writer.execute("INSERT INTO meta VALUES ('copied', 'mid-write')")
    writer.commit()
    wal = path.with_name("h.sqlite-wal")
    assert wal.stat().st_size > 0
    try:
        result = _in_a_small_tmpfs("size=4m", f"cp {path} {wal} \"$D/\" && mount -o remount,ro \"$D\" && "
                                              "$M --json --replay \"$D/h.sqlite\"")
    finally:
        writer.close()
    err = _one_line(result)
    assert "h.sqlite-wal holds its last samples" in err and "writable directory" in err


def test_a_recording_another_user_may_not_read_says_permission_denied(shared_dir: Path, tmp_path: Path) -> None:
    """SQLite's words were "unable to open database file"."""
    target = shared_dir / "h.sqlite"
    shutil.copy(_recording(tmp_path), target)
    target.chmod(0o600)
    err = _one_line(_memtop("--json", "--replay", str(target), as_nobody=True))
    assert "Permission denied" in err
