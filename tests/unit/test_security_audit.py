"""The passive security audit's rules, each a table over responses written out by hand: what is a
finding, at which level, with which evidence; and what is not (soft 404s, CSRF cookies, `*`
without credentials, a server name without a version)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from releasegate.checks.security_audit import (
    MAX_BACKUP_PAGES,
    PROBE_ORIGIN,
    Candidate,
    Finding,
    RuleCheck,
    Seen,
    backup_paths,
    cookie_findings,
    cors_findings,
    disclosed_version,
    exposed_candidates,
    exposed_findings,
    http_twin,
    is_session_like,
    judge_findings,
    kind_of,
    listing_findings,
    listing_title,
    parent_directories,
    redirect_findings,
    rule_checks,
    version_findings,
)
from releasegate.config.security_tables import SecurityConfig, SecurityRule, Severity
from releasegate.outcome import Judgement

URL = "https://app.example"


def seen(path: str = "/", status: int | None = 200, body: str | bytes = "", **headers: str) -> Seen:
    """A response to GET `path`; header names written with underscores (Set_Cookie)."""
    pairs = tuple((k.replace("_", "-"), v) for k, v in headers.items())
    data = body.encode() if isinstance(body, str) else body
    return Seen(URL + path, status, pairs, data)


def cookies(*values: str, path: str = "/login") -> Seen:
    return Seen(URL + path, 200, tuple(("Set-Cookie", v) for v in values))


def shown(findings: list[Finding]) -> list[tuple[str, str, str]]:
    return [(f.url.removeprefix(URL), f.evidence, f.level) for f in findings]


# --------------------------------------------------------------------------- cookie-flags


@pytest.mark.parametrize(
    ("name", "session_like"),
    [
        pytest.param("PHPSESSID", True, id="php"),
        pytest.param("JSESSIONID", True, id="java"),
        pytest.param("connect.sid", True, id="express"),
        pytest.param("sid", True, id="sid"),
        pytest.param("ASP.NET_SessionId", True, id="aspnet"),
        pytest.param("auth_token", True, id="auth-token"),
        pytest.param("Authorization", True, id="auth-any-case"),
        pytest.param("jwt", True, id="jwt"),
        pytest.param("remember_user_token", True, id="remember"),
        pytest.param("rg_session", True, id="reference-session"),
        pytest.param("rg_auth_state", True, id="reference-sign-in-state"),
        pytest.param("csrftoken", False, id="django-csrf: scripts read it"),
        pytest.param("XSRF-TOKEN", False, id="angular-xsrf"),
        pytest.param("theme", False, id="preference"),
        pytest.param("consider_banner", False, id="sid-inside-a-word"),
        pytest.param("_ga", False, id="analytics"),
    ],
)
def test_session_like_cookie_names(name: str, session_like: bool) -> None:
    assert is_session_like(name) is session_like


@pytest.mark.parametrize(
    ("response", "https", "expected"),
    [
        pytest.param(
            cookies("rg_session=abc; Path=/; HttpOnly; SameSite=Lax"),
            False,
            [],
            id="flagged-over-http",
        ),
        pytest.param(
            cookies("rg_session=abc; Path=/; HttpOnly; Secure; SameSite=Lax"),
            True,
            [],
            id="flagged-over-https",
        ),
        pytest.param(
            cookies("rg_session=abc; Path=/; HttpOnly; SameSite=Lax"),
            True,
            [("/login", "session-like cookie rg_session without Secure", "blocking")],
            id="session-without-secure-on-https",
        ),
        pytest.param(
            cookies("PHPSESSID=abc; path=/"),
            False,
            [
                ("/login", "session-like cookie PHPSESSID without HttpOnly", "blocking"),
                ("/login", "session-like cookie PHPSESSID without SameSite", "advisory"),
            ],
            id="bare-session-over-http: Secure not judged",
        ),
        pytest.param(
            cookies("PHPSESSID=abc; path=/"),
            True,
            [
                ("/login", "session-like cookie PHPSESSID without Secure, HttpOnly", "blocking"),
                ("/login", "session-like cookie PHPSESSID without SameSite", "advisory"),
            ],
            id="bare-session-over-https",
        ),
        pytest.param(
            cookies("theme=dark; Path=/; SameSite=Lax"),
            False,
            [],
            id="preference-without-httponly",
        ),
        pytest.param(
            cookies("theme=dark; Path=/; SameSite=Lax"),
            True,
            [("/login", "cookie theme without Secure", "advisory")],
            id="preference-without-secure-on-https",
        ),
        pytest.param(
            cookies("csrftoken=x; Path=/; SameSite=Strict"),
            False,
            [],
            id="csrf-cookie-readable-by-scripts",
        ),
        pytest.param(
            cookies("rg_session=; Max-Age=0; Path=/"),
            False,
            [],
            id="a-deleted-cookie",
        ),
        pytest.param(
            cookies("a=1; HttpOnly; SameSite=Lax", "sessionid=2; SameSite=None; HttpOnly"),
            False,
            [],
            id="two-cookies-both-flagged",
        ),
        pytest.param(
            cookies("Sid=2; HTTPONLY; samesite=strict"),
            False,
            [],
            id="flags-in-any-case",
        ),
    ],
)
def test_cookie_flags(response: Seen, https: bool, expected: list[tuple[str, str, str]]) -> None:
    assert shown(cookie_findings([response], https=https)) == expected


# --------------------------------------------------------------------------- cors

REFLECTED = f"Origin {PROBE_ORIGIN} reflected (Access-Control-Allow-Origin: {PROBE_ORIGIN})"


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        pytest.param({}, [], id="no-cors-headers"),
        pytest.param({"Access_Control_Allow_Origin": "*"}, [], id="star-without-credentials"),
        pytest.param(
            {"Access_Control_Allow_Origin": "*", "Access_Control_Allow_Credentials": "true"},
            [
                (
                    "any origin with credentials (Access-Control-Allow-Origin: *,"
                    " Access-Control-Allow-Credentials: true)",
                    "blocking",
                )
            ],
            id="star-with-credentials",
        ),
        pytest.param(
            {
                "Access_Control_Allow_Origin": PROBE_ORIGIN,
                "Access_Control_Allow_Credentials": "true",
            },
            [
                (
                    f"Origin {PROBE_ORIGIN} reflected (Access-Control-Allow-Origin: {PROBE_ORIGIN},"
                    " Access-Control-Allow-Credentials: true)",
                    "blocking",
                )
            ],
            id="reflected-with-credentials",
        ),
        pytest.param(
            {"Access_Control_Allow_Origin": PROBE_ORIGIN},
            [
                (
                    REFLECTED,
                    "advisory",
                )
            ],
            id="reflected-without-credentials",
        ),
        pytest.param(
            {
                "Access_Control_Allow_Origin": PROBE_ORIGIN,
                "Access_Control_Allow_Credentials": "false",
            },
            [
                (
                    REFLECTED,
                    "advisory",
                )
            ],
            id="reflected-credentials-false",
        ),
        pytest.param(
            {
                "Access_Control_Allow_Origin": "https://app.example",
                "Access_Control_Allow_Credentials": "true",
            },
            [],
            id="its-own-origin-with-credentials",
        ),
        pytest.param(
            {"Access_Control_Allow_Origin": "null", "Access_Control_Allow_Credentials": "true"},
            [
                (
                    "any origin with credentials (Access-Control-Allow-Origin: null,"
                    " Access-Control-Allow-Credentials: true)",
                    "blocking",
                )
            ],
            id="null-with-credentials",
        ),
    ],
)
def test_cors(headers: dict[str, str], expected: list[tuple[str, str]]) -> None:
    pairs = tuple((name.replace("_", "-"), value) for name, value in headers.items())
    found = cors_findings([Seen(URL + "/api/tickets", 200, pairs)])

    assert [(f.evidence, f.level) for f in found] == expected
    assert all(f.url == URL + "/api/tickets" for f in found)


# --------------------------------------------------------------------------- version-disclosure


@pytest.mark.parametrize(
    ("header", "value", "version"),
    [
        pytest.param("Server", "aiohttp/3.9.5 Python/3.11", "aiohttp/3.9.5", id="aiohttp"),
        pytest.param("Server", "Python/3.11 aiohttp/3.9", "Python/3.11", id="aiohttp-default"),
        pytest.param("Server", "nginx/1.22.1", "nginx/1.22.1", id="nginx"),
        pytest.param("Server", "Apache/2.4.57 (Debian)", "Apache/2.4.57", id="apache"),
        pytest.param("Server", "Microsoft-IIS/10.0", "Microsoft-IIS/10.0", id="iis"),
        pytest.param("X-Powered-By", "PHP/8.1", "PHP/8.1", id="php"),
        pytest.param("X-AspNet-Version", "4.0.30319", "4.0.30319", id="aspnet"),
        pytest.param("Server", "nginx", None, id="nginx-without-version"),
        pytest.param("Server", "cloudflare", None, id="cdn"),
        pytest.param("Server", "releasegate-reference", None, id="reference-service"),
        pytest.param("X-Powered-By", "Express", None, id="express-without-version"),
        pytest.param("Server", "gunicorn", None, id="gunicorn"),
    ],
)
def test_disclosed_version(header: str, value: str, version: str | None) -> None:
    assert disclosed_version(header, value) == version


def test_version_findings_name_the_header_and_are_advisory() -> None:
    found = version_findings([seen("/", Server="nginx/1.22.1", X_Powered_By="Express")])

    assert shown(found) == [("/", "Server: nginx/1.22.1", "advisory")]


# --------------------------------------------------------------------------- exposed-files

NOT_FOUND_PAGE = seen(
    "/releasegate-not-found-1",
    body="<!doctype html><html><head><title>Acme</title></head><body>Welcome</body></html>",
)
HOME = seen("/", body="<!doctype html><html><head><title>Acme</title></head><body>Hi</body></html>")


@pytest.mark.parametrize(
    ("path", "response", "evidence"),
    [
        pytest.param(
            "/.git/HEAD",
            seen("/.git/HEAD", body="ref: refs/heads/main\n"),
            "200 with a git HEAD: 'ref: refs/heads/main'",
            id="git-head-ref",
        ),
        pytest.param(
            "/.git/HEAD",
            seen("/.git/HEAD", body="3f786850e387550fdab836ed7e6dc881de23001b\n"),
            "200 with a git HEAD: '3f786850e387550fdab836ed7e6dc881de23001b'",
            id="git-head-detached",
        ),
        pytest.param(
            "/.git/HEAD",
            seen("/.git/HEAD", body=NOT_FOUND_PAGE.text),
            None,
            id="git-head-soft-404",
        ),
        pytest.param(
            "/.git/HEAD",
            seen("/.git/HEAD", 404, body="ref: refs/heads/main\n"),
            None,
            id="git-head-404",
        ),
        pytest.param(
            "/.env",
            seen("/.env", body="# prod\nDATABASE_URL=postgres://u:p@db/app\nexport DEBUG=false\n"),
            "200 with an environment file: 2 KEY=value lines (DATABASE_URL, DEBUG)",
            id="env-lines-names-only",
        ),
        pytest.param(
            "/.env",
            seen("/.env", body="<html><body>a=b</body></html>"),
            None,
            id="env-soft-404-html",
        ),
        pytest.param(
            "/.env",
            seen("/.env", body="Not here.\nSorry.\nkey=value\n"),
            None,
            id="env-mostly-prose",
        ),
        pytest.param(
            "/.DS_Store",
            seen("/.DS_Store", body=b"\x00\x00\x00\x01Bud1\x00\x00\x10"),
            "200 with a .DS_Store (Bud1 header)",
            id="ds-store",
        ),
        pytest.param(
            "/server-status",
            seen("/server-status", body="<h1>Apache Server Status for example.com</h1>"),
            "200 with Apache's server status page",
            id="server-status",
        ),
        pytest.param(
            "/server-status",
            seen("/server-status", body="OK"),
            None,
            id="server-status-of-the-app",
        ),
        pytest.param(
            "/.svn/entries",
            seen("/.svn/entries", body="12\n"),
            "200 with a Subversion entries file",
            id="svn-entries",
        ),
        pytest.param(
            "/index.php.bak",
            seen("/index.php.bak", body="<?php echo 1; ?>\n", Content_Type="text/plain"),
            "200 with a file: 17 bytes of text/plain",
            id="backup-copy",
        ),
        pytest.param(
            "/index.php.bak",
            seen(
                "/index.php.bak",
                body="<!doctype html><html><head><title>Acme</title></head><body>404</body></html>",
            ),
            None,
            id="backup-soft-404-same-title",
        ),
        pytest.param(
            "/login.old",
            seen("/login.old", body=HOME.text.replace("Hi", "Ho")),
            None,
            id="backup-soft-404-nearly-the-home-page",
        ),
        pytest.param("/login~", seen("/login~", body="  \n"), None, id="backup-empty"),
        pytest.param(
            "/.login.swp",
            seen("/.login.swp", body=b"b0VIM 9.0\x00\x00"),
            "200 with a vim swap file (b0VIM header)",
            id="vim-swap",
        ),
    ],
)
def test_exposed_files(path: str, response: Seen, evidence: str | None) -> None:
    found = exposed_findings([(Candidate(path, kind_of(path)), response)], [NOT_FOUND_PAGE, HOME])

    assert [f.evidence for f in found] == ([evidence] if evidence else [])
    assert all(f.url == URL + path and f.level == "blocking" for f in found)


def test_backup_copies_of_pages() -> None:
    assert backup_paths("/") == [
        "/index.php.bak",
        "/index.php~",
        "/index.php.old",
        "/index.php.orig",
        "/.index.php.swp",
    ]
    assert backup_paths("/app/login") == [
        "/app/login.bak",
        "/app/login~",
        "/app/login.old",
        "/app/login.orig",
        "/app/.login.swp",
    ]


def test_candidates_are_bounded_and_unique() -> None:
    pages = ["/", "/", *(f"/p{i}" for i in range(20))]

    candidates = exposed_candidates(pages, ["/.env", "/backup.zip"])

    paths = [c.path for c in candidates]
    assert paths[:6] == [
        "/.git/HEAD",
        "/.env",
        "/.DS_Store",
        "/server-status",
        "/.svn/entries",
        "/backup.zip",
    ]
    assert len(paths) == len(set(paths)) == 6 + 5 * MAX_BACKUP_PAGES
    assert {c.kind for c in candidates if c.path.endswith(".swp")} == {"swap"}


# --------------------------------------------------------------------------- directory-listing


@pytest.mark.parametrize(
    ("body", "title"),
    [
        pytest.param(
            "<html><head><title>Index of /static/</title></head>", "Index of /static/", id="nginx"
        ),
        pytest.param("<title>Index of /files</title>", "Index of /files", id="apache"),
        pytest.param(
            "<title>Directory listing for /</title>", "Directory listing for /", id="python"
        ),
        pytest.param(
            "<title>Directory Listing For [/]</title>", "Directory Listing For [/]", id="tomcat"
        ),
        pytest.param("<h1>Index of /up</h1>", "Index of /up", id="heading-only"),
        pytest.param("<pre>[To Parent Directory]</pre>", "[To Parent Directory]", id="iis"),
        pytest.param("<title>Home</title>", None, id="a-page"),
        pytest.param("<p>Index of products</p>", None, id="words-in-a-page"),
    ],
)
def test_listing_titles(body: str, title: str | None) -> None:
    assert listing_title(body) == title


def test_a_listing_is_a_finding_only_with_200() -> None:
    listing = "<title>Index of /static/</title>"

    found = listing_findings([seen("/static/", body=listing), seen("/a/", 403, body=listing)])

    assert shown(found) == [("/static/", "a directory listing: 'Index of /static/'", "blocking")]


def test_parent_directories() -> None:
    paths = ["/", "/api/tickets", "/api/version", "/static/css/a.css?v=1", "/login"]

    assert parent_directories(paths) == ["/api/", "/static/css/"]


# --------------------------------------------------------------------------- https-redirect


@pytest.mark.parametrize(
    ("twin", "evidence"),
    [
        pytest.param(seen(status=301, Location="https://app.example/"), None, id="301-to-https"),
        pytest.param(seen(status=308, Location="https://app.example/"), None, id="308-to-https"),
        pytest.param(
            seen(status=302, Location="http://app.example/home"),
            "302 redirect to http://app.example/home",
            id="redirect-to-http",
        ),
        pytest.param(
            seen(status=200, body="<html>"),
            "200 served over plain http, no redirect to https",
            id="served-over-http",
        ),
        pytest.param(seen(status=None), None, id="nothing-answers"),
    ],
)
def test_https_redirect(twin: Seen, evidence: str | None) -> None:
    assert [f.evidence for f in redirect_findings(twin)] == ([evidence] if evidence else [])


@pytest.mark.parametrize(
    ("base_url", "twin"),
    [
        pytest.param("https://app.example", "http://app.example/", id="default-port"),
        pytest.param("https://app.example:8443/base", "http://app.example/", id="other-port"),
        pytest.param("https://[::1]:8443", "http://[::1]/", id="ipv6"),
    ],
)
def test_http_twin(base_url: str, twin: str) -> None:
    assert http_twin(base_url) == twin


# --------------------------------------------------------------------------- checks and judging


@pytest.mark.parametrize(
    ("rules", "expected"),
    [
        pytest.param(
            {},
            [
                ("cookie-flags", True),
                ("cookie-flags:advisory", False),
                ("cors", True),
                ("cors:advisory", False),
                ("version-disclosure", False),
                ("exposed-files", True),
                ("directory-listing", True),
                ("https-redirect", True),
            ],
            id="defaults",
        ),
        pytest.param(
            {"version-disclosure": "blocking", "cookie-flags": "off", "cors": "advisory"},
            [
                ("cors", False),
                ("version-disclosure", True),
                ("exposed-files", True),
                ("directory-listing", True),
                ("https-redirect", True),
            ],
            id="overrides",
        ),
    ],
)
def test_rule_checks(rules: dict[SecurityRule, Severity], expected: list[tuple[str, bool]]) -> None:
    assert [(c.id, c.blocking) for c in rule_checks(rules)] == expected


FINDINGS = [
    Finding(URL + "/", "Server: nginx/1.22.1", "advisory"),
    Finding(URL + "/login", "Server: nginx/1.22.1", "advisory"),
    Finding(URL + "/login", "session-like cookie sid without HttpOnly", "blocking"),
]


@pytest.mark.parametrize(
    ("check", "judgement", "message"),
    [
        pytest.param(
            RuleCheck("cookie-flags", "blocking", True),
            Judgement.FAIL,
            "cookie-flags: 1 finding in 3 responses: https://app.example/login: session-like"
            " cookie sid without HttpOnly; a note",
            id="the-blocking-part",
        ),
        pytest.param(
            RuleCheck("cookie-flags", "advisory", False),
            Judgement.FAIL,
            "cookie-flags: 2 findings in 3 responses: https://app.example/: Server: nginx/1.22.1"
            " (and 1 more URLs); a note",
            id="the-advisory-part-grouped",
        ),
        pytest.param(
            RuleCheck("cookie-flags", None, True),
            Judgement.FAIL,
            "cookie-flags: 3 findings in 3 responses: https://app.example/: Server: nginx/1.22.1"
            " (and 1 more URLs); https://app.example/login: session-like cookie sid without"
            " HttpOnly; a note",
            id="every-finding",
        ),
    ],
)
def test_judge_findings(check: RuleCheck, judgement: Judgement, message: str) -> None:
    judged = judge_findings(check, FINDINGS, looked_at=3, notes=["a note"])

    assert (judged.judgement, judged.message) == (judgement, message)


def test_no_finding_passes_and_no_response_is_inconclusive() -> None:
    check = RuleCheck("cors", None, True)

    passed = judge_findings(check, [], looked_at=7)
    nothing = judge_findings(check, [], looked_at=0, notes=["60 requests not sent"])

    assert (passed.judgement, passed.message) == (
        Judgement.PASS,
        "cors: nothing found in 7 responses",
    )
    assert (nothing.judgement, nothing.message) == (
        Judgement.INCONCLUSIVE,
        "cors: no response to judge; 60 requests not sent",
    )


def test_security_table_refuses_unknown_rules_and_severities() -> None:
    assert SecurityConfig(rules={"cors": "off"}).rules == {"cors": "off"}
    with pytest.raises(ValidationError, match="cookie-flag"):
        SecurityConfig.model_validate({"rules": {"cookie-flag": "off"}})
    with pytest.raises(ValidationError, match="blocking"):
        SecurityConfig.model_validate({"rules": {"cors": "warn"}})
