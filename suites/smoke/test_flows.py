"""Smoke, in a real browser: the reference service's critical user journeys, step by step.

Flows run where the environment's `[browser] flows` lists them; each step is timed (a
measurement), and a failure names the flow, the step, the page and what it showed.
"""

import uuid

import pytest

from releasegate.browser.flow import Flow
from releasegate.browser.reference_pages import (
    ERROR_TRACKER,
    DashboardPage,
    HomePage,
    SignInPage,
    TicketsPage,
)
from releasegate.config import BrowserLogin


@pytest.mark.flow("sign-in")
def test_a_user_signs_in_and_sees_the_dashboard(flow: Flow, browser_login: BrowserLogin) -> None:
    """A user can sign in and see the dashboard.

    Sign in with the environment's account; the dashboard shows the ticket counts."""
    sign_in, dashboard = SignInPage(flow.page), DashboardPage(flow.page)

    with flow.step("open the sign-in page"):
        sign_in.open()
    with flow.step("sign in"):
        sign_in.sign_in(browser_login.username, browser_login.password)
    with flow.step("see the ticket counts"):
        dashboard.expect_counts()


@pytest.mark.flow("tickets")
@pytest.mark.writes
def test_a_user_creates_edits_and_deletes_a_ticket(flow: Flow, browser_login: BrowserLogin) -> None:
    """A user can create, edit and delete a ticket.

    Create a ticket through the page's form, see it listed, edit it, delete it."""
    sign_in, tickets = SignInPage(flow.page), TicketsPage(flow.page)
    title = f"releasegate smoke {uuid.uuid4().hex[:8]}"

    with flow.step("sign in"):
        sign_in.open()
        sign_in.sign_in(browser_login.username, browser_login.password)
    with flow.step("open the tickets"):
        tickets.open()
    with flow.step("create a ticket"):
        tickets.create(title)
    with flow.step("see it in the list"):
        tickets.expect_listed_after_reload(title, "open")
    with flow.step("edit it"):
        tickets.edit(title, f"{title} (edited)", "in_progress")
        tickets.expect_listed_after_reload(f"{title} (edited)", "in_progress")
    with flow.step("delete it"):
        tickets.delete(f"{title} (edited)")
        tickets.expect_not_listed(f"{title} (edited)")


@pytest.mark.flow("error-tracking")
def test_an_error_in_the_page_reaches_the_error_tracker(flow: Flow) -> None:
    """An error in a page reaches the error tracker.

    An uncaught error on the home page is reported: an envelope carrying its message is
    sent to the error tracker (the reference service's own collector)."""
    home = HomePage(flow.page)

    with flow.step("open the home page"):
        home.open()
    flow.trigger_error(ERROR_TRACKER, carries_message=True)
