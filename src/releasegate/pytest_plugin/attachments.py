"""Artefacts on the reports people open: pytest-html (the screenshot inline, the rest as
links) and Allure (as attachments). The files are already masked (`ArtefactStore`). A check's
measurements go to Allure too, as JSON, masked here."""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Generator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from releasegate.browser.artefacts import Artefact
from releasegate.pytest_plugin._keys import GATE_RUN, MEASUREMENTS

_LABELS = {
    "screenshot": "Screenshot",
    "trace": "Playwright trace",
    "har": "Network (HAR)",
    "console": "Console log",
    "video": "Video",
    "locust-report": "Locust report",
    "locust-stats": "Locust statistics (JSON)",
    "locust-history": "Locust statistics per second (CSV)",
    "locust-log": "Locust log",
}


def _allure_type(kind: str) -> tuple[object, str | None]:
    import allure

    types = allure.attachment_type
    return {
        "screenshot": (types.PNG, None),
        "console": (types.TEXT, None),
        "har": (types.JSON, "har"),
        "trace": (None, "zip"),
        "video": (types.WEBM, None),
        "locust-report": (types.HTML, None),
        "locust-stats": (types.JSON, None),
        "locust-history": (types.CSV, None),
        "locust-log": (types.TEXT, None),
    }.get(kind, (None, None))


def _html_dir(config: pytest.Config, run_dir: Path) -> Path:
    html = getattr(config.option, "htmlpath", None)
    if not html:
        return run_dir
    return (config.invocation_params.dir / os.path.expandvars(str(html))).expanduser().parent


def attach(
    item: pytest.Item, report: pytest.TestReport, artefacts: list[Artefact], run_dir: Path
) -> None:
    """Put `artefacts` (paths relative to `run_dir`) on this phase's report."""
    if not artefacts:
        return
    config = item.config
    pytest_html = config.pluginmanager.getplugin("html")
    if pytest_html is not None:
        extras: list[Any] = list(getattr(report, "extras", []))
        html_dir = _html_dir(config, run_dir)
        for artefact in artefacts:
            path = run_dir / artefact.path
            label = _LABELS.get(artefact.kind, artefact.kind)
            if artefact.kind == "screenshot":
                # inline, so the self-contained report shows it with no file beside it
                encoded = base64.b64encode(path.read_bytes()).decode()
                extras.append(pytest_html.extras.png(encoded, name=label))
            else:
                link = quote(Path(os.path.relpath(path, html_dir)).as_posix())
                extras.append(pytest_html.extras.url(link, name=label))
        report.extras = extras  # type: ignore[attr-defined]  # pytest-html reads it
    if config.pluginmanager.has_plugin("allure_listener"):
        import allure

        for artefact in artefacts:
            kind, extension = _allure_type(artefact.kind)
            allure.attach.file(
                str(run_dir / artefact.path),
                name=_LABELS.get(artefact.kind, artefact.kind),
                attachment_type=kind,
                extension=extension,
            )


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, None, None]:
    """After the test body, pass or fail: its measurements as one Allure JSON attachment."""
    try:
        return (yield)
    finally:
        measurements = item.stash.get(MEASUREMENTS, [])
        run = item.config.stash.get(GATE_RUN, None)
        if run and measurements and item.config.pluginmanager.has_plugin("allure_listener"):
            import allure

            text = run.redactor.redact(json.dumps(measurements, indent=2))
            allure.attach(text, "measurements", allure.attachment_type.JSON)
