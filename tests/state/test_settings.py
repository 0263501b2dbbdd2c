"""The config file: read, checked setting by setting, written atomically; flags win for one run."""

from __future__ import annotations

import os
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from memtop.state.settings import DEFAULTS, Settings, SettingsStore, dumps, load, parse, save


def test_a_missing_file_is_the_defaults_without_a_word(tmp_path: Path) -> None:
    assert load(tmp_path / "none.toml") == (DEFAULTS, [])


def test_settings_are_read_by_the_names_the_table_shows() -> None:
    settings, problems = parse('theme = "nord"\nsort = "ΔRSS/s"\nreverse = true\ncolumns = ["PID", "pss", "COMMAND"]\n'
                               "interval = 2\npanes = false\nchart_window = 15\nkernel_threads = true\n")
    assert problems == []
    assert settings == Settings(theme="nord", sort="rate", reverse=True, columns=("pid", "pss", "command"),
                                interval=2.0, panes=False, chart_window=15, kernel_threads=True)


def test_each_broken_or_unknown_setting_is_one_line_and_the_rest_apply() -> None:
    settings, problems = parse('sort = "bogus"\ninterval = -1\ncolumns = ["PID", "PID"]\ncolour = "red"\n'
                               "panes = 1\nchart_window = 7\ntheme = \"dracula\"\n", "cfg")
    assert settings == Settings(theme="dracula")
    assert len(problems) == 6
    for name in ("sort", "interval", "columns", "colour", "panes", "chart_window"):
        assert sum(line.startswith(f"cfg: {name}") for line in problems) == 1, (name, problems)
    assert all(line.startswith("cfg: ") and "\n" not in line for line in problems)


def test_a_file_that_is_not_toml_is_one_line_and_the_defaults() -> None:
    settings, problems = parse("sort = [unclosed\n", "cfg")
    assert settings == DEFAULTS and len(problems) == 1 and "not valid TOML" in problems[0]


def test_a_fifo_planted_at_the_path_is_refused_not_waited_on(tmp_path: Path) -> None:
    fifo = tmp_path / "config.toml"
    os.mkfifo(fifo)
    settings, problems = load(fifo)
    assert settings == DEFAULTS and len(problems) == 1 and "not a regular file" in problems[0]


def test_a_huge_file_is_refused(tmp_path: Path) -> None:
    big = tmp_path / "config.toml"
    big.write_text("# " + "x" * 100_000 + "\n")
    assert "larger than" in load(big)[1][0]


def test_what_is_written_reads_back_the_same(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "config.toml"
    chosen = Settings(theme='we"ird\\name', sort="growth", reverse=True, columns=("command", "pid", "heap_gap"),
                      interval=0.5, panes=False, chart_window=30, kernel_threads=True)
    save(path, chosen)
    assert load(path) == (chosen, [])
    assert 'sort = "GROW/m"' in path.read_text() and 'columns = ["COMMAND", "PID", "GAP"]' in path.read_text()
    assert [p.name for p in path.parent.iterdir()] == ["config.toml"]  # no temporary file left


@given(st.text(max_size=40).filter(bool))
def test_any_theme_name_round_trips(name: str) -> None:
    text = dumps(Settings(theme=name[:64]))
    assert parse(text)[0].theme == name[:64]


def test_flags_win_for_the_run_and_only_changes_made_in_the_app_are_written(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    save(path, Settings(interval=2.0, sort="uss"))
    store, problems = SettingsStore.open(path, {"interval": 5.0})
    assert problems == [] and store.current.interval == 5.0 and store.current.sort == "uss"
    assert store.change(theme="nord")
    saved = load(path)[0]
    assert saved.theme == "nord" and saved.interval == 2.0  # the flag was for this run only
    assert store.change(interval=0.5)  # changed in the app: remembered
    assert load(path)[0].interval == 0.5


def test_no_config_reads_and_writes_nothing(tmp_path: Path) -> None:
    store, problems = SettingsStore.open(None, {"sort": "rss"})
    assert problems == [] and store.current.sort == "rss"
    assert store.change(theme="nord") and list(tmp_path.iterdir()) == []


def test_a_write_that_fails_says_why_and_keeps_the_setting_for_the_run(tmp_path: Path) -> None:
    blocker = tmp_path / "memtop"
    blocker.write_text("a file where the config directory should be")
    store = SettingsStore(blocker / "config.toml")
    assert not store.change(panes=False)
    assert store.error is not None and "cannot write" in store.error
    assert store.current.panes is False
