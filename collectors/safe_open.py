"""Opening files another user may have planted: the one primitive every such open goes through.

memtop runs as root, and reads files in directories others can write
(/dev/shm, /tmp, a cache or state directory in someone's home) and every
file of a ``--root`` tree, which anyone may have built (issue 13). There a
name can be a FIFO (an open without O_NONBLOCK waits forever for a writer),
a symbolic link (to /etc/shadow, to /dev/zero, to a file root then
overwrites), a character device that never ends, or a regular file of
another owner that changes between two reads. So:

- the open never blocks and never follows a link at the last component
  (O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC, open(2));
- what was opened is judged on the descriptor (fstat), not on the name
  (a check of the name and then an open races a rename): a regular file
  only, and where the caller says so, of an expected owner and without
  mode bits that let others write it;
- a read stops at a size cap: past it the file is refused, not cut (a cut
  would turn into a plausible wrong number);
- every refusal is an ``UnsafeFile`` (an OSError, so the callers that
  treat a missing file as "no figure" treat a refused one the same way)
  carrying the reason in words.

/proc and /sys files are regular files whose size says 0 (procfs) or 4096
(sysfs), so the cap is what bounds them; a regular file elsewhere is
refused by its size before a byte is read.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Collection
from pathlib import Path

#: The flags of every open of a file another user may have put there.
FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC
#: The cap of a read when the caller gives none: far above any /proc or /sys
#: text of one process but smaps (which callers read with their own cap).
DEFAULT_LIMIT = 16 << 20
#: The cap of /proc/PID/smaps and maps: ~1 KiB per mapping (smaps) and at most
#: vm.max_map_count (65530 by default) mappings is ~70 MiB; twice that.
SMAPS_LIMIT = 160 << 20
#: Mode bits that let someone other than the owner change a file or a directory's entries.
OTHERS_WRITE = stat.S_IWGRP | stat.S_IWOTH
_CHUNK = 1 << 16

_KINDS = {
    stat.S_IFDIR: "a directory", stat.S_IFCHR: "a character device", stat.S_IFBLK: "a block device",
    stat.S_IFIFO: "a FIFO", stat.S_IFSOCK: "a socket", stat.S_IFLNK: "a symbolic link",
}


class UnsafeFile(OSError):
    """A file memtop refuses to read or use; ``reason`` says why in words."""

    def __init__(self, path: str | os.PathLike[str], reason: str) -> None:
        super().__init__(errno.EPERM, reason, os.fspath(path))
        self.reason = reason

    def __str__(self) -> str:
        return f"{self.filename}: refused: {self.reason}"


def kind(mode: int) -> str:
    """What a file is, in words ("a FIFO"), from its st_mode."""
    return _KINDS.get(stat.S_IFMT(mode), "not a regular file")


def judge(info: os.stat_result, owners: Collection[int] | None = None, forbid: int = 0) -> str | None:
    """Why a file with this fstat may not be used (None: it may).

    ``owners``: the uids that may own it (None: any); ``forbid``: mode bits
    it must not have (``OTHERS_WRITE``: nobody but its owner may change it).
    """
    if not stat.S_ISREG(info.st_mode):
        return f"{kind(info.st_mode)}, not a regular file"
    if owners is not None and info.st_uid not in owners:
        expected = " or ".join(str(u) for u in sorted(owners))
        return f"owned by uid {info.st_uid}, expected uid {expected}"
    if info.st_mode & forbid:
        return f"mode {stat.S_IMODE(info.st_mode):04o} lets others write it"
    return None


#: The inode number of a procfs mount's root directory (PROC_ROOT_INO, include/linux/proc_ns.h);
#: sysfs and tmpfs roots share it, so it says "the root of a mount", not "procfs".
MOUNT_ROOT_INO = 1


def only_root_fills(info: os.stat_result) -> bool:
    """Whether a directory, by its fstat, is a mount's root that only root could have put files in.

    The live host's /proc: procfs's root is inode 1, owned by root, mode 0555;
    what is below it the kernel makes, and nobody can create, rename or link
    a name there (proc(5)). A plain directory (a ``--root`` tree, a /proc left
    unmounted) is not a mount root; a mount root that others may write is
    refused too. Only root mounts in memtop's mount namespace, so a file below
    such a root is never one another user planted.
    """
    return (stat.S_ISDIR(info.st_mode) and info.st_ino == MOUNT_ROOT_INO and info.st_uid == 0
            and not info.st_mode & (OTHERS_WRITE | stat.S_IWUSR))


def open_regular(path: str | os.PathLike[str], *, dir_fd: int | None = None,
                 owners: Collection[int] | None = None, forbid: int = 0) -> tuple[int, os.stat_result]:
    """An open descriptor of a regular file, and its fstat; the caller closes it.

    Raises:
        UnsafeFile: a link at the last component, not a regular file, another
            owner or a forbidden mode (see ``judge``).
        OSError: anything else the open says (missing, denied).
    """
    try:
        fd = os.open(path, FLAGS, dir_fd=dir_fd)
    except OSError as err:
        if err.errno == errno.ELOOP:  # O_NOFOLLOW met a link (open(2))
            raise UnsafeFile(path, "a symbolic link (links are not followed here)") from None
        raise
    try:
        info = os.fstat(fd)
        why = judge(info, owners, forbid)
    except BaseException:
        os.close(fd)
        raise
    if why is not None:
        os.close(fd)
        raise UnsafeFile(path, why)
    return fd, info


def read_capped(fd: int, limit: int = DEFAULT_LIMIT, path: str | os.PathLike[str] = "", *,
                whole_first_read: bool = False) -> bytes:
    """The bytes of an open file to its end; UnsafeFile when there are more than ``limit``.

    ``whole_first_read``: a first read shorter than asked is the whole file
    (single_open seq files hand their whole text to the first read: fs/seq_file.c),
    which saves the read that would return b"".
    """
    chunks: list[bytes] = []
    total = 0
    while True:
        try:
            data = os.read(fd, min(_CHUNK, limit + 1 - total))
        except BlockingIOError:  # O_NONBLOCK: nothing there now is the end for memtop
            data = b""
        if not data:
            break
        chunks.append(data)
        total += len(data)
        if total > limit:
            raise UnsafeFile(path, f"larger than {limit} bytes (reads stop there)")
        if whole_first_read and len(chunks) == 1 and len(data) < _CHUNK:
            break
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def read_regular(path: str | os.PathLike[str], *, dir_fd: int | None = None, limit: int = DEFAULT_LIMIT,
                 owners: Collection[int] | None = None, forbid: int = 0, whole_first_read: bool = False) -> bytes:
    """A whole regular file, opened by ``open_regular`` and read by ``read_capped``."""
    fd, info = open_regular(path, dir_fd=dir_fd, owners=owners, forbid=forbid)
    try:
        if info.st_size > limit:
            raise UnsafeFile(path, f"{info.st_size} bytes, larger than {limit} (not read)")
        return read_capped(fd, limit, path, whole_first_read=whole_first_read)
    finally:
        os.close(fd)


def pread_copy(fd: int, size: int, offset: int = 0) -> bytes:
    """Up to ``size`` bytes at ``offset``, copied (pread: a file its owner truncates meanwhile
    gives a short copy, never the SIGBUS a mapping of it gives)."""
    chunks: list[bytes] = []
    got = 0
    while got < size:
        data = os.pread(fd, size - got, offset + got)
        if not data:
            break
        chunks.append(data)
        got += len(data)
    return b"".join(chunks)


def _directory_at(parent: int | None, name: str, create: bool, mode: int) -> int:
    """One component, opened without following a link (made with ``mode`` when missing and ``create``)."""
    flags = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
    try:
        return os.open(name, flags, dir_fd=parent)
    except FileNotFoundError:
        if not create:
            raise
    try:
        os.mkdir(name, mode, dir_fd=parent)
    except FileExistsError:
        pass  # made meanwhile (another memtop): judged below like any other
    return os.open(name, flags, dir_fd=parent)


def _judge_directory(info: os.stat_result, me: int, last: bool) -> str | None:
    if last and info.st_uid != me:
        return f"owned by uid {info.st_uid}, not by you (uid {me})"
    if not last and info.st_uid not in (me, 0):
        return f"owned by uid {info.st_uid}, who could replace what is below it"
    # A sticky directory (/tmp) lets others add names, never rename or remove ours.
    if info.st_mode & OTHERS_WRITE and (last or not info.st_mode & stat.S_ISVTX):
        return f"mode {stat.S_IMODE(info.st_mode):04o} lets others write in it"
    return None


def trusted_directory(path: Path, *, create: bool = True, mode: int = 0o700) -> int:
    """A descriptor of a directory memtop may keep files in (made with ``mode`` when missing).

    Refused (UnsafeFile) unless the effective user owns it and nobody else
    may write in it, nor in any directory above it (root's or the user's,
    not writable by others unless sticky): a cache or state directory in
    another user's home (su without ``-`` keeps XDG_CACHE_HOME) would let
    that user plant what memtop loads, steer what it writes, or rename the
    directory away after it was checked. The path above it is resolved once
    (a /home that is a link still works), then walked from / one component
    at a time without following a link (the directory itself must not be
    one), each judged on its descriptor.
    """
    absolute = Path(os.path.abspath(path))
    real = Path(os.path.realpath(absolute.parent)) / absolute.name
    me = os.geteuid()
    fd = os.open("/", os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    walked = Path("/")
    parts = real.parts[1:]
    try:
        for index, name in enumerate(parts):
            walked = walked / name
            try:
                child = _directory_at(fd, name, create, mode)
            except OSError as err:
                if err.errno in (errno.ELOOP, errno.ENOTDIR):
                    raise UnsafeFile(walked, "a symbolic link or not a directory") from None
                raise
            os.close(fd)
            fd = child
            why = _judge_directory(os.fstat(fd), me, index == len(parts) - 1)
            if why is not None:
                raise UnsafeFile(walked, why)
        if not parts:
            raise UnsafeFile(real, "the root directory is no place for memtop's files")
    except BaseException:
        os.close(fd)
        raise
    return fd


def create_new(dir_fd: int, name: str, mode: int = 0o600) -> int:
    """A file created new in a checked directory (O_EXCL: a planted name, link or not, makes
    this fail instead of redirecting the write); a write-only descriptor."""
    return os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, mode, dir_fd=dir_fd)


def write_atomically(directory: Path, name: str, data: bytes, mode: int = 0o600) -> Path:
    """``directory/name`` replaced whole by ``data``: written to a new, unguessable temporary
    name in the trusted directory (``trusted_directory``), then renamed over ``name``.

    Raises:
        UnsafeFile: the directory is not one memtop may write in.
        OSError: the write or the rename failed (the temporary file is removed).
    """
    folder = trusted_directory(directory)
    try:
        for _ in range(100):
            temporary = f".{name}.{os.urandom(6).hex()}.tmp"
            try:
                fd = create_new(folder, temporary, mode)
                break
            except FileExistsError:
                continue
        else:
            raise FileExistsError(errno.EEXIST, "no free temporary name", str(directory / name))
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
            os.replace(temporary, name, src_dir_fd=folder, dst_dir_fd=folder)
        except BaseException:
            try:
                os.unlink(temporary, dir_fd=folder)
            except OSError:
                pass
            raise
    finally:
        os.close(folder)
    return directory / name
