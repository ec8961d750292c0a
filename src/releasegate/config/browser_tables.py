"""`[browser]`: page checks and flows in a real Chromium, and the account flows sign in with."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from releasegate.config.strict_base import Pattern, Seconds, StrictModel, UrlPath


class BrowserLogin(StrictModel):
    """The account browser flows sign in with (the password should come from a ${VAR})."""

    path: UrlPath = "/login"
    username: str
    password: str


class BrowserConfig(StrictModel):
    """The browser gate: page checks and flows in a real Chromium (Playwright)."""

    enabled: bool = True
    # Chromium or Chrome to drive; else $RELEASEGATE_CHROMIUM, Playwright's own, then PATH
    executable: str | None = None
    headless: bool = True
    # per navigation and per action of a flow
    timeout: Seconds = 15.0
    # defaults from the seeds' checklists: page load under 5 s, LCP under 2.5 s, CLS under 0.1
    load_max: Seconds = 5.0
    lcp_max: Seconds = 2.5
    cls_max: float = Field(default=0.1, ge=0)
    # console errors that are known and accepted (regular expressions, searched)
    console_allow: list[Pattern] = Field(default_factory=list)
    mobile_device: str = "Pixel 7"
    # "on-failure": screenshot, trace, console log and HAR of failed checks; "always": of all
    artefacts: Literal["on-failure", "always"] = "on-failure"
    # sent by the browser with every request, e.g. a preview-protection bypass header
    headers: dict[str, str] = Field(default_factory=dict)
    # set for the target's host before every page and flow: name -> value
    cookies: dict[str, str] = Field(default_factory=dict)
    # flows (`@pytest.mark.flow("name")`, shell patterns) to run here: a flow walks one
    # application's pages, so each environment opts in to the flows written for it
    flows: list[str] = Field(default_factory=list)
    login: BrowserLogin | None = None
    # axe-core on every page visit (serious and critical violations): "advisory" shows them
    # without blocking, "blocking" rolls back on them, "off" leaves the check out
    accessibility: Literal["advisory", "blocking", "off"] = "advisory"
