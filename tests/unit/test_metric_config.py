"""`[[metrics]]` and `[[logs]]` as the environment file says them: defaults, conditions
compiled when the file is read, and every mistake one line naming the file and the key."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from releasegate.conditions import ConditionError, compile_condition
from releasegate.config import load_environment
from releasegate.errors import ConfigError

TARGET = '[target]\nbase_url = "https://shop.example.com"\n'


def _load(tmp_path: Path, text: str) -> object:
    (tmp_path / "prod.toml").write_text(TARGET + text, encoding="utf-8")
    return load_environment("prod", tmp_path, {})


def _problem(tmp_path: Path, text: str) -> str:
    with pytest.raises(ConfigError) as caught:
        _load(tmp_path, text)
    return str(caught.value)


def test_a_metric_takes_argos_defaults(tmp_path: Path) -> None:
    env = _load(
        tmp_path,
        '[[metrics]]\nname = "failed jobs"\nprovider = "web"\nurl = "/sidekiq/stats"\n'
        'jsonpath = "$.failed"\nsuccess = "result == 0"\n',
    )
    metric = env.model.metrics[0]  # type: ignore[attr-defined]

    assert metric.stage == ["slo"]
    assert (metric.count, metric.failure_limit, metric.inconclusive_limit) == (1, 0, 0)
    assert metric.consecutive_error_limit == 4
    assert not metric.advisory


def test_a_stage_may_be_one_or_several(tmp_path: Path) -> None:
    env = _load(
        tmp_path,
        '[[metrics]]\nname = "m"\nprovider = "command"\ncommand = ["true"]\n'
        'success = "result > 0"\nstage = ["post_deploy", "slo", "post_deploy"]\n'
        '[[logs]]\nname = "l"\nsource = "file"\nfile = "x.log"\nstage = "smoke"\n',
    )

    assert env.model.metrics[0].stage == ["post_deploy", "slo"]  # type: ignore[attr-defined]
    assert env.model.logs[0].stage == ["smoke"]  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        (
            'provider = "prometheus"\nquery = "up"\nsuccess = "reslt >= 0.8"',
            r"prod\.toml: metrics\[0\]\.success.*unknown name 'reslt'",
        ),
        (
            'provider = "prometheus"\nquery = "up"\nsuccess = "1 > 0"\nfailure = "result <"',
            r"metrics\[0\]\.failure.*not a valid expression",
        ),
        (
            'provider = "prometheus"\nquery = "up"\nsuccess = "avg(result) > 1"',
            r"unknown function 'avg'",
        ),
        ('provider = "web"\nsuccess = "result > 1"', r"provider 'web' needs `url`"),
        (
            'provider = "web"\nurl = "/x"\nquery = "up"\nsuccess = "result > 1"',
            r"provider 'web' does not use `query`",
        ),
        (
            'provider = "web"\nurl = "/x"\nsuccess = "result - before <= 0"',
            r'reads `before`; add before = "baseline"',
        ),
        (
            'provider = "web"\nurl = "/x"\njmespath = "a[?"\nsuccess = "result > 1"',
            r"metrics\[0\]\.jmespath.*not a valid JMESPath",
        ),
        (
            'provider = "web"\nurl = "/x"\nsuccess = "result > 1"\ncount = 100\ninterval = "1m"',
            r"over the 1800s a check may take",
        ),
        (
            'provider = "web"\nurl = "/x"\nsuccess = "result > 1"\nstage = "prod"',
            r"metrics\[0\]\.stage",
        ),
        ('provider = "datadog"\nsuccess = "result > 1"', r"metrics\[0\]\.provider"),
        (
            'provider = "web"\nurl = "/x"\nsucess = "result > 1"',
            r"metrics\[0\]\.success is required",
        ),
    ],
)
def test_a_mistake_names_the_file_and_key(tmp_path: Path, entry: str, expected: str) -> None:
    message = _problem(tmp_path, f'[[metrics]]\nname = "m"\n{entry}\n')

    assert "\n" not in message.strip()
    assert re.search(expected, message), message


def test_names_are_check_ids_and_must_be_unique(tmp_path: Path) -> None:
    entry = '[[logs]]\nname = "app"\nsource = "file"\nfile = "a.log"\n'

    assert "[[logs]] names must be unique; repeated: ['app']" in _problem(tmp_path, entry * 2)


def test_a_log_source_needs_its_key(tmp_path: Path) -> None:
    message = _problem(tmp_path, '[[logs]]\nname = "j"\nsource = "journald"\n')

    assert "source 'journald' needs `unit`" in message


@pytest.mark.parametrize(
    "text",
    ["import os", "x = 1", "result > 1; result < 2", "lambda: 1", "result.__class__", ""],
)
def test_conditions_are_expressions_over_result_and_before_only(text: str) -> None:
    with pytest.raises(ValueError, match=r"."):
        compile_condition(text)


def test_a_condition_that_cannot_be_evaluated_is_a_condition_error() -> None:
    with pytest.raises(ConditionError, match=r"result='abc'"):
        compile_condition("result > 1").holds("abc")


def test_a_condition_knows_it_needs_before() -> None:
    assert compile_condition("result <= before * 1.2").needs_before
    assert not compile_condition("abs(result) < 2").needs_before
