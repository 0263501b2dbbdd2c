"""The command line's shape: subcommands through argparse, help without a terminal, numbers checked."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from memtop.cli import build_parser, main


def _memtop(*args: str) -> subprocess.CompletedProcess[str]:
    # stdout is a pipe here, as in a script or CI: help must still print.
    return subprocess.run([sys.executable, "-m", "memtop", *args], capture_output=True, text=True, timeout=60)


def test_help_lists_every_subcommand() -> None:
    result = _memtop("--help")
    assert result.returncode == 0, result.stderr
    commands = result.stdout.split("commands:", 1)[1]
    for name in ("run", "capture"):
        assert f"    {name} " in commands


@pytest.mark.parametrize("command", ["run", "capture"])
def test_a_subcommand_help_works_without_a_terminal(command: str) -> None:
    result = _memtop(command, "--help")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"usage: memtop {command}")


def test_run_without_a_terminal_says_so(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "--", "true"]) == 2
    assert "needs a terminal" in capsys.readouterr().err


@pytest.mark.parametrize("value", ["inf", "nan", "-1", "0", "soon"])
def test_an_interval_that_is_not_a_finite_positive_number_is_refused(value: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        build_parser().parse_args(["--json", "--interval", value])
    assert exit_.value.code == 2
    assert "--interval" in capsys.readouterr().err


def test_an_unknown_command_is_refused_with_the_list() -> None:
    result = _memtop("bogus")
    assert result.returncode == 2
    assert "invalid choice: 'bogus'" in result.stderr and "'run'" in result.stderr


CAPTURE = str(Path(__file__).resolve().parents[1] / "fixtures" / "captures" / "vm-6.18-root")


def test_once_with_an_interval_repeats_the_table_like_top_b() -> None:
    out = _memtop("--once", "--interval", "0.1", "--count", "3", "--limit", "2", "--root", CAPTURE)
    assert out.returncode == 0, out.stderr
    tables = out.stdout.split("\n\n")
    assert len(tables) == 3 and all(t.startswith("total ") for t in tables)
    assert all(len([line for line in t.splitlines() if line.lstrip()[:1].isdigit()]) == 2 for t in tables)


@pytest.mark.parametrize("name", ["USS", "uss", "COMMAND", "THR", "drss/s", "ΔRSS/s", "GROW/m", "GAP"])
def test_sort_takes_the_names_the_table_shows(name: str) -> None:
    out = _memtop("--once", "--sort", name, "--root", CAPTURE)
    assert out.returncode == 0, out.stderr


def test_a_derived_sort_says_why_it_is_empty_and_shows_its_column() -> None:
    lines = _memtop("--once", "--sort", "GROW/m", "--root", CAPTURE).stdout.splitlines()
    header = next(i for i, line in enumerate(lines) if line.split()[:1] == ["PID"])
    assert "GROW/m" in lines[header]
    # Above the table, with the other notes: `memtop --once --sort GROW/m | head` keeps it.
    assert any("needs 60 s of history" in line for line in lines[1:header]), lines


def test_an_unknown_sort_lists_the_tables_names() -> None:
    out = _memtop("--once", "--sort", "bogus", "--root", CAPTURE)
    assert out.returncode == 2 and "ΔRSS/s" in out.stderr and out.stderr.count("\n") == 1
