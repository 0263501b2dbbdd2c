"""``memtop --maps PID [--json]`` on fixture trees: the grouped table, memtop.maps/1, the failures."""

from __future__ import annotations

import json
import subprocess
import sys

from memtop.cli import main

from tests.dashboard_fixtures import CAPTURES

KIB = 1024
#: no-rollup's PID 900: bash, heap, libc, stack (tests/fixtures/hosts/README.md).
PID = "900"


def run_cli(capsys, *argv: str) -> tuple[int, str, str]:  # type: ignore[no-untyped-def]
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_maps_table_is_grouped_with_pss_and_uss(hosts, capsys) -> None:  # type: ignore[no-untyped-def]
    code, out, err = run_cli(capsys, "--maps", PID, "--root", str(hosts / "no-rollup"))
    assert code == 0 and err == ""
    lines = out.splitlines()
    assert lines[0].startswith("900:") and "bash" in lines[0]
    assert "PSS" in lines[1] and "USS" in lines[1] and "KiB" in lines[1]
    labels = [line.split("  ")[-1].strip() for line in lines[2:-2]]
    assert labels == ["heap:", "[heap]", "stacks:", "[stack]", "libraries (.so):", next(x for x in labels if "libc" in x),
                      "other files:", "/usr/bin/bash"]
    heap = next(line for line in lines if line.endswith("[heap]")).split()
    assert heap[:5] == ["1", "2048", "1500", "1500", "1500"]  # maps, size, rss, pss, uss in KiB
    assert lines[-2].split()[0] == "4" and lines[-2].endswith("total")


def test_maps_bytes(hosts, capsys) -> None:  # type: ignore[no-untyped-def]
    code, out, _ = run_cli(capsys, "--maps", PID, "--root", str(hosts / "no-rollup"), "--bytes")
    heap = next(line for line in out.splitlines() if line.endswith("[heap]")).split()
    assert code == 0 and heap[2] == str(1500 * KIB)


def test_maps_json_schema(hosts, capsys) -> None:  # type: ignore[no-untyped-def]
    code, out, _ = run_cli(capsys, "--maps", PID, "--json", "--root", str(hosts / "no-rollup"))
    doc = json.loads(out)
    assert code == 0 and doc["schema"] == "memtop.maps/1" and doc["pid"] == 900
    keys = {"start", "end", "perms", "offset", "device", "inode", "path", "kind", "size", "rss", "pss", "uss",
            "swap", "anon_huge", "fields", "vmflags"}
    assert all(set(m) == keys for m in doc["mappings"])
    assert [m["kind"] for m in doc["mappings"]] == ["file", "heap", "lib", "stack"]
    heap = doc["mappings"][1]
    assert heap["size"] == heap["end"] - heap["start"] == heap["fields"]["Size"] == 2048 * KIB
    assert heap["rss"] == 1500 * KIB and heap["uss"] == heap["fields"]["Private_Dirty"]
    assert heap["fields"]["Swap"] == heap["swap"] and isinstance(heap["vmflags"], list)


def test_maps_of_a_missing_or_refused_process(hosts, capsys) -> None:  # type: ignore[no-untyped-def]
    code, _, err = run_cli(capsys, "--maps", "4", "--root", str(hosts / "no-rollup"))
    assert code == 2 and "no such process: 4" in err
    code, _, err = run_cli(capsys, "--maps", "1084", "--root", str(CAPTURES / "vm-6.18-user"))
    assert code == 2 and "smaps not readable" in err and "capture" in err
    code, _, err = run_cli(capsys, "--maps", "1", "--root", str(hosts / "basic"))
    assert code == 2 and "--smaps" in err  # a capture without smaps says how to take one


def test_maps_imports_no_textual(hosts) -> None:  # type: ignore[no-untyped-def]
    code = (f"import sys; from memtop.cli import main; main(['--maps', '{PID}', '--json', '--root', "
            f"{str(hosts / 'no-rollup')!r}]); assert 'textual' not in sys.modules, 'textual imported'")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
