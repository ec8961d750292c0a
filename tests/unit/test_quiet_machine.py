"""The tests' machine lock (tests/quiet_machine.py): slow tests share it, a quiet test has it
alone, and a wait for it is bounded."""

from __future__ import annotations

import time

import pytest

from tests import quiet_machine


@pytest.fixture
def xdist_run(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYTEST_XDIST_TESTRUNUID", f"unit-{time.monotonic_ns()}")
    monkeypatch.setattr(quiet_machine, "WAIT_S", 0.6)


@pytest.mark.usefixtures("xdist_run")
def test_slow_tests_share_the_machine() -> None:
    with quiet_machine.machine_lock(exclusive=False):
        started = time.monotonic()
        with quiet_machine.machine_lock(exclusive=False):
            assert time.monotonic() - started < 0.5


@pytest.mark.usefixtures("xdist_run")
def test_a_quiet_test_waits_for_the_slow_test_running_and_then_runs_anyway() -> None:
    with quiet_machine.machine_lock(exclusive=False):
        started = time.monotonic()
        with (
            pytest.warns(UserWarning, match="running anyway"),
            quiet_machine.machine_lock(exclusive=True),
        ):
            waited = time.monotonic() - started
    assert waited >= 0.6


@pytest.mark.usefixtures("xdist_run")
def test_a_slow_test_waits_while_a_quiet_test_runs() -> None:
    with (
        quiet_machine.machine_lock(exclusive=True),
        pytest.warns(UserWarning, match="running anyway"),
        quiet_machine.machine_lock(exclusive=False),
    ):
        pass


def test_without_xdist_there_is_no_lock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PYTEST_XDIST_TESTRUNUID", raising=False)
    assert quiet_machine._lock_files() is None
