"""Hooks, notifications and CI summaries: recorded, bounded, masked, never changing the verdict."""

from __future__ import annotations

import sys
from pathlib import Path

import httpx
import pytest

from releasegate.config import NotifyConfig
from releasegate.evidence.decide import Decision, Reason, Verdict
from releasegate.ops.verdict_actions import (
    HookRequest,
    append_step_summary,
    notify,
    run_hook,
    step_summary,
)
from releasegate.redact import MASK, Redactor

SECRET = "hook-secret-value"


def hook(tmp_path: Path, code: str, *, execute: bool = True, timeout: float = 10) -> HookRequest:
    return HookRequest("rollback", [sys.executable, "-c", code], timeout, tmp_path, execute)


def test_a_hook_runs_once_per_run(tmp_path: Path) -> None:
    """The second call finds the marker and reports the first run instead of running again."""
    code = "open('count', 'a').write('x')"

    first = run_hook(hook(tmp_path, code), tmp_path, {}, Redactor())
    second = run_hook(hook(tmp_path, code), tmp_path, {}, Redactor())

    assert (tmp_path / "count").read_text() == "x"
    assert (first.executed, first.exit_code) == (True, 0)
    assert second.executed is True
    assert "at most once" in second.reason


def test_a_hook_that_fails_is_recorded_as_failed(tmp_path: Path) -> None:
    """A non-zero exit is kept with the output."""
    record = run_hook(
        hook(tmp_path, "print('boom'); raise SystemExit(7)"), tmp_path, {}, Redactor()
    )

    assert record.failed
    assert record.exit_code == 7
    assert "boom" in record.output


def test_a_hook_that_hangs_is_killed_at_its_timeout(tmp_path: Path) -> None:
    """Bounded: a hook past its timeout is killed and recorded as timed out."""
    record = run_hook(
        hook(tmp_path, "import time; time.sleep(30)", timeout=0.5), tmp_path, {}, Redactor()
    )

    assert record.timed_out
    assert record.failed
    assert record.duration_s is not None
    assert record.duration_s < 10


def test_hook_output_is_masked(tmp_path: Path) -> None:
    """A secret the hook prints is masked in what is kept."""
    code = f"print('{SECRET}')"

    record = run_hook(hook(tmp_path, code), tmp_path, {}, Redactor.of([SECRET]))

    assert record.output.strip() == MASK
    assert SECRET not in (tmp_path / "actions" / "rollback.log").read_text()


def test_without_execute_nothing_runs(tmp_path: Path) -> None:
    """Not executed: the command is shown, nothing runs, no marker is left."""
    record = run_hook(hook(tmp_path, "open('ran', 'w')", execute=False), tmp_path, {}, Redactor())

    assert not record.executed
    assert "--execute-rollback" in record.reason
    assert not (tmp_path / "ran").exists()
    assert not (tmp_path / "actions").exists()


ENDPOINT_CHECK = "suites/smoke/test_endpoints.py::test_endpoint[GET /api/tickets]"
ENDPOINT_TITLE = "Endpoint GET /api/tickets answers as expected, in time"


def decision() -> Decision:
    return Decision(
        Verdict.ROLLBACK,
        (
            Reason("check-failed", "answered 500", ENDPOINT_CHECK, "smoke", title=ENDPOINT_TITLE),
            # evidence written before titles: the title comes from the node id
            Reason("check-failed", "answered 500", "t1", "smoke"),
        ),
        warnings=(Reason("advisory", "slow", "suites/smoke/t.py::test_page_is_fast[/]", "smoke"),),
        counts=(("passed", 3), ("failed", 1)),
    )


def config(**kwargs: object) -> NotifyConfig:
    return NotifyConfig.model_validate({"webhook_url": "http://127.0.0.1:1/hook", **kwargs})


def test_a_notification_is_retried_on_5xx_then_recorded() -> None:
    """503 twice then 200: delivered after three attempts."""
    answers = iter([503, 503, 200])

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(next(answers))

    sent = notify(
        config(retries=2), {"verdict": "ROLLBACK"}, Redactor(), httpx.MockTransport(handler)
    )

    assert sent is not None
    assert (sent.delivered, sent.attempts, sent.status) == (True, 3, 200)


def test_a_failed_notification_is_recorded_not_raised() -> None:
    """Unreachable webhook: not delivered, the error kept, nothing raised."""

    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    sent = notify(config(retries=1), {"verdict": "GO"}, Redactor(), httpx.MockTransport(handler))

    assert sent is not None
    assert not sent.delivered
    assert sent.attempts == 2
    assert "ConnectError" in sent.error


def test_the_webhook_url_and_payload_are_masked() -> None:
    """A webhook URL from a variable is masked in the record; so is a secret in the body."""
    seen: list[bytes] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.content)
        return httpx.Response(200)

    cfg = NotifyConfig.model_validate({"webhook_url": f"http://127.0.0.1:1/{SECRET}"})
    sent = notify(cfg, {"reason": SECRET}, Redactor.of([SECRET]), httpx.MockTransport(handler))

    assert sent is not None
    assert SECRET not in sent.url
    assert SECRET.encode() not in seen[0]


def test_the_step_summary_is_markdown_with_the_reasons(tmp_path: Path) -> None:
    """GITHUB_STEP_SUMMARY gets a title with the verdict and the reasons, appended."""
    target = tmp_path / "summary.md"
    target.write_text("earlier\n")

    text = step_summary(decision(), None, "file:///run")
    written = append_step_summary(text, {"GITHUB_STEP_SUMMARY": str(target)})

    assert written
    content = target.read_text()
    assert content.startswith("earlier\n## releasegate: ROLLBACK")
    assert (
        f"- {ENDPOINT_TITLE}: answered 500"
        " (`test_endpoints.py::test_endpoint[GET /api/tickets]`; check-failed)\n"
    ) in content
    assert "- T1: answered 500 (`t1`; check-failed)\n" in content
    assert "- warning: Page is fast (/): slow (`t.py::test_page_is_fast[/]`; advisory)" in content


def test_no_step_summary_outside_ci() -> None:
    """Without GITHUB_STEP_SUMMARY nothing is written."""
    assert append_step_summary("x", {}) is False


@pytest.mark.parametrize("style", ["json", "slack"])
def test_payloads_name_the_verdict(style: str) -> None:
    """Both payload styles carry the verdict and the link."""
    from releasegate.ops.verdict_actions import notification_payload

    payload = notification_payload(decision(), None, style, "http://site/run")

    assert "ROLLBACK" in str(payload)
    assert "http://site/run" in str(payload)


def test_payloads_lead_each_reason_with_the_checks_title() -> None:
    """A stakeholder reads the title first; the node id follows (a code span in Slack)."""
    from releasegate.ops.verdict_actions import notification_payload

    sent = notification_payload(decision(), None, "json", "http://site/run")
    slack = notification_payload(decision(), None, "slack", "http://site/run")

    assert sent["reasons"] == [
        f"{ENDPOINT_TITLE}: answered 500"
        " (test_endpoints.py::test_endpoint[GET /api/tickets]; check-failed)",
        "T1: answered 500 (t1; check-failed)",
    ]
    assert (
        f"• {ENDPOINT_TITLE}: answered 500"
        " (`test_endpoints.py::test_endpoint[GET /api/tickets]`; check-failed)"
    ) in slack["text"]
    assert slack["blocks"][0]["text"]["text"] == slack["text"]


def test_the_terminal_leads_each_reason_with_the_checks_title(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`releasegate decide`, `run` and `demo` print the title first, then the node id."""
    from releasegate.cli.verdict_output import print_decision

    print_decision(decision(), None)

    lines = capsys.readouterr().out.splitlines()
    assert lines == [
        f"  {ENDPOINT_TITLE}: answered 500"
        " (test_endpoints.py::test_endpoint[GET /api/tickets]; check-failed)",
        "  T1: answered 500 (t1; check-failed)",
        "  warning: Page is fast (/): slow (t.py::test_page_is_fast[/]; advisory)",
    ]
