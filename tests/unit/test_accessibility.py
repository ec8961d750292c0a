"""axe-core's answer read and judged: only serious and critical violations are findings, each
listed with its rule, its elements' selectors and its help page; axe not run is missing
evidence, never a pass."""

from __future__ import annotations

from typing import Any

import pytest

from releasegate.browser import page_checks as judge
from releasegate.browser.accessibility import Violation, axe_script, violations_from
from releasegate.browser.visit import PageTarget, PageVisit
from releasegate.errors import EvidenceMissing
from releasegate.outcome import Judgement

HELP = "https://dequeuniversity.com/rules/axe/4.12"


def violation(rule: str, impact: str | None, *targets: Any) -> dict[str, Any]:
    return {
        "id": rule,
        "impact": impact,
        "help": f"{rule} help",
        "helpUrl": f"{HELP}/{rule}?application=axeAPI",
        "nodes": [{"target": target, "html": "<x>"} for target in targets],
    }


AXE_ANSWER = {
    "violations": [
        violation("color-contrast", "serious", ["#nav > a"], [".hint"]),
        violation("region", "moderate", ["main"]),
        violation("image-alt", "critical", ["img"]),
        violation("landmark-one-main", None, ["html"]),
        violation("frame-title", "serious", ["iframe#pay", "button"]),
    ]
}


def test_only_serious_and_critical_violations_are_findings_most_severe_first() -> None:
    found = violations_from(AXE_ANSWER)

    assert [(v.rule, v.impact) for v in found] == [
        ("image-alt", "critical"),
        ("color-contrast", "serious"),
        ("frame-title", "serious"),
    ]


@pytest.mark.parametrize(
    ("targets", "selectors"),
    [
        pytest.param([["img"]], ("img",), id="one element"),
        pytest.param([["#nav > a"], [".hint"]], ("#nav > a", ".hint"), id="two elements"),
        pytest.param([["iframe#pay", "button"]], ("iframe#pay >>> button",), id="in a frame"),
        pytest.param([[["my-widget", "button"]]], ("my-widget >>> button",), id="shadow root"),
    ],
)
def test_each_element_is_named_by_its_selector(
    targets: list[Any], selectors: tuple[str, ...]
) -> None:
    (found,) = violations_from({"violations": [violation("button-name", "critical", *targets)]})

    assert found.selectors == selectors
    assert found.help_url == f"{HELP}/button-name"


def test_something_that_is_not_an_axe_answer_is_refused() -> None:
    with pytest.raises(ValueError, match="no violations list"):
        violations_from({"passes": []})


def test_a_violation_reads_as_rule_impact_help_selectors_and_link() -> None:
    many = Violation("image-alt", "critical", "Images must have alt text", HELP, ("a", "b") * 4)

    assert many.line() == (
        f"image-alt (critical): Images must have alt text at a, b, a, b, a and 3 more ({HELP})"
    )


def visit(found: list[Violation] | None, error: str | None = None) -> PageVisit:
    target = PageTarget(check_id="/", url="http://127.0.0.1:8080/", accessibility=True)
    return PageVisit(target=target, status=200, accessibility=found, accessibility_error=error)


def test_a_page_with_a_serious_violation_fails_listing_it() -> None:
    found = violations_from(AXE_ANSWER)

    judged = judge.judge_accessibility(visit(found), "prod")

    assert judged.judgement is Judgement.FAIL
    assert judged.message.startswith(
        "3 serious or critical accessibility violation(s): image-alt (critical): image-alt help"
        f" at img ({HELP}/image-alt); color-contrast (serious)"
    )
    assert "page / (http://127.0.0.1:8080/, env=prod)" in judged.message
    assert judged.measured == 3


def test_a_page_without_one_passes() -> None:
    assert judge.judge_accessibility(visit([]), "prod").judgement is Judgement.PASS


def test_axe_not_run_is_missing_evidence_with_the_reason() -> None:
    with pytest.raises(EvidenceMissing, match="axe-core did not run in the page: boom"):
        judge.judge_accessibility(visit(None, "axe-core did not run in the page: boom"), "prod")


def test_the_bundled_axe_core_is_there() -> None:
    assert "axe v4." in axe_script()[:200]
