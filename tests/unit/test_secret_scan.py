"""The secret scan on real trees in tmp_path, with real detect-secrets baselines."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from releasegate.checks.secret_scan import Finding, ScanResult, scan_tree
from releasegate.errors import EvidenceMissing, SecretScanError

# Planted values are assembled at run time so that this file is not itself a finding for
# anyone's secret scanner (including this project's own pre-deploy gate).
AWS_KEY = "AKIA" + "Z7QX3MPL4RW2KTBN"
PASSWORD = "hunter2-" + "Zebra-Quartz-91"  # pragma: allowlist secret
NEW_PASSWORD = "correct-" + "Horse-Battery-77"  # pragma: allowlist secret
PRIVATE_KEY = "\n".join(
    [
        "-----BEGIN " + "RSA PRIVATE KEY-----",
        # pragma: allowlist nextline secret
        "MIIBOgIBAAJBAKj34GkxFhD90vcNLYLInFEX6Ppy1tPf9Cnzj4p4WGeKLs1Pt8Qu",
        "-----END " + "RSA PRIVATE KEY-----",
    ]
)
PRIVATE_KEY_BODY = PRIVATE_KEY.splitlines()[1]
PLANTED = (AWS_KEY, PASSWORD, NEW_PASSWORD, PRIVATE_KEY_BODY)


def write(root: Path, relative: str, text: str) -> Path:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def make_baseline(root: Path, *args: str) -> Path:
    """A baseline made the way teams make theirs: the detect-secrets CLI, run at the root."""
    scanned = subprocess.run(
        [sys.executable, "-m", "detect_secrets", "scan", "--all-files", *args],
        cwd=root,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    path = root / ".secrets.baseline"
    path.write_text(scanned.stdout)
    return path


def located(result: ScanResult) -> set[tuple[str, int, str]]:
    return {(f.path, f.line, f.kind) for f in result.findings}


def assert_no_values(result: ScanResult) -> None:
    shown = repr(result) + "".join(f"{f} {f.path} {f.kind}" for f in result.findings)
    for value in PLANTED:
        assert value not in shown
        assert value[:8] not in shown


@pytest.fixture
def clean_tree(tmp_path: Path) -> Path:
    """A small project with ordinary code and config and nothing secret in it."""
    root = tmp_path / "project"
    write(root, "app/main.py", 'import os\n\nTIMEOUT_S = 5\nNAME = "release"\n')
    write(root, "app/settings.py", 'password = os.environ["DB_PASSWORD"]\n')
    write(root, "README.md", "# project\n\nRun `make test`.\n")
    return root


def test_a_clean_tree_has_no_findings(clean_tree: Path) -> None:
    """Ordinary code, and a password read from the environment, are not secrets."""
    result = scan_tree(clean_tree)

    assert result.findings == ()
    assert result.files_scanned == 3
    assert (result.root, result.baseline, result.suppressed) == (clean_tree.resolve(), None, 0)


@pytest.mark.parametrize(
    ("relative", "text", "line", "kind"),
    [
        pytest.param(
            "deploy/aws.py", f'import os\n\nKEY_ID = "{AWS_KEY}"\n', 3, "AWS Access Key", id="aws"
        ),
        pytest.param(
            "config/prod/db.py",
            f'HOST = "db"\npassword = "{PASSWORD}"\n',
            2,
            "Secret Keyword",
            id="password",
        ),
        pytest.param("certs/server.pem", f"{PRIVATE_KEY}\n", 1, "Private Key", id="private-key"),
    ],
)
def test_a_planted_secret_is_found_where_it_is(
    clean_tree: Path, relative: str, text: str, line: int, kind: str
) -> None:
    """A committed secret is reported by relative POSIX path, line and detector."""
    write(clean_tree, relative, text)

    result = scan_tree(clean_tree)

    assert (relative, line, kind) in located(result)
    assert {f.path for f in result.findings} == {relative}
    assert_no_values(result)


def test_findings_are_sorted_and_never_carry_the_value(clean_tree: Path) -> None:
    """Several secrets come back ordered by path then line, and no value reaches any output."""
    write(clean_tree, "b.py", f'x = 1\npassword = "{PASSWORD}"\n')
    write(clean_tree, "a.py", f'KEY_ID = "{AWS_KEY}"\n')
    write(clean_tree, "z/key.pem", f"{PRIVATE_KEY}\n")

    result = scan_tree(clean_tree)

    assert result.findings == (
        Finding("a.py", 1, "AWS Access Key"),
        Finding("b.py", 2, "Secret Keyword"),
        Finding("z/key.pem", 1, "Private Key"),
    )
    assert_no_values(result)


def test_one_secret_twice_in_a_file_is_one_finding(clean_tree: Path) -> None:
    """detect-secrets identifies a secret by file, hash and detector: the first line is shown."""
    write(clean_tree, "a.py", f'KEY_ID = "{AWS_KEY}"\n\nAGAIN = "{AWS_KEY}"\n')

    result = scan_tree(clean_tree)

    assert located(result) == {("a.py", 1, "AWS Access Key")}


def test_a_baseline_suppresses_known_secrets_and_not_new_ones(clean_tree: Path) -> None:
    """Secrets in the baseline are counted as suppressed; one added afterwards is reported."""
    write(clean_tree, "config/db.py", f'HOST = "db"\npassword = "{PASSWORD}"\n')
    baseline = make_baseline(clean_tree)

    before = scan_tree(clean_tree, baseline=baseline)
    write(clean_tree, "config/db.py", f'# moved down\nHOST = "db"\npassword = "{PASSWORD}"\n')
    write(clean_tree, "config/cache.py", f'password = "{NEW_PASSWORD}"\n')
    after = scan_tree(clean_tree, baseline=baseline)

    assert (before.findings, before.suppressed) == ((), 1)
    assert before.baseline == baseline.resolve()
    assert located(after) == {("config/cache.py", 1, "Secret Keyword")}
    assert after.suppressed == 1
    assert_no_values(after)


def test_a_known_secret_copied_to_another_file_is_new(clean_tree: Path) -> None:
    """The baseline knows a secret in one file; the same value in another file is reported."""
    write(clean_tree, "a.py", f'KEY_ID = "{AWS_KEY}"\n')
    baseline = make_baseline(clean_tree)
    write(clean_tree, "b.py", f'KEY_ID = "{AWS_KEY}"\n')

    result = scan_tree(clean_tree, baseline=baseline)

    assert located(result) == {("b.py", 1, "AWS Access Key")}
    assert result.suppressed == 1


def test_the_baseline_file_itself_is_not_scanned(clean_tree: Path) -> None:
    """A baseline's hashes look like secrets to the detectors; the baseline in use is skipped."""
    write(clean_tree, "a.py", f'KEY_ID = "{AWS_KEY}"\n')
    baseline = make_baseline(clean_tree)

    with_baseline = scan_tree(clean_tree, baseline=baseline)

    assert with_baseline.findings == ()
    assert with_baseline.files_scanned == 4  # three clean files and a.py


def test_the_baselines_plugins_and_file_excludes_are_used(clean_tree: Path) -> None:
    """A baseline made without the AWS detector, excluding vendor/, scans the same way here."""
    write(clean_tree, "a.py", f'KEY_ID = "{AWS_KEY}"\n')
    write(clean_tree, "vendor/lib.py", f'password = "{PASSWORD}"\n')
    made = make_baseline(
        clean_tree, "--disable-plugin", "AWSKeyDetector", "--exclude-files", "^vendor/"
    )
    # Kept outside the tree this time: the baseline need not live in the tree it describes.
    (clean_tree.parent / "baselines").mkdir()
    baseline = made.rename(clean_tree.parent / "baselines" / ".secrets.baseline")
    write(clean_tree, "app/db.py", f'password = "{NEW_PASSWORD}"\n')

    with_baseline = scan_tree(clean_tree, baseline=baseline)
    without = scan_tree(clean_tree)

    assert located(with_baseline) == {("app/db.py", 1, "Secret Keyword")}
    assert ("a.py", 1, "AWS Access Key") in located(without)  # settings do not leak between scans
    assert ("vendor/lib.py", 1, "Secret Keyword") in located(without)


@pytest.mark.parametrize(
    "exclude",
    [
        pytest.param(["fixtures/*"], id="directory-glob"),
        pytest.param(["fixtures"], id="directory-name"),
        pytest.param(["*.pem", "fixtures/*.py"], id="file-globs"),
    ],
)
def test_excluded_paths_are_not_scanned(clean_tree: Path, exclude: list[str]) -> None:
    """Glob patterns relative to the root keep files (or whole directories) out of the scan."""
    write(clean_tree, "fixtures/fake_creds.py", f'password = "{PASSWORD}"\n')
    write(clean_tree, "fixtures/key.pem", f"{PRIVATE_KEY}\n")
    write(clean_tree, "app/real.py", f'KEY_ID = "{AWS_KEY}"\n')

    result = scan_tree(clean_tree, exclude=exclude)

    assert located(result) == {("app/real.py", 1, "AWS Access Key")}


@pytest.mark.parametrize(
    "skipped_dir", [".git", "node_modules", ".venv", "venv", "__pycache__", "app/node_modules"]
)
def test_tool_and_dependency_directories_are_skipped(clean_tree: Path, skipped_dir: str) -> None:
    """Version control internals, dependencies and bytecode are never read."""
    write(clean_tree, f"{skipped_dir}/pkg/config.py", f'password = "{PASSWORD}"\n')

    result = scan_tree(clean_tree)

    assert result.findings == ()
    assert result.files_scanned == 3


def test_binary_files_are_skipped(clean_tree: Path) -> None:
    """A file with NUL bytes is not text: not scanned, not counted."""
    (clean_tree / "logo.bin").write_bytes(b"\x89PNG\0\0\0" + AWS_KEY.encode() + b"\0")

    result = scan_tree(clean_tree)

    assert result.findings == ()
    assert result.files_scanned == 3


def test_a_missing_root_is_an_error_naming_it(tmp_path: Path) -> None:
    """No tree, no evidence: the message names the path."""
    missing = tmp_path / "nope"

    with pytest.raises(
        SecretScanError, match=f"{re.escape(str(missing))} does not exist"
    ) as caught:
        scan_tree(missing)

    assert isinstance(caught.value, EvidenceMissing)


def test_a_file_as_root_is_an_error_naming_it(clean_tree: Path) -> None:
    """A file given as the tree to scan is refused, not scanned as a tree of one."""
    path = clean_tree / "README.md"

    with pytest.raises(SecretScanError, match=f"{re.escape(str(path))} is not a directory"):
        scan_tree(path)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        pytest.param("{not json", "cannot read baseline .*Expecting", id="not-json"),
        pytest.param("[]", "expected an object", id="json-list"),
        pytest.param("{}", "not a usable detect-secrets baseline", id="empty-object"),
        pytest.param(
            json.dumps({"version": "1.5.0", "plugins_used": [], "results": {}}),
            "enables no detectors",
            id="no-plugins",
        ),
        pytest.param(
            json.dumps(
                {"version": "1.5.0", "plugins_used": [{"name": "NoSuchDetector"}], "results": {}}
            ),
            "unknown plugin",
            id="unknown-plugin",
        ),
    ],
)
def test_a_corrupt_baseline_is_an_error_naming_it(
    clean_tree: Path, tmp_path: Path, content: str, message: str
) -> None:
    """A baseline that cannot be used stops the scan instead of scanning with other settings."""
    baseline = tmp_path / "corrupt.baseline"
    baseline.write_text(content)

    with pytest.raises(SecretScanError, match=message) as caught:
        scan_tree(clean_tree, baseline=baseline)

    assert str(baseline) in str(caught.value)
    assert "\n" not in str(caught.value)


def test_a_missing_baseline_is_an_error_naming_it(clean_tree: Path, tmp_path: Path) -> None:
    """A baseline path that does not exist is a mistake, not a reason to report everything."""
    baseline = tmp_path / "absent.baseline"

    with pytest.raises(SecretScanError, match="No such file") as caught:
        scan_tree(clean_tree, baseline=baseline)

    assert str(baseline) in str(caught.value)


def test_too_many_files_is_an_error_with_the_remedy(clean_tree: Path) -> None:
    """More files than the limit stops the walk and says how to narrow it."""
    for i in range(5):
        write(clean_tree, f"generated/file_{i}.py", "x = 1\n")

    with pytest.raises(
        SecretScanError, match=r"more than 4 files.*narrow the paths or add excludes"
    ):
        scan_tree(clean_tree, max_files=4)
    result = scan_tree(clean_tree, max_files=4, exclude=["generated"])

    assert result.files_scanned == 3


def readable(path: Path) -> bool:
    try:
        path.read_bytes()
    except PermissionError:
        return False
    return True


def test_an_unreadable_file_is_an_error_not_a_gap(clean_tree: Path) -> None:
    """A file the scan cannot read could hold a secret: the scan says so instead of passing."""
    locked = write(clean_tree, "app/locked.py", f'password = "{PASSWORD}"\n')
    locked.chmod(0)

    try:
        if readable(locked):
            pytest.skip("this user reads files whatever their mode (root with CAP_DAC_OVERRIDE)")
        with pytest.raises(SecretScanError, match=r"cannot read .*locked\.py: Permission denied"):
            scan_tree(clean_tree)
    finally:
        locked.chmod(0o644)


def test_an_unlistable_directory_is_an_error_not_a_gap(clean_tree: Path) -> None:
    """A directory the walk cannot list is reported, not silently left out of the scan."""
    locked = clean_tree / "private"
    write(clean_tree, "private/config.py", f'password = "{PASSWORD}"\n')
    locked.chmod(0)

    try:
        if readable(locked / "config.py"):
            pytest.skip("this user reads files whatever their mode (root with CAP_DAC_OVERRIDE)")
        with pytest.raises(SecretScanError, match=r"cannot list .*private: Permission denied"):
            scan_tree(clean_tree)
    finally:
        locked.chmod(0o755)
