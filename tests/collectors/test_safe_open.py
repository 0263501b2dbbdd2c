"""The primitive every open of a file another user may have planted goes through (issue 13, item 1)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from memtop.collectors.safe_open import (
    OTHERS_WRITE, UnsafeFile, open_regular, pread_copy, read_regular, trusted_directory, write_atomically,
)
from tests.hangs import call_or_release


def test_a_regular_file_is_read(tmp_path: Path) -> None:
    (tmp_path / "f").write_bytes(b"hello")
    assert read_regular(tmp_path / "f") == b"hello"


def test_a_fifo_is_refused_without_waiting_for_a_writer(tmp_path: Path) -> None:
    # Without O_NONBLOCK the open itself would wait forever: this test would hang.
    os.mkfifo(tmp_path / "fifo")
    with pytest.raises(UnsafeFile, match="a FIFO, not a regular file"):
        call_or_release(lambda: read_regular(tmp_path / "fifo"), [tmp_path / "fifo"])


def test_a_link_at_the_last_component_is_refused(tmp_path: Path) -> None:
    (tmp_path / "target").write_bytes(b"secret")
    (tmp_path / "link").symlink_to(tmp_path / "target")
    with pytest.raises(UnsafeFile, match="symbolic link"):
        read_regular(tmp_path / "link")


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/null"])
def test_a_device_is_refused(tmp_path: Path, device: str) -> None:
    with pytest.raises(UnsafeFile, match="a character device"):
        read_regular(device)


def test_a_directory_is_refused(tmp_path: Path) -> None:
    with pytest.raises(UnsafeFile, match="a directory"):
        read_regular(tmp_path)


def test_reads_stop_at_the_cap_and_refuse_instead_of_cutting(tmp_path: Path) -> None:
    (tmp_path / "big").write_bytes(b"x" * 1000)
    with pytest.raises(UnsafeFile, match="larger than 999"):
        read_regular(tmp_path / "big", limit=999)
    assert read_regular(tmp_path / "big", limit=1000) == b"x" * 1000


def test_a_proc_file_whose_size_says_zero_is_capped_while_read() -> None:
    # /proc/self/maps has st_size 0: only the read's count can stop it.
    with pytest.raises(UnsafeFile, match="larger than 10 bytes"):
        read_regular("/proc/self/maps", limit=10)


def test_owner_and_mode_are_judged_on_the_descriptor(tmp_path: Path) -> None:
    path = tmp_path / "f"
    path.write_bytes(b"x")
    path.chmod(0o644)
    with pytest.raises(UnsafeFile, match=r"owned by uid \d+, expected uid 4242"):
        open_regular(path, owners={4242})
    path.chmod(0o666)
    with pytest.raises(UnsafeFile, match="mode 0666 lets others write it"):
        open_regular(path, owners={os.geteuid()}, forbid=OTHERS_WRITE)
    path.chmod(0o644)
    fd, info = open_regular(path, owners={os.geteuid()}, forbid=OTHERS_WRITE)
    os.close(fd)
    assert stat.S_ISREG(info.st_mode)


def test_a_refusal_is_an_oserror_that_says_its_reason(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "fifo")
    with pytest.raises(OSError) as caught:
        read_regular(tmp_path / "fifo")
    assert isinstance(caught.value, UnsafeFile)
    assert str(caught.value) == f"{tmp_path / 'fifo'}: refused: a FIFO, not a regular file"


def test_pread_copy_of_a_truncated_file_is_short_not_a_crash(tmp_path: Path) -> None:
    path = tmp_path / "f"
    path.write_bytes(b"a" * 100)
    fd = os.open(path, os.O_RDONLY)
    try:
        os.truncate(path, 10)
        assert pread_copy(fd, 100) == b"a" * 10
        assert pread_copy(fd, 50, offset=60) == b""
    finally:
        os.close(fd)


def test_a_directory_of_another_owner_or_writable_by_others_is_refused(tmp_path: Path) -> None:
    open_dir = tmp_path / "shared"
    open_dir.mkdir()
    open_dir.chmod(0o777)
    with pytest.raises(UnsafeFile, match="mode 0777 lets others write in it"):
        trusted_directory(open_dir)
    (tmp_path / "link").symlink_to(open_dir)
    with pytest.raises(UnsafeFile, match="symbolic link"):
        trusted_directory(tmp_path / "link", create=False)
    made = tmp_path / "new" / "memtop"
    os.close(trusted_directory(made))
    assert stat.S_IMODE(made.stat().st_mode) == 0o700


@pytest.mark.skipif(os.geteuid() != 0, reason="chown to another uid needs root")
def test_a_directory_owned_by_another_user_is_refused(tmp_path: Path) -> None:
    theirs = tmp_path / "theirs"
    theirs.mkdir(mode=0o700)
    os.chown(theirs, 4242, 4242)
    with pytest.raises(UnsafeFile, match="owned by uid 4242, not by you"):
        trusted_directory(theirs)


def test_an_atomic_write_cannot_be_redirected_by_a_planted_temporary_link(tmp_path: Path) -> None:
    victim = tmp_path / "victim"
    victim.write_bytes(b"root's file")
    cache = tmp_path / "cache"
    cache.mkdir(mode=0o700)
    # The old code's temporary name was predictable: plant it, and every pid's.
    for guess in range(1, 200):
        (cache / f"working-sets.{guess}.tmp").symlink_to(victim)
    written = write_atomically(cache, "working-sets.json", b"{}")
    assert written.read_bytes() == b"{}" and not written.is_symlink()
    assert victim.read_bytes() == b"root's file"
    assert stat.S_IMODE(written.stat().st_mode) == 0o600
    assert not [p for p in cache.iterdir() if p.name.startswith(".working-sets.json.")]  # no temporary left


def test_an_atomic_write_replaces_a_planted_link_at_the_name_instead_of_following_it(tmp_path: Path) -> None:
    victim = tmp_path / "victim"
    victim.write_bytes(b"root's file")
    cache = tmp_path / "cache"
    cache.mkdir(mode=0o700)
    (cache / "state.json").symlink_to(victim)
    write_atomically(cache, "state.json", b"new")
    assert victim.read_bytes() == b"root's file" and (cache / "state.json").read_bytes() == b"new"


@pytest.mark.skipif(os.geteuid() != 0, reason="chown to another uid needs root")
def test_a_directory_below_another_users_directory_is_refused(tmp_path: Path) -> None:
    # su without '-' keeps XDG_CACHE_HOME=/home/bob/.cache: root's own memtop/ there could be renamed away by bob.
    home = tmp_path / "bob"
    home.mkdir(mode=0o755)
    os.chown(home, 4242, 4242)
    with pytest.raises(UnsafeFile, match=r"bob: refused: owned by uid 4242, who could replace what is below it"):
        trusted_directory(home / ".cache" / "memtop")
    assert not (home / ".cache").exists()  # refused before anything was made in it


def test_a_directory_below_one_others_may_write_is_refused_unless_sticky(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o777)
    with pytest.raises(UnsafeFile, match="shared: refused: mode 0777 lets others write in it"):
        trusted_directory(shared / "memtop")
    shared.chmod(0o1777)  # like /tmp: others may add names, not rename ours
    os.close(trusted_directory(shared / "memtop"))


def test_the_proc_readers_keep_the_same_rules(tmp_path: Path) -> None:
    from memtop.collectors.fs import read_at, read_record

    with pytest.raises(UnsafeFile, match="larger than 10 bytes"):
        read_record(None, "/proc/self/status", limit=10)
    with pytest.raises(UnsafeFile, match="larger than 10 bytes"):
        read_at(None, "/proc/self/maps", limit=10)
    assert read_record(None, "/proc/self/stat").startswith(str(os.getpid()).encode())
    (tmp_path / "sparse").touch()
    os.truncate(tmp_path / "sparse", 1 << 40)  # 1 TiB that takes no disk
    with pytest.raises(UnsafeFile, match="1099511627776 bytes, larger than"):
        read_at(None, str(tmp_path / "sparse"))  # refused by its size: not a byte read
    os.mkfifo(tmp_path / "fifo")
    for reader in (read_at, read_record):
        with pytest.raises(UnsafeFile, match="a FIFO"):
            call_or_release(lambda: reader(None, str(tmp_path / "fifo")), [tmp_path / "fifo"])


def test_only_a_mount_root_no_one_but_root_may_fill_is_taken_for_the_kernels(tmp_path: Path) -> None:
    from memtop.collectors.safe_open import only_root_fills

    assert only_root_fills(os.stat("/proc"))  # procfs: inode 1, root's, 0555
    assert not only_root_fills(os.stat(tmp_path))  # a plain directory: a --root tree, an unmounted /proc
    assert not only_root_fills(os.stat("/proc/self/status"))  # not a directory
    root_like = os.stat_result((stat.S_IFDIR | 0o777, 1, 0, 2, 0, 0, 0, 0, 0, 0))
    assert not only_root_fills(root_like)  # a mount root others may write (tmpfs's 1777)


def _fstats_while(monkeypatch: pytest.MonkeyPatch, work: object) -> int:
    calls = []
    real = os.fstat

    def counting(fd: int) -> os.stat_result:
        calls.append(fd)
        return real(fd)

    monkeypatch.setattr(os, "fstat", counting)
    work()  # type: ignore[operator]
    monkeypatch.setattr(os, "fstat", real)
    return len(calls)


def test_the_live_procs_files_are_read_without_an_fstat_a_trees_with_one(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path, hosts: Path) -> None:
    """Issue 17, goal 5: on the live /proc the fstat of each file is left out; a --root tree keeps it."""
    from memtop.collectors.paths import HostPaths
    from memtop.collectors.processes import ProcessReader

    with ProcessReader(HostPaths(), users=lambda uid: None) as live:
        proc, _ = live.read(os.getpid())
        assert proc is not None and proc.pid == os.getpid() and proc.rss > 0
        assert _fstats_while(monkeypatch, lambda: live.read(os.getpid())) == 0
    tree = HostPaths.from_root(hosts / "basic")
    with ProcessReader(tree, users=lambda uid: None) as captured:
        pid = captured.pids()[0]
        assert _fstats_while(monkeypatch, lambda: captured.read(pid)) >= 5  # stat, status, cmdline, oom_*, cgroup, rollup
