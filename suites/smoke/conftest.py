from pathlib import Path

import pytest

from releasegate.pytest_plugin import current_run, mark_folder
from releasegate.pytest_plugin.api_contract_fixtures import operation_params


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    mark_folder(items, Path(__file__).parent, "smoke")
    # an environment without [[realtime]] has no such check at all (as metric_checks does)
    placeholders = [i for i in items if _callspec_params(i).get("realtime_check", ...) is None]
    if placeholders:
        config.hook.pytest_deselected(items=placeholders)
        items[:] = [i for i in items if i not in placeholders]


def _callspec_params(item: pytest.Item) -> dict[str, object]:
    return dict(getattr(getattr(item, "callspec", None), "params", {}))


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """One test per endpoint and page of the environment file, named like a checklist line;
    in the browser, one per page and variant (`/tickets`, `/tickets@mobile`); one per operation
    of the `[openapi]` document (`GET /items/{id}`)."""
    run = current_run(metafunc.config)
    if run is None:
        return
    model = run.env.model
    for name, entries in (("endpoint", model.endpoints), ("page_spec", model.pages)):
        if name in metafunc.fixturenames:
            metafunc.parametrize(
                name,
                [
                    pytest.param(
                        e,
                        id=run.redactor.redact(e.check_id),
                        marks=(
                            *(() if e.blocking else (pytest.mark.advisory,)),
                            # an endpoint that changes data: not on read-only environments
                            *((pytest.mark.writes,) if getattr(e, "changes_data", False) else ()),
                        ),
                    )
                    for e in entries
                ],
            )
    if "api_operation" in metafunc.fixturenames:
        metafunc.parametrize("api_operation", operation_params(metafunc.config))
    if "realtime_check" in metafunc.fixturenames:
        # one per [[realtime]] entry (`test_realtime[<name>]`); without any, a placeholder that
        # pytest_collection_modifyitems deselects
        metafunc.parametrize(
            "realtime_check",
            [
                pytest.param(
                    r,
                    id=run.redactor.redact(r.name),
                    marks=(
                        *((pytest.mark.advisory,) if r.advisory else ()),
                        *((pytest.mark.writes,) if r.writes else ()),
                    ),
                )
                for r in model.realtime
            ]
            or [pytest.param(None, id="no-realtime")],
        )
    if "browser_page" in metafunc.fixturenames:
        from releasegate.pytest_plugin.browser_fixtures import browser_pages

        pages = browser_pages(model.pages, model.browser)
        metafunc.parametrize(
            "browser_page",
            [
                pytest.param(
                    p,
                    id=run.redactor.redact(p.check_id),
                    marks=() if p.spec.blocking else pytest.mark.advisory,
                )
                for p in pages
            ],
            # one visit per page, judged by several checks
            scope="module",
        )
