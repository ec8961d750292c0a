"""Browser glue: pytest-playwright's fixtures pointed at the located Chromium and the target,
every context recorded and its artefacts kept masked on failure, page visits for `[[pages]]`,
and flows.

Registered by the plugin's `pytest_configure` only when a gate run is active, and after the
entry-point plugins, so these fixtures take precedence over pytest-playwright's of the same
name (for plugins, the one registered last wins) and a repository's own Playwright tests are
untouched when no environment is chosen.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, BrowserContext, Playwright
from playwright.sync_api import Error as PlaywrightError

from releasegate.browser.artefacts import ArtefactStore
from releasegate.browser.flow import Flow
from releasegate.browser.locate import INSTALL_HINT, BrowserExecutable, locate_chromium
from releasegate.browser.recording import ContextRecording
from releasegate.browser.visit import PageTarget, PageVisit, visit_page
from releasegate.config import BrowserConfig, BrowserLogin, Page
from releasegate.errors import BrowserUnavailable, EvidenceMissing
from releasegate.pytest_plugin._keys import ARTEFACTS, GATE_RUN, GateRun
from releasegate.pytest_plugin.fixtures import Measure

PLUGIN_NAME = "releasegate-browser"
# set when a test's setup or call raised (not skipped): its browser artefacts are kept
_FAILED = pytest.StashKey[bool]()
# the fixtures a browser check has in its closure
BROWSER_FIXTURES = frozenset({"browser", "page_visit", "page", "context", "new_context"})
MOBILE_SUFFIX = "@mobile"


@dataclass(frozen=True)
class BrowserPage:
    """One `[[pages]]` entry in one variant (desktop, or a phone's device profile)."""

    spec: Page
    device: str | None = None

    @property
    def check_id(self) -> str:
        return self.spec.check_id + (MOBILE_SUFFIX if self.device else "")

    @property
    def name(self) -> str:
        """The page in a check's title (`{browser_page}`): its check id, `/dashboard@mobile`."""
        return self.check_id

    def load_max(self, config: BrowserConfig) -> float:
        return self.spec.load_max or config.load_max

    def lcp_max(self, config: BrowserConfig) -> float:
        return self.spec.lcp_max or config.lcp_max

    def cls_max(self, config: BrowserConfig) -> float:
        return self.spec.cls_max if self.spec.cls_max is not None else config.cls_max

    def console_allow(self, config: BrowserConfig) -> list[str]:
        return [*config.console_allow, *self.spec.console_allow]


PagePredicate = Callable[[BrowserPage], bool]


def for_pages(predicate: PagePredicate) -> Callable[[Any], Any]:
    """Generate a page check only for the pages `predicate` accepts (say, mobile variants):
    a check with nothing to judge would pass without having looked."""

    def mark(test: Any) -> Any:
        test.releasegate_pages = predicate
        return test

    return mark


def accessibility_check(test: Any) -> Any:
    """Mark a page check as the accessibility one: left out with `[browser] accessibility =
    "off"`, advisory unless it is "blocking"."""
    test.releasegate_accessibility = True
    return test


def _is_accessibility_check(item: pytest.Item) -> bool:
    return bool(getattr(getattr(item, "function", None), "releasegate_accessibility", False))


def is_browser_check(item: pytest.Item) -> bool:
    return bool(BROWSER_FIXTURES & set(getattr(item, "fixturenames", ())))


def browser_pages(pages: list[Page], config: BrowserConfig) -> list[BrowserPage]:
    """Every page to check in the browser: desktop, plus mobile where the page asks for it."""
    variants = []
    for page in pages:
        if not page.browser:
            continue
        variants.append(BrowserPage(page))
        if page.mobile:
            device = page.mobile if isinstance(page.mobile, str) else config.mobile_device
            variants.append(BrowserPage(page, device))
    return variants


def _applies(item: pytest.Item) -> bool:
    """Whether a page check marked `for_pages(...)` is meant for this item's page. (The pages
    are parametrized alike for every check, so one visit per page serves them all; the
    checks that do not apply are deselected.)"""
    predicate: PagePredicate | None = getattr(
        getattr(item, "function", None), "releasegate_pages", None
    )
    callspec = getattr(item, "callspec", None)
    page = callspec.params.get("browser_page") if callspec is not None else None
    return predicate is None or not isinstance(page, BrowserPage) or predicate(page)


def select_browser_checks(
    items: list[pytest.Item], config: BrowserConfig
) -> tuple[list[pytest.Item], list[pytest.Item]]:
    """(kept, deselected): browser checks go when `[browser] enabled = false`; page checks go
    for pages they are not meant for; flows go unless `[browser] flows` names them (shell
    patterns; a flow is opt-in per environment)."""
    kept, dropped = [], []
    for item in items:
        marker = item.get_closest_marker("flow")
        if (
            (is_browser_check(item) and not config.enabled)
            or (_is_accessibility_check(item) and config.accessibility == "off")
            or not _applies(item)
            or (
                marker is not None
                and not any(
                    fnmatch.fnmatchcase(str(marker.args[0]) if marker.args else item.name, pattern)
                    for pattern in config.flows
                )
            )
        ):
            dropped.append(item)
        else:
            kept.append(item)
    return kept, dropped


def _keep_everything(config: pytest.Config, browser: BrowserConfig) -> bool:
    """Artefacts of passing checks too: `[browser] artefacts = "always"`, or pytest-playwright's
    `--screenshot on`, `--tracing on`, `--video on`."""
    return browser.artefacts == "always" or any(
        config.getoption(option, "off") == "on" for option in ("screenshot", "tracing", "video")
    )


def _wants_video(config: pytest.Config) -> bool:
    return config.getoption("video", "off") in ("on", "retain-on-failure")


# -- hooks ----------------------------------------------------------------------------------


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    run = config.stash.get(GATE_RUN, None)
    if run is None:
        return
    accessibility = run.env.model.browser.accessibility
    for item in items:
        if is_browser_check(item):
            # before `-m` selects: `pytest -m "smoke and not browser"` skips the browser
            item.add_marker(pytest.mark.browser)
        if _is_accessibility_check(item) and accessibility != "blocking":
            item.add_marker(pytest.mark.advisory)
    kept, dropped = select_browser_checks(items, run.env.model.browser)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    # Before the report is made (this wrapper is registered after the plugin's own, so it is
    # the outer one): keep a failed page visit's artefacts now, so the report carries them.
    failed = call.excinfo is not None and not call.excinfo.errisinstance(pytest.skip.Exception)
    if failed and call.when in ("setup", "call"):
        item.stash[_FAILED] = True
    run = item.config.stash.get(GATE_RUN, None)
    funcargs: dict[str, Any] = getattr(item, "funcargs", {})
    visit = funcargs.get("page_visit")
    if run is not None and isinstance(visit, PageVisit) and call.when == "call":
        keep_all = _keep_everything(item.config, run.env.model.browser)
        if (failed or keep_all) and visit.recording is not None:
            store = ArtefactStore(run.run_dir, run.redactor)
            artefacts = visit.recording.keep(store, f"visit {visit.target.check_id}")
            item.stash.setdefault(ARTEFACTS, []).extend(artefacts)
    return (yield)


# -- fixtures: pytest-playwright's chain, pointed at our browser and target -----------------------


@pytest.fixture(scope="session")
def browser_config(gate_run: GateRun) -> BrowserConfig:
    """The environment's `[browser]` table."""
    return gate_run.env.model.browser


@pytest.fixture(scope="session")
def browser_executable(
    browser_config: BrowserConfig, playwright: Playwright, browser_name: str
) -> BrowserExecutable | None:
    """The Chromium to launch (see `releasegate.browser.locate`); None for Firefox/WebKit and
    for `--browser-channel`, which Playwright finds itself."""
    if browser_name != "chromium":
        return None
    return locate_chromium(
        browser_config.executable, playwright_path=playwright.chromium.executable_path
    )


@pytest.fixture(scope="session")
def browser_type_launch_args(
    pytestconfig: pytest.Config,
    browser_config: BrowserConfig,
    browser_executable: BrowserExecutable | None,
) -> dict[str, Any]:
    """pytest-playwright's launch arguments: headless unless `--headed` or the environment
    says otherwise, the located executable, `--browser-channel`, `--slowmo`."""
    args: dict[str, Any] = {
        "headless": browser_config.headless and not pytestconfig.getoption("headed", False)
    }
    channel = pytestconfig.getoption("browser_channel", None)
    if channel:
        args["channel"] = channel
    elif browser_executable is not None:
        args["executable_path"] = str(browser_executable.path)
    slowmo = pytestconfig.getoption("slowmo", 0)
    if slowmo:
        args["slow_mo"] = slowmo
    return args


@pytest.fixture(scope="session")
def browser(
    launch_browser: Callable[[], Browser], browser_executable: BrowserExecutable | None
) -> Iterator[Browser]:
    """One browser per pytest process (per xdist worker). A browser that cannot start is
    missing evidence: every browser check is inconclusive (HOLD), with the reason."""
    try:
        started = launch_browser()
    except PlaywrightError as exc:
        which = browser_executable.describe() if browser_executable else "the browser"
        first = exc.message.strip().splitlines()[0] if exc.message.strip() else "no message"
        raise BrowserUnavailable(f"cannot start {which}: {first}; {INSTALL_HINT}") from None
    yield started
    started.close()


@pytest.fixture(scope="session")
def browser_context_args(
    gate_run: GateRun,
    browser_config: BrowserConfig,
    playwright: Playwright,
    device: str | None,
) -> dict[str, Any]:
    """Every context: the target as base URL (`page.goto("/")`), its TLS setting, the
    environment's browser headers, pytest-playwright's `--device`."""
    args: dict[str, Any] = {}
    if device:
        args.update(playwright.devices[device])
    args["base_url"] = gate_run.base_url
    args["ignore_https_errors"] = not gate_run.env.target.verify_tls
    if browser_config.headers:
        args["extra_http_headers"] = dict(browser_config.headers)
    auth = gate_run.env.target.basic_auth
    if auth is not None and gate_run.base_url:
        # sent from the first request, and to the target's origin only
        parts = urlsplit(gate_run.base_url)
        args["http_credentials"] = {
            "username": auth.username,
            "password": auth.password,
            "origin": f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}",
            "send": "always",
        }
    return args


def _prepare(context: BrowserContext, run: GateRun, config: BrowserConfig) -> None:
    context.set_default_timeout(config.timeout * 1000)
    context.set_default_navigation_timeout(config.timeout * 1000)
    if config.cookies:
        context.add_cookies(
            [{"name": k, "value": v, "url": run.base_url} for k, v in config.cookies.items()]
        )


@pytest.fixture
def new_context(
    browser: Browser,
    browser_context_args: dict[str, Any],
    gate_run: GateRun,
    browser_config: BrowserConfig,
    request: pytest.FixtureRequest,
) -> Iterator[Callable[..., BrowserContext]]:
    """pytest-playwright's `new_context`, recorded: console, failed requests, trace and HAR
    into a private folder; on failure (or always, if asked) a screenshot of every open page,
    and all of it kept masked under the run's artefacts/ and attached to the reports."""
    marker = request.node.get_closest_marker("browser_context_args")
    defaults = {**browser_context_args, **(marker.kwargs if marker else {})}
    recordings: list[ContextRecording] = []
    video = _wants_video(request.config)

    def create(**kwargs: Any) -> BrowserContext:
        recording = ContextRecording(
            browser,
            {**defaults, **kwargs},
            origin_url=gate_run.base_url,
            title=request.node.nodeid,
            video=video,
        )
        _prepare(recording.context, gate_run, browser_config)
        recordings.append(recording)
        return recording.context

    yield create
    keep = request.node.stash.get(_FAILED, False) or _keep_everything(
        request.config, browser_config
    )
    store = ArtefactStore(gate_run.run_dir, gate_run.redactor)
    for recording in recordings:
        try:
            if keep:
                recording.screenshot(full_page=request.config.getoption("full_page_screenshot"))
                kept = recording.keep(store, request.node.nodeid)
                request.node.stash.setdefault(ARTEFACTS, []).extend(kept)
        finally:
            recording.discard()


@pytest.fixture(scope="module")
def page_visit(
    browser_page: BrowserPage,
    browser: Browser,
    browser_context_args: dict[str, Any],
    browser_config: BrowserConfig,
    playwright: Playwright,
    gate_run: GateRun,
    pytestconfig: pytest.Config,
) -> Iterator[PageVisit]:
    """One visit of a `[[pages]]` entry in the browser, shared by the checks that judge it."""
    spec = browser_page.spec
    args = dict(browser_context_args)
    if browser_page.device:
        try:
            args.update(playwright.devices[browser_page.device])
        except KeyError:
            raise EvidenceMissing(
                f"unknown device {browser_page.device!r} for page {spec.check_id}"
                f" ([[pages]] mobile or [browser] mobile_device in {gate_run.env.path});"
                f" Playwright knows e.g. 'Pixel 7', 'iPhone 13', 'Galaxy S9+'"
            ) from None
        args["base_url"] = gate_run.base_url
    target = PageTarget(
        check_id=browser_page.check_id,
        url=gate_run.base_url + spec.path,
        expect_text=spec.expect_text,
        expect_selector=spec.expect_selector,
        timeout_s=spec.timeout or browser_config.timeout,
        mobile=browser_page.device is not None,
        expect_requests=tuple(spec.expect_requests),
        accessibility=browser_config.accessibility != "off",
    )
    visit = visit_page(
        browser,
        args,
        target,
        origin_url=gate_run.base_url,
        video=_wants_video(pytestconfig),
        prepare=lambda context: _prepare(context, gate_run, browser_config),
    )
    yield visit
    if visit.recording is not None:
        visit.recording.discard()


@pytest.fixture
def flow(request: pytest.FixtureRequest, page: Any, gate_run: GateRun, measure: Measure) -> Flow:
    """The journey this test walks (`@pytest.mark.flow("name")`): `with flow.step("..."):`
    times each step and names it in a failure."""
    marker = request.node.get_closest_marker("flow")
    name = str(marker.args[0]) if marker and marker.args else request.node.originalname
    return Flow(name=name, page=page, env_name=gate_run.env.name, measure=measure)


@pytest.fixture(scope="session")
def browser_login(browser_config: BrowserConfig, gate_run: GateRun) -> BrowserLogin:
    """The account flows sign in with (`[browser.login]`); a flow without one cannot run."""
    if browser_config.login is None:
        raise EvidenceMissing(
            f"this flow signs in, and {gate_run.env.path} has no [browser.login]"
            " (username, password); add one or leave the flow out of [browser] flows"
        )
    return browser_config.login
