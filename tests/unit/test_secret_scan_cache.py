"""The secret scan's cache (checks/secret_scan_cache.py): an unchanged tree is not scanned
again and gives the same findings; a changed file, a new file or another baseline is scanned
again; a cache that is corrupt or belongs to another version is ignored; the cache file holds no
secret value, no prefix of one and no detect-secrets hash of one."""

from __future__ import annotations

import json
from pathlib import Path

from detect_secrets.core.potential_secret import PotentialSecret

from releasegate.checks.secret_scan import scan_tree
from tests.unit.test_secret_scan import AWS_KEY, PASSWORD, make_baseline, write


def tree(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    write(root, "app/main.py", "TIMEOUT_S = 5\n")
    write(root, "app/settings.py", f'password = "{PASSWORD}"\n')
    write(root, "README.md", "# project\n")
    return root


def test_an_unchanged_tree_is_not_scanned_again(tmp_path: Path) -> None:
    root, cache = tree(tmp_path), tmp_path / "cache"

    first = scan_tree(root, cache_dir=cache)
    second = scan_tree(root, cache_dir=cache)

    assert (first.files_scanned, first.files_rescanned) == (3, 3)
    assert (second.files_scanned, second.files_rescanned) == (3, 0)
    assert second.findings == first.findings
    assert [f.path for f in second.findings] == ["app/settings.py"]


def test_a_changed_or_new_file_is_scanned_again_and_its_secret_found(tmp_path: Path) -> None:
    root, cache = tree(tmp_path), tmp_path / "cache"
    scan_tree(root, cache_dir=cache)
    write(root, "app/main.py", f'KEY_ID = "{AWS_KEY}"\n')
    write(root, "deploy/new.py", "X = 1\n")

    again = scan_tree(root, cache_dir=cache)

    assert again.files_rescanned == 2
    assert {(f.path, f.kind) for f in again.findings} == {
        ("app/main.py", "AWS Access Key"),
        ("app/settings.py", "Secret Keyword"),
    }


def test_a_fixed_file_drops_its_finding(tmp_path: Path) -> None:
    root, cache = tree(tmp_path), tmp_path / "cache"
    scan_tree(root, cache_dir=cache)
    write(root, "app/settings.py", 'password = os.environ["DB_PASSWORD"]\n')

    assert scan_tree(root, cache_dir=cache).findings == ()


def test_another_baseline_scans_everything_again(tmp_path: Path) -> None:
    """The baseline decides what a file's findings are: a new one invalidates the cache."""
    root, cache = tree(tmp_path), tmp_path / "cache"
    scan_tree(root, cache_dir=cache)
    baseline = make_baseline(root)

    with_baseline = scan_tree(root, baseline=baseline, cache_dir=cache)

    assert with_baseline.files_rescanned == 3
    assert with_baseline.findings == ()
    assert with_baseline.suppressed == 1


def test_a_corrupt_cache_is_ignored(tmp_path: Path) -> None:
    root, cache = tree(tmp_path), tmp_path / "cache"
    scan_tree(root, cache_dir=cache)
    (stored,) = cache.glob("*.json")
    stored.write_text('{"schema": "releasegate.secret-scan-cache/1", "fingerprint": 5, "files"')

    again = scan_tree(root, cache_dir=cache)

    assert again.files_rescanned == 3
    assert [f.path for f in again.findings] == ["app/settings.py"]


def test_the_cache_holds_no_secret_in_any_form(tmp_path: Path) -> None:
    root, cache = tree(tmp_path), tmp_path / "cache"
    write(root, "deploy/aws.py", f'KEY_ID = "{AWS_KEY}"\n')
    scan_tree(root, cache_dir=cache)

    text = "".join(p.read_text() for p in cache.iterdir())
    for value in (AWS_KEY, PASSWORD):
        assert value not in text
        assert value[:8] not in text
        assert PotentialSecret.hash_secret(value) not in text
    assert (cache / "CACHEDIR.TAG").read_text().startswith("Signature: 8a477f597d28d172789f")
    (stored,) = cache.glob("*.json")
    assert set(json.loads(stored.read_text())["files"]) == {
        "app/main.py",
        "app/settings.py",
        "README.md",
        "deploy/aws.py",
    }


def test_without_a_cache_dir_everything_is_scanned_every_time(tmp_path: Path) -> None:
    root = tree(tmp_path)
    scan_tree(root)

    assert scan_tree(root).files_rescanned == 3
