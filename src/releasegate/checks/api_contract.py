"""The API against its OpenAPI document, operation by operation, with schemathesis.

`load_contract` reads the document (from the target, a URL or a file) and lists the documented
operations; `check_operation` sends a bounded number of generated, schema-valid requests to one
of them through the gate's own HTTP client and judges each answer with schemathesis's checks:
no 5xx, a documented status code, the documented content type, a body that conforms to its
schema. The first violation fails the check, with the request as a (masked) curl line.

Generation is derandomized, so two runs against the same document send the same requests, and
never shrinks (a shrink phase would send an unbounded number of further requests).
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin, urlsplit

from releasegate.errors import EvidenceMissing, RequestNotSent, TargetUnreachable
from releasegate.outcome import Judged
from releasegate.probe import ProbeClient
from releasegate.redact import Redactor

if TYPE_CHECKING:
    from schemathesis import APIOperation, BaseSchema, Case

    from releasegate.config import OpenApiConfig

# methods that change nothing: the only ones sent on a read-only environment
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# how much of a violation's text a failure message shows
_MESSAGE_LINES = 4


class ContractUnavailable(EvidenceMissing):
    """The OpenAPI document could not be read or understood: the contract cannot be judged."""


@dataclass(frozen=True)
class Operation:
    """One documented operation: `GET /items/{id}`."""

    method: str
    path: str
    tags: tuple[str, ...] = ()
    problem: str | None = None  # why it cannot be checked (an invalid definition)

    @property
    def label(self) -> str:
        return f"{self.method} {self.path}"

    @property
    def writes(self) -> bool:
        return self.method not in READ_METHODS


@dataclass(frozen=True)
class ApiContract:
    """A loaded document: where it came from, where its paths are mounted, its operations."""

    source: str
    base_path: str
    operations: tuple[Operation, ...]
    schema: BaseSchema = field(repr=False)

    def find(self, label: str) -> APIOperation[Any, Any, Any, Any]:
        from schemathesis.core.result import Ok

        for result in self.schema.get_all_operations():
            if isinstance(result, Ok) and result.ok().label == label:
                return result.ok()
        raise ContractUnavailable(f"{self.source}: no operation {label} in the document")


def _document_text(config: OpenApiConfig, client: ProbeClient, repository: Path) -> str:
    if config.path is not None:
        path = Path(config.path).expanduser()
        file = path if path.is_absolute() else repository / path
        try:
            return file.read_text(encoding="utf-8")
        except OSError as exc:
            raise ContractUnavailable(
                f"[openapi] path: cannot read {file}: {exc.strerror or exc}"
            ) from None
    assert config.url is not None  # the model requires one of the two
    if config.url.startswith("/"):
        probe = client.get(config.url)
    else:
        # another origin never gets the target's headers (they may hold its credentials)
        same_origin = urlsplit(config.url)[:2] == urlsplit(client.base_url)[:2]
        probe = (
            client
            if same_origin
            else ProbeClient(
                config.url,
                timeout_s=client.timeout_s,
                retries=client.retries,
                redactor=client.redactor,
            )
        ).get(config.url)
    if probe.response is None:
        raise ContractUnavailable(f"{probe.label}: no answer within {probe.timeout_s:g}s")
    if probe.status != 200:
        raise ContractUnavailable(
            f"{probe.label} answered {probe.status}, not 200 with the OpenAPI document"
            " (check [openapi] url)"
        )
    return probe.response.text


def parse_document(text: str, source: str) -> dict[str, Any]:
    """An OpenAPI (or Swagger) document from JSON or YAML text; `ContractUnavailable` naming
    `source` when it is neither, or not such a document."""
    try:
        document = json.loads(text)
    except json.JSONDecodeError:
        import yaml  # type: ignore[import-untyped]  # schemathesis brings PyYAML (documents are often YAML)

        try:
            document = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise ContractUnavailable(f"{source}: neither JSON nor YAML ({exc})") from None
    if not isinstance(document, dict) or not ("openapi" in document or "swagger" in document):
        raise ContractUnavailable(
            f"{source}: not an OpenAPI document (no `openapi` or `swagger` field at the top)"
        )
    return document


def documented_mount(document: dict[str, Any], source: str = "") -> str:
    """Where the document says its paths are mounted: the path of its first `servers` URL
    (OpenAPI 3; a relative one is relative to where the document was served) or `basePath`
    (Swagger 2.0); "" for the root."""
    servers = document.get("servers")
    if isinstance(servers, list) and servers and isinstance(servers[0], dict):
        url = str(servers[0].get("url", ""))
        return urlsplit(urljoin(source if "://" in source else "http://x/", url)).path.rstrip("/")
    base = document.get("basePath")
    return str(base).rstrip("/") if isinstance(base, str) else ""


def mount_on(target_base_url: str, mount: str) -> str:
    """`mount` below the target's base URL: a target given as `https://host/v1` and a document
    mounted at `/v1` mean the paths are right under the base URL, not under `/v1/v1`."""
    base_path = urlsplit(target_base_url).path.rstrip("/")
    if base_path and (mount == base_path or mount.startswith(base_path + "/")):
        return mount[len(base_path) :]
    return mount


def _mount_point(
    config: OpenApiConfig, document: dict[str, Any], source: str, target_base_url: str
) -> str:
    if config.base_path is not None:
        return config.base_path.rstrip("/")
    return mount_on(target_base_url, documented_mount(document, source))


def _selected(operation: Operation, config: OpenApiConfig) -> bool:
    if config.methods and operation.method not in config.methods:
        return False
    if config.paths and operation.path not in config.paths:
        return False
    if operation.path in config.exclude_paths:
        return False
    return not config.tags or bool(set(config.tags) & set(operation.tags))


def load_contract(config: OpenApiConfig, client: ProbeClient, repository: Path) -> ApiContract:
    """The document `[openapi]` names and its selected operations; `ContractUnavailable` (HOLD)
    when it cannot be read or is not an OpenAPI document; `TargetUnreachable` from the probe."""
    source = config.url if config.url is not None else str(config.path)
    if source.startswith("/"):
        source = client.redactor.redact(client.url(source))
    document = parse_document(_document_text(config, client, repository), source)
    return contract_of(document, config, source, client.base_url)


def contract_of(
    document: dict[str, Any], config: OpenApiConfig, source: str, target_base_url: str
) -> ApiContract:
    """The contract of a document already read: its operations, selected as `config` says,
    mounted below the target's base URL."""
    import schemathesis
    from schemathesis.core.result import Ok
    from schemathesis.errors import SchemathesisError

    try:
        schema = schemathesis.openapi.from_dict(document)
    except SchemathesisError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ContractUnavailable(f"{source}: not a usable OpenAPI document: {first}") from None
    operations: list[Operation] = []
    for result in schema.get_all_operations():
        if isinstance(result, Ok):
            op = result.ok()
            tags = tuple(str(t) for t in (op.definition.raw.get("tags") or ()))
            operations.append(Operation(op.method.upper(), op.path, tags))
        else:
            error = result.err()
            method = str(getattr(error, "method", "") or "?").upper()
            path = str(getattr(error, "path", "") or "?")
            operations.append(Operation(method, path, problem=_first_line(error)))
    selected = tuple(op for op in operations if _selected(op, config))
    mount = _mount_point(config, document, source, target_base_url)
    return ApiContract(source, mount, selected, schema)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _response_checks() -> list[Any]:
    from schemathesis.checks import not_a_server_error
    from schemathesis.specs.openapi.checks import (
        content_type_conformance,
        response_schema_conformance,
        status_code_conformance,
    )

    return [
        not_a_server_error,
        status_code_conformance,
        content_type_conformance,
        response_schema_conformance,
    ]


@dataclass
class _Run:
    """What one operation's check saw: requests sent, the first violation."""

    sent: int = 0
    # generated requests that could not be sent (a header value HTTP does not allow, such as
    # a bearer token left empty by the document's security scheme): skipped, not judged
    unsendable: int = 0
    unsendable_reason: str | None = None
    failure: str | None = None
    failure_status: int | None = None
    out_of_time: bool = False
    # raised after generation ends: raised inside it, Hypothesis would replay the request
    unreachable: TargetUnreachable | None = None


def _send(case: Case[Any], client: ProbeClient, base_path: str) -> Any:
    """`case` through the gate's client: its URL, headers (the environment's win), timeout and
    retries of transport errors. Returns the probe."""
    kwargs = case.as_transport_kwargs(base_url=client.base_url.rstrip("/") + base_path)
    url = str(kwargs.pop("url"))
    path = url[len(client.base_url.rstrip("/")) :] or "/"
    ours = {name.lower() for name in client.headers}
    headers = {
        name: value
        for name, value in (kwargs.pop("headers", None) or {}).items()
        if name.lower() not in ours
    }
    cookies = kwargs.pop("cookies", None) or {}
    if cookies:
        headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in cookies.items())
    extra: dict[str, Any] = {}
    if kwargs.get("params"):
        extra["params"] = kwargs["params"]
    if "json" in kwargs:
        extra["json"] = kwargs["json"]
    data = kwargs.get("data")
    if isinstance(data, bytes | str):
        extra["content"] = data
    elif data is not None:
        extra["data"] = data
    if kwargs.get("files"):
        extra["files"] = kwargs["files"]
    return client.request(str(kwargs["method"]).upper(), path, headers=headers, **extra)


# headers every client sends: noise in a curl line
_TRANSPORT_HEADERS = frozenset(
    {"host", "accept", "accept-encoding", "connection", "user-agent", "content-length"}
)


def curl_line(
    case: Case[Any], headers: Mapping[str, str], base_url: str, redactor: Redactor
) -> str:
    """The request as a curl command a person can paste, secrets masked."""
    sent = {k: v for k, v in headers.items() if k.lower() not in _TRANSPORT_HEADERS}
    return redactor.redact(case.as_curl_command(headers=sent, base_url=base_url))


def _violation(
    exc: BaseException, case: Case[Any], response: Any, base_url: str, redactor: Redactor
) -> str:
    from schemathesis.core.failures import Failure, FailureGroup, ServerError

    failures = list(exc.exceptions) if isinstance(exc, FailureGroup) else [exc]
    # a 5xx is also an undocumented status: say the worse first, the same way every run
    failures.sort(key=lambda f: (not isinstance(f, ServerError), type(f).__name__, str(f)))
    first = failures[0]
    if isinstance(first, Failure):
        lines = [first.title, *first.message.strip().splitlines()]
    else:
        lines = [_first_line(first)]
    shown = [line.rstrip() for line in lines if line.strip()][:_MESSAGE_LINES]
    curl = curl_line(case, response.request.headers, base_url, redactor)
    more = f" (and {len(failures) - 1} more)" if len(failures) > 1 else ""
    return redactor.redact("\n".join([*shown, f"request{more}: {curl}"]))


def check_operation(
    contract: ApiContract,
    operation: Operation,
    client: ProbeClient,
    *,
    max_examples: int,
    time_limit_s: float,
) -> Judged:
    """Send up to `max_examples` generated requests to `operation` (fewer when `time_limit_s`
    runs out) and judge every answer; the first violation fails the check."""
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis.errors import HypothesisException
    from schemathesis.core.failures import Failure, FailureGroup
    from schemathesis.errors import SchemathesisError

    if operation.problem is not None:
        return Judged.inconclusive(
            f"{operation.label}: its definition in {contract.source} cannot be used:"
            f" {operation.problem}"
        )
    api_operation = contract.find(operation.label)
    checks = _response_checks()
    run = _Run()
    deadline = time.monotonic() + time_limit_s
    mounted = client.base_url.rstrip("/") + contract.base_path

    @settings(
        max_examples=max_examples,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
        report_multiple_bugs=False,
    )
    @given(case=api_operation.as_strategy())
    def _each(case: Case[Any]) -> None:
        if run.failure is not None or run.unreachable is not None:
            return
        if time.monotonic() > deadline:
            run.out_of_time = True
            return
        try:
            probe = _send(case, client, contract.base_path)
        except RequestNotSent as exc:
            run.unsendable += 1
            run.unsendable_reason = run.unsendable_reason or str(exc)
            return
        except TargetUnreachable as exc:
            run.unreachable = exc
            return
        run.sent += 1
        if probe.response is None:
            curl = curl_line(case, client.headers, mounted, client.redactor)
            run.failure = f"no answer within {probe.timeout_s:g}s\nrequest: {curl}"
            return
        try:
            case.validate_response(probe.response, checks=checks)
        except (Failure, FailureGroup) as exc:
            run.failure = _violation(exc, case, probe.response, mounted, client.redactor)
            run.failure_status = probe.status

    try:
        _each()
    except (SchemathesisError, HypothesisException) as exc:
        if run.failure is None:
            return Judged.inconclusive(
                f"{operation.label}: cannot generate requests from {contract.source}:"
                f" {_first_line(exc)}",
                samples=run.sent,
            )
    if run.unreachable is not None:
        raise run.unreachable
    where = client.redactor.redact(client.url(contract.base_path + operation.path))
    if run.failure is not None:
        return Judged.failed(
            f"{operation.label} broke its contract ({contract.source}) on request {run.sent}:"
            f"\n{run.failure}",
            measured=run.failure_status,
            limit="as documented",
            samples=run.sent,
            where=where,
        )
    if run.sent == 0 and run.unsendable:
        return Judged.inconclusive(
            f"{operation.label}: none of the {run.unsendable} generated requests could be sent"
            f" ({run.unsendable_reason}); give the credentials the document asks for in"
            " [target] headers, or leave the operation out ([openapi] exclude_paths)",
            samples=0,
        )
    if run.sent == 0:
        return Judged.inconclusive(
            f"{operation.label}: no request was sent within the time limit of"
            f" {time_limit_s:g}s (raise [openapi] time_limit)",
            samples=0,
        )
    budget = f" of {max_examples} (time limit {time_limit_s:g}s)" if run.out_of_time else ""
    requests = "request" if run.sent == 1 and not budget else "requests"
    unsent = f"; {run.unsendable} could not be sent, skipped" if run.unsendable else ""
    return Judged.passed(
        f"{operation.label}: {run.sent}{budget} {requests} answered as documented{unsent}",
        samples=run.sent,
        where=where,
    )
