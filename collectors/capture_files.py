"""Where ``memtop capture`` reads and writes: a source tree kept inside its root, a private destination.

Both sides are places another user may have prepared. The destination may
be handed over with planted symlinks or lax modes, the source (``--root``)
may hold symlinks out of the tree (to /etc/shadow), FIFOs that block a
reader forever, or sparse files of terabytes (issue 13, items 5 and 6).
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

from .paths import HostPaths

#: A capture's largest file: smaps of a process at vm.max_map_count (65,530
#: mappings) is about 44 MiB (feasibility.md §D); anything past this is not a
#: file the kernel wrote.
MAX_FILE = 128 << 20
_CHUNK = 1 << 16
_READ_FLAGS = os.O_RDONLY | os.O_CLOEXEC | os.O_NOCTTY | os.O_NONBLOCK
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_KINDS = {stat.S_IFIFO: "a FIFO", stat.S_IFSOCK: "a socket", stat.S_IFCHR: "a character device",
          stat.S_IFBLK: "a block device", stat.S_IFDIR: "a directory"}


class CaptureRefused(Exception):
    """A file (or the destination) that memtop will not read or write, with the reason."""


def _inside(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip("/") + "/")


class SourceTree:
    """Reads the files to capture: the live /proc and /sys, or a tree kept inside its root."""

    def __init__(self, paths: HostPaths) -> None:
        self.live = paths.live
        self.root = os.path.realpath(paths.root)

    def read(self, src: Path) -> bytes:
        """The file's bytes (at most MAX_FILE).

        Raises:
            CaptureRefused: in a tree, a path that leaves it, or not a regular file, or too large.
            OSError: missing or unreadable.
        """
        if not self.live:
            real = os.path.realpath(src)
            if not _inside(real, self.root):
                raise CaptureRefused(f"a symlink out of the tree captured (to {real}): not followed")
        # O_NONBLOCK: a FIFO opens at once instead of waiting for a writer.
        fd = os.open(src, _READ_FLAGS)
        try:
            info = os.fstat(fd)
            if not self.live:
                # The tree may change between the check above and the open: check what was opened.
                try:
                    opened = os.readlink(f"/proc/self/fd/{fd}")
                except OSError:
                    opened = None
                if opened is not None and opened.startswith("/") and not _inside(opened, self.root):
                    raise CaptureRefused(f"a symlink out of the tree captured (to {opened}): not followed")
                if not stat.S_ISREG(info.st_mode):
                    kind = _KINDS.get(stat.S_IFMT(info.st_mode), "not a regular file")
                    raise CaptureRefused(f"{kind}, not a regular file: not read")
                if info.st_size > MAX_FILE:
                    raise CaptureRefused(f"{info.st_size} bytes, more than any file memtop reads ({MAX_FILE}): not read")
            chunks: list[bytes] = []
            size = 0
            while True:
                data = os.read(fd, _CHUNK)
                if not data:
                    return b"".join(chunks)
                size += len(data)
                if size > MAX_FILE:
                    raise CaptureRefused(f"more than {MAX_FILE} bytes: not copied")
                chunks.append(data)
        finally:
            os.close(fd)


def _parts(relative: str) -> list[str]:
    parts = relative.split("/")
    if relative.startswith("/") or any(p in ("", ".", "..") for p in parts):
        raise CaptureRefused(f"{relative!r} would leave the capture directory: not written")
    return parts


class CaptureDir:
    """The capture's directory: 0700 directories, 0600 files created O_EXCL|O_NOFOLLOW, umask or not."""

    def __init__(self, fd: int, path: Path) -> None:
        self.fd = fd
        self.path = path
        self._last: tuple[str, int] | None = None  # the last subdirectory opened: pid after pid

    @classmethod
    def create(cls, dest: Path) -> CaptureDir:
        """Make ``dest`` (and missing parents) private to this user, or take it if new or empty and ours.

        Raises:
            CaptureRefused: ``dest`` is a symlink, not a directory, not empty, or another user's.
        """
        missing = []
        probe = dest
        while not os.path.lexists(probe) and probe != probe.parent:
            missing.append(probe)
            probe = probe.parent
        for path in reversed(missing):
            try:
                os.mkdir(path, 0o700)
            except FileExistsError:
                pass
        try:
            fd = os.open(dest, _DIR_FLAGS)
        except OSError as exc:
            if exc.errno in (errno.ELOOP, errno.ENOTDIR):
                raise CaptureRefused(f"{dest} is a symlink or not a directory") from None
            raise
        try:
            info = os.fstat(fd)
            if info.st_uid != os.geteuid():
                raise CaptureRefused(f"{dest} belongs to uid {info.st_uid}, not to this user: capture into a directory of your own")
            if os.listdir(fd):
                raise CaptureRefused(f"{dest} is not empty; capture into a new or empty directory")
            os.fchmod(fd, 0o700)  # whatever the umask or the mode it had
        except BaseException:
            os.close(fd)
            raise
        return cls(fd, dest)

    def close(self) -> None:
        if self._last is not None:
            os.close(self._last[1])
            self._last = None
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1

    def _directory(self, parts: list[str], make: bool) -> int | None:
        """An fd of the directory ``parts`` (made 0700 where missing); None when absent and not made."""
        key = "/".join(parts)
        if self._last is not None and self._last[0] == key:
            return self._last[1]
        fd = os.dup(self.fd)
        try:
            for part in parts:
                if make:
                    try:
                        os.mkdir(part, 0o700, dir_fd=fd)
                        made = True
                    except FileExistsError:
                        made = False
                try:
                    sub = os.open(part, _DIR_FLAGS, dir_fd=fd)
                except FileNotFoundError:
                    if make:
                        raise
                    os.close(fd)
                    return None
                os.close(fd)
                fd = sub
                if make and made:
                    os.fchmod(fd, 0o700)
        except OSError as exc:
            os.close(fd)
            if exc.errno in (errno.ELOOP, errno.ENOTDIR):
                raise CaptureRefused(f"{key} is not a directory of the capture: not written") from None
            raise
        if self._last is not None:
            os.close(self._last[1])
        self._last = (key, fd)
        return fd

    def write(self, relative: str, data: bytes) -> None:
        """Create ``relative`` (0600, O_EXCL|O_NOFOLLOW) holding ``data``."""
        *dirs, name = _parts(relative)
        where = self._directory(dirs, make=True) if dirs else self.fd
        try:
            fd = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600, dir_fd=where)
        except FileExistsError:
            raise CaptureRefused(f"{relative} exists already in the capture: not overwritten") from None
        try:
            os.fchmod(fd, 0o600)  # the umask may have taken bits, never added: make it exact
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
        finally:
            os.close(fd)

    def read(self, relative: str) -> bytes | None:
        """A file this capture wrote, None when it did not."""
        *dirs, name = _parts(relative)
        where = self._directory(dirs, make=False) if dirs else self.fd
        if where is None:
            return None
        try:
            fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=where)
        except FileNotFoundError:
            return None
        try:
            chunks = []
            while data := os.read(fd, _CHUNK):
                chunks.append(data)
            return b"".join(chunks)
        finally:
            os.close(fd)

    def exists(self, relative: str) -> bool:
        *dirs, name = _parts(relative)
        where = self._directory(dirs, make=False) if dirs else self.fd
        if where is None:
            return False
        try:
            os.stat(name, dir_fd=where, follow_symlinks=False)
        except FileNotFoundError:
            return False
        return True
