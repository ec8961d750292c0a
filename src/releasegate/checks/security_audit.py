"""A passive security audit, rule by rule, in the spirit of the OWASP ZAP baseline scan's passive
rules: each rule is a small function over responses already observed (`Seen`), so the rules are
tested with tables and no network; `checks.security_probes` sends the few GETs they look at.

Rules (docs/security-audit.md): `cookie-flags`, `cors`, `version-disclosure`, `exposed-files`,
`directory-listing`, `https-redirect`. Each finding names the URL and the evidence, and has a
level: blocking or advisory. A rule's severity (its default, or `[security] rules`) decides its
checks: `blocking` one blocking check judging every finding, `advisory` one advisory check,
`off` none; cookie-flags and cors, whose findings differ in weight, default to a blocking check
for their blocking findings and an advisory one (`<rule>:advisory`) for the others.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal, get_args
from urllib.parse import urlsplit

from releasegate.config.environment import EnvironmentModel
from releasegate.config.security_tables import SecurityRule, Severity
from releasegate.outcome import Judged

Level = Literal["blocking", "advisory"]

RULES: tuple[SecurityRule, ...] = get_args(SecurityRule)
# the rules whose findings differ in weight: by default a blocking and an advisory check
SPLIT_RULES = frozenset({"cookie-flags", "cors"})
# each rule as a person reads it, in check titles
RULE_WORDS: Mapping[str, str] = {
    "cookie-flags": "cookies are set Secure, HttpOnly and SameSite",
    "cors": "no other origin may read answers with credentials",
    "version-disclosure": "no server or framework version is given away",
    "exposed-files": "no source, backup or secret file is served",
    "directory-listing": "no folder is listed",
    "https-redirect": "plain http redirects to https",
}
ADVISORY_RULES = frozenset({"version-disclosure"})
# the ZAP passive (or baseline) rule each corresponds to, for docs and messages
ZAP_RULES: Mapping[str, str] = {
    "cookie-flags": "10010 Cookie No HttpOnly Flag, 10011 Cookie Without Secure Flag, "
    "10054 Cookie without SameSite Attribute",
    "cors": "10098 Cross-Domain Misconfiguration (40040 CORS Header, active, by one Origin)",
    "version-disclosure": "10036 Server Leaks Version Information, 10037 X-Powered-By,"
    " 10061 X-AspNet-Version",
    "exposed-files": "40034 .env Information Leak, 40035 Hidden File Finder,"
    " 10095 Backup File Disclosure (active rules, here by a few GETs)",
    "directory-listing": "10033 Directory Browsing",
    "https-redirect": "10106 HTTP Only Site",
}
# the made-up origin the cors rule sends; never contacted
PROBE_ORIGIN = "https://evil.example"
# how much of a body the rules look at
BODY_LIMIT = 64 * 1024
SHOWN_FINDINGS = 8


# --------------------------------------------------------------------------- what was observed


@dataclass(frozen=True)
class Seen:
    """One GET the audit sent and what came back (status None: no answer in time)."""

    url: str
    status: int | None
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""

    def header(self, name: str) -> str | None:
        """The first value of header `name` (any case), or None."""
        values = self.header_values(name)
        return values[0] if values else None

    def header_values(self, name: str) -> list[str]:
        wanted = name.lower()
        return [v for k, v in self.headers if k.lower() == wanted]

    @property
    def text(self) -> str:
        return self.body[:BODY_LIMIT].decode("utf-8", errors="replace")

    @property
    def answered(self) -> bool:
        return self.status is not None


@dataclass(frozen=True)
class Finding:
    """What one rule found at one URL: the evidence, and whether it blocks by default."""

    url: str
    evidence: str
    level: Level = "blocking"

    @property
    def line(self) -> str:
        return f"{self.url}: {self.evidence}"


# --------------------------------------------------------------------------- cookie-flags

# a session, sign-in or API token: without HttpOnly a script injected into a page can read it
_SESSION_LIKE = re.compile(r"sess|token|auth|jwt|remember|(?:^|[^a-z])sid(?:$|[^a-z])", re.I)
# a double-submit CSRF cookie must be readable by the page's own scripts
_CSRF = re.compile(r"csrf|xsrf", re.I)


@dataclass(frozen=True)
class SetCookie:
    """A `Set-Cookie` header: the cookie's name and its attributes (names lower case)."""

    name: str
    attributes: Mapping[str, str]

    @classmethod
    def parse(cls, header: str) -> SetCookie:
        pair, *attributes = header.split(";")
        name = pair.partition("=")[0].strip()
        parsed: dict[str, str] = {}
        for attribute in attributes:
            key, _, value = attribute.partition("=")
            if key.strip():
                parsed[key.strip().lower()] = value.strip()
        return cls(name, parsed)

    @property
    def deleted(self) -> bool:
        """A cookie being removed (`Max-Age=0`): no value to protect."""
        age = self.attributes.get("max-age", "")
        return age.lstrip("-").isdigit() and int(age) <= 0

    @property
    def session_like(self) -> bool:
        return bool(_SESSION_LIKE.search(self.name)) and not _CSRF.search(self.name)


def is_session_like(name: str) -> bool:
    """Whether a cookie's name says it holds a session or a token (CSRF cookies excepted)."""
    return SetCookie(name, {}).session_like


def cookie_findings(seen: Iterable[Seen], *, https: bool) -> list[Finding]:
    """Cookies without Secure (judged on https only), session-like cookies without HttpOnly
    (blocking, as Secure is for them), cookies without SameSite (advisory)."""
    findings: list[Finding] = []
    for response in seen:
        for header in response.header_values("Set-Cookie"):
            cookie = SetCookie.parse(header)
            if not cookie.name or cookie.deleted:
                continue
            flags = cookie.attributes
            kind = "session-like cookie" if cookie.session_like else "cookie"
            blocking = [
                flag
                for flag, missing in (
                    ("Secure", https and "secure" not in flags),
                    ("HttpOnly", "httponly" not in flags),
                )
                if missing and cookie.session_like
            ]
            advisory = ["SameSite"] if not flags.get("samesite") else []
            if https and "secure" not in flags and not cookie.session_like:
                advisory.insert(0, "Secure")
            if blocking:
                findings.append(
                    Finding(response.url, f"{kind} {cookie.name} without {', '.join(blocking)}")
                )
            if advisory:
                findings.append(
                    Finding(
                        response.url,
                        f"{kind} {cookie.name} without {', '.join(advisory)}",
                        "advisory",
                    )
                )
    return findings


# --------------------------------------------------------------------------- cors


def cors_findings(seen: Iterable[Seen], *, origin: str = PROBE_ORIGIN) -> list[Finding]:
    """Answers to a request from `origin` (made up, foreign) that let it read them: reflected
    with credentials, or `*` or `null` with credentials (blocking); reflected without
    credentials (advisory: public data, but any site may read it)."""
    findings: list[Finding] = []
    for response in seen:
        allowed = (response.header("Access-Control-Allow-Origin") or "").strip()
        if not allowed:
            continue
        credentials = (response.header("Access-Control-Allow-Credentials") or "").strip()
        with_credentials = credentials.lower() == "true"
        shown = f"Access-Control-Allow-Origin: {allowed}"
        if with_credentials:
            shown += ", Access-Control-Allow-Credentials: true"
        if allowed.lower() == origin.lower():
            level: Level = "blocking" if with_credentials else "advisory"
            findings.append(Finding(response.url, f"Origin {origin} reflected ({shown})", level))
        elif allowed in ("*", "null") and with_credentials:
            findings.append(Finding(response.url, f"any origin with credentials ({shown})"))
    return findings


# --------------------------------------------------------------------------- version-disclosure

VERSION_HEADERS = ("Server", "X-Powered-By", "X-AspNet-Version", "X-AspNetMvc-Version")
# a product and its version: aiohttp/3.9, PHP/8.1.2, nginx/1.22.1, Microsoft-IIS/10.0
_VERSION = re.compile(r"[A-Za-z][\w.+\-]*/v?\d+(?:\.\d+)*")
_BARE_VERSION = re.compile(r"^v?\d+(?:\.\d+)+")


def disclosed_version(header: str, value: str) -> str | None:
    """The product/version a header gives away (`nginx/1.22.1`), or None (`nginx`)."""
    if header.lower().startswith("x-aspnet"):
        match = _BARE_VERSION.match(value.strip())
    else:
        match = _VERSION.search(value)
    return match.group(0) if match else None


def version_findings(seen: Iterable[Seen]) -> list[Finding]:
    """A version number in Server, X-Powered-By or X-AspNet(Mvc)-Version (advisory)."""
    findings: list[Finding] = []
    for response in seen:
        for header in VERSION_HEADERS:
            value = response.header(header)
            if value and disclosed_version(header, value):
                findings.append(Finding(response.url, f"{header}: {value}", "advisory"))
    return findings


# --------------------------------------------------------------------------- exposed-files

FileKind = Literal["git-head", "env", "ds-store", "server-status", "svn-entries", "swap", "file"]
EXPOSED_FILES: tuple[str, ...] = (
    "/.git/HEAD",
    "/.env",
    "/.DS_Store",
    "/server-status",
    "/.svn/entries",
)
BACKUP_SUFFIXES = (".bak", "~", ".old", ".orig")
# backup copies are looked for beside this many page paths (5 requests each)
MAX_BACKUP_PAGES = 5
# what `/` is backed up as
INDEX_FILE = "index.php"


@dataclass(frozen=True)
class Candidate:
    """A path that must not be served, and the kind of file it would be."""

    path: str
    kind: FileKind


def kind_of(path: str) -> FileKind:
    """The kind of file a path names, by its name."""
    name = path.rstrip("/").rpartition("/")[2]
    if path.endswith("/.git/HEAD"):
        return "git-head"
    if path.endswith("/.svn/entries"):
        return "svn-entries"
    if name == ".env" or name.startswith(".env."):
        return "env"
    if name == ".DS_Store":
        return "ds-store"
    if name == "server-status":
        return "server-status"
    if name.endswith(".swp"):
        return "swap"
    return "file"


def backup_paths(page: str) -> list[str]:
    """Where an editor or a careless copy leaves a page's file: `.bak`, `~`, `.old`, `.orig`,
    and vim's `.NAME.swp` beside it (`/` is taken as /index.php)."""
    path = page.partition("?")[0].partition("#")[0]
    if path.endswith("/"):
        path += INDEX_FILE
    directory, _, name = path.rpartition("/")
    return [path + suffix for suffix in BACKUP_SUFFIXES] + [f"{directory}/.{name}.swp"]


def exposed_candidates(pages: Sequence[str], extra: Sequence[str] = ()) -> list[Candidate]:
    """The paths the exposed-files rule probes: the usual leaks, `extra`, then backup copies of
    the first MAX_BACKUP_PAGES page paths; each once."""
    paths = [*EXPOSED_FILES, *extra]
    for page in list(dict.fromkeys(pages))[:MAX_BACKUP_PAGES]:
        paths += backup_paths(page)
    return [Candidate(p, kind_of(p)) for p in dict.fromkeys(paths)]


_GIT_HEAD = re.compile(r"\A(?:ref: refs/\S+|[0-9a-f]{40})\s*\Z")
_ENV_LINE = re.compile(r"^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=")
_SVN_ENTRIES = re.compile(r"\A(?:\d{1,2}\s*\n|<\?xml[^>]*>\s*<wc-entries)")
_HTML = re.compile(r"\A\s*<(?:!doctype|html|head|body)", re.IGNORECASE)
_TITLE = re.compile(r"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)
DS_STORE_MAGIC = b"\x00\x00\x00\x01Bud1"
SWAP_MAGIC = b"b0VIM"
# two bodies at least this alike are the same page (a soft 404 that echoes the path)
SAME_PAGE_RATIO = 0.9


def _env_variables(text: str) -> list[str]:
    """The variable names of a `.env` file, when most of its lines are `KEY=value`."""
    lines = [
        line for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")
    ]
    names = [m.group(1) for m in map(_ENV_LINE.match, lines) if m]
    return names if names and len(names) * 2 >= len(lines) and not _HTML.match(text) else []


def title_of(text: str) -> str | None:
    match = _TITLE.search(text)
    return " ".join(match.group(1).split()) if match else None


def looks_like_app_page(response: Seen, pages: Iterable[Seen]) -> bool:
    """Whether a 200 is the application's normal page rather than a file (a soft 404): the
    same title as one of `pages` (its not-found answer, its home page), or nearly the same
    body."""
    text = response.text
    title = title_of(text)
    for page in pages:
        if not page.answered or not page.body:
            continue
        if title is not None and title == title_of(page.text):
            return True
        other = page.text
        if text == other:
            return True
        matcher = difflib.SequenceMatcher(None, text[:4096], other[:4096], autojunk=False)
        if matcher.real_quick_ratio() >= SAME_PAGE_RATIO and matcher.ratio() >= SAME_PAGE_RATIO:
            return True
    return False


def exposed_file_evidence(kind: FileKind, response: Seen, pages: Sequence[Seen]) -> str | None:
    """What shows that `response` (a 200) is the file itself, or None (a soft 404, another
    page). Secrets a file holds are never repeated: a .env is shown by its variable names."""
    text = response.text
    if kind == "git-head":
        match = _GIT_HEAD.match(text)
        return f"a git HEAD: {match.group(0).strip()!r}" if match else None
    if kind == "env":
        names = _env_variables(text)
        shown = ", ".join(names[:5]) + (", ..." if len(names) > 5 else "")
        return f"an environment file: {len(names)} KEY=value lines ({shown})" if names else None
    if kind == "ds-store":
        return "a .DS_Store (Bud1 header)" if response.body.startswith(DS_STORE_MAGIC) else None
    if kind == "server-status":
        return "Apache's server status page" if "Apache Server Status" in text else None
    if kind == "svn-entries":
        return "a Subversion entries file" if _SVN_ENTRIES.match(text) else None
    if kind == "swap" and response.body.startswith(SWAP_MAGIC):
        return "a vim swap file (b0VIM header)"
    if not response.body.strip() or looks_like_app_page(response, pages):
        return None
    content_type = response.header("Content-Type") or "no Content-Type"
    return f"a file: {len(response.body)} bytes of {content_type.split(';')[0]}"


def exposed_findings(
    probed: Iterable[tuple[Candidate, Seen]], pages: Sequence[Seen]
) -> list[Finding]:
    """Each probed path answered 200 with a body that is the file (blocking); `pages` are the
    application's ordinary answers (a not-found path, its home page), for soft 404s."""
    findings: list[Finding] = []
    for candidate, response in probed:
        if response.status != 200:
            continue
        evidence = exposed_file_evidence(candidate.kind, response, pages)
        if evidence is not None:
            findings.append(Finding(response.url, f"200 with {evidence}"))
    return findings


# --------------------------------------------------------------------------- directory-listing

_LISTING = re.compile(
    r"<title>\s*(Index of /[^<]*|Directory listing for [^<]*)</title>"
    r"|<h1>\s*(Index of /[^<]*)</h1>"
    r"|\[To Parent Directory\]",
    re.IGNORECASE,
)


def listing_title(text: str) -> str | None:
    """The title of a directory index page (Apache, nginx autoindex, Python's http.server,
    Tomcat, IIS), or None."""
    match = _LISTING.search(text)
    if match is None:
        return None
    return " ".join((match.group(1) or match.group(2) or match.group(0)).split())


def parent_directories(paths: Iterable[str]) -> list[str]:
    """`/api/tickets` -> `/api/`, `/static/css/a.css` -> `/static/css/`: each once, not `/`."""
    parents: list[str] = []
    for path in paths:
        parent = path.partition("?")[0].rstrip("/").rpartition("/")[0] + "/"
        if parent != "/" and parent not in parents:
            parents.append(parent)
    return parents


def listing_findings(seen: Iterable[Seen]) -> list[Finding]:
    """A path answering 200 with a directory index (blocking)."""
    findings: list[Finding] = []
    for response in seen:
        title = listing_title(response.text) if response.status == 200 else None
        if title is not None:
            findings.append(Finding(response.url, f"a directory listing: {title!r}"))
    return findings


# --------------------------------------------------------------------------- https-redirect

REDIRECTS = frozenset({301, 302, 303, 307, 308})


def is_https(url: str) -> bool:
    return urlsplit(url).scheme == "https"


def http_twin(base_url: str) -> str:
    """The plain-http address of an https target: the same host on port 80."""
    host = urlsplit(base_url).hostname or ""
    return f"http://[{host}]/" if ":" in host else f"http://{host}/"


def redirect_findings(twin: Seen) -> list[Finding]:
    """The http twin answers with a redirect to https (nothing answering over plain http is as
    good); anything else is a finding (blocking)."""
    if not twin.answered:
        return []
    location = twin.header("Location") or ""
    if twin.status in REDIRECTS and location.lower().startswith("https://"):
        return []
    if twin.status in REDIRECTS:
        return [Finding(twin.url, f"{twin.status} redirect to {location or '(no Location)'}")]
    return [Finding(twin.url, f"{twin.status} served over plain http, no redirect to https")]


# --------------------------------------------------------------------------- checks and judging


@dataclass(frozen=True)
class RuleCheck:
    """One check of the audit: a rule, the findings it judges (None: every one) and whether
    it blocks."""

    rule: str
    judges: Level | None
    blocking: bool

    @property
    def id(self) -> str:
        return f"{self.rule}:advisory" if self.judges == "advisory" else self.rule

    @property
    def name(self) -> str:
        """What the check holds the target to, in words (its title)."""
        words = RULE_WORDS.get(self.rule, self.rule)
        return f"{words} (advisory findings)" if self.judges == "advisory" else words


def rule_checks(severities: Mapping[SecurityRule, Severity]) -> list[RuleCheck]:
    """The audit's checks, from each rule's default severity or its `[security] rules` entry."""
    checks: list[RuleCheck] = []
    for rule in RULES:
        severity = severities.get(rule)
        if severity == "off":
            continue
        if severity is not None:
            checks.append(RuleCheck(rule, None, severity == "blocking"))
        elif rule in SPLIT_RULES:
            checks += [RuleCheck(rule, "blocking", True), RuleCheck(rule, "advisory", False)]
        else:
            checks.append(RuleCheck(rule, None, rule not in ADVISORY_RULES))
    return checks


def judge_findings(
    check: RuleCheck, findings: Sequence[Finding], *, looked_at: int, notes: Sequence[str] = ()
) -> Judged:
    """The check's findings judged: a failure listing them (URL and evidence, the same
    evidence seen at several URLs once), a pass saying how much was looked at, or
    inconclusive when no response was seen at all."""
    noted = "".join(f"; {n}" for n in notes)
    if looked_at == 0:
        return Judged.inconclusive(f"{check.rule}: no response to judge{noted}")
    mine = [f for f in findings if check.judges is None or f.level == check.judges]
    if not mine:
        return Judged.passed(
            f"{check.rule}: nothing found in {looked_at} responses{noted}",
            measured=0,
            limit=0,
            samples=looked_at,
        )
    urls: dict[str, list[str]] = {}
    for finding in mine:
        urls.setdefault(finding.evidence, []).append(finding.url)
    lines = [
        f"{at[0]}: {evidence}" + (f" (and {len(at) - 1} more URLs)" if len(at) > 1 else "")
        for evidence, at in urls.items()
    ]
    shown = "; ".join(lines[:SHOWN_FINDINGS])
    more = f"; and {len(lines) - SHOWN_FINDINGS} more" if len(lines) > SHOWN_FINDINGS else ""
    return Judged.failed(
        f"{check.rule}: {len(mine)} finding{'' if len(mine) == 1 else 's'} in {looked_at}"
        f" responses: {shown}{more}{noted}",
        measured=len(mine),
        limit=0,
        samples=looked_at,
        where=mine[0].url,
    )


def audited_paths(model: EnvironmentModel) -> list[str]:
    """What the audit looks at: `/`, the pages, the GET endpoints, the `[headers] paths`,
    `[security] paths` and the sign-in page of `[browser.login]`; each once."""
    paths = ["/"]
    paths += [p.path for p in model.pages]
    paths += [e.path for e in model.endpoints if e.method in ("GET", "HEAD")]
    paths += model.headers.paths
    paths += model.security.paths
    if model.browser.login is not None:
        paths.append(model.browser.login.path)
    return list(dict.fromkeys(paths))
