"""Flow steps: timed, and what goes wrong in one becomes a failed check naming the flow, the
step and the page, or missing evidence when the browser could not reach the target."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from releasegate.browser.flow import Flow
from releasegate.errors import CheckFailed, StepFailed, TargetUnreachable


def flow(recorded: list[tuple[str, Any, dict[str, Any]]]) -> Flow:
    page = SimpleNamespace(url="http://127.0.0.1:8080/tickets")
    return Flow(
        name="tickets",
        page=page,  # type: ignore[arg-type]
        env_name="prod",
        measure=lambda name, value, **kw: recorded.append((name, value, kw)),
    )


def test_every_step_is_measured_in_milliseconds() -> None:
    recorded: list[tuple[str, Any, dict[str, Any]]] = []
    journey = flow(recorded)

    with journey.step("open the tickets"):
        pass

    assert recorded[0][0] == "step: open the tickets"
    assert recorded[0][2] == {"unit": "ms"}
    assert journey.steps[0][0] == "open the tickets"


def test_a_page_helpers_finding_fails_the_check_with_flow_step_and_page() -> None:
    recorded: list[tuple[str, Any, dict[str, Any]]] = []

    with pytest.raises(CheckFailed) as caught, flow(recorded).step("create a ticket"):
        raise StepFailed("the form says 'Could not create the ticket: 500'")

    assert str(caught.value) == (
        "flow 'tickets', step 'create a ticket', at http://127.0.0.1:8080/tickets (env=prod):"
        " the form says 'Could not create the ticket: 500'"
    )
    assert recorded, "a failed step is measured too"


def test_a_timeout_is_a_product_failure() -> None:
    """The page never showed what the step waits for: the target was measured and is wrong."""
    with pytest.raises(CheckFailed) as caught, flow([]).step("sign in"):
        raise PlaywrightTimeout("Timeout 15000ms exceeded.\nCall log:\n  - waiting for ...")

    assert "step 'sign in'" in str(caught.value)
    assert str(caught.value).endswith("timed out: Timeout 15000ms exceeded.")


def test_an_expect_failure_keeps_expected_and_seen_and_drops_the_call_log() -> None:
    text = 'Locator expected to have text "open"\nActual value: closed\nCall log:\n  - waiting'

    with pytest.raises(CheckFailed) as caught, flow([]).step("see it in the list"):
        raise AssertionError(text)

    assert str(caught.value).endswith('Locator expected to have text "open" Actual value: closed')


def test_an_unreachable_target_is_unreachable() -> None:
    with (
        pytest.raises(
            TargetUnreachable,
            match="could not connect to the target: net::ERR_CONNECTION_REFUSED",
        ),
        flow([]).step("open the tickets"),
    ):
        raise PlaywrightError("net::ERR_CONNECTION_REFUSED at http://127.0.0.1:8080/tickets")
