"""Environment files: loading, extends, ${VAR} interpolation, and one-line errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from releasegate.config import check_all, known_environments, load_environment
from releasegate.errors import ConfigError
from releasegate.outcome import Verdict

GOOD = """
[target]
base_url = "https://staging.example.com"
"""


def write(directory: Path, name: str, text: str) -> Path:
    path = directory / f"{name}.toml"
    path.write_text(text, encoding="utf-8")
    return path


def problem(directory: Path, text: str, environ: dict[str, str] | None = None) -> str:
    write(directory, "prod", text)
    with pytest.raises(ConfigError) as caught:
        load_environment("prod", directory, environ or {})
    return str(caught.value)


def test_a_minimal_file_loads_with_defaults(tmp_path: Path) -> None:
    """A file with only a base URL is complete; the rest takes documented defaults."""
    write(tmp_path, "staging", GOOD)

    env = load_environment("staging", tmp_path, {})

    assert env.name == "staging"
    assert env.target.base_url == "https://staging.example.com"
    assert env.target.timeout == 5.0
    assert env.read_only is True
    assert env.model.policy.on_inconclusive == "hold"


def test_local_is_writable_by_default(tmp_path: Path) -> None:
    """Only the environment named `local` is writable unless its file says otherwise."""
    write(tmp_path, "local", GOOD)

    assert load_environment("local", tmp_path, {}).read_only is False


def test_units_are_parsed_at_load_time(tmp_path: Path) -> None:
    """Durations and ratios are written for people and read as numbers."""
    write(tmp_path, "staging", GOOD + 'timeout = "250ms"\n[slo]\navailability_min = "99.9%"\n')

    env = load_environment("staging", tmp_path, {})

    assert env.target.timeout == pytest.approx(0.25)
    assert env.model.slo.availability_min == pytest.approx(0.999)


BAD_INPUTS = [
    pytest.param(
        '[target]\nbase_url = "https://x.example"\n[slo]\nlatency_p95_ms = -5\n',
        "environments/prod.toml: slo.latency_p95_ms must be > 0 (got -5)",
        id="negative-threshold",
    ),
    pytest.param(
        '[target]\nbase_url = "https://x.example"\ntimout = "5s"\n',
        "environments/prod.toml: target.timout: unknown key; did you mean 'timeout'?",
        id="unknown-key-with-suggestion",
    ),
    pytest.param(
        '[target]\nbase_url = "https://x.example"\n[tragets]\n',
        "environments/prod.toml: tragets: unknown key; did you mean 'target'?",
        id="unknown-table",
    ),
    pytest.param(
        '[target]\nbase_url = "https://x.example"\nretries = "many"\n',
        "environments/prod.toml: target.retries must be a whole number (got 'many')",
        id="wrong-type",
    ),
    pytest.param(
        '[target]\nbase_url = "ftp://x.example"\n',
        "environments/prod.toml: target.base_url must be an http:// or https:// URL with a host"
        " (got 'ftp://x.example')",
        id="invalid-url-scheme",
    ),
    pytest.param(
        '[target]\nbase_url = "https://"\n',
        "environments/prod.toml: target.base_url must be an http:// or https:// URL with a host"
        " (got 'https://')",
        id="invalid-url-no-host",
    ),
    pytest.param(
        '[target]\nbase_url = "http://x.example:99999"\n',
        "environments/prod.toml: target.base_url has an invalid port (got 'http://x.example:99999')",
        id="invalid-url-port",
    ),
    pytest.param(
        "[target]\nread_only = true\n",
        "environments/prod.toml: target.base_url is required (or [reference] start = true for the"
        " bundled service)",
        id="missing-base-url",
    ),
    pytest.param(
        '[target]\nbase_url = "https://x.example"\n[[endpoints]]\npath = "api/health"\n',
        "environments/prod.toml: endpoints[0].path must start with '/' (got 'api/health')",
        id="relative-endpoint-path",
    ),
    pytest.param(
        '[target]\nbase_url = "https://x.example"\n[policy]\non_inconclusive = "ignore"\n',
        "environments/prod.toml: policy.on_inconclusive must be one of 'hold' or 'rollback'"
        " (got 'ignore')",
        id="bad-choice",
    ),
    pytest.param(
        '[target]\nbase_url = "https://x.example"\ntimeout = "soon"\n',
        "environments/prod.toml: target.timeout expected a duration such as '5s' or '500ms',"
        " got 'soon'",
        id="bad-duration",
    ),
    pytest.param(
        '[target]\nbase_url = "https://x.example"\n[slo]\navailability_min = "120%"\n',
        "environments/prod.toml: slo.availability_min a ratio must be between 0 and 1"
        " (0% and 100%), got '120%'",
        id="ratio-out-of-range",
    ),
    pytest.param(
        '[target]\nbase_url = "https://x.example"\n[[endpoints]]\npath = "/a"\n'
        '[[endpoints]]\npath = "/a"\n',
        "environments/prod.toml: endpoint/page ids must be unique; repeated: ['GET /a']",
        id="duplicate-checks",
    ),
    pytest.param(
        '[target]\nbase_url = "https://x.example"\nheaders = { A = "${NOPE}" }\n',
        "environments/prod.toml: target.headers.A needs the environment variable NOPE, which is not"
        " set (export it, or write ${NOPE:-default})",
        id="missing-variable",
    ),
    pytest.param(
        '[target]\nbase_url = "https://x.example"\nheaders = { A = "${1BAD}" }\n',
        "environments/prod.toml: target.headers.A has a malformed variable; write ${NAME} or"
        " ${NAME:-x}",
        id="malformed-variable",
    ),
    pytest.param(
        '[target]\nbase_url = "https://x.example"\nversion_key = "$.versions.["\n',
        "environments/prod.toml: target.version_key is not a valid JSONPath (expected a"
        " shorthand selector): '$.versions.['",
        id="bad-jsonpath",
    ),
    pytest.param(
        '[target]\nbase_url = "https://x.example"\nhealth_format = "json"\n',
        "environments/prod.toml: target.health_format must be one of 'auto', 'releasegate',"
        " 'health+json', 'spring' or 'status' (got 'json')",
        id="unknown-health-format",
    ),
    pytest.param(
        '[target]\nbase_url = "https://x.example"\nread_only = \n',
        "environments/prod.toml: TOML syntax error: Invalid value (at line 3, column 13)",
        id="toml-syntax-with-line",
    ),
]


@pytest.mark.parametrize(("text", "message"), BAD_INPUTS)
def test_bad_input_is_one_line_naming_file_key_and_problem(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str, message: str
) -> None:
    """Each kind of bad input gives one line naming the file, the key path and what is wrong."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "environments").mkdir()

    got = problem(tmp_path / "environments", text)

    assert got == message
    assert "\n" not in got


def test_every_problem_is_kept_and_the_first_is_shown(tmp_path: Path) -> None:
    """Several problems: the message shows the first and counts the rest."""
    write(tmp_path, "prod", '[target]\nbase_url = "https://x.example"\nfoo = 1\nbar = 2\n')

    with pytest.raises(ConfigError) as caught:
        load_environment("prod", tmp_path, {})

    assert len(caught.value.problems) == 2
    assert str(caught.value).endswith("(and 1 more)")


def test_unknown_environment_lists_the_known_ones(tmp_path: Path) -> None:
    """A name with no file says which names exist."""
    write(tmp_path, "staging", GOOD)
    write(tmp_path, "local", GOOD)

    with pytest.raises(ConfigError, match=r"unknown environment 'prod' .* known: local, staging"):
        load_environment("prod", tmp_path, {})


def test_a_path_to_a_file_works_as_well_as_a_name(tmp_path: Path) -> None:
    """`--env path/to/x.toml` loads that file, named by its stem."""
    path = write(tmp_path, "canary", GOOD)

    assert load_environment(str(path), tmp_path / "elsewhere", {}).name == "canary"


def test_a_missing_file_path_is_an_error(tmp_path: Path) -> None:
    """A path that is not a file is named as such."""
    with pytest.raises(ConfigError, match="no such environment file"):
        load_environment(str(tmp_path / "gone.toml"), tmp_path, {})


def test_variables_are_interpolated_and_recorded_as_secrets(tmp_path: Path) -> None:
    """${VAR} takes the process environment's value, and that value is a secret."""
    write(tmp_path, "prod", GOOD + 'headers = { Authorization = "Bearer ${API_TOKEN}" }\n')

    env = load_environment("prod", tmp_path, {"API_TOKEN": "s3cr3t-value", "OTHER": "x"})

    assert env.target.headers["Authorization"] == "Bearer s3cr3t-value"
    assert env.secrets == {"s3cr3t-value"}


def test_defaults_apply_when_unset_and_are_not_secret(tmp_path: Path) -> None:
    """${VAR:-default} uses the default, written in the file and so not a secret."""
    write(tmp_path, "prod", GOOD + 'headers = { X = "${UNSET:-fallback}", Y = "${SET:-no}" }\n')

    env = load_environment("prod", tmp_path, {"SET": "from-env"})

    assert env.target.headers == {"X": "fallback", "Y": "from-env"}
    assert env.secrets == {"from-env"}


def test_a_doubled_dollar_is_a_literal_dollar(tmp_path: Path) -> None:
    """`$${X}` is the text `${X}`, not a variable."""
    write(tmp_path, "prod", GOOD + 'headers = { X = "$${NOT_A_VAR}" }\n')

    assert load_environment("prod", tmp_path, {}).target.headers["X"] == "${NOT_A_VAR}"


def test_a_missing_variable_names_only_itself(tmp_path: Path) -> None:
    """The error names the missing variable and prints no other variable's value."""
    got = problem(
        tmp_path,
        GOOD + 'headers = { A = "${PRESENT}", B = "${ABSENT}" }\n',
        {"PRESENT": "do-not-print-me"},
    )

    assert "ABSENT" in got
    assert "do-not-print-me" not in got


def test_a_secret_is_masked_in_validation_errors(tmp_path: Path) -> None:
    """A secret that lands in a key of the wrong type is not echoed by the error."""
    got = problem(tmp_path, GOOD + 'retries = "${RETRIES}"\n', {"RETRIES": "hunter2-secret"})

    assert "target.retries must be a whole number" in got
    assert "hunter2-secret" not in got


def test_extends_merges_tables_and_replaces_lists(tmp_path: Path) -> None:
    """A child overrides its base key by key; lists are replaced, not appended."""
    write(
        tmp_path,
        "base",
        'abstract = true\n[target]\ntimeout = "2s"\nretries = 4\n[[endpoints]]\npath = "/a"\n',
    )
    write(
        tmp_path,
        "staging",
        'extends = "base"\n[target]\nbase_url = "https://s.example"\nretries = 1\n'
        '[[endpoints]]\npath = "/b"\n',
    )

    env = load_environment("staging", tmp_path, {})

    assert env.target.timeout == 2.0
    assert env.target.retries == 1
    assert [e.path for e in env.model.endpoints] == ["/b"]
    assert env.model.abstract is False


def test_extends_names_the_chain_in_errors(tmp_path: Path) -> None:
    """An error in a merged file names the child and the base it extends."""
    write(tmp_path, "base", "[target]\ntimeout = -1\n")
    write(tmp_path, "staging", 'extends = "base"\n[target]\nbase_url = "https://s.example"\n')

    with pytest.raises(ConfigError, match=r"staging.toml \(extends .*base.toml\): target.timeout"):
        load_environment("staging", tmp_path, {})


@pytest.mark.parametrize(
    ("files", "message"),
    [
        pytest.param({"a": 'extends = "b"\n', "b": 'extends = "a"\n'}, "cycle", id="cycle"),
        pytest.param({"a": 'extends = "zzz"\n'}, "zzz.toml does not exist", id="missing-base"),
        pytest.param({"a": "extends = 3\n"}, "extends must be an environment name", id="bad-type"),
    ],
)
def test_bad_extends_is_reported(tmp_path: Path, files: dict[str, str], message: str) -> None:
    """Cycles, missing bases and non-names in `extends` are configuration errors."""
    for name, text in files.items():
        write(tmp_path, name, text)

    with pytest.raises(ConfigError, match=message):
        load_environment("a", tmp_path, {})


def test_shipped_environment_files_are_all_valid() -> None:
    """local.toml and the example files in environments/ pass validation."""
    directory = Path(__file__).parents[2] / "environments"

    problems = check_all(directory)

    assert set(known_environments(directory)) >= {"local", "staging.example", "prod.example"}
    assert {name: p for name, p in problems.items() if p} == {}


def test_browser_defaults_come_from_the_seed_checklists(tmp_path: Path) -> None:
    """Page load 5 s, LCP 2.5 s, CLS 0.1; artefacts of failures; no flow unless listed."""
    write(tmp_path, "prod", GOOD)

    browser = load_environment("prod", tmp_path, {}).model.browser

    assert (browser.load_max, browser.lcp_max, browser.cls_max) == (5.0, 2.5, 0.1)
    assert browser.artefacts == "on-failure"
    assert browser.flows == []
    assert browser.enabled


def test_browser_keys_are_validated_like_every_other_key(tmp_path: Path) -> None:
    assert "browser.lcp_mx: unknown key; did you mean 'lcp_max'?" in problem(
        tmp_path, GOOD + '[browser]\nlcp_mx = "2s"\n'
    )
    assert "pages[0].console_allow[0] is not a valid regular expression" in problem(
        tmp_path, GOOD + '[[pages]]\npath = "/"\nconsole_allow = ["(unclosed"]\n'
    )
    assert "browser.artefacts must be one of" in problem(
        tmp_path, GOOD + '[browser]\nartefacts = "sometimes"\n'
    )


def test_a_browser_login_password_from_a_variable_is_a_secret(tmp_path: Path) -> None:
    write(
        tmp_path,
        "prod",
        GOOD + '[browser.login]\nusername = "demo"\npassword = "${DEMO_PASSWORD}"\n',
    )

    env = load_environment("prod", tmp_path, {"DEMO_PASSWORD": "hunter2-long"})

    assert env.model.browser.login is not None
    assert env.model.browser.login.password == "hunter2-long"
    assert "hunter2-long" in env.secrets


def test_load_caps_are_checked_when_the_file_is_read(tmp_path: Path) -> None:
    """A profile beyond its own caps is a configuration error naming both numbers."""
    assert "load users 500 exceeds max_users 100" in problem(
        tmp_path, GOOD + "[load]\nusers = 500\n"
    )
    assert "users 1000 exceeds max_users 100 (profile thousand-users runs 1000)" in problem(
        tmp_path, GOOD + '[load]\nprofile = "thousand-users"\n'
    )
    assert "duration 600s exceeds max_duration 300s" in problem(
        tmp_path, GOOD + '[load]\nduration = "10m"\n'
    )
    assert "load.profile must be one of" in problem(tmp_path, GOOD + '[load]\nprofile = "x"\n')


def test_basic_auth_is_sent_as_a_header_and_its_base64_is_masked(tmp_path: Path) -> None:
    """`[target] basic_auth` becomes `Authorization: Basic base64(user:password)`, which the
    environment's redactor masks like the password itself."""
    write(
        tmp_path,
        "basic",
        '[target]\nbase_url = "http://127.0.0.1:1"\n'
        'basic_auth = { username = "gate", password = "${GATE_PASSWORD}" }\n',
    )

    env = load_environment("basic", tmp_path, {"GATE_PASSWORD": "s3cr3t pässword"})

    header = env.target.headers["Authorization"]
    assert header == "Basic Z2F0ZTpzM2NyM3QgcMOkc3N3b3Jk"
    assert not env.redactor.contains_secret(env.redactor.redact(header))


def test_basic_auth_and_an_authorization_header_are_refused_together(tmp_path: Path) -> None:
    """Two Authorization headers cannot both be sent: a configuration error."""
    write(
        tmp_path,
        "both",
        '[target]\nbase_url = "http://127.0.0.1:1"\nheaders = { Authorization = "Bearer x" }\n'
        'basic_auth = { username = "gate", password = "pw-1234" }\n',
    )

    with pytest.raises(ConfigError, match="basic_auth and an Authorization header"):
        load_environment("both", tmp_path, {})


def test_notify_speaks_the_verdicts_of_the_one_outcome_vocabulary(tmp_path: Path) -> None:
    """`[notify] on` defaults to every `Verdict`, in its order, and accepts only their names."""
    write(tmp_path, "prod", GOOD)

    notify = load_environment("prod", tmp_path, {}).model.notify

    assert notify.on == [verdict.name for verdict in Verdict]
    assert "notify.on[0] must be one of 'GO', 'ROLLBACK' or 'HOLD' (got 'MAYBE')" in problem(
        tmp_path, GOOD + '[notify]\non = ["MAYBE"]\n'
    )


def test_a_misspelt_key_is_matched_against_the_keys_of_its_own_table(tmp_path: Path) -> None:
    """The hint for an unknown key lists the table's keys, read from the model validated."""
    assert "monitor.fro: unknown key; did you mean 'for'?" in problem(
        tmp_path, GOOD + '[monitor]\nfro = "1h"\n'
    )
