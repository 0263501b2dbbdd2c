"""The dashboard under the hands of an htop user: every habit key and click, and settings that outlive a run."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import Input, OptionList

from memtop.state.model import MemtopModel
from memtop.state.settings import SettingsStore, load, start_options
from memtop.tui.app import MemtopApp
from memtop.tui.screens.main import MainScreen
from memtop.tui.screens.process_files import EnvironmentScreen, OpenFilesScreen
from memtop.tui.screens.setup import SetupScreen
from memtop.tui.screens.signal_list import SignalListScreen
from memtop.tui.screens.user_choice import UserScreen
from memtop.widgets.process_table import ProcessTable

from tests.conftest import new_app
from tests.dashboard_fixtures import made
from tests.waiting import pilot_until


def table(app: MemtopApp) -> ProcessTable:
    return app.screen.query_one(ProcessTable)


def pids(app: MemtopApp) -> list[int | None]:
    return [r.pid for r in table(app).rows]


def main(app: MemtopApp) -> MainScreen:
    return next(s for s in app.screen_stack if isinstance(s, MainScreen))


def header(app: MemtopApp) -> str:
    return "".join(s.text for s in table(app).render_line(0))


async def test_the_sorted_column_is_marked_and_lt_gt_move_it() -> None:
    app = new_app(made())
    async with app.run_test(size=(160, 45)) as pilot:
        await pilot.pause()
        assert "▼PSS" in header(app)
        await pilot.press("greater_than_sign")
        assert main(app).view.sort == "uss" and "▼USS" in header(app) and "▼PSS" not in header(app)
        await pilot.press("less_than_sign", "less_than_sign")
        assert main(app).view.sort == "rss"
        await pilot.press("I")
        assert "▲RSS" in header(app)
        await pilot.press("N")
        assert main(app).view.sort == "pid" and pids(app)[0] == 1  # pid ascending: ▲
        assert "▲PID" in header(app)


async def test_a_click_on_a_header_sorts_and_again_inverts() -> None:
    app = new_app(made())
    async with app.run_test(size=(160, 45)) as pilot:
        await pilot.pause()
        await pilot.click(ProcessTable, offset=(10, 0))  # USER
        assert main(app).view.sort == "user" and not main(app).view.reverse
        await pilot.click(ProcessTable, offset=(10, 0))
        assert main(app).view.reverse and "USER▼" in header(app)


async def test_a_click_selects_a_double_click_opens_the_wheel_moves() -> None:
    app = new_app(made())
    async with app.run_test(size=(160, 45)) as pilot:
        await pilot.pause()
        await pilot.click(ProcessTable, offset=(3, 3))  # the third row
        assert table(app).cursor == 2 and main(app).selected is not None and main(app).selected.pid == pids(app)[2]
        from textual.events import MouseScrollDown

        # The wheel, as the terminal reports it over the table: the selection moves three rows.
        table(app)._on_mouse_scroll_down(MouseScrollDown(table(app), 3, 3, 0, 0, 0, False, False, False))
        await pilot.pause()
        assert table(app).cursor == 5
        await pilot.click(ProcessTable, offset=(3, 2), times=2)
        await pilot.pause()
        assert app.screen.__class__.__name__ == "ProcessScreen"


async def test_f3_searches_and_keeps_every_row_while_f4_filters() -> None:
    app = new_app(made())
    async with app.run_test(size=(160, 45)) as pilot:
        await pilot.pause()
        every = pids(app)
        await pilot.press("f3", *"nginx")
        assert pids(app) == every and main(app).selected.name == "nginx"  # jumped down to it, every row kept
        await pilot.press("escape", "home", "f3")
        main(app).query_one("#search", Input).value = "postgres"
        await pilot.pause()
        assert main(app).selected.name == "postgres"
        first = main(app).selected.pid
        await pilot.press("f3")
        assert main(app).selected.name == "postgres" and main(app).selected.pid != first
        await pilot.press("escape")
        assert not main(app).query_one("#search", Input).display and pids(app) == every
        await pilot.press("f4", *"nginx", "enter")
        assert pids(app) == [400]
        await pilot.press("escape")
        await pilot.press("backslash", *"sshd", "enter")
        assert pids(app) == [100]


async def test_u_shows_one_user_and_escape_all_again() -> None:
    app = new_app(made())
    async with app.run_test(size=(160, 45)) as pilot:
        await pilot.pause()
        await pilot.press("u")
        assert isinstance(app.screen, UserScreen)
        options = app.screen.query_one(OptionList)
        alice = next(i for i in range(options.option_count) if options.get_option_at_index(i).id == "alice")
        options.highlighted = alice
        await pilot.press("enter")
        assert sorted(pids(app)) == [200, 201, 202]
        await pilot.press("escape")
        assert len(pids(app)) == 9


async def test_space_tags_and_f9_offers_htops_list_for_the_tagged() -> None:
    app = new_app(made())
    async with app.run_test(size=(160, 45)) as pilot:
        await pilot.pause()
        await pilot.press("space", "space")
        assert main(app).tagged == {(300, 100), (201, 100)} and table(app).cursor == 2
        assert table(app).rows[0].mark == "●"
        await pilot.press("f9")
        assert isinstance(app.screen, SignalListScreen) and len(app.screen.targets) == 2
        await pilot.press("escape")
        await pilot.press("U")
        assert main(app).tagged == set()


async def test_l_and_e_open_read_only_screens_and_a_capture_refuses() -> None:
    app = new_app(made())
    async with app.run_test(size=(160, 45)) as pilot:
        await pilot.pause()
        await pilot.press("l")
        assert isinstance(app.screen, OpenFilesScreen)
        await pilot.press("escape", "e")
        assert isinstance(app.screen, EnvironmentScreen)
    frozen = new_app(made(), frozen=True)
    async with frozen.run_test(size=(160, 45)) as pilot:
        await pilot.pause()
        await pilot.press("l")
        assert isinstance(frozen.screen, MainScreen)


@pytest.mark.parametrize("key", ["P", "f7", "f8", "i", "a", "x", "F"])
async def test_every_other_htop_key_says_what_memtop_does_instead(key: str) -> None:
    app = new_app(made())
    async with app.run_test(size=(160, 45)) as pilot:
        await pilot.pause()
        await pilot.press(key)
        await pilot.pause()
        notes = [str(n.message) for n in app._notifications]
        assert notes and ("memtop" in notes[-1] or "here" in notes[-1])


async def test_help_lists_htops_keys_beside_memtops() -> None:
    app = new_app(made())
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press("question_mark")
        text = str(app.screen.query_one("Static").render())
        assert "htop and btop keys" in text and "htop: nice -/+" in text and "F3" in text


async def test_80x24_keeps_help_and_quit_in_the_footer() -> None:
    app = new_app(made())
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        shown = [k for k in app.screen.query_one("Footer").query("FooterKey") if k.region.width and k.region.right <= 80]
        labels = [k.description for k in shown]  # type: ignore[attr-defined]
        assert "Help" in labels and "Quit" in labels, labels


async def test_settings_round_trip(tmp_path: Path) -> None:
    """Change theme, sort and columns, quit, start again: all three are back."""
    path = tmp_path / "memtop" / "config.toml"
    store, _ = SettingsStore.open(path)
    app = MemtopApp(MemtopModel(start_options(store.current)), snapshot=made(), settings=store)
    async with app.run_test(size=(160, 45)) as pilot:
        await pilot.pause()
        app.theme = "nord"
        await pilot.press("greater_than_sign")  # sort USS
        await pilot.press("I")
        await pilot.press("f2")
        assert isinstance(app.screen, SetupScreen)
        await pilot.press("space")  # PID out
        await pilot.press("f10")
        await pilot.press("p")  # panes hidden
        await pilot.press("q")
    saved, problems = load(path)
    assert problems == []
    assert (saved.theme, saved.sort, saved.reverse, saved.panes) == ("nord", "uss", True, False)
    assert "pid" not in saved.columns

    store, _ = SettingsStore.open(path)
    again = MemtopApp(MemtopModel(start_options(store.current)), snapshot=made(), settings=store)
    async with again.run_test(size=(160, 45)) as pilot:
        await pilot.pause()
        assert again.theme == "nord"
        screen = main(again)
        assert screen.view.sort == "uss" and screen.view.reverse
        assert "pid" not in screen.query_one(ProcessTable).chosen and "▲USS" in header(again)
        assert not screen.query_one("#side").display


async def test_flags_win_and_are_not_written(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('sort = "RSS"\ninterval = 2\n')
    store, _ = SettingsStore.open(path, {"sort": "uss"})
    app = MemtopApp(MemtopModel(start_options(store.current)), snapshot=made(), settings=store)
    async with app.run_test(size=(160, 45)) as pilot:
        await pilot.pause()
        assert main(app).view.sort == "uss"
        await pilot.press("right_square_bracket")  # faster: changed in the app, remembered
    saved = load(path)[0]
    assert saved.sort == "rss" and saved.interval == 1.0


async def test_the_process_screen_sorts_by_a_clicked_header_and_marks_it() -> None:
    from memtop.tui.screens.process import ProcessScreen
    from memtop.widgets.mappings_table import MappingsTable
    from tests.dashboard_fixtures import PROCESSES
    from tests.maps_fixtures import FakeSource

    python = next(p for p in PROCESSES if p.pid == 201)
    app = new_app(made(), maps_source=FakeSource(python).source())
    async with app.run_test(size=(160, 45)) as pilot:
        await pilot.pause()
        await pilot.press("down", "enter")
        screen = app.screen
        assert isinstance(screen, ProcessScreen)
        maps = screen.query_one(MappingsTable)
        await pilot_until(pilot, lambda: maps.rows, what="the mappings")
        head = "".join(s.text for s in maps.render_line(0))
        assert "▼PSS" in head
        x = maps.columns(maps.line_width)
        left = 0
        for column, width in x:
            if column.key == "rss":
                break
            left += width + 1
        await pilot.click(MappingsTable, offset=(left + 1, 0))
        assert screen.sort == "rss"
        await pilot.click(MappingsTable, offset=(left + 1, 0))
        assert screen.reverse and "▲RSS" in "".join(s.text for s in maps.render_line(0))


async def test_a_broken_setting_is_said_in_the_app_too(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('sort = "bogus"\ncolour = 1\n')
    store, problems = SettingsStore.open(path)
    assert len(problems) == 2
    app = MemtopApp(MemtopModel(start_options(store.current)), snapshot=made(), settings=store)
    async with app.run_test(size=(160, 45)) as pilot:
        await pilot.pause()
        notes = [str(n.message) for n in app._notifications]
        assert any("sort = 'bogus'" in n for n in notes) and any("colour" in n for n in notes)
        assert main(app).view.sort == "pss"  # the default
