"""The environment file `releasegate init` writes from its findings: every key it could fill
from what the application showed, each commented with where it came from, and what it could not
find as comments, never as checks that would fail."""

from __future__ import annotations

import json
import math
from urllib.parse import urlsplit

from releasegate.ops.init.app_discovery import Findings
from releasegate.slo.objectives import Indicator, Objective
from releasegate.slo.stopping import samples_to_pass

ERROR_RATIO = 0.01  # the objectives init proposes: conservative, and showable in one gate run
CONFIDENCE = 0.95
THREADS = 4
# failed or too slow answers the written budget still passes with
TOLERATED = 2


def _q(text: str) -> str:
    """A TOML basic string (JSON's escapes are TOML's)."""
    return json.dumps(text, ensure_ascii=False)


def _round_up(value: float, step: int) -> int:
    return int(math.ceil(value / step) * step)


def _target(found: Findings) -> list[str]:
    lines = [
        "[target]",
        f"base_url = {_q(found.base_url)}",
        "read_only = true             # never writes; set false only for a disposable environment",
        '# headers = { Authorization = "Bearer ${APP_TOKEN}" }   # credentials from a variable',
    ]
    if found.health_path is not None:
        lines += [
            f"health_path = {_q(found.health_path)}",
            f"health_format = {_q(found.health_format or 'auto')}   # what its answer looked like",
        ]
    else:
        lines.append('health_path = ""             # none found: the health checks skip, saying so')
    if found.version_path is not None:
        lines += [
            f"version_path = {_q(found.version_path)}",
            f"version_key = {_q(found.version_key or 'version')}",
        ]
    else:
        lines.append('version_path = ""')
        if found.version_header is not None:
            lines.append(f"version_header = {_q(found.version_header)}")
        elif found.version_meta is not None:
            lines.append(f"version_meta = {_q(found.version_meta)}")
        else:
            lines.append("# no version found: the version checks skip (see docs/environments.md)")
    return lines


def _pages(found: Findings) -> list[str]:
    lines: list[str] = []
    for page in found.pages:
        lines += ["", "[[pages]]", f"path = {_q(page.path)}"]
        if page.status != 200:
            lines.append(f"expect_status = {page.status}   # as it answered when init looked")
        if page.expect_text:
            lines.append(f"expect_text = {_q(page.expect_text)}   # its heading or title")
    return lines


def _endpoints(found: Findings) -> list[str]:
    lines: list[str] = []
    if found.openapi_path is not None:
        lines += [
            "",
            "[openapi]                     # the API against its own document, per operation",
            f"url = {_q(found.openapi_path)}",
            "max_examples = 5",
        ]
        if found.contract_broken:
            broken = sorted(found.contract_broken)
            lines.append(f"exclude_paths = {json.dumps(broken)}   # answered against the document:")
            lines += [f"#   GET {p}: {found.contract_broken[p]}" for p in broken]
            lines.append("# fix the document (or the answer), then take the path out of the list")
        if found.contract_untried:
            lines.append(
                f"# not tried within init's budget: {', '.join(sorted(found.contract_untried))}"
            )
    for path in found.endpoints:
        lines += ["", "[[endpoints]]", f"path = {_q(path)}"]
    return lines


def _headers(found: Findings) -> list[str]:
    lines = ["", "[headers]                     # security headers of the first page"]
    lines.append('paths = ["/"]')
    if found.headers_missing:
        lines.append(f"skip = {json.dumps(sorted(found.headers_missing))}   # not sent today:")
        lines += [f"#   {check}: {why}" for check, why in sorted(found.headers_missing.items())]
        lines.append("# take a check out of `skip` once the application sends its header")
    return lines


def _cache(found: Findings) -> list[str]:
    if not found.cache_paths:
        return ["", "# [cache]: no asset of the first page was served with a max-age"]
    return [
        "",
        "[cache]                       # assets served with Cache-Control max-age",
        (f"paths = {json.dumps(found.cache_paths)}"),
    ]


def _slo(found: Findings) -> list[str]:
    slowest = max(found.latencies_ms, default=100.0)
    p95 = max(500, _round_up(3 * slowest, 100))
    # the sequential gate stops once decided: the budget is what it may spend, enough to pass
    # with up to two failed (or too slow) answers among them
    availability = Objective(Indicator.AVAILABILITY, 1 - ERROR_RATIO)
    needed = samples_to_pass(availability, CONFIDENCE) or 0
    requests = _round_up(samples_to_pass(availability, CONFIDENCE, TOLERATED) or 0, 100)
    per_thread = max(slowest, 20.0) / 1000
    seconds = max(30, _round_up(2 * requests * per_thread / THREADS, 10))
    sampled = [*(p.path for p in found.pages if p.status == 200), *found.endpoints][:5]
    return [
        "",
        "[slo]",
        f"# three times the slowest answer init saw ({slowest:.0f} ms), at least 500 ms",
        f"latency_p95_ms = {p95}",
        f"latency_p99_ms = {2 * p95}",
        f'error_ratio_max = "{ERROR_RATIO:.0%}"',
        f'availability_min = "{1 - ERROR_RATIO:.0%}"',
        "",
        "[slo.synthetic]",
        f"# {ERROR_RATIO:.0%} needs {needed} error-free samples to show at {CONFIDENCE:.0%}"
        f" confidence; sampling stops once every objective is decided, and {requests} allow",
        f"# {TOLERATED} failed or too slow answers among them;",
        f"# at the answers seen here, {THREADS} threads send them in about {seconds // 2} s",
        f"endpoints = {json.dumps(sampled)}",
        f"requests = {requests}",
        f"concurrency = {THREADS}",
        "rate = 50                     # requests per second at most: polite to a shared host",
        f'duration = "{seconds}s"',
    ]


def environment_text(found: Findings, name: str) -> str:
    """The environment file for the findings."""
    host = urlsplit(found.base_url).netloc
    header = [
        f"# environments/{name}.toml: written by `releasegate init --base-url {found.base_url}`",
        f"# from {found.requests} read-only requests to {host}. Review it, then run:",
        f"#   pytest -m smoke --env={name}",
        f"description = {_q(f'{host}, as releasegate init found it')}",
        "",
    ]
    not_found = [f"# not found: {item}" for item in found.missing]
    body = [
        *header,
        *not_found,
        *([""] if not_found else []),
        *_target(found),
        *_pages(found),
        *_endpoints(found),
        "",
        "[browser]",
        "enabled = true                # each [[pages]] entry also in Chromium",
        *_headers(found),
        *_cache(found),
        *_slo(found),
    ]
    return "\n".join(body) + "\n"
