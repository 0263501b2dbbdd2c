"""The column catalogue: names a person types, what fits a width, how a command line is cut."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from memtop.views.columns import DEFAULT_COLUMNS, FLEX_MIN, column_named, fit
from memtop.views.command import short_command
from memtop.views.format import compact, human


@pytest.mark.parametrize(("name", "key"), [
    ("PSS", "pss"), ("pss", "pss"), ("ΔRSS/s", "rate"), ("drss/s", "rate"), ("δrss/s", "rate"),
    ("GROW/m", "growth"), ("grow", "growth"), ("COMMAND", "command"), ("cmdline", "command"),
    ("OOM", "oom_score"), ("oom_score", "oom_score"), ("THR", "threads"), ("VIRT", "vsize"), ("GAP", "heap_gap"),
])
def test_a_column_is_found_by_the_name_the_table_shows_or_its_ascii_form(name: str, key: str) -> None:
    column = column_named(name)
    assert column is not None and column.key == key


def test_an_unknown_name_is_no_column() -> None:
    assert column_named("bogus") is None and column_named("swap_pss") is None


def test_at_95_cells_the_command_keeps_its_room_and_optional_columns_go() -> None:
    shown = fit(DEFAULT_COLUMNS, 95)
    keys = [c.key for c, _ in shown]
    assert keys == ["pid", "user", "rss", "pss", "uss", "swap", "anon_huge", "rate", "command"]
    assert sum(w for _, w in shown) + len(shown) - 1 == 95  # the line is filled exactly
    assert shown[-1][1] >= FLEX_MIN


def test_a_wide_table_shows_more_in_the_chosen_order() -> None:
    keys = [c.key for c, _ in fit(DEFAULT_COLUMNS, 200)]
    assert keys[:8] == list(DEFAULT_COLUMNS[:8]) and "cgroup" in keys and keys[-1] == "command"


def test_without_a_command_column_the_last_text_column_takes_the_rest() -> None:
    shown = fit(("pid", "name", "pss"), 60)
    assert [(c.key, w) for c, w in shown] == [("pid", 7), ("name", 60 - 8 - 8), ("pss", 7)]


def test_an_interpreter_path_goes_before_the_script_name() -> None:
    argv = ("/usr/bin/python3", "-u", "/srv/app/services/serve.py", "--port", "8080")
    assert short_command(argv, "python3", 80) == " ".join(argv)
    assert short_command(argv, "python3", 50) == "python3 -u /srv/app/services/serve.py --port 8080"
    assert short_command(argv, "python3", 35) == "python3 -u serve.py --port 8080"
    assert short_command(argv, "python3", 20) == "python3 -u serve.py…"


def test_a_module_or_code_is_kept_and_a_kernel_thread_is_its_name() -> None:
    assert short_command(("/usr/bin/python3", "-m", "http.server"), "python3", 22) == "python3 -m http.server"
    assert short_command((), "kworker/0:1", 30) == "[kworker/0:1]"
    assert short_command(("/usr/sbin/sshd", "-D"), "sshd", 8) == "sshd -D"


@given(st.lists(st.text(max_size=30), max_size=6), st.integers(min_value=1, max_value=120))
def test_a_cut_command_never_exceeds_its_cell(argv: list[str], width: int) -> None:
    assert len(short_command(tuple(argv), "x", width)) <= width


@pytest.mark.parametrize(("n", "cell", "text"), [
    (999, "999B", "999 B"), (1023 * 1024, "1.0Mi", "1023.0 KiB"[:0] + "1.0 MiB"),
    (int(1.5 * 2**30), "1.5Gi", "1.5 GiB"), (812 * 1024, "812Ki", "812.0 KiB"),
])
def test_cells_and_sentences_use_one_unit_convention(n: int, cell: str, text: str) -> None:
    assert compact(n) == cell and human(n) == text


@given(st.integers(min_value=0, max_value=2**59))
def test_no_cell_shows_four_digits_of_a_unit(n: int) -> None:
    digits = compact(n).rstrip("BKMGTPi").split(".")[0]
    assert len(digits) <= 3 and len(compact(n)) <= 6
