"""Open files (l) and the environment (e): links read never followed, secrets redacted, pid reuse caught."""

from __future__ import annotations

import os
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from memtop.collectors.environ import REDACTED, parse_environ, read_environ, redact
from memtop.collectors.open_files import kind_of, parse_fdinfo, read_open_files
from memtop.collectors.paths import HostPaths

STAT = "{pid} (srv) S 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 {start} 1000 10 0\n"


def tree(tmp_path: Path, pid: int = 42, start: int = 777) -> tuple[HostPaths, Path]:
    """A /proc/PID with fd links: a file, a FIFO that must never be opened, a socket, a deleted file."""
    proc = tmp_path / "proc" / str(pid)
    (proc / "fd").mkdir(parents=True)
    (proc / "fdinfo").mkdir()
    (proc / "stat").write_text(STAT.format(pid=pid, start=start))
    fifo = tmp_path / "planted-fifo"
    os.mkfifo(fifo)
    links = {0: "/dev/null", 3: str(fifo), 4: "socket:[12345]", 5: "/var/log/old.log (deleted)", 6: "anon_inode:[eventfd]"}
    for number, target in links.items():
        os.symlink(target, proc / "fd" / str(number))
        (proc / "fdinfo" / str(number)).write_text(f"pos:\t{number * 10}\nflags:\t0100002\nmnt_id:\t1\n")
    return HostPaths(proc=tmp_path / "proc", sys=tmp_path / "sys", live=False), proc


def test_descriptors_are_their_link_targets_with_mode_and_offset(tmp_path: Path) -> None:
    paths, _ = tree(tmp_path)
    found = read_open_files(paths, 42, 777)
    assert found.error is None and found.total == 5
    assert [(f.fd, f.kind, f.mode, f.pos) for f in found.files] == [
        (0, "device", "rw", 0), (3, "file", "rw", 30), (4, "socket", "rw", 40), (5, "deleted", "rw", 50), (6, "anon", "rw", 60),
    ]
    assert found.files[1].target.endswith("planted-fifo")  # listed by name: a blocking open would hang here


def test_a_reused_pid_or_a_gone_process_is_said_not_shown(tmp_path: Path) -> None:
    paths, _ = tree(tmp_path)
    assert read_open_files(paths, 42, 778).error == "the process has exited"
    assert read_open_files(paths, 43).error == "the process has exited"
    assert read_environ(paths, 42, 778).error == "the process has exited"


def test_a_pid_directory_that_is_a_symlink_is_not_followed(tmp_path: Path) -> None:
    paths, proc = tree(tmp_path)
    os.symlink(proc, tmp_path / "proc" / "99")
    assert read_open_files(paths, 99).error is not None


@given(st.text(max_size=200))
def test_fdinfo_parses_any_text(text: str) -> None:
    mode, pos = parse_fdinfo(text)
    assert mode in (None, "r", "w", "rw") and (pos is None or isinstance(pos, int))


def test_kinds() -> None:
    assert kind_of("pipe:[9]") == "pipe" and kind_of("/home/a") == "file" and kind_of("net:[4026531840]") == "other"


def test_secrets_are_redacted_by_name_and_inside_urls(tmp_path: Path) -> None:
    raw = (b"PATH=/usr/bin\0DB_PASSWORD=hunter2\0GITHUB_TOKEN=ghp_x\0AWS_SECRET_ACCESS_KEY=abc\0"
           b"DATABASE_URL=postgres://app:s3cret@db:5432/x\0LANG=C.UTF-8\0EMPTY_TOKEN=\0")
    variables, redacted = parse_environ(raw)
    shown = dict(variables)
    assert shown["PATH"] == "/usr/bin" and shown["LANG"] == "C.UTF-8"
    assert shown["DB_PASSWORD"] == shown["GITHUB_TOKEN"] == shown["AWS_SECRET_ACCESS_KEY"] == REDACTED
    assert shown["DATABASE_URL"] == "postgres://app:••••••@db:5432/x"
    assert "hunter2" not in repr(variables) and "s3cret" not in repr(variables)
    assert redacted == 4 and shown["EMPTY_TOKEN"] == ""


@given(st.text(max_size=30), st.text(max_size=60))
def test_a_url_password_never_survives(user: str, secret: str) -> None:
    secret = "".join(c for c in secret if c not in "@/ \t\n\r\x0b\x0c") or "pw"
    user = "".join(c for c in user if c.isalnum())
    shown, hid = redact("URL", f"https://{user}:{secret}@host/path")
    assert hid and f":{secret}@" not in shown


def test_the_environment_is_read_from_the_tree(tmp_path: Path) -> None:
    paths, proc = tree(tmp_path)
    (proc / "environ").write_bytes(b"HOME=/root\0API_KEY=k\0")
    env = read_environ(paths, 42, 777)
    assert env.error is None and env.variables == (("HOME", "/root"), ("API_KEY", REDACTED)) and env.redacted == 1
    (proc / "environ").write_bytes(b"")
    assert "empty" in (read_environ(paths, 42).error or "")
