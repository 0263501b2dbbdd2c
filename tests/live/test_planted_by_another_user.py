"""Files planted by a real second user, read by root's memtop (issue 13: "a planted-file test as a real second user").

When the tests run as root, a user is created for the module (useradd) and
removed after it (userdel). As that user, processes plant FIFOs, links,
files they truncate while root reads them and files that speak for someone
else's process, in a sticky directory standing in for /dev/shm and in a
home standing in for the cache (what root gets from ``su`` without ``-``).
Root's memtop must refuse each with a reason and never hang: everything it
does here runs under a deadline (a child process, or tests/hangs.py).
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from memtop.collectors.heap_shm import HeapFiles
from memtop.instrument import preload
from memtop.state.working_sets import save
from tests.collectors.test_heap_shm import counter_file, own_starttime
from tests.hangs import call_or_release
from tests.waiting import wait_until

REPO = Path(__file__).resolve().parents[2]
DEADLINE = 60


@dataclass(frozen=True)
class Other:
    """The second user: name, ids, a home, a directory like /dev/shm (sticky, everyone writes)."""

    name: str
    uid: int
    gid: int
    home: Path
    shm: Path
    interpreter: str  # a Python the user may run (root's venv may sit in a home only root can enter)

    def run(self, *argv: str) -> subprocess.CompletedProcess[str]:
        """A command as this user (the deadline: a planted file is never waited on by the user either)."""
        return subprocess.run(argv, user=self.uid, group=self.gid, extra_groups=[], capture_output=True, text=True,
                              timeout=DEADLINE, cwd="/", env={"PATH": "/usr/bin:/bin", "HOME": str(self.home)})

    def python(self, code: str) -> subprocess.CompletedProcess[str]:
        result = self.run(self.interpreter, "-I", "-c", code)
        assert result.returncode == 0, result.stderr
        return result

    def start(self, *argv: str) -> subprocess.Popen[bytes]:
        return subprocess.Popen(argv, user=self.uid, group=self.gid, extra_groups=[], cwd="/",
                                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


@pytest.fixture(scope="module")
def other() -> Iterator[Other]:
    if os.geteuid() != 0:
        pytest.skip("needs root: the test creates a second user and reads as root what that user plants")
    useradd, userdel = shutil.which("useradd"), shutil.which("userdel")
    if useradd is None or userdel is None:
        pytest.skip("no useradd/userdel on this machine: cannot create the second user")
    interpreter = shutil.which("python3", path="/usr/local/bin:/usr/bin:/bin")
    if interpreter is None:
        pytest.skip("no system python3 the second user may run")
    base = Path(tempfile.mkdtemp(prefix="memtop-planted-"))
    base.chmod(0o755)  # the user must reach its home and the shm stand-in
    name = f"mtp{os.getpid() % 100000}"
    home = base / "home"
    made = subprocess.run([useradd, "--no-create-home", "--home-dir", str(home), "--shell", "/usr/sbin/nologin",
                           "--user-group", name], capture_output=True, text=True)
    if made.returncode != 0:
        shutil.rmtree(base)
        pytest.skip(f"useradd {name} failed: {made.stderr.strip()}")
    try:
        entry = pwd.getpwnam(name)
        home.mkdir(mode=0o700)
        os.chown(home, entry.pw_uid, entry.pw_gid)
        shm = base / "shm"
        shm.mkdir()
        shm.chmod(0o1777)
        yield Other(name, entry.pw_uid, entry.pw_gid, home, shm, interpreter)
    finally:
        subprocess.run(["pkill", "-KILL", "-u", name], capture_output=True)  # only the processes of this user
        subprocess.run([userdel, name], capture_output=True)
        subprocess.run(["groupdel", name], capture_output=True)  # userdel leaves it on some systems
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def sleeper(other: Other) -> Iterator[tuple[int, int]]:
    """A process of the other user: (pid, starttime)."""
    process = other.start("sleep", "600")
    stat = Path(f"/proc/{process.pid}/stat")
    wait_until(lambda: stat.exists() and os.stat(f"/proc/{process.pid}").st_uid == other.uid, what="the sleeper")
    text = stat.read_text()
    yield process.pid, int(text[text.rindex(")") + 2:].split()[19])
    process.kill()
    process.wait()


def clear(shm: Path) -> None:
    for path in shm.iterdir():
        path.unlink()


def heaps_as_root(other: Other, pid: int, start: int) -> HeapFiles:
    files = HeapFiles(other.shm)
    call_or_release(lambda: files.read(lambda: {pid: (start, other.uid)}), list(other.shm.iterdir()))
    return files


def test_a_fifo_is_refused_and_memtop_json_returns(other: Other, sleeper: tuple[int, int]) -> None:
    pid, start = sleeper
    clear(other.shm)
    other.run("mkfifo", str(other.shm / f"memtop-heap.{pid}"))
    other.run("mkfifo", str(other.shm / f"memtop-gdb.{pid}"))
    assert "a FIFO, not a regular file" in heaps_as_root(other, pid, start).refused[pid]
    try:
        result = subprocess.run([sys.executable, "-m", "memtop", "--json"], capture_output=True, text=True,
                                timeout=DEADLINE, cwd=REPO, env={**os.environ, "MEMTOP_HEAP_DIR": str(other.shm)})
    except subprocess.TimeoutExpired:
        pytest.fail(f"root's memtop --json hung on {other.name}'s FIFO")
    assert result.returncode == 0 and "Traceback" not in result.stderr
    assert f"no heap figure for pid {pid}: " in result.stdout and "a FIFO, not a regular file" in result.stdout


def test_a_link_to_roots_file_is_refused(other: Other, sleeper: tuple[int, int], tmp_path: Path) -> None:
    pid, start = sleeper
    clear(other.shm)
    roots = Path(tempfile.mkdtemp()) / "counters"
    roots.write_bytes(counter_file(pid, start, [(5 << 20, 1, 0)]))
    other.run("ln", "-s", str(roots), str(other.shm / f"memtop-heap.{pid}"))
    assert "symbolic link" in heaps_as_root(other, pid, start).refused[pid]
    shutil.rmtree(roots.parent)


def test_a_file_for_someone_elses_process_is_refused(other: Other, sleeper: tuple[int, int]) -> None:
    # Forged owner: the user writes figures for root's own process (this test's), named for its pid.
    me, start = os.getpid(), own_starttime()
    clear(other.shm)
    other.python(f"open({str(other.shm / f'memtop-heap.{me}')!r}, 'wb').write({counter_file(me, start, [(9 << 30, 1, 0)])!r})")
    files = HeapFiles(other.shm)
    assert call_or_release(lambda: files.read(lambda: {me: (start, 0)}), list(other.shm.iterdir())) == {}
    assert f"owned by uid {other.uid}, expected uid 0" in files.refused[me]


def test_a_file_truncated_while_root_reads_it(other: Other, sleeper: tuple[int, int]) -> None:
    pid, start = sleeper
    clear(other.shm)
    path = other.shm / f"memtop-heap.{pid}"
    whole = counter_file(pid, start, [(5 << 20, 1, 0)])
    other.python(f"import os; open({str(path)!r}, 'wb').write({whole!r}); os.chmod({str(path)!r}, 0o644)")
    cutter = other.start(other.interpreter, "-I", "-c",
                         f"import os\nwhile True:\n    os.truncate({str(path)!r}, 0)\n"
                         f"    with open({str(path)!r}, 'r+b') as f: f.write({whole!r})\n")
    try:
        # Root's reader in a child: a SIGBUS (the old mapping) kills the child, not the test run.
        reader = subprocess.run([sys.executable, "-c", (
            "import sys\nfrom memtop.collectors.heap_shm import HeapFiles\nfrom pathlib import Path\n"
            f"files = HeapFiles(Path({str(other.shm)!r}))\n"
            "seen = set()\n"
            "for _ in range(3000):\n"
            f"    got = files.read(lambda: {{{pid}: ({start}, {other.uid})}})\n"
            f"    files.sample({pid})\n"
            f"    seen.add('figure' if got else files.refused.get({pid}, '')[:60])\n"
            "print(sorted(seen))\n")], capture_output=True, text=True, timeout=DEADLINE, cwd=REPO)
    finally:
        cutter.kill()
        cutter.wait()
    assert reader.returncode == 0, f"root's reader died: exit {reader.returncode} {reader.stderr[-1500:]}"
    # Each pass gave the figure or said why not (a copy cut short); never a crash.
    assert "figure" in reader.stdout or "truncated" in reader.stdout, reader.stdout


def test_a_library_planted_in_the_users_cache_is_refused(other: Other) -> None:
    # root after `su` without '-': XDG_CACHE_HOME is the user's.
    cache = other.home / ".cache" / "memtop"
    name = preload.library_name(preload.SOURCE.read_bytes())
    other.run("mkdir", "-p", str(cache))
    other.python(f"import hashlib; p = {str(cache / name)!r}; open(p, 'wb').write(b'code'); "
                 f"open(p + '.sha256', 'w').write(hashlib.sha256(b'code').hexdigest())")
    with pytest.raises(preload.BuildError, match=f"owned by uid {other.uid}"):
        preload.library_path(cache, cc="true")


def test_temporary_links_planted_in_the_users_cache_do_not_redirect_roots_write(other: Other) -> None:
    cache = other.home / ".cache" / "memtop"
    victim = Path(tempfile.mkdtemp()) / "roots-file"
    victim.write_text("precious")
    victim.parent.chmod(0o755)
    other.run("mkdir", "-p", str(cache))
    for pid in range(1, 60):
        other.run("ln", "-sf", str(victim), str(cache / f"working-sets.{pid}.tmp"))
    other.run("ln", "-sf", str(victim), str(cache / f"working-sets.{os.getpid()}.tmp"))
    save([], cache / "working-sets.json")
    assert victim.read_text() == "precious"
    assert not (cache / "working-sets.json").exists()  # refused: not root's directory
    shutil.rmtree(victim.parent)
