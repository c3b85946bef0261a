"""A stop that does not finish within ``[worker] stop_timeout_s`` ends the process without the
final commit (code 75), and a second SIGTERM/SIGINT during a stop ends it at once.

The rule (`StopDeadline`) is driven by hand-given times; the guard (`StopGuard`) by a hand-driven
clock and a recording exit function; the settings key is validated like the other [worker] keys.
"""

from __future__ import annotations

import threading

import pytest

from buzzwatch.config import ConfigError
from streams.settings import load_settings
from streams.stop_deadline import EXIT_STOP_TIMEOUT, StopDeadline, StopGuard


# --- the rule ------------------------------------------------------------------------------
@pytest.mark.parametrize("timeout_s, began, now, overdue", [
    (30, None, 1_000.0, False),   # no stop began: never overdue
    (30, 100.0, 100.0, False),
    (30, 100.0, 129.99, False),
    (30, 100.0, 130.0, True),     # exactly the bound
    (30, 100.0, 500.0, True),
    (5, 0.0, 5.0, True),
    (0, 100.0, 10_000.0, False),  # 0: wait for ever
])
def test_a_stop_is_overdue_once_it_has_lasted_stop_timeout_s(timeout_s, began, now, overdue):
    deadline = StopDeadline(timeout_s=timeout_s)
    if began is not None:
        deadline.begin("SIGTERM", now=began)
    assert (deadline.overdue(now) is not None) is overdue


def test_only_the_first_cause_of_a_stop_starts_the_countdown():
    deadline = StopDeadline(timeout_s=10)
    assert deadline.begin("SIGTERM", now=1.0)
    assert not deadline.begin("the worker stopping", now=8.0)
    assert deadline.remaining(now=8.0) == pytest.approx(3.0)
    assert deadline.overdue(now=11.0).startswith("stop (on SIGTERM) did not finish in 10 s")


def test_the_overdue_line_says_what_happens_and_why_it_is_safe():
    deadline = StopDeadline(timeout_s=30)
    deadline.begin("SIGTERM", now=0.0)
    line = deadline.overdue(now=31.0)
    assert line == ("stop (on SIGTERM) did not finish in 30 s; exiting without commit; "
                    "the next start re-reads from the last committed offsets")


@pytest.mark.parametrize("timeout_s", [30, 0])
def test_a_signal_during_a_stop_exits_at_once_even_without_a_bound(timeout_s):
    deadline = StopDeadline(timeout_s=timeout_s)
    assert deadline.signal("SIGTERM", now=10.0) is None  # the first one only begins the stop
    line = deadline.signal("SIGINT", now=12.0)
    assert line.startswith("SIGINT while stopping (on SIGTERM, 2.0 s ago); exiting without commit")


def test_a_signal_after_another_cause_of_stop_exits_at_once():
    deadline = StopDeadline(timeout_s=30)
    deadline.begin("the worker stopping", now=0.0)
    assert deadline.signal("SIGTERM", now=1.0) is not None


# --- the guard: clock and exit injected ------------------------------------------------------
class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class Exits:
    """Records the exit instead of leaving the process; wakes the test when called."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.called = threading.Event()

    def __call__(self, line: str) -> None:
        self.lines.append(line)
        self.called.set()


def guarded(timeout_s: float) -> tuple[StopGuard, Clock, Exits]:
    """A guard on a clock the test moves, exiting into a recorder."""
    clock, exits = Clock(), Exits()
    return StopGuard(timeout_s, exit=exits, clock=clock), clock, exits


NO_COMMIT = "exiting without commit; the next start re-reads from the last committed offsets"


def test_the_guard_exits_from_its_thread_once_the_clock_passes_the_bound():
    guard, clock, exits = guarded(5)
    guard.on_signal("SIGTERM")
    assert guard.thread is not None and guard.thread.daemon  # never keeps the process alive
    assert not exits.called.wait(0.3)  # the clock has not moved: still waiting
    clock.now = 5.0
    assert exits.called.wait(5.0)  # the thread looks at least once a second
    guard.thread.join(5.0)
    assert exits.lines == [f"stop (on SIGTERM) did not finish in 5 s; {NO_COMMIT}"]


def test_the_guard_exits_on_a_second_signal_without_waiting():
    guard, clock, exits = guarded(30)
    guard.on_signal("SIGTERM")
    clock.now = 1.5
    guard.on_signal("SIGTERM")
    assert exits.lines == [f"SIGTERM while stopping (on SIGTERM, 1.5 s ago); {NO_COMMIT}"]


def test_the_guard_starts_one_countdown_whatever_the_number_of_causes():
    guard, clock, exits = guarded(30)
    guard.begin("the worker stopping")
    first = guard.thread
    guard.begin("the worker shutting down")
    assert guard.thread is first and exits.lines == []
    clock.now = 30.0
    assert exits.called.wait(5.0)
    assert exits.lines[0].startswith("stop (on the worker stopping) did not finish in 30 s")


def test_without_a_bound_the_guard_starts_no_thread():
    exits = Exits()
    guard = StopGuard(0, exit=exits, clock=Clock())
    guard.on_signal("SIGTERM")
    guard.begin("the worker stopping")
    assert guard.thread is None and exits.lines == []


def test_the_exit_code_is_distinct_from_a_clean_stop_and_from_the_stall_exit():
    from streams.faust_util import EXIT_UNEXPECTED

    assert EXIT_STOP_TIMEOUT not in (0, 1, EXIT_UNEXPECTED)


# --- the setting ---------------------------------------------------------------------------
def settings_with(tmp_path, worker: str = "", **env):
    path = tmp_path / "buzzwatch.toml"
    path.write_text(f"[worker]\n{worker}\n", encoding="utf-8")
    return load_settings(path, env=env)


@pytest.mark.parametrize("worker, env, expected", [
    ("", {}, 20.0),  # below the 30 s Kubernetes gives a pod to stop
    ("stop_timeout_s = 5", {}, 5.0),
    ("stop_timeout_s = 0", {}, 0.0),
    ("stop_timeout_s = 5", {"BUZZWATCH_STOP_TIMEOUT_S": "12.5"}, 12.5),  # the environment wins
    ("", {"BUZZWATCH_STOP_TIMEOUT_S": ""}, 20.0),  # empty: unset
])
def test_stop_timeout_s_from_the_file_and_the_environment(tmp_path, worker, env, expected):
    assert settings_with(tmp_path, worker, **env).stop_timeout_s == expected


@pytest.mark.parametrize("worker, env", [
    ("stop_timeout_s = -1", {}),
    ('stop_timeout_s = "30"', {}),
    ("stop_timeout_s = inf", {}),
    ("stop_timeout_s = nan", {}),
    ("", {"BUZZWATCH_STOP_TIMEOUT_S": "soon"}),
    ("", {"BUZZWATCH_STOP_TIMEOUT_S": "-5"}),
])
def test_a_bad_stop_timeout_s_is_refused_at_start_up(tmp_path, worker, env):
    with pytest.raises(ConfigError, match="STOP_TIMEOUT_S|stop_timeout_s"):
        settings_with(tmp_path, worker, **env)
