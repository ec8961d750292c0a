"""A secret with quotes, spaces, a slash, markup and non-ASCII, planted everywhere a secret goes,
through every stage and the report site: no file under reports/ holds it in any encoding."""

from __future__ import annotations

import base64
import html
import io
import json
import re
import subprocess
import sys
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote, quote_plus

import pytest

from tests.integration.conftest import ROOT, gate_env, write_env

PASSWORD = "p\"a s/s'wörd&<x>"
# HTTP header values are ASCII (Latin-1 at most; httpx sends ASCII only), so the header secret
# has the same awkward characters but no umlaut
HEADER_SECRET = "h\"e a/d'er&<y>"
BASIC_USER = "gate"

ENV = """
[target]
read_only = false
timeout = "5s"
headers = { X-Gate-Key = "${PLANTED_HEADER}" }
basic_auth = { username = "gate", password = "${PLANTED}" }

[reference]
start = true
api_token = "${PLANTED}"

[slo]
latency_p50_ms = 1000
error_ratio_max = "50%"
availability_min = "50%"

[slo.synthetic]
requests = 40
concurrency = 2
rate = 50
duration = "5s"

[[endpoints]]
path = "/api/tickets"
expect_text = "tickets"

[[pages]]
path = "/dashboard?ref=${PLANTED}"
expect_text = "Dashboard"

[browser]
flows = ["sign-in"]
artefacts = "always"

[browser.login]
username = "demo"
password = "${PLANTED}"

[load]
locustfile = "loadtests/reference.py"
users = 2
spawn_rate = 2
duration = "3s"
wait_min = "0.1s"
wait_max = "0.2s"
min_requests = 5

[load.thresholds]
failure_ratio_max = "50%"

[secret_scan]
exclude = ["reports"]
"""


def encodings(secret: str) -> dict[str, str]:
    """Every form the secret may be written in, by name."""
    escaped = html.escape(secret)
    return {
        "raw": secret,
        "html-escape": escaped,
        "html-escape-noquote": html.escape(secret, quote=False),
        "html-decimal-quotes": escaped.replace("&#x27;", "&#39;").replace("&quot;", "&#34;"),
        "url-no-safe": quote(secret, safe=""),
        "url-default": quote(secret),
        "url-plus": quote_plus(secret),
        "json": json.dumps(secret)[1:-1],
        "json-unicode": json.dumps(secret, ensure_ascii=False)[1:-1],
        "python-repr": repr(secret)[1:-1],
        "base64": base64.b64encode(secret.encode()).decode(),
        "base64-basic-auth": base64.b64encode(f"{BASIC_USER}:{secret}".encode()).decode(),
        # as a file or folder name is made from a check id
        "slug": re.sub(r"[^A-Za-z0-9._-]+", "-", secret).strip("-"),
    }


def members(name: str, data: bytes) -> Iterator[tuple[str, bytes]]:
    """A file's bytes, and every member of it if it is a zip (nested zips too)."""
    yield name, data
    if data[:4] == b"PK\x03\x04":
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            for info in archive.infolist():
                yield from members(f"{name}!{info.filename}", archive.read(info))


def leaks(directory: Path) -> list[str]:
    """`encoding: file[!member]` for every form of either secret found under `directory`."""
    needles = [
        (f"{label}/{kind}", form.encode())
        for label, secret in (("password", PASSWORD), ("header", HEADER_SECRET))
        for kind, form in encodings(secret).items()
    ]
    found = []
    for path in sorted(directory.rglob("*")):
        if path.is_file() and not path.is_symlink():
            for name, data in members(str(path.relative_to(directory)), path.read_bytes()):
                found += [
                    f"{kind}: {name}"
                    for kind, needle in needles
                    if needle in data or needle in name.encode()
                ]
    return found


def releasegate(*args: str, env_dir: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "releasegate", *args],
        cwd=ROOT,
        env=gate_env(
            {
                "PLANTED": PASSWORD,
                "PLANTED_HEADER": HEADER_SECRET,
                "RELEASEGATE_DEMO_PASSWORD": PASSWORD,  # the reference service's sign-in
                "RELEASEGATE_ENV_DIR": str(env_dir),
            }
        ),
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )


@pytest.mark.secrets_everywhere
def test_a_secret_planted_everywhere_is_in_no_report_in_any_encoding(tmp_path: Path) -> None:
    """The secret is a target header (ASCII: HTTP allows no more), a query value of a page
    path (smoke over HTTP and in Chromium), the Basic-auth password and API token (every
    request of every stage, Locust's and the browser's too), and the password the sign-in
    flow types into the form. Every stage runs against the bundled reference service (no
    Prometheus: the SLO stage judges its own few samples and Locust's), then the site is
    built. Zero files, zip members included, hold either secret in any encoding; and the
    checks that use it passed, so it really was sent."""
    envs = tmp_path / "environments"
    env_file = write_env(envs, "everywhere", ENV)
    reports = tmp_path / "reports"
    started = time.monotonic()

    ran = releasegate(
        "run",
        "--env",
        str(env_file),
        *("--stage", "pre-deploy", "--stage", "smoke", "--stage", "post-deploy"),
        *("--stage", "slo", "--stage", "load"),
        *("--run-id", "r1", "--reports-dir", str(reports)),
        env_dir=envs,
    )
    site = releasegate("report", "build", "--reports-dir", str(reports), env_dir=envs)
    took = time.monotonic() - started

    output = ran.stdout + ran.stderr + site.stdout + site.stderr
    results = json.loads((reports / "r1" / "results.json").read_text())
    outcomes = {c["id"].split("::")[-1]: c["outcome"] for c in results["checks"]}
    assert site.returncode == 0, site.stderr
    assert outcomes["test_a_user_signs_in_and_sees_the_dashboard[chromium]"] == "passed"
    assert outcomes["test_endpoint[GET /api/tickets]"] == "passed"  # Basic auth was taken
    assert {c["stage"] for c in results["checks"]} >= {
        "pre_deploy",
        "smoke",
        "post_deploy",
        "slo",
        "load",
    }
    assert any("trace.zip" in a for c in results["checks"] for a in c["artefacts"])
    assert (reports / "site" / "runs" / "r1" / "report.html").is_file()
    assert leaks(reports) == []
    assert [kind for kind, form in encodings(PASSWORD).items() if form in output] == []
    assert took < 240
