"""The deploy watch: the timeline's summary and verdict, its file, and a short real watch."""

from __future__ import annotations

import dataclasses
import json
import math
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from releasegate.config import WatchConfig
from releasegate.errors import TimelineUnreadable
from releasegate.ops.watch import (
    SCHEMA,
    TIMELINE_FILE,
    Outage,
    Phase,
    ProbeRecord,
    StoppedBy,
    Timeline,
    TimelineSearch,
    TimelineSummary,
    WatchPlan,
    evidence_problem,
    find_timeline,
    judge_timeline,
    judge_watch,
    read_timeline,
    run_watch,
    summarise,
    watch_verdict,
)
from releasegate.outcome import Judgement, Verdict
from releasegate.redact import MASK, Redactor


def probe(
    t: float,
    status: int | None = 200,
    *,
    error: str | None = None,
    phase: Phase = "during",
    path: str = "/health",
) -> ProbeRecord:
    return ProbeRecord(t=t, path=path, phase=phase, status=status, latency_ms=1.5, error=error)


def ok(t: float) -> ProbeRecord:
    return probe(t)


def down(t: float, status: int | None = 503, error: str | None = None) -> ProbeRecord:
    return probe(t, status, error=error)


def timeline(
    probes: list[ProbeRecord],
    *,
    duration_s: float,
    stopped_by: StoppedBy = "command",
    command_exit: int | None = 0,
    command: str = "./deploy.sh v1.4.2",
) -> Timeline:
    return Timeline(
        environment="staging",
        target_url="http://target.test",
        command=command,
        started_at="2025-01-02T03:04:05+00:00",
        command_started_t=0.5,
        command_ended_t=duration_s - 0.5,
        command_exit=command_exit,
        stopped_by=stopped_by,
        rate_per_s=2.0,
        duration_s=duration_s,
        probes=probes,
    )


# ---------------------------------------------------------------------------------------------
# ProbeRecord.ok


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        pytest.param(200, True, id="200"),
        pytest.param(204, True, id="204"),
        pytest.param(302, True, id="302-redirect"),
        pytest.param(399, True, id="399-last-3xx"),
        pytest.param(199, False, id="199-informational"),
        pytest.param(400, False, id="400-first-4xx"),
        pytest.param(404, False, id="404"),
        pytest.param(503, False, id="503"),
        pytest.param(None, False, id="no-answer"),
    ],
)
def test_a_probe_is_ok_for_2xx_and_3xx_only(status: int | None, expected: bool) -> None:
    """A probe is ok when the target answered 2xx or 3xx; anything else, or no answer, is not."""
    record = probe(1.0, status, error=None if status else "ConnectError: refused")

    assert record.ok is expected


# ---------------------------------------------------------------------------------------------
# summarise


@pytest.mark.parametrize(
    ("probes", "duration_s", "expected"),
    [
        pytest.param(
            [],
            5.0,
            TimelineSummary(probes=0, failed=0, longest_gap_s=5.0, worst=None, errors={}),
            id="no-probes-the-whole-watch-is-a-gap",
        ),
        pytest.param(
            [ok(0.25), ok(0.5), ok(1.0), ok(1.25)],
            2.0,
            # gaps 0.25 (from t=0), 0.25, 0.5, 0.25, 0.75 (to the end)
            TimelineSummary(probes=4, failed=0, longest_gap_s=0.75, worst=None, errors={}),
            id="all-ok-the-gap-to-the-end-counts",
        ),
        pytest.param(
            [ok(0.5), ok(1.0), down(1.5), down(2.0), ok(2.5), ok(3.0)],
            3.0,
            TimelineSummary(
                probes=6,
                failed=2,
                longest_gap_s=1.5,
                worst=Outage(start_t=1.0, end_t=2.5, failed=2),
                errors={"HTTP 503": 2},
            ),
            id="outage-in-the-middle-from-last-to-next-success",
        ),
        pytest.param(
            [down(0.5), down(1.0), ok(1.5), ok(2.0)],
            2.0,
            TimelineSummary(
                probes=4,
                failed=2,
                longest_gap_s=1.5,
                worst=Outage(start_t=0.0, end_t=1.5, failed=2),
                errors={"HTTP 503": 2},
            ),
            id="failures-at-the-start-count-from-t0",
        ),
        pytest.param(
            [ok(0.5), ok(1.0), down(1.5), down(2.0)],
            3.0,
            TimelineSummary(
                probes=4,
                failed=2,
                longest_gap_s=2.0,
                worst=Outage(start_t=1.0, end_t=3.0, failed=2),
                errors={"HTTP 503": 2},
            ),
            id="failures-at-the-end-count-to-the-end-of-the-watch",
        ),
        pytest.param(
            [down(0.5), down(1.0)],
            2.0,
            TimelineSummary(
                probes=2,
                failed=2,
                longest_gap_s=2.0,
                worst=Outage(start_t=0.0, end_t=2.0, failed=2),
                errors={"HTTP 503": 2},
            ),
            id="never-answered-the-gap-is-the-whole-watch",
        ),
        pytest.param(
            [ok(0.5), down(1.0), ok(1.5), down(2.0), down(2.5), down(3.0), ok(3.5), ok(4.0)],
            4.0,
            # outages: 0.5..1.5 (1 failed, 1.0 s) and 1.5..3.5 (3 failed, 2.0 s)
            TimelineSummary(
                probes=8,
                failed=4,
                longest_gap_s=2.0,
                worst=Outage(start_t=1.5, end_t=3.5, failed=3),
                errors={"HTTP 503": 4},
            ),
            id="several-outages-the-longest-is-the-worst",
        ),
        pytest.param(
            [ok(3.0), down(1.5), ok(0.5), ok(2.5), down(2.0), ok(1.0)],
            3.0,
            TimelineSummary(
                probes=6,
                failed=2,
                longest_gap_s=1.5,
                worst=Outage(start_t=1.0, end_t=2.5, failed=2),
                errors={"HTTP 503": 2},
            ),
            id="unsorted-probes-are-sorted-by-time-first",
        ),
        pytest.param(
            [ok(0.5), down(2.5)],
            2.0,
            # a probe sent after duration_s moves the end: 0.5..2.5
            TimelineSummary(
                probes=2,
                failed=1,
                longest_gap_s=2.0,
                worst=Outage(start_t=0.5, end_t=2.5, failed=1),
                errors={"HTTP 503": 1},
            ),
            id="a-probe-after-duration-extends-the-end",
        ),
    ],
)
def test_summarise(probes: list[ProbeRecord], duration_s: float, expected: TimelineSummary) -> None:
    """Failed probes, the worst outage (last success to next success, or the window's ends) and
    the longest time without a success are counted as computed by hand."""
    summary = summarise(timeline(probes, duration_s=duration_s))

    assert summary == expected


def test_summarise_counts_errors_by_their_text_or_status() -> None:
    """A failed probe is counted under its error text, or `HTTP <status>` when it has none;
    successful probes (a 302 too) are not counted."""
    probes = [
        down(0.5, None, "ConnectError: connection refused"),
        ok(1.0),
        down(1.5, 503),
        probe(2.0, 302),
        down(2.5, None, "ConnectError: connection refused"),
        down(3.0, 404),
        down(3.5, None, "no answer within 2s"),
        down(4.0, 503),
    ]

    summary = summarise(timeline(probes, duration_s=4.0))

    assert summary.errors == {
        "ConnectError: connection refused": 2,
        "HTTP 503": 2,
        "HTTP 404": 1,
        "no answer within 2s": 1,
    }
    assert summary.failed == 6
    assert summary.failure_ratio == 6 / 8


def test_the_failure_ratio_of_no_probes_is_nan_not_zero() -> None:
    """No probes is no evidence: the ratio is NaN, never a perfect 0.0."""
    summary = summarise(timeline([], duration_s=1.0))

    assert math.isnan(summary.failure_ratio)


# ---------------------------------------------------------------------------------------------
# judge_timeline

# 2 of 6 failed, longest gap 1.5 s, worst outage 1.0..2.5
MIDDLE_OUTAGE = [ok(0.5), ok(1.0), down(1.5), down(2.0), ok(2.5), ok(3.0)]


@pytest.mark.parametrize(
    ("max_failed", "max_gap_s", "expected"),
    [
        pytest.param(2, 1.5, True, id="both-exactly-at-the-limit"),
        pytest.param(10, 10.0, True, id="well-within"),
        pytest.param(1, 10.0, False, id="one-failed-probe-too-many"),
        pytest.param(10, 1.4, False, id="gap-over-the-limit"),
        pytest.param(0, 0.5, False, id="both-over"),
    ],
)
def test_judge_timeline_thresholds(max_failed: int, max_gap_s: float, expected: bool) -> None:
    """Ok when failed probes <= max_failed and the longest gap <= max_gap_s (limits included)."""
    verdict = judge_timeline(
        timeline(MIDDLE_OUTAGE, duration_s=3.0), max_failed=max_failed, max_gap_s=max_gap_s
    )

    assert verdict.ok is expected
    assert (verdict.measured.failed, verdict.measured.longest_gap_s) == (2, 1.5)


def test_judge_timeline_message_names_counts_limits_worst_outage_and_errors() -> None:
    """The message gives failed of total, the gap and both limits, the worst outage and errors."""
    verdict = judge_timeline(timeline(MIDDLE_OUTAGE, duration_s=3.0), max_failed=0, max_gap_s=2)

    assert verdict.message == (
        "2 of 6 probes failed (at most 0),"
        " longest gap without a success 1.50s (at most 2s),"
        " worst outage 1.50s from t=1.00s (2 failed),"
        " errors: 2x HTTP 503"
    )


def test_judge_timeline_message_without_failures_has_no_outage_or_errors() -> None:
    """A clean timeline's message has only the counts and the gap."""
    verdict = judge_timeline(
        timeline([ok(0.5), ok(1.0), ok(1.5)], duration_s=2.0), max_failed=0, max_gap_s=0.5
    )

    assert verdict.ok
    assert verdict.message == (
        "0 of 3 probes failed (at most 0), longest gap without a success 0.50s (at most 0.5s)"
    )


def test_judge_timeline_lists_the_three_most_frequent_errors() -> None:
    """Errors are listed most frequent first (ties in order of appearance), at most three."""
    probes = [
        down(0.5, None, "A"),
        down(1.0, None, "B"),
        down(1.5, None, "C"),
        down(2.0, None, "A"),
        down(2.5, None, "D"),
        down(3.0, None, "C"),
        down(3.5, None, "A"),
    ]

    verdict = judge_timeline(timeline(probes, duration_s=4.0), max_failed=0, max_gap_s=1)

    assert verdict.message.endswith(", errors: 3x A; 2x C; 1x B")
    assert "D" not in verdict.message


# ---------------------------------------------------------------------------------------------
# evidence_problem


@pytest.mark.parametrize(
    ("stopped_by", "command_exit", "probes", "expected"),
    [
        pytest.param(
            "not_started",
            None,
            [probe(0.5, phase="before")],
            "the deploy command did not start: './deploy.sh v1.4.2'",
            id="not-started",
        ),
        pytest.param(
            "interrupted",
            None,
            [probe(0.5, phase="during")],
            "the watch was interrupted before the deploy finished",
            id="interrupted",
        ),
        pytest.param(
            "max_duration",
            None,
            [probe(0.5, phase="after")],
            "the deploy command ran past [watch] max_duration and was stopped",
            id="max-duration",
        ),
        pytest.param(
            "command",
            3,
            [probe(0.5, phase="after")],
            "the deploy command exited 3: './deploy.sh v1.4.2'",
            id="non-zero-exit",
        ),
        pytest.param(
            "command",
            0,
            [probe(0.5, phase="before"), probe(1.0, phase="during")],
            "no probe answered or failed after the deploy command ended: nothing to judge",
            id="no-probe-after",
        ),
        pytest.param(
            "command",
            0,
            [probe(0.5, phase="before"), probe(1.0, phase="after")],
            None,
            id="fine",
        ),
        pytest.param(
            "command",
            0,
            [probe(1.0, None, error="ConnectError: refused", phase="after")],
            None,
            id="fine-a-failed-probe-after-is-evidence-too",
        ),
    ],
)
def test_evidence_problem(
    stopped_by: StoppedBy,
    command_exit: int | None,
    probes: list[ProbeRecord],
    expected: str | None,
) -> None:
    """A timeline is evidence only when the command ran to a 0 exit and a probe followed it."""
    seen = timeline(probes, duration_s=2.0, stopped_by=stopped_by, command_exit=command_exit)

    assert evidence_problem(seen) == expected


@pytest.mark.parametrize(
    ("stopped_by", "command_exit", "expected"),
    [
        pytest.param("command", 0, False, id="exit-0"),
        pytest.param("command", 1, True, id="exit-1"),
        pytest.param("max_duration", None, True, id="max-duration"),
        pytest.param("interrupted", None, True, id="interrupted"),
        pytest.param("not_started", None, True, id="not-started"),
    ],
)
def test_command_failed(stopped_by: StoppedBy, command_exit: int | None, expected: bool) -> None:
    """Only a command that ran to its end with exit 0 did not fail."""
    seen = timeline([], duration_s=1.0, stopped_by=stopped_by, command_exit=command_exit)

    assert seen.command_failed is expected


# ---------------------------------------------------------------------------------------------
# the timeline file

SECRET = "s3cr3t-deploy-token"


def sample_timeline() -> Timeline:
    return timeline(
        [
            probe(0.1, phase="before", path="/health"),
            probe(0.6, None, error="ConnectError: refused", phase="during", path="/api/items"),
            probe(1.1, 503, phase="during"),
            probe(1.6, 302, phase="after"),
        ],
        duration_s=2.0,
        command=f"./deploy.sh --token {SECRET}",
    )


def test_a_timeline_survives_a_round_trip_through_its_file(tmp_path: Path) -> None:
    """write_timeline then read_timeline gives the same timeline back, probes included."""
    original = sample_timeline()
    path = tmp_path / TIMELINE_FILE

    original.write(path)

    assert read_timeline(path) == original
    assert json.loads(path.read_text(encoding="utf-8"))["schema"] == SCHEMA


def test_a_secret_in_the_command_is_masked_in_the_file(tmp_path: Path) -> None:
    """With a Redactor, the secret never reaches the file; everything else reads back as it was."""
    original = sample_timeline()
    path = tmp_path / TIMELINE_FILE

    original.write(path, Redactor.of([SECRET]))

    assert SECRET not in path.read_text(encoding="utf-8")
    assert read_timeline(path) == dataclasses.replace(
        original, command=f"./deploy.sh --token {MASK}"
    )


def valid_document() -> dict[str, object]:
    document: dict[str, object] = json.loads(sample_timeline().to_json())
    return document


def with_changes(**changes: object) -> str:
    document = valid_document()
    document.update(changes)
    return json.dumps(document)


def without(key: str) -> str:
    document = valid_document()
    del document[key]
    return json.dumps(document)


@pytest.mark.parametrize(
    ("content", "match"),
    [
        pytest.param(b"{not json", "unreadable", id="not-json"),
        pytest.param(b"\xff\xfe\x00garbage", "unreadable", id="not-utf8"),
        pytest.param(b"[]", f"not a {SCHEMA} document", id="a-list"),
        pytest.param(b'"timeline"', f"not a {SCHEMA} document", id="a-string"),
        pytest.param(
            with_changes(schema="releasegate.timeline/2").encode(),
            f"not a {SCHEMA} document",
            id="another-schema",
        ),
        pytest.param(without("schema").encode(), f"not a {SCHEMA} document", id="no-schema"),
        pytest.param(without("probes").encode(), "unexpected content", id="no-probes"),
        pytest.param(without("environment").encode(), "unexpected content", id="no-environment"),
        pytest.param(with_changes(colour="red").encode(), "unexpected content", id="unknown-key"),
        pytest.param(
            with_changes(probes=[{"t": 1.0}]).encode(), "unexpected content", id="probe-incomplete"
        ),
        pytest.param(
            with_changes(probes=[1]).encode(), "unexpected content", id="probe-not-a-dict"
        ),
        pytest.param(with_changes(probes=None).encode(), "unexpected content", id="probes-null"),
    ],
)
def test_read_timeline_refuses_what_is_not_a_timeline(
    tmp_path: Path, content: bytes, match: str
) -> None:
    """Bad JSON, another schema or unexpected fields raise TimelineUnreadable naming the file."""
    path = tmp_path / TIMELINE_FILE
    path.write_bytes(content)

    with pytest.raises(TimelineUnreadable, match=match) as caught:
        read_timeline(path)

    assert str(caught.value).startswith(f"{path}: ")


def test_read_timeline_of_a_missing_file(tmp_path: Path) -> None:
    """A missing file is TimelineUnreadable, not FileNotFoundError."""
    path = tmp_path / TIMELINE_FILE

    with pytest.raises(TimelineUnreadable) as caught:
        read_timeline(path)

    assert str(caught.value) == f"{path}: no such file"


# ---------------------------------------------------------------------------------------------
# find_timeline: judged by the timeline's own clock and target, never the file's mtime

NOW = datetime(2025, 1, 2, 12, 0, tzinfo=UTC)
HOUR = 3600.0
TARGET = "http://target.test"


def place(
    reports: Path,
    run: str,
    *,
    environment: str = "staging",
    ended_ago_s: float = 60.0,
    target: str = TARGET,
    duration_s: float = 2.0,
) -> Path:
    """A valid timeline of `environment` and `target` under reports/run that ended (by its own
    recorded start plus duration) `ended_ago_s` before NOW; the file itself is brand new, as a
    copy made by a later run would be."""
    started = NOW - timedelta(seconds=ended_ago_s + duration_s)
    path = reports / run / TIMELINE_FILE
    dataclasses.replace(
        sample_timeline(),
        environment=environment,
        target_url=target,
        started_at=started.isoformat(),
        duration_s=duration_s,
    ).write(path)
    return path


def find(reports: Path, *, target: str = TARGET, max_age_s: float = HOUR) -> TimelineSearch:
    return find_timeline("staging", reports, target=target, max_age_s=max_age_s, now=NOW)


def test_find_timeline_picks_the_newest_of_the_environment(tmp_path: Path) -> None:
    """Of several timelines, the one that ended last, written for this environment, is chosen."""
    place(tmp_path, "watches/staging-1", ended_ago_s=300)
    newest = place(tmp_path, "watches/staging-2", ended_ago_s=60)
    place(tmp_path, "watches/staging-3", ended_ago_s=1200)
    place(tmp_path, "watches/prod-1", environment="prod", ended_ago_s=10)  # another env's

    search = find(tmp_path)

    assert search.path == newest
    assert search.timeline == read_timeline(newest)


def test_find_timeline_passes_over_other_environments_in_silence(tmp_path: Path) -> None:
    """Only timelines of other environments: nothing found and nothing rejected."""
    place(tmp_path, "watches/prod-1", environment="prod", ended_ago_s=10)

    search = find(tmp_path)

    assert (search.path, search.rejected) == (None, ())


@pytest.mark.parametrize(
    ("ended_ago_s", "target", "found"),
    [
        pytest.param(60.0, TARGET, True, id="fresh-same-target-found"),
        pytest.param(HOUR, TARGET, True, id="exactly-max-age-found"),
        pytest.param(HOUR + 1, TARGET, False, id="recorded-older-than-max-age-fresh-file"),
        pytest.param(30 * HOUR, TARGET, False, id="recorded-a-day-old-fresh-file"),
        pytest.param(60.0, "http://other.test", False, id="another-host"),
        pytest.param(60.0, "http://target.test:8080", False, id="another-port"),
        pytest.param(60.0, "https://target.test", False, id="another-scheme"),
        pytest.param(60.0, "http://target.test/v2", False, id="another-path-prefix"),
        pytest.param(60.0, "HTTP://Target.TEST/", True, id="same-target-case-and-slash"),
        pytest.param(60.0, "http://target.test:80", True, id="same-target-default-port"),
        pytest.param(-3600.0, TARGET, False, id="recorded-an-hour-in-the-future"),
        pytest.param(-60.0, TARGET, True, id="a-minute-ahead-clock-skew-found"),
    ],
)
def test_find_timeline_judges_age_and_target_by_the_timeline_itself(
    tmp_path: Path, ended_ago_s: float, target: str, found: bool
) -> None:
    """Age comes from the recorded start and duration, not the file (every file here is new);
    the recorded target must be the run's base URL (scheme, host, port, path; case and a
    trailing slash aside)."""
    path = place(tmp_path, "watches/staging-1", ended_ago_s=ended_ago_s, target=target)

    search = find(tmp_path)

    assert search.path == (path if found else None)
    assert [r.path for r in search.rejected] == ([] if found else [path])


def test_find_timeline_takes_a_fitting_timeline_over_a_newer_one_of_another_target(
    tmp_path: Path,
) -> None:
    """A newer timeline of another target is rejected; the older one of this target is chosen."""
    ours = place(tmp_path, "watches/staging-1", ended_ago_s=600)
    theirs = place(tmp_path, "watches/staging-2", ended_ago_s=10, target="http://other.test")

    search = find(tmp_path)

    assert search.path == ours
    assert [r.path for r in search.rejected] == [theirs]


def test_find_timeline_judges_a_timeline_by_its_end_not_its_start(tmp_path: Path) -> None:
    """A watch that began 90 minutes ago and ran 40 minutes ended 50 minutes ago: in time."""
    path = place(tmp_path, "watches/staging-1", ended_ago_s=50 * 60, duration_s=40 * 60)

    assert find(tmp_path).path == path


@pytest.mark.parametrize(
    ("started_at", "reason"),
    [
        pytest.param("yesterday", "has no readable start time ('yesterday')", id="not-a-time"),
        pytest.param(
            "2025-01-02T11:59:00",
            "has no readable start time ('2025-01-02T11:59:00')",
            id="no-time-zone",
        ),
    ],
)
def test_find_timeline_rejects_a_timeline_without_a_readable_time(
    tmp_path: Path, started_at: str, reason: str
) -> None:
    """Without a time of its own, a timeline's age is unknown: never evidence."""
    path = tmp_path / "run" / TIMELINE_FILE
    dataclasses.replace(sample_timeline(), target_url=TARGET, started_at=started_at).write(path)

    search = find(tmp_path)

    assert search.path is None
    assert [(r.path, r.reason) for r in search.rejected] == [(path, reason)]


def test_find_timeline_matches_a_masked_target_with_the_redactor(tmp_path: Path) -> None:
    """A base URL holding a secret is written masked; with the redactor it still matches."""
    target = f"http://target.test/{SECRET}"
    path = tmp_path / "run" / TIMELINE_FILE
    stamped = dataclasses.replace(
        sample_timeline(), target_url=target, started_at=(NOW - timedelta(minutes=5)).isoformat()
    )
    stamped.write(path, Redactor.of([SECRET]))

    search = find_timeline(
        "staging",
        tmp_path,
        target=target,
        max_age_s=HOUR,
        now=NOW,
        redactor=Redactor.of([SECRET]),
    )

    assert search.path == path


@pytest.mark.parametrize(
    ("placed", "expected"),
    [
        pytest.param(
            [],
            "no timeline.json of env=staging under {reports} (younger than [watch] max_age 60 min)",
            id="none-found",
        ),
        pytest.param(
            [("a", 30 * HOUR, TARGET)],
            "the newest timeline of env=staging, {reports}/a/timeline.json, ended 30.0 h ago"
            " (2025-01-01T06:00:00+00:00), older than [watch] max_age 60 min",
            id="too-old-names-the-age",
        ),
        pytest.param(
            [("a", 60.0, "http://other.test:9000")],
            "the newest timeline of env=staging, {reports}/a/timeline.json, watched another"
            " target, http://other.test:9000, not http://target.test",
            id="other-target-names-it",
        ),
        pytest.param(
            [("a", 60.0, "http://other.test"), ("b", 3 * HOUR, TARGET)],
            "the newest timeline of env=staging, {reports}/a/timeline.json, watched another"
            " target, http://other.test, not http://target.test (1 other rejected)",
            id="several-names-the-newest",
        ),
    ],
)
def test_why_no_timeline_fits_in_words(
    tmp_path: Path, placed: list[tuple[str, float, str]], expected: str
) -> None:
    """The reason names the rejected timeline, its age or target, and the limit."""
    for run, ended_ago_s, target in placed:
        place(tmp_path, run, ended_ago_s=ended_ago_s, target=target)

    search = find(tmp_path)

    assert search.path is None
    assert search.why_none(HOUR) == expected.format(reports=tmp_path)


def test_find_timeline_skips_an_unreadable_newer_file(tmp_path: Path) -> None:
    """A timeline.json that is not a timeline is passed over; the readable one is chosen."""
    readable = place(tmp_path, "watches/staging-1", ended_ago_s=600)
    for run, content in (("broken-json", b"{"), ("binary", b"\xff\xfe"), ("list", b"[]")):
        broken = tmp_path / "watches" / run / TIMELINE_FILE
        broken.parent.mkdir(parents=True)
        broken.write_bytes(content)

    assert find(tmp_path).path == readable


def test_find_timeline_only_reads_files_named_timeline_json(tmp_path: Path) -> None:
    """A timeline saved under another name is not found."""
    path = place(tmp_path, "watches/staging-1")
    path.rename(path.with_name("timeline-copy.json"))

    assert find(tmp_path).path is None


def test_find_timeline_defaults_now_to_the_clock(tmp_path: Path) -> None:
    """Without `now`, the age is measured from the current time: a watch just ended is found."""
    path = tmp_path / "run" / TIMELINE_FILE
    started = datetime.now(UTC).isoformat()
    dataclasses.replace(sample_timeline(), target_url=TARGET, started_at=started).write(path)

    assert find_timeline("staging", tmp_path, target=TARGET, max_age_s=60).path == path


def test_find_timeline_of_a_missing_directory_is_none(tmp_path: Path) -> None:
    """A reports directory that does not exist holds no timeline."""
    assert find(tmp_path / "absent") == TimelineSearch("staging", tmp_path / "absent")


# ---------------------------------------------------------------------------------------------
# WatchPlan


@pytest.mark.parametrize(
    ("rate", "before", "max_duration", "after", "expected"),
    [
        pytest.param(4.0, 0.5, 10.0, 0.25, 44, id="whole"),  # 4 x 10.75 = 43, + 1
        pytest.param(3.0, 0.5, 1.0, 0.25, 7, id="rounded-up"),  # 3 x 1.75 = 5.25 -> 6, + 1
    ],
)
def test_max_probes_is_the_rate_over_the_longest_watch(
    rate: float, before: float, max_duration: float, after: float, expected: int
) -> None:
    """The cap on probes is ceil(rate x (before + max_duration + after)) + 1."""
    plan = WatchPlan(
        base_url="http://target.test",
        paths=["/"],
        rate_per_s=rate,
        timeout_s=1.0,
        before_s=before,
        after_s=after,
        max_duration_s=max_duration,
    )

    assert plan.max_probes == expected


# ---------------------------------------------------------------------------------------------
# run_watch against a real server on 127.0.0.1


@dataclasses.dataclass
class LocalServer:
    url: str
    hits: list[str]
    stop: Callable[[], None]


class QuickServer(ThreadingHTTPServer):
    # the default backlog of 5 can overflow at 20 new connections a second on a busy machine;
    # a dropped SYN is retried after 1 s and would read as a failed probe
    request_queue_size = 128


@pytest.fixture
def server() -> Iterator[LocalServer]:
    """A tiny HTTP server on 127.0.0.1 answering 200 to every GET (/corrupt-gzip with a body
    that cannot be decoded), stopped after the test."""
    hits: list[str] = []

    class Ok(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            hits.append(self.path)
            body = b"ok"
            self.send_response(200)
            if self.path == "/corrupt-gzip":
                self.send_header("Content-Encoding", "gzip")  # but the body is not gzip
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            """Quiet: a test's output is not the place for access logs."""

    httpd = QuickServer(("127.0.0.1", 0), Ok)
    thread = threading.Thread(
        target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    lock = threading.Lock()
    stopped: list[bool] = []

    def stop() -> None:
        with lock:
            if stopped:
                return
            stopped.append(True)
            httpd.shutdown()
            httpd.server_close()
            thread.join(5)

    yield LocalServer(f"http://127.0.0.1:{httpd.server_address[1]}", hits, stop)
    stop()


def plan_for(url: str, *, before_s: float, after_s: float, max_duration_s: float) -> WatchPlan:
    return WatchPlan(
        base_url=url,
        paths=["/health", "/api/items"],
        rate_per_s=20.0,
        timeout_s=3.0,  # generous: the server shares a possibly busy machine with the tests
        before_s=before_s,
        after_s=after_s,
        max_duration_s=max_duration_s,
    )


def python(code: str) -> list[str]:
    return [sys.executable, "-c", code]


def test_run_watch_probes_before_during_and_after_a_command(
    server: LocalServer, tmp_path: Path
) -> None:
    """A healthy target and a command that exits 0: probes in all three phases, none failed."""
    plan = plan_for(server.url, before_s=0.2, after_s=0.3, max_duration_s=10.0)
    started: list[float] = []

    seen = run_watch(
        plan,
        python("import time; time.sleep(0.5)"),
        environment="local",
        log=tmp_path / "deploy.log",
        on_start=lambda: started.append(time.monotonic()),
    )

    phases = {p.phase for p in seen.probes}
    assert phases == {"before", "during", "after"}
    assert [p for p in seen.probes if not p.ok] == []
    assert {p.status for p in seen.probes} == {200}
    assert {p.path for p in seen.probes} == {"/health", "/api/items"}
    assert (seen.stopped_by, seen.command_exit) == ("command", 0)
    assert len(started) == 1
    assert seen.command_started_t is not None
    assert seen.command_ended_t is not None
    assert seen.command_started_t >= 0.2
    assert seen.command_ended_t - seen.command_started_t >= 0.5
    assert seen.duration_s >= seen.command_ended_t + 0.3
    # 20/s over about 1.1 s; every probe was one request the server answered
    assert 15 <= len(seen.probes) <= plan.max_probes
    assert len(server.hits) == len(seen.probes)
    assert [p.t for p in seen.probes] == sorted(p.t for p in seen.probes)
    assert seen.command == f"{sys.executable} -c import time; time.sleep(0.5)"
    assert (seen.environment, seen.target_url, seen.rate_per_s) == ("local", server.url, 20.0)
    assert evidence_problem(seen) is None
    assert judge_timeline(seen, max_failed=0, max_gap_s=0.5).ok


def test_run_watch_stops_a_command_that_runs_past_max_duration(
    server: LocalServer, tmp_path: Path
) -> None:
    """A command still running at max_duration_s is stopped (the process is gone) and the
    timeline says so, well before the command would have ended."""
    plan = plan_for(server.url, before_s=0.1, after_s=0.1, max_duration_s=0.5)
    log = tmp_path / "deploy.log"
    began = time.monotonic()

    seen = run_watch(
        plan,
        python("import os, time; print(os.getpid(), flush=True); time.sleep(30)"),
        environment="local",
        log=log,
    )

    elapsed = time.monotonic() - began
    assert seen.stopped_by == "max_duration"
    assert seen.command_exit is None
    assert elapsed < 3.0
    assert seen.command_started_t is not None
    assert seen.command_ended_t is not None
    assert 0.5 <= seen.command_ended_t - seen.command_started_t < 2.5
    pid = int(log.read_text(encoding="utf-8").split()[0])
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    assert evidence_problem(seen) == (
        "the deploy command ran past [watch] max_duration and was stopped"
    )


def test_run_watch_records_failed_probes_once_the_server_stops(
    server: LocalServer, tmp_path: Path
) -> None:
    """The server stops as the command starts: probes before it succeeded, probes after the
    command failed with the transport error's text, and the verdict is downtime."""
    # a second before the command: on a busy machine the first probe alone can take 0.2 s
    plan = plan_for(server.url, before_s=1.0, after_s=0.2, max_duration_s=10.0)

    seen = run_watch(
        plan,
        python("import time; time.sleep(0.3)"),
        environment="local",
        log=tmp_path / "deploy.log",
        on_start=server.stop,
    )

    assert seen.command_started_t is not None
    assert seen.command_ended_t is not None
    # answered before the server stopped (a probe still in flight then may be reset)
    answered_before = [
        p
        for p in seen.probes
        if p.phase == "before" and p.t + p.latency_ms / 1000 < seen.command_started_t
    ]
    after = [p for p in seen.probes if p.phase == "after"]
    assert answered_before
    assert all(p.ok for p in answered_before)
    assert after
    assert all(p.t >= seen.command_ended_t for p in after)
    assert all(p.status is None for p in after)
    assert all((p.error or "").startswith("ConnectError: ") for p in after)
    summary = summarise(seen)
    last_success = max(p.t for p in seen.probes if p.ok)
    # the scheduler may send one last probe as the watch's duration is taken
    assert summary.worst == Outage(
        start_t=last_success,
        end_t=max(seen.duration_s, seen.probes[-1].t),
        failed=sum(1 for p in seen.probes if p.t > last_success),
    )
    assert any(error.startswith("ConnectError: ") for error in summary.errors)
    assert evidence_problem(seen) is None
    assert not judge_timeline(seen, max_failed=0, max_gap_s=2).ok


def test_run_watch_counts_an_undecodable_answer_as_a_failed_probe(
    server: LocalServer, tmp_path: Path
) -> None:
    """A body that cannot be decoded fails that probe with the error's text; the watch goes on
    and returns its timeline (it used to end the watch with httpx.DecodingError)."""
    plan = dataclasses.replace(
        plan_for(server.url, before_s=0.1, after_s=0.1, max_duration_s=10.0),
        paths=["/health", "/corrupt-gzip"],
    )

    seen = run_watch(plan, python("pass"), environment="local", log=tmp_path / "deploy.log")

    corrupt = [p for p in seen.probes if p.path == "/corrupt-gzip"]
    healthy = [p for p in seen.probes if p.path == "/health"]
    assert corrupt
    assert healthy
    assert all(p.ok for p in healthy)
    assert all(p.status is None for p in corrupt)
    assert all((p.error or "").startswith("DecodingError: ") for p in corrupt)
    assert seen.stopped_by == "command"


def test_run_watch_of_a_command_that_cannot_start(server: LocalServer, tmp_path: Path) -> None:
    """A command that does not exist: not_started, no exit status, and the log says why."""
    plan = plan_for(server.url, before_s=0.0, after_s=0.0, max_duration_s=1.0)
    log = tmp_path / "deploy.log"
    missing = str(tmp_path / "no-such-deploy-command")

    seen = run_watch(plan, [missing], environment="local", log=log)

    assert (seen.stopped_by, seen.command_exit) == ("not_started", None)
    assert seen.command_ended_t is not None
    assert log.read_text(encoding="utf-8").startswith(f"could not start {missing!r}: ")
    assert evidence_problem(seen) == f"the deploy command did not start: {missing!r}"


def test_run_watch_refuses_a_plan_without_paths(tmp_path: Path) -> None:
    """Nothing to probe is a usage error, raised before anything runs."""
    plan = dataclasses.replace(
        plan_for("http://127.0.0.1:9", before_s=0.0, after_s=0.0, max_duration_s=1.0), paths=[]
    )

    with pytest.raises(ValueError, match="no paths"):
        run_watch(plan, python("pass"), environment="local", log=tmp_path / "deploy.log")

    assert not (tmp_path / "deploy.log").exists()


# ---------------------------------------------------------------------------------------------
# judge_watch: the evidence question first, then the figures


def test_judge_watch_without_evidence_is_inconclusive_and_holds() -> None:
    """A deploy command that failed shows nothing about downtime: HOLD, with the reason."""
    seen = timeline(MIDDLE_OUTAGE, duration_s=3.0)
    seen.command_exit = 7

    judged = judge_watch(seen, WatchConfig())

    assert judged.judgement is Judgement.INCONCLUSIVE
    assert "exited 7" in judged.message
    assert watch_verdict(judged) is Verdict.HOLD


@pytest.mark.parametrize(
    ("max_failed", "expected"), [(2, Verdict.GO), (1, Verdict.ROLLBACK)], ids=["go", "rollback"]
)
def test_judge_watch_with_evidence_judges_the_figures(max_failed: int, expected: Verdict) -> None:
    probes = [dataclasses.replace(p, phase="after") for p in MIDDLE_OUTAGE]

    judged = judge_watch(
        timeline(probes, duration_s=3.0), WatchConfig(max_failed=max_failed, max_gap=10.0)
    )

    assert watch_verdict(judged) is expected
    assert judged.samples == 6
