"""Build memtop's heap counter library and say which programs it can count.

`memtop run` preloads collectors/heapcount.c (LD_PRELOAD) into the program it
starts. The C source ships with the package and is compiled once per source
version into the user's cache directory; the file name carries a hash of the
source and flags, so an upgrade builds a new library instead of reusing a stale
one. memtop often runs as root and LD_PRELOAD runs the library's code: the
cache directory must be the user's alone, and the library is preloaded only
when its owner, mode and SHA-256 (recorded at build) check out (issue 13). The loader ignores LD_PRELOAD for static binaries (there is no loader) and
for set-user-ID/set-group-ID programs (secure-execution mode, ld.so(8)), so
`instrumentable` reads the ELF program headers to tell the user beforehand.
"""

from __future__ import annotations

import hashlib
import os
import platform
import shlex
import shutil
import stat
import struct
import subprocess
import tempfile
from pathlib import Path

import memtop.collectors
from memtop.collectors.safe_open import OTHERS_WRITE, UnsafeFile, open_regular, read_regular, trusted_directory, write_atomically
from memtop.instrument.cache import cache_home

SOURCE = Path(memtop.collectors.__file__).with_name("heapcount.c")
FLAGS = ("-O2", "-fPIC", "-shared", "-pthread", "-Wall")
LIBS = ("-ldl",)
NO_COMPILER = (
    "memtop run needs a C compiler to build its heap counter library "
    "(about 600 lines of C, built once): apt-get install gcc, dnf install gcc, or set CC"
)
STATIC = "static binary (no dynamic loader: LD_PRELOAD is ignored)"
SETID = "setuid/setgid program (the loader ignores LD_PRELOAD)"
NOT_FOUND = "not found"
WRONG_CLASS = "32-bit program (the counter library is built 64-bit: the loader skips it)"
PT_INTERP = 3
#: The library's SHA-256, recorded beside it when it is built (``libmemtopheap-*.so.sha256``).
HASH_SUFFIX = ".sha256"
MAX_SCRIPT_DEPTH = 4  # the kernel follows at most 4 levels of #! (BINPRM_MAX_RECURSION)


class BuildError(RuntimeError):
    """The library could not be built; the message says what to do."""


def find_compiler(cc: str | None = None) -> list[str] | None:
    """The compiler command: `cc`, else $CC (may carry words, e.g. "ccache gcc"), else cc/gcc/clang."""
    for choice in (cc, os.environ.get("CC")):
        if choice and choice.strip():
            return shlex.split(choice)
    for name in ("cc", "gcc", "clang"):
        found = shutil.which(name)
        if found:
            return [found]
    return None


def library_name(source: bytes) -> str:
    """Named for the source, flags and machine: an upgrade, or a home directory shared
    between x86-64 and aarch64 hosts, gets its own build instead of a stale or foreign one."""
    material = "\0".join((*FLAGS, *LIBS, platform.machine())).encode()
    digest = hashlib.sha256(source + material).hexdigest()
    return f"libmemtopheap-{digest[:12]}.so"


def _digest(fd: int) -> str:
    digest = hashlib.sha256()
    while chunk := os.read(fd, 1 << 16):
        digest.update(chunk)
    return digest.hexdigest()


def verify(folder: int, name: str) -> str | None:
    """Why the library ``name`` in the checked directory ``folder`` may not be preloaded (None: it may).

    It must be a regular file of the effective user that nobody else may
    write, whose SHA-256 is the one recorded beside it when it was built
    (``name``.sha256, same rules): LD_PRELOAD runs its code in the program
    memtop starts, as root when memtop is root (issue 13 item 3).
    """
    me = os.geteuid()
    try:
        recorded = read_regular(name + HASH_SUFFIX, dir_fd=folder, limit=256, owners={me}, forbid=OTHERS_WRITE)
        fd, _info = open_regular(name, dir_fd=folder, owners={me}, forbid=OTHERS_WRITE)
    except FileNotFoundError:
        return "not built yet"
    except OSError as err:
        return str(err)
    try:
        actual = _digest(fd)
    finally:
        os.close(fd)
    if recorded.decode("ascii", "replace").strip() != actual:
        return f"{name}: its SHA-256 is not the one recorded when it was built"
    return None


def library_path(cache_dir: Path | None = None, cc: str | None = None) -> Path:
    """The built library, compiling it on first use (BuildError when that cannot be done).

    The cache directory must be the effective user's and writable by it
    alone (safe_open.trusted_directory), else memtop refuses and says why;
    a library there is used only when ``verify`` passes, else built again.
    """
    try:
        source = SOURCE.read_bytes()
    except OSError as err:
        raise BuildError(f"memtop's heap counter source is missing ({SOURCE}: {err.strerror}); reinstall memtop") from err
    folder = cache_home() if cache_dir is None else cache_dir
    name = library_name(source)
    try:
        folder_fd = trusted_directory(folder)
    except UnsafeFile as err:
        raise BuildError(f"refused the cache directory {err.filename}: {err.reason}; memtop loads its heap counter "
                         "library only from a directory that is yours and writable by you alone (set XDG_CACHE_HOME)") from err
    except OSError as err:
        raise BuildError(f"cannot write the heap counter library to {folder}: {err.strerror}") from err
    try:
        if verify(folder_fd, name) is None:
            return folder / name
        _build(folder, name, cc)
        why = verify(folder_fd, name)
        if why is not None:
            raise BuildError(f"the heap counter library just built does not verify: {why}")
    finally:
        os.close(folder_fd)
    return folder / name


def _build(folder: Path, name: str, cc: str | None) -> None:
    """Compile into a new file of the checked ``folder``, record its hash, rename it over ``name``."""
    compiler = find_compiler(cc)
    if compiler is None:
        raise BuildError(NO_COMPILER)
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=".build-", suffix=".so", dir=folder)  # O_EXCL, unguessable
        os.close(fd)
    except OSError as err:
        raise BuildError(f"cannot write the heap counter library to {folder}: {err.strerror}") from err
    # Built beside the target and renamed over it: two memtops building at once
    # each rename a whole library, and neither ever loads a half-written one.
    tmp = Path(tmp_name)
    try:
        try:
            result = subprocess.run(
                [*compiler, *FLAGS, "-o", str(tmp), str(SOURCE), *LIBS],
                capture_output=True, text=True, timeout=300, check=False,
            )
        except FileNotFoundError as err:
            raise BuildError(f"C compiler {compiler[0]!r} not found. {NO_COMPILER}") from err
        if result.returncode != 0:
            raise BuildError(f"building the heap counter library with {compiler[0]} failed:\n{first_errors(result.stderr)}")
        tmp.chmod(0o755)
        built = os.open(tmp, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
        try:
            digest = _digest(built)
        finally:
            os.close(built)
        write_atomically(folder, name + HASH_SUFFIX, digest.encode() + b"\n", 0o644)
        os.replace(tmp, folder / name)
    except (OSError, subprocess.SubprocessError) as err:
        raise BuildError(f"building the heap counter library with {compiler[0]} failed: {err}") from err
    finally:
        tmp.unlink(missing_ok=True)


def first_errors(stderr: str, limit: int = 6) -> str:
    """The compiler's error lines first (its warnings and notes are noise here)."""
    lines = [line for line in stderr.splitlines() if line.strip()]
    errors = [line for line in lines if "error" in line.lower()]
    return "\n".join((errors or lines)[:limit]) or "(the compiler printed nothing)"


def elf_interp(head: bytes) -> bool | None:
    """True: a dynamic ELF (has PT_INTERP); False: a static one; None: not a readable ELF.

    `head` is the file's beginning; the program headers must lie inside it
    (they follow the 64-byte ELF header in every linker's output).
    """
    if len(head) < 52 or head[:4] != b"\x7fELF" or head[4] not in (1, 2) or head[5] not in (1, 2):
        return None
    end = "<" if head[5] == 1 else ">"
    if head[4] == 1:  # ELFCLASS32: e_phoff u32 at 28, e_phentsize/e_phnum u16 at 42/44
        phoff, = struct.unpack_from(end + "I", head, 28)
        phentsize, phnum = struct.unpack_from(end + "HH", head, 42)
    else:  # ELFCLASS64: e_phoff u64 at 32, e_phentsize/e_phnum u16 at 54/56
        if len(head) < 64:
            return None
        phoff, = struct.unpack_from(end + "Q", head, 32)
        phentsize, phnum = struct.unpack_from(end + "HH", head, 54)
    if phentsize < 4 or phoff + phentsize * phnum > len(head):
        return None
    return any(
        struct.unpack_from(end + "I", head, phoff + i * phentsize)[0] == PT_INTERP for i in range(phnum)
    )


def _resolve(argv0: str) -> Path | None:
    found = argv0 if "/" in argv0 else shutil.which(argv0)
    return Path(found) if found and os.path.isfile(found) else None


def _script_interpreter(head: bytes) -> str | None:
    """The program a #! line runs, seeing through `/usr/bin/env [-S] NAME`."""
    words = head[2:].split(b"\n", 1)[0].decode("utf-8", "replace").split()
    if not words:
        return None
    if os.path.basename(words[0]) == "env":
        names = [w for w in words[1:] if not w.startswith("-") and "=" not in w]
        return names[0] if names else None
    return words[0]


def instrumentable(argv0: str, _depth: int = 0) -> str | None:
    """None when LD_PRELOAD will reach `argv0` (found on PATH), else why it will not."""
    path = _resolve(argv0)
    if path is None:
        return NOT_FOUND
    if not os.access(path, os.X_OK):
        return f"not executable ({path})"
    try:
        info = path.stat()
        with path.open("rb") as f:
            head = f.read(65536)
    except OSError as err:
        return f"cannot read {path}: {err.strerror}"
    # The kernel asks for secure execution only when the bits change the ids.
    if (info.st_mode & stat.S_ISUID and info.st_uid != os.geteuid()) or (
        info.st_mode & stat.S_ISGID and info.st_gid != os.getegid()
    ):
        return SETID
    if head.startswith(b"#!"):
        interpreter = _script_interpreter(head)
        if interpreter is None or _depth >= MAX_SCRIPT_DEPTH:
            return f"script with an unusable #! line ({path})"
        return instrumentable(interpreter, _depth + 1)
    dynamic = elf_interp(head)
    if dynamic and head[4] * 32 != struct.calcsize("P") * 8:
        return WRONG_CLASS
    if dynamic is None:
        if head.startswith(b"\x7fELF"):
            return f"unreadable ELF program headers ({path})"
        # execvp(3) hands a file without #! or ELF magic to /bin/sh.
        return None if _depth >= MAX_SCRIPT_DEPTH else instrumentable("/bin/sh", _depth + 1)
    return None if dynamic else STATIC
