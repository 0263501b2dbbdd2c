"""A pass gives way to the event loop while keys are pressed (issue 17, goal 3), within an allowance."""

from __future__ import annotations

from memtop.state.give_way import EVERY, HOLD, MAX_PER_PASS, GiveWay


class Clock:
    def __init__(self) -> None:
        self.now = 0.0  # exact in binary: the sleeps below compare equal
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def run(way: GiveWay, processes: int) -> None:
    way.begin()
    for _ in range(processes):
        way.tick()


def test_no_key_no_pause() -> None:
    clock = Clock()
    way = GiveWay(clock, clock.sleep)
    run(way, 5000)
    assert clock.slept == [] and way.waited == 0


def test_a_key_holds_the_pass_until_the_hold_ends_then_it_runs_on() -> None:
    clock = Clock()
    way = GiveWay(clock, clock.sleep)
    way.hold()
    run(way, 5000)
    # The first look (after EVERY processes) sleeps out the hold; the rest of the pass runs.
    assert clock.slept == [HOLD] and way.waited == HOLD
    run(way, 5000)
    assert clock.slept == [HOLD] and way.waited == 0  # the next pass: no key, no pause


def test_a_key_held_down_delays_a_pass_at_most_the_allowance() -> None:
    clock = Clock()

    def sleep(seconds: float) -> None:
        clock.sleep(seconds)
        way.hold()  # autorepeat: another key during every pause

    way = GiveWay(clock, sleep)
    way.hold()
    run(way, 5000)
    assert abs(sum(clock.slept) - MAX_PER_PASS) < 1e-9 and abs(way.waited - MAX_PER_PASS) < 1e-9


def test_the_thread_looks_only_every_few_processes() -> None:
    clock = Clock()
    way = GiveWay(clock, clock.sleep)
    way.hold()
    run(way, EVERY - 1)
    assert clock.slept == []
    way.tick()
    assert clock.slept == [HOLD]
