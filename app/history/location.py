"""Where recordings go: $XDG_STATE_HOME/memtop/history.sqlite (root: /var/lib/memtop/), and which paths are safe.

memtop records as root: the default directory is made 0700 and used only if
the effective user owns it and nobody else may write in it (collectors/safe_open.py's
trusted_directory, as for the cache and the failure log); a path given with --db must be in a directory nobody
else may write in (a sticky one like /tmp is accepted only for a file we
own) and must not be a link.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from memtop.collectors.safe_open import UnsafeFile, trusted_directory
from memtop.state.failures import state_home

from memtop.history.schema import StoreError

FILE_NAME = "history.sqlite"
ROOT_DIR = Path("/var/lib/memtop")


def default_dir() -> Path:
    return ROOT_DIR if os.geteuid() == 0 else state_home()


def default_path() -> Path:
    """The default recording, its directory made (0700) and checked."""
    directory = default_dir()
    try:
        os.close(trusted_directory(directory))
    except UnsafeFile as exc:
        raise StoreError(str(exc)) from None
    except OSError as exc:
        raise StoreError(f"{exc.filename or directory}: {exc.strerror}") from None
    return directory / FILE_NAME


def check_record_path(path: Path) -> Path:
    """A --db path the recorder may write: its directory nobody else writes in, the file ours and no link."""
    path = Path(os.path.abspath(path))
    parent = path.parent
    try:
        info = os.stat(parent)
    except OSError as exc:
        raise StoreError(f"{parent}: {exc.strerror}") from None
    me = os.geteuid()
    if not stat.S_ISDIR(info.st_mode):
        raise StoreError(f"{parent}: not a directory")
    shared = info.st_mode & 0o022
    if shared and not info.st_mode & stat.S_ISVTX:
        raise StoreError(f"{parent}: refused: mode {stat.S_IMODE(info.st_mode):04o} lets others replace the file")
    if info.st_uid not in (me, 0) and not info.st_mode & stat.S_ISVTX:
        raise StoreError(f"{parent}: refused: owned by uid {info.st_uid}, not by you (uid {me}) or root")
    try:
        found = os.lstat(path)
    except FileNotFoundError:
        return path
    except OSError as exc:
        raise StoreError(f"{path}: {exc.strerror}") from None
    if stat.S_ISLNK(found.st_mode) or not stat.S_ISREG(found.st_mode):
        raise StoreError(f"{path}: not a regular file (a link is not followed)")
    if found.st_uid != me:
        raise StoreError(f"{path}: owned by uid {found.st_uid}, not by you (uid {me})")
    return path
