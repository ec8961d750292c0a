"""A browser context that records what a check may need to show: every console message and
uncaught error, failed requests to the target, a trace, a HAR, a screenshot, a video.

Everything is recorded into a private temporary folder and kept (masked, via `ArtefactStore`)
only when asked: on failure, or always when the environment or the command line says so.
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Page, Request, Response
from playwright.sync_api import Error as PlaywrightError

from releasegate.browser.artefacts import Artefact, ArtefactStore
from releasegate.net import Origin, origin

# How long a screenshot may take before the artefact is given up (a hung page must not hang
# the run's teardown).
_SCREENSHOT_TIMEOUT_MS = 5000


@dataclass(frozen=True)
class ConsoleEntry:
    """One console message or uncaught page error."""

    kind: str  # console type ("error", "warning", "log", ...) or "pageerror"
    text: str
    location: str = ""
    page_url: str = ""
    # the script or resource the message is about: for "Failed to load resource", the URL of
    # the request that failed
    url: str = ""

    @property
    def is_error(self) -> bool:
        return self.kind in ("error", "pageerror")

    def line(self) -> str:
        where = f" ({self.location})" if self.location else ""
        return f"{self.kind}: {self.text}{where}"


@dataclass(frozen=True)
class FailedRequest:
    """A request to the target's origin that answered 4xx/5xx or did not complete."""

    method: str
    url: str
    status: int | None = None
    failure: str | None = None

    def line(self) -> str:
        outcome = (
            f"answered {self.status}" if self.status is not None else f"failed: {self.failure}"
        )
        return f"{self.method} {self.url} {outcome}"


@dataclass
class SentRequest:
    """One request the page sent (any origin), and how it ended: the request log that
    `expect_requests`, `forbid_requests` and the mixed-content rule judge."""

    method: str
    url: str
    resource_type: str = ""
    status: int | None = None
    failure: str | None = None
    # the top frame's own document (the page itself), not something it loaded
    is_document: bool = False

    def line(self, mask: Callable[[str], str] = str) -> str:
        """`POST http://host/api/1/envelope/ 200` (`mask` hides secrets in the URL)."""
        if self.status is not None:
            outcome = str(self.status)
        elif self.failure is not None:
            outcome = f"failed: {self.failure}"
        else:
            outcome = "no answer yet"
        return f"{self.method} {mask(self.url)} {outcome}"


@dataclass
class PageWatcher:
    """Listens to one page for console messages, page errors and failed same-origin requests."""

    origin: Origin
    console: list[ConsoleEntry] = field(default_factory=list)
    failed_requests: list[FailedRequest] = field(default_factory=list)
    # every URL the page (its frames, its scripts) asked for; the browser's own requests,
    # such as /favicon.ico, are not reported to the page and so are not here
    requested: set[str] = field(default_factory=set)
    # every request the page sent, in order, with its answer's status or failure
    sent: dict[Request, SentRequest] = field(default_factory=dict)

    def attach(self, page: Page) -> None:
        page.on("console", self._on_console)
        page.on("pageerror", lambda error: self._on_page_error(page, error))
        page.on("request", self._on_request)
        page.on("requestfailed", self._on_request_failed)
        page.on("response", self._on_response)

    def _on_request(self, request: Request) -> None:
        self.requested.add(request.url)
        self.sent[request] = SentRequest(
            request.method,
            request.url,
            request.resource_type,
            is_document=request.is_navigation_request() and request.frame.parent_frame is None,
        )

    def _on_console(self, message: ConsoleMessage) -> None:
        location: dict[str, Any] = dict(message.location or {})
        where = ""
        if location.get("url"):
            where = f"{location['url']}:{location.get('lineNumber', 0)}"
        self.console.append(
            ConsoleEntry(
                message.type,
                message.text,
                where,
                message.page.url if message.page else "",
                url=str(location.get("url") or ""),
            )
        )

    def _on_page_error(self, page: Page, error: PlaywrightError) -> None:
        stack = (error.stack or "").splitlines()
        where = stack[1].strip().removeprefix("at ") if len(stack) > 1 else ""
        self.console.append(ConsoleEntry("pageerror", error.message, where, page.url))

    def _same_origin(self, url: str) -> bool:
        return origin(url) == self.origin

    def _counts(self, request: Request) -> bool:
        # the page's own document is judged by the load check; this is about what it loads
        if request.is_navigation_request() and request.frame.parent_frame is None:
            return False
        return self._same_origin(request.url)

    def _on_request_failed(self, request: Request) -> None:
        if request in self.sent:
            self.sent[request].failure = request.failure or "failed"
        if self._counts(request):
            self.failed_requests.append(
                FailedRequest(request.method, request.url, failure=request.failure or "failed")
            )

    def _on_response(self, response: Response) -> None:
        if response.request in self.sent:
            self.sent[response.request].status = response.status
        if response.status >= 400 and self._counts(response.request):
            self.failed_requests.append(
                FailedRequest(response.request.method, response.url, status=response.status)
            )

    @property
    def errors(self) -> list[ConsoleEntry]:
        return [entry for entry in self.console if entry.is_error]


class ContextRecording:
    """A new browser context with its recorders; `close()` then `keep()` or `discard()`."""

    def __init__(
        self,
        browser: Browser,
        context_args: dict[str, Any],
        *,
        origin_url: str,
        title: str,
        video: bool = False,
    ) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="releasegate-browser-"))
        self.origin = origin(origin_url)
        self.watchers: list[PageWatcher] = []
        self._screenshots: list[Path] = []
        self._videos: list[Path] = []
        self._closed = False
        self._kept: list[Artefact] | None = None
        args = dict(context_args)
        args["record_har_path"] = self.folder / "network.har"
        if video:
            args["record_video_dir"] = self.folder / "video"
        self.context: BrowserContext = browser.new_context(**args)
        self.context.on("page", self._watch)
        self.context.tracing.start(title=title, screenshots=True, snapshots=True, sources=False)

    def _watch(self, page: Page) -> None:
        watcher = PageWatcher(self.origin)
        watcher.attach(page)
        self.watchers.append(watcher)

    @property
    def console(self) -> list[ConsoleEntry]:
        return [entry for watcher in self.watchers for entry in watcher.console]

    @property
    def failed_requests(self) -> list[FailedRequest]:
        return [request for watcher in self.watchers for request in watcher.failed_requests]

    @property
    def requested(self) -> frozenset[str]:
        """Every URL the context's pages asked for (not the browser's own requests)."""
        return frozenset(url for watcher in self.watchers for url in watcher.requested)

    @property
    def sent(self) -> list[SentRequest]:
        """Every request the context's pages sent, page by page, in the order sent."""
        return [sent for watcher in self.watchers for sent in watcher.sent.values()]

    def screenshot(self, *, full_page: bool = False) -> None:
        """A PNG of every open page, now (the state a failure left them in)."""
        for index, page in enumerate(self.context.pages):
            if page.is_closed():
                continue
            path = self.folder / f"screenshot-{index + 1}.png"
            try:
                page.screenshot(path=path, full_page=full_page, timeout=_SCREENSHOT_TIMEOUT_MS)
            except PlaywrightError:
                continue  # a crashed or hung page: the trace still shows it
            self._screenshots.append(path)

    def close(self) -> None:
        """Stop the trace and close the context (Playwright writes the HAR and videos now)."""
        if self._closed:
            return
        self._closed = True
        pages = list(self.context.pages)
        # a browser that went away leaves no trace to keep, and nothing to close
        with contextlib.suppress(PlaywrightError):
            self.context.tracing.stop(path=self.folder / "trace.zip")
        with contextlib.suppress(PlaywrightError):
            self.context.close()
        for page in pages:
            video = page.video
            if video is None:
                continue
            try:
                self._videos.append(Path(video.path()))
            except PlaywrightError:
                continue

    def console_log(self) -> str:
        lines = [entry.line() for entry in self.console]
        lines += [f"request {failed.line()}" for failed in self.failed_requests]
        return "\n".join(lines) + "\n" if lines else "(no console messages)\n"

    def keep(self, store: ArtefactStore, check_id: str) -> list[Artefact]:
        """Masked copies of the screenshot(s), trace, HAR, console log and video(s), kept once
        (several checks judging one page visit share its artefacts)."""
        if self._kept is not None:
            return self._kept
        self.close()
        kept: list[Artefact] = []
        for index, path in enumerate(self._screenshots):
            name = "screenshot.png" if index == 0 else f"screenshot-{index + 1}.png"
            kept.append(store.keep_file(check_id, "screenshot", path, name))
        trace = self.folder / "trace.zip"
        if trace.is_file():
            kept.append(store.keep_file(check_id, "trace", trace, "trace.zip"))
        har = self.folder / "network.har"
        if har.is_file():
            kept.append(store.keep_file(check_id, "har", har, "network.har"))
        kept.append(store.keep_text(check_id, "console", self.console_log(), "console.log"))
        for index, path in enumerate(self._videos):
            if path.is_file():
                kept.append(store.keep_file(check_id, "video", path, f"video-{index + 1}.webm"))
        self._kept = kept
        return kept

    def discard(self) -> None:
        """Close, and remove the temporary recordings (unmasked: they never leave this folder)."""
        try:
            self.close()
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)
