"""The dashboard over a recording: MemtopApp with no collection, its main screen the replay's (issue 15)."""

from __future__ import annotations

from memtop.history.replay import Replay
from memtop.state.settings import SettingsStore
from memtop.tui.app import MemtopApp
from memtop.tui.screens.main import MainScreen
from memtop.tui.screens.replay import ReplayScreen, replay_maps


class ReplayApp(MemtopApp):
    """memtop --replay: the same screens, fed by the replay (no monitor)."""

    def __init__(self, replay: Replay, settings: SettingsStore | None = None) -> None:
        super().__init__(replay.model, None, maps_source=replay_maps(), settings=settings)
        self.replay = replay

    def main_screen_for(self) -> MainScreen:
        return ReplayScreen(self.replay, self.maps)


def run_replay_dashboard(replay: Replay, settings: SettingsStore | None = None) -> int:
    result = ReplayApp(replay, settings).run()
    return result or 0
