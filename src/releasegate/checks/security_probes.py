"""The passive security audit's requests: GET only, each path at most once, at most
`[security] max_requests` of them and none after `max_duration`; and each rule's findings over
what came back (`checks.security_audit` judges).

No attack traffic: the requests are what a browser or a crawler sends, the one unusual thing an
`Origin` of a made-up site (never contacted) for the cors rule. A response that did not come in
time is kept as seen without an answer; a target that cannot be reached at all raises
`TargetUnreachable` (HOLD), as every probe does.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from releasegate.checks.security_audit import (
    PROBE_ORIGIN,
    Candidate,
    Finding,
    Seen,
    audited_paths,
    cookie_findings,
    cors_findings,
    exposed_candidates,
    exposed_findings,
    http_twin,
    is_https,
    listing_findings,
    parent_directories,
    redirect_findings,
    version_findings,
)
from releasegate.config.environment import EnvironmentModel
from releasegate.errors import TargetUnreachable
from releasegate.probe import Probe, ProbeClient


@dataclass(frozen=True)
class RuleEvidence:
    """What one rule found, how many responses it looked at, and what the reader should know
    about how it looked (requests not sent, flags not judged over http)."""

    findings: list[Finding]
    looked_at: int
    notes: list[str] = field(default_factory=list)


def seen_of(probe: Probe) -> Seen:
    """A probe as the rules see it."""
    response = probe.response
    if response is None:
        return Seen(probe.url, None)
    return Seen(
        probe.url, response.status_code, tuple(response.headers.multi_items()), response.content
    )


class PassiveAudit:
    """The audit of one target: requests shared between the rules, bounded in count and time.

    `client` is the gates' probe client (the target's headers go with every request);
    `twin_client` makes the client for the plain-http twin of an https target (no headers:
    credentials are never sent over plain http).
    """

    def __init__(
        self,
        client: ProbeClient,
        model: EnvironmentModel,
        *,
        twin_client: Callable[[str], ProbeClient] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.client = client
        self.model = model
        self.config = model.security
        self.twin_client = twin_client or (
            lambda url: ProbeClient(url, timeout_s=client.timeout_s, retries=1)
        )
        self.clock = clock
        self.deadline = clock() + self.config.max_duration
        self.sent = 0
        self.not_sent: dict[str, int] = {}  # rule -> requests the bounds kept back
        self._seen: dict[str, Seen] = {}
        self._evidence: dict[str, RuleEvidence] = {}

    @property
    def https(self) -> bool:
        return is_https(self.client.base_url)

    # -- requests

    def get(self, path: str, rule: str) -> Seen | None:
        """GET `path` once for every rule (with the probe Origin); None when the bounds keep it
        back (counted against `rule`)."""
        if path in self._seen:
            return self._seen[path]
        if self.sent >= self.config.max_requests or self.clock() >= self.deadline:
            self.not_sent[rule] = self.not_sent.get(rule, 0) + 1
            return None
        self.sent += 1
        seen = seen_of(self.client.get(path, headers={"Origin": PROBE_ORIGIN}))
        self._seen[path] = seen
        return seen

    def _gather(self, paths: list[str], rule: str) -> list[Seen]:
        gathered = [self.get(path, rule) for path in paths]
        return [s for s in gathered if s is not None and s.answered]

    def _notes(self, rule: str) -> list[str]:
        held = self.not_sent.get(rule, 0)
        if not held:
            return []
        return [
            f"{held} requests not sent: [security] max_requests = {self.config.max_requests}"
            f" or max_duration = {self.config.max_duration:g}s reached"
        ]

    # -- rules

    def evidence(self, rule: str) -> RuleEvidence:
        """The rule's findings (gathered once, however many checks judge them)."""
        gatherers: dict[str, Callable[[], RuleEvidence]] = {
            "cookie-flags": self._cookie_flags,
            "cors": self._cors,
            "version-disclosure": self._version_disclosure,
            "exposed-files": self._exposed_files,
            "directory-listing": self._directory_listing,
            "https-redirect": self._https_redirect,
        }
        if rule not in self._evidence:
            self._evidence[rule] = gatherers[rule]()
        return self._evidence[rule]

    def listed(self, rule: str) -> list[Seen]:
        return self._gather(audited_paths(self.model), rule)

    def _cookie_flags(self) -> RuleEvidence:
        seen = self.listed("cookie-flags")
        notes = [] if self.https else ["Secure not judged: the target is http"]
        return RuleEvidence(
            cookie_findings(seen, https=self.https), len(seen), notes + self._notes("cookie-flags")
        )

    def _cors(self) -> RuleEvidence:
        seen = self.listed("cors")
        return RuleEvidence(cors_findings(seen), len(seen), self._notes("cors"))

    def _version_disclosure(self) -> RuleEvidence:
        seen = self.listed("version-disclosure")
        return RuleEvidence(version_findings(seen), len(seen), self._notes("version-disclosure"))

    def _directory_listing(self) -> RuleEvidence:
        listed = audited_paths(self.model)
        seen = self._gather(listed + parent_directories(listed), "directory-listing")
        return RuleEvidence(listing_findings(seen), len(seen), self._notes("directory-listing"))

    def _exposed_files(self) -> RuleEvidence:
        rule = "exposed-files"
        # the application's own answers, for soft 404s: a path that cannot exist, and `/`
        nowhere = f"/releasegate-not-found-{secrets.token_hex(6)}"
        pages = self._gather([nowhere, "/"], rule)
        candidates = exposed_candidates(
            [p.path for p in self.model.pages] or ["/"], self.config.exposed_files
        )
        probed: list[tuple[Candidate, Seen]] = []
        for candidate in candidates:
            seen = self.get(candidate.path, rule)
            if seen is not None and seen.answered:
                probed.append((candidate, seen))
        return RuleEvidence(exposed_findings(probed, pages), len(probed), self._notes(rule))

    def _https_redirect(self) -> RuleEvidence:
        rule = "https-redirect"
        url = (self.config.http_url or http_twin(self.client.base_url)).rstrip("/")
        if self.sent >= self.config.max_requests or self.clock() >= self.deadline:
            self.not_sent[rule] = 1
            return RuleEvidence([], 0, self._notes(rule))
        self.sent += 1
        with self.twin_client(url) as twin:
            try:
                seen = seen_of(twin.get("/"))
            except TargetUnreachable:
                return RuleEvidence([], 1, [f"nothing answers at {url}: no plain-http site"])
        if not seen.answered:
            return RuleEvidence([], 1, [f"{url} did not answer in time: no plain-http site"])
        return RuleEvidence(redirect_findings(seen), 1, [f"GET {url}: {seen.status}"])
