"""A target that cannot be reached: gone with the release, or out of this runner's sight?

A refused connection proves a release broken only when the runner's network works and the
target answered before; otherwise the gate has no evidence either way, and the verdict is HOLD.
The evidence, looked for in this order (the first found wins):

1. the target answered in this run (any gate's HTTP client, e.g. the pre-deploy stage's, leaves
   `target-answered.json` in the run folder on its first answer);
2. a baseline of this environment from this runner (`baseline.json` under the reports folder,
   this run's first), taken of the same target within `BASELINE_EVIDENCE_MAX_AGE_S`, in which the
   target answered;
3. the environment's `[target] canary_url` answers now (any HTTP status: the network works).

Gathered by the plugin at the end of a run in which a check found the target unreachable,
recorded in results.json (`run.reachability`), and judged by `decide`: nothing here decides.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from releasegate.evidence import Reachability, write_atomically
from releasegate.redact import Redactor
from releasegate.sampler import BASELINE_FILE, SamplesUnreadable, read_samples

ANSWERED_FILE = "target-answered.json"
# A baseline older than this says little about today's network
BASELINE_EVIDENCE_MAX_AGE_S = 24 * 3600.0
CANARY_TIMEOUT_S = 5.0

Canary = Callable[[str], str]  # URL -> what answered, or raises httpx.HTTPError


def same_target(a: str, b: str) -> bool:
    """Whether two base URLs name the same target: scheme, host and port, path without its
    trailing slash (`http://h` and `http://h:80/` are the same)."""

    def key(url: str) -> tuple[str, str, int | None, str]:
        parts = urlsplit(url.strip())
        scheme = parts.scheme.lower()
        try:
            port = parts.port or {"http": 80, "https": 443}.get(scheme)
        except ValueError:
            port = None
        return scheme, (parts.hostname or "").lower(), port, parts.path.rstrip("/")

    return key(a) == key(b)


def note_answer(run_dir: Path, target_url: str) -> None:
    """Record, once per run, that the target answered (the URL as it may be shown: masked)."""
    path = run_dir / ANSWERED_FILE
    if path.exists():
        return
    record = {"target_url": target_url, "at": datetime.now(UTC).isoformat()}
    # evidence for a later HOLD-or-ROLLBACK call, never a reason to fail a check
    with contextlib.suppress(OSError):
        write_atomically(path, json.dumps(record) + "\n")


def _answered_in_run(run_dir: Path, target_url: str) -> str | None:
    try:
        record = json.loads((run_dir / ANSWERED_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(record, dict) or not same_target(str(record.get("target_url")), target_url):
        return None
    return f"it answered earlier in this run (at {record.get('at')})"


def _answered_in_baseline(
    environment: str, target_url: str, run_dir: Path, reports_dir: Path, now: datetime
) -> str | None:
    candidates = [run_dir / BASELINE_FILE]
    if reports_dir.is_dir():
        candidates += sorted(reports_dir.rglob(BASELINE_FILE))
    best: tuple[datetime, str] | None = None
    for path in candidates:
        try:
            samples = read_samples(path)
            taken = datetime.fromisoformat(samples.taken_at)
        except (OSError, SamplesUnreadable, ValueError):
            continue
        if taken.tzinfo is None:
            taken = taken.replace(tzinfo=UTC)
        age = (now - taken).total_seconds()
        answered = sum(1 for s in samples.samples if s.status is not None)
        fits = (
            samples.environment == environment
            and same_target(samples.target_url, target_url)
            and 0 <= age <= BASELINE_EVIDENCE_MAX_AGE_S
            and answered > 0
        )
        if fits and (best is None or taken > best[0]):
            text = (
                f"it answered {answered} of {len(samples.samples)} requests of the baseline"
                f" {path.parent.name}/{BASELINE_FILE} taken at {samples.taken_at}"
            )
            best = (taken, text)
    return best[1] if best else None


def _ask_canary(url: str) -> str:
    with httpx.Client(timeout=CANARY_TIMEOUT_S, follow_redirects=False) as client:
        response = client.get(url)
    return f"answered {response.status_code}"


def gather(
    *,
    environment: str,
    target_url: str,
    run_dir: Path,
    reports_dir: Path,
    canary_url: str | None,
    redactor: Redactor,
    canary: Canary = _ask_canary,
    now: datetime | None = None,
) -> Reachability:
    """What this run has to show that the target answered before; `target_url` as recorded
    (masked), `canary_url` as configured (masked in what is recorded)."""
    when = now or datetime.now(UTC)
    looked = ["an answer of the target earlier in this run"]
    found = _answered_in_run(run_dir, target_url)
    if found:
        return Reachability(evidence=found, looked_at=looked)
    looked.append(
        f"a baseline of env {environment} of this target younger than"
        f" {BASELINE_EVIDENCE_MAX_AGE_S / 3600:g} h under {reports_dir}"
    )
    found = _answered_in_baseline(environment, target_url, run_dir, reports_dir, when)
    if found:
        return Reachability(evidence=found, looked_at=looked)
    if not canary_url:
        looked.append("[target] canary_url (not set)")
        return Reachability(looked_at=looked)
    shown = redactor.redact(canary_url)
    try:
        answer = canary(canary_url)
    except httpx.HTTPError as exc:
        reason = redactor.redact(str(exc) or type(exc).__name__)
        looked.append(f"the canary {shown} (no answer: {reason})")
        return Reachability(looked_at=looked)
    looked.append(f"the canary {shown}")
    return Reachability(evidence=f"the canary {shown} {answer} now", looked_at=looked)
