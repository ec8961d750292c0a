"""A target that cannot be reached: gone with the release, or out of this runner's sight?

A refused connection proves a release broken only when the runner's network works and the
target answered before; otherwise the gate has no evidence either way, and the verdict is HOLD.
The evidence, looked for in this order (the first found wins):

1. the target answered in this run (any gate's HTTP client, e.g. the pre-deploy stage's, leaves
   `target-answered.json` in the run folder on its first answer);
2. a baseline of this environment of the same target within `[slo.baseline] max_age` (the one
   the SLO gate would compare with, `slo_baseline.choose_baseline`), in which the target answered;
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

import httpx

from releasegate.config import Environment
from releasegate.errors import EvidenceMissing
from releasegate.evidence.results import Reachability, write_atomically
from releasegate.redact import Redactor
from releasegate.slo.baseline import choose_baseline
from releasegate.slo.synthetic import BASELINE_FILE, target_key
from releasegate.units import format_duration

ANSWERED_FILE = "target-answered.json"
CANARY_TIMEOUT_S = 5.0

Canary = Callable[[str], str]  # URL -> what answered, or raises httpx.HTTPError


def note_answer(run_dir: Path, target_url: str) -> None:
    """Record, once per run, that the target answered: its key (a digest that tells targets
    apart and holds no secret of the URL) and when."""
    path = run_dir / ANSWERED_FILE
    if path.exists():
        return
    record = {"target_key": target_key(target_url), "at": datetime.now(UTC).isoformat()}
    # evidence for a later HOLD-or-ROLLBACK call, never a reason to fail a check
    with contextlib.suppress(OSError):
        write_atomically(path, json.dumps(record) + "\n")


def _answered_in_run(run_dir: Path, target_url: str) -> str | None:
    try:
        record = json.loads((run_dir / ANSWERED_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(record, dict) or record.get("target_key") != target_key(target_url):
        return None
    return f"it answered earlier in this run (at {record.get('at')})"


def _answered_in_baseline(
    env: Environment, target_url: str, reports_dir: Path, now: datetime
) -> str | None:
    try:
        choice = choose_baseline(env, reports_dir, target_url, now=now)
    except EvidenceMissing:  # a named baseline file that cannot be read: no evidence
        return None
    if choice.path is None or choice.samples is None:
        return None
    samples = choice.samples
    answered = sum(1 for s in samples.samples if s.status is not None)
    if not answered:
        return None
    return (
        f"it answered {answered} of {len(samples.samples)} requests of the baseline"
        f" {choice.path.parent.name}/{BASELINE_FILE} taken at {samples.taken_at}"
    )


def _ask_canary(url: str) -> str:
    with httpx.Client(timeout=CANARY_TIMEOUT_S, follow_redirects=False) as client:
        response = client.get(url)
    return f"answered {response.status_code}"


def gather(
    *,
    env: Environment,
    target_url: str,
    run_dir: Path,
    reports_dir: Path,
    redactor: Redactor,
    canary: Canary = _ask_canary,
    now: datetime | None = None,
) -> Reachability:
    """What this run has to show that the runner's network works and the target is down, not
    out of sight. `target_url` as the run used it (only its key and masked form are kept)."""
    when = now or datetime.now(UTC)
    looked = ["an answer of the target earlier in this run"]
    found = _answered_in_run(run_dir, target_url)
    if found:
        return Reachability(evidence=found, looked_at=looked)
    max_age = format_duration(env.model.slo.baseline.max_age)
    looked.append(f"a baseline of env {env.name} of this target under {max_age} old")
    found = _answered_in_baseline(env, target_url, reports_dir, when)
    if found:
        return Reachability(evidence=found, looked_at=looked)
    canary_url = env.model.target.canary_url
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
