"""Runbook links and the plan keys behind them: by service, by type, by alert labels; bad links refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from onduty.domain.matchers import parse_matchers
from onduty.domain.model import Service
from onduty.domain.runbooks import RunbookLink, link_runbooks, runbook_title
from onduty.plan.convert import to_directory
from onduty.plan.load import PlanInvalid, load_plan
from tests.unit.test_plan_load import BASE

MODEL = Service("recs", "Recs", "acme-shop", "model", "standard", runbooks=("runbooks/recs.md",))
LINKS = (
    RunbookLink("runbooks/drift.md", None, (), ("model_degradation",)),
    RunbookLink("runbooks/recs-api.md", "API outage", ("recs-api",), ("api_availability",)),
    RunbookLink("runbooks/labels.md", None, (), (), parse_matchers(['alertname=~"Relevance.*"', 'team="ml"'])),
)


@pytest.mark.parametrize(("services", "kind", "labels", "expected"), [
    ([MODEL], "model_degradation", [], {"runbooks/recs.md": ("runbook of service recs",),
                                        "runbooks/drift.md": ("type model_degradation",)}),
    ([MODEL], "other", [{"alertname": "RelevanceLow", "team": "ml"}],
     {"runbooks/recs.md": ("runbook of service recs",),
      "runbooks/labels.md": ('alert labels alertname=~"Relevance.*", team="ml"',)}),
    # every matcher must hold on one alert
    ([MODEL], "other", [{"alertname": "RelevanceLow"}, {"team": "ml"}],
     {"runbooks/recs.md": ("runbook of service recs",)}),
    # service and type must both hold
    ([Service("recs-api", "API", "acme-shop", "api", "standard")], "security", [], {}),
    ([Service("recs-api", "API", "acme-shop", "api", "standard")], "api_availability", [],
     {"runbooks/recs-api.md": ("service recs-api and type api_availability",)}),
])
def test_runbooks_link_by_service_type_and_labels(
    services: list[Service], kind: str, labels: list[dict[str, str]], expected: dict[str, tuple[str, ...]]
) -> None:
    found = link_runbooks(services, kind, labels, LINKS)
    assert {r.file: r.reasons for r in found} == expected


def test_title_comes_from_the_plan_then_the_first_heading_then_the_file_name() -> None:
    assert runbook_title("runbooks/a.md", "# Feed down\ntext", "Given") == "Given"
    assert runbook_title("runbooks/a.md", "intro\n## Feed down\n", None) == "Feed down"
    assert runbook_title("runbooks/a.md", None, None) == "a.md"


def _plan(tmp_path: Path, extra: str, files: tuple[str, ...] = ("runbooks/recs.md",)) -> Path:
    (tmp_path / "runbooks").mkdir(exist_ok=True)
    for file in files:
        (tmp_path / file).write_text("# A runbook\n")
    path = tmp_path / "onduty.yaml"
    path.write_text(BASE + extra)
    return path


def test_runbook_section_and_fallback_definition_load_into_the_directory(tmp_path: Path) -> None:
    text = BASE.replace("    escalation_policy: standard\n", "    escalation_policy: standard\n"
                        "    fallback:\n      description: popularity model\n"
                        "      webhook: {url: 'http://127.0.0.1:9/fb', secret_env: FB_SECRET}\n", 1)
    (tmp_path / "runbooks").mkdir()
    (tmp_path / "runbooks/recs.md").write_text("# Recs\n")
    path = tmp_path / "onduty.yaml"
    path.write_text(text + "runbooks:\n"
                    "  - {file: runbooks/recs.md, types: [model_degradation], match: ['team=\"ml\"']}\n")
    directory = to_directory(load_plan(path))
    service = directory.services["recs"]
    assert service.fallback == "popularity model"
    assert service.fallback_webhook is not None and service.fallback_webhook.secret_env == "FB_SECRET"
    assert directory.runbooks[0].types == ("model_degradation",) and str(directory.runbooks[0].match[0]) == 'team="ml"'


def test_a_fallback_written_as_a_sentence_still_loads(tmp_path: Path) -> None:
    path = _plan(tmp_path, "").parent / "onduty.yaml"
    path.write_text(BASE.replace("    escalation_policy: standard\n",
                                 "    escalation_policy: standard\n    fallback: route to manual review\n", 1))
    service = to_directory(load_plan(path)).services["recs"]
    assert service.fallback == "route to manual review" and service.fallback_webhook is None


@pytest.mark.parametrize(("extra", "field", "message"), [
    ("runbooks:\n  - {file: runbooks/missing.md, types: [security]}\n", "runbooks[0].file",
     "runbook file 'runbooks/missing.md' not found"),
    ("runbooks:\n  - {file: runbooks/recs.md, services: [nope]}\n", "runbooks[0].services[0]",
     "unknown service 'nope'"),
    ("runbooks:\n  - {file: runbooks/recs.md, types: [outage]}\n", "runbooks[0].types[0]", "model_degradation"),
    ("runbooks:\n  - {file: runbooks/recs.md, match: ['a=~\"(\"']}\n", "runbooks[0].match", "does not compile"),
    ("runbooks:\n  - {file: runbooks/recs.md}\n", "runbooks[0]", "names `services`, `types` or `match`"),
])
def test_plan_check_refuses_bad_runbook_links(tmp_path: Path, extra: str, field: str, message: str) -> None:
    path = _plan(tmp_path, extra)
    with pytest.raises(PlanInvalid) as caught:
        load_plan(path)
    errors = caught.value.errors
    assert any(e.field == field and message in e.message and e.line is not None for e in errors), errors


def test_plan_check_refuses_a_fallback_webhook_that_is_not_http(tmp_path: Path) -> None:
    path = _plan(tmp_path, "")
    path.write_text(BASE.replace("    escalation_policy: standard\n", "    escalation_policy: standard\n"
                                 "    fallback: {description: popular, webhook: {url: 'ftp://x/y'}}\n", 1))
    with pytest.raises(PlanInvalid) as caught:
        load_plan(path)
    assert any(e.field.startswith("services[0].fallback") and "http(s) URL" in e.message for e in caught.value.errors)
