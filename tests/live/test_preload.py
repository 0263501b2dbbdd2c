"""memtop.instrument.preload: building the heap counter library, and who LD_PRELOAD can reach."""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
import struct
import sys
import tempfile
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from memtop.instrument import preload


def test_no_compiler_says_what_to_install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CC", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    with pytest.raises(preload.BuildError) as err:
        preload.library_path(tmp_path / "cache")
    assert str(err.value) == preload.NO_COMPILER
    assert "apt-get install gcc" in str(err.value) and "set CC" in str(err.value)


def fake_compiler(folder: Path, stderr: str, code: int) -> Path:
    script = folder / "fakecc"
    script.write_text(f"#!/bin/sh\ncat >&2 <<'END'\n{stderr}END\nexit {code}\n")
    script.chmod(0o755)
    return script


def test_failed_compile_shows_the_compilers_errors_and_leaves_nothing(tmp_path: Path) -> None:
    cc = fake_compiler(tmp_path, "x.c: In function f:\nx.c:3:1: warning: w\nx.c:9:2: error: boom\n", 1)
    cache = tmp_path / "cache"
    with pytest.raises(preload.BuildError) as err:
        preload.library_path(cache, cc=str(cc))
    assert "x.c:9:2: error: boom" in str(err.value) and "warning" not in str(err.value)
    assert list(cache.iterdir()) == []  # the temp file is gone


def test_missing_compiler_named_by_cc(tmp_path: Path) -> None:
    with pytest.raises(preload.BuildError, match="not found"):
        preload.library_path(tmp_path, cc=str(tmp_path / "no-such-cc"))


def test_cc_from_the_environment_with_words(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CC", "ccache gcc -m64")
    assert preload.find_compiler() == ["ccache", "gcc", "-m64"]
    assert preload.find_compiler("clang") == ["clang"]


def test_cache_dir_follows_xdg(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert preload.cache_home() == tmp_path / "memtop"
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/ignored")  # the spec says: absolute only
    assert preload.cache_home() == Path.home() / ".cache" / "memtop"


@pytest.mark.skipif(preload.find_compiler() is None, reason="no C compiler")
def test_built_once_then_rebuilt_when_the_source_changes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first = preload.library_path(tmp_path)
    assert first.name.startswith("libmemtopheap-") and len(first.name) == len("libmemtopheap-") + 12 + 3
    assert first.stat().st_mode & 0o777 == 0o755
    mtime = first.stat().st_mtime_ns
    assert preload.library_path(tmp_path) == first and first.stat().st_mtime_ns == mtime
    changed = tmp_path / "heapcount.c"
    changed.write_bytes(preload.SOURCE.read_bytes() + b"\n/* changed */\n")
    monkeypatch.setattr(preload, "SOURCE", changed)
    second = preload.library_path(tmp_path)
    assert second != first and second.exists() and first.exists()
    hashes = [first.name + preload.HASH_SUFFIX, second.name + preload.HASH_SUFFIX]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([first.name, second.name, "heapcount.c", *hashes])


def copying_compiler(folder: Path, body: bytes) -> Path:
    """A stand-in for cc that writes ``body`` to its -o file (no C compiler needed)."""
    (folder / "body").write_bytes(body)
    script = folder / "copycc"
    script.write_text(f'#!/bin/sh\nwhile [ "$1" != -o ]; do shift; done\ncat {folder / "body"} > "$2"\n')
    script.chmod(0o755)
    return script


def test_a_planted_library_in_ones_own_cache_is_rebuilt_not_loaded(tmp_path: Path) -> None:
    tools = tmp_path / "tools"
    tools.mkdir()
    cc = copying_compiler(tools, b"the real build")
    cache = tmp_path / "cache"
    built = preload.library_path(cache, cc=str(cc))
    assert built.read_bytes() == b"the real build"
    assert (cache / (built.name + preload.HASH_SUFFIX)).read_text().strip() == hashlib.sha256(b"the real build").hexdigest()
    built.write_bytes(b"planted code")  # changed after the build: its hash no longer matches
    assert preload.library_path(cache, cc=str(cc)).read_bytes() == b"the real build"
    built.unlink()
    built.symlink_to(tools / "body")  # a link is never what is preloaded
    assert not preload.library_path(cache, cc=str(cc)).is_symlink()
    built.chmod(0o666)  # writable by others: not trusted, built again
    assert preload.library_path(cache, cc=str(cc)).stat().st_mode & 0o777 == 0o755


def test_a_cache_others_may_write_is_refused_and_said(tmp_path: Path) -> None:
    tools = tmp_path / "tools"
    tools.mkdir()
    cc = copying_compiler(tools, b"code")
    cache = tmp_path / "cache"
    cache.mkdir(mode=0o777)
    cache.chmod(0o777)
    planted = cache / preload.library_name(preload.SOURCE.read_bytes())
    planted.write_bytes(b"planted code")
    (cache / (planted.name + preload.HASH_SUFFIX)).write_text(hashlib.sha256(b"planted code").hexdigest())
    with pytest.raises(preload.BuildError, match="refused the cache directory .*cache: mode 0777 lets others write in it"):
        preload.library_path(cache, cc=str(cc))


@pytest.mark.skipif(os.geteuid() != 0, reason="root only: a cache in another user's home is what su without '-' gives root")
def test_a_cache_in_another_users_home_is_refused_and_said(tmp_path: Path) -> None:
    home = tmp_path / "bob"
    (home / ".cache" / "memtop").mkdir(parents=True)
    for folder in (home, home / ".cache", home / ".cache" / "memtop"):
        os.chown(folder, 4242, 4242)
    planted = home / ".cache" / "memtop" / preload.library_name(preload.SOURCE.read_bytes())
    planted.write_bytes(b"bob's code")
    with pytest.raises(preload.BuildError, match="owned by uid 4242"):
        preload.library_path(home / ".cache" / "memtop", cc="true")


def test_dynamic_programs_and_scripts(tmp_path: Path) -> None:
    assert preload.instrumentable(sys.executable) is None
    assert preload.instrumentable("sh") is None
    assert preload.instrumentable("memtop-no-such-program") == preload.NOT_FOUND
    script = tmp_path / "script"
    script.write_text(f"#!/usr/bin/env -S {Path(sys.executable).name} -u\nprint(1)\n")
    script.chmod(0o755)
    assert preload.instrumentable(str(script)) is None
    plain = tmp_path / "plain"
    plain.write_text("echo hi\n")
    assert preload.instrumentable(str(plain)).startswith("not executable")  # type: ignore[union-attr]
    plain.chmod(0o755)
    assert preload.instrumentable(str(plain)) is None  # execvp gives it to /bin/sh


def elf64(phdr_types: list[int]) -> bytes:
    header = b"\x7fELF" + bytes([2, 1, 1]) + bytes(9)
    header += struct.pack("<HHIQQQIHHHHHH", 2, 62, 1, 0, 64, 0, 0, 64, 56, len(phdr_types), 64, 0, 0)
    return header + b"".join(struct.pack("<IIQQQQQQ", t, 0, 0, 0, 0, 0, 0, 0) for t in phdr_types)


def test_elf_program_headers() -> None:
    assert preload.elf_interp(elf64([6, 3, 1])) is True  # PT_PHDR, PT_INTERP, PT_LOAD
    assert preload.elf_interp(elf64([1, 1, 2])) is False
    assert preload.elf_interp(elf64([6, 3])[:100]) is None  # table cut short
    assert preload.elf_interp(b"#!/bin/sh\n") is None


def test_a_32_bit_program_is_told_apart(tmp_path: Path) -> None:
    program = tmp_path / "prog32"
    header = b"\x7fELF" + bytes([1, 1, 1]) + bytes(9)
    header += struct.pack("<HHIIIIIHHHHHH", 2, 3, 1, 0, 52, 0, 0, 52, 32, 1, 40, 0, 0)
    program.write_bytes(header + struct.pack("<IIIIIIII", 3, 0, 0, 0, 0, 0, 0, 0))
    program.chmod(0o755)
    assert preload.elf_interp(program.read_bytes()) is True
    assert preload.instrumentable(str(program)) == (preload.WRONG_CLASS if sys.maxsize > 2**32 else None)


def test_static_and_setid_programs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    static = tmp_path / "static"
    static.write_bytes(elf64([1, 1]))
    static.chmod(0o755)
    assert preload.instrumentable(str(static)) == preload.STATIC
    wrapper = tmp_path / "wrapper"
    wrapper.write_text(f"#!{static}\n")
    wrapper.chmod(0o755)
    assert preload.instrumentable(str(wrapper)) == preload.STATIC  # judged by its interpreter
    setuid = tmp_path / "setuid"
    shutil.copy(sys.executable, setuid)
    setuid.chmod(0o755 | stat.S_ISUID)
    assert preload.instrumentable(str(setuid)) is None  # owned by us: no id change, no secure mode
    monkeypatch.setattr(os, "geteuid", lambda: setuid.stat().st_uid + 1)
    assert preload.instrumentable(str(setuid)) == preload.SETID


@given(st.binary(max_size=600))
def test_elf_parsing_never_raises(data: bytes) -> None:
    for head in (data, b"\x7fELF" + data, elf64([3])[:24] + data, b"#!" + data):
        assert preload.elf_interp(head) in (True, False, None)
        with tempfile.TemporaryDirectory() as folder:
            program = Path(folder) / "program"
            program.write_bytes(head)
            program.chmod(0o755)
            assert preload.instrumentable(str(program)) is None or isinstance(preload.instrumentable(str(program)), str)
