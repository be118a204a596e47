"""The plan's `communications:` section and notification rules: loaded, checked, errors with file:line."""

from __future__ import annotations

import shutil
from datetime import timedelta
from pathlib import Path

import pytest

from onduty.domain.comms import DEFAULT_BANNED
from onduty.plan.convert import to_directory
from onduty.plan.load import PlanInvalid, load_plan
from onduty.plan.schema import Plan

SAMPLE = Path(__file__).resolve().parents[2] / "examples" / "agency" / "onduty.yaml"


def _plan_with(tmp_path: Path, extra: str, files: dict[str, str] | None = None, people_patch: str = "") -> Path:
    folder = tmp_path / "plan"
    shutil.copytree(SAMPLE.parent, folder)
    text = _without_section(SAMPLE.read_text(), "communications")
    if people_patch:
        text = text.replace("  - id: kwame\n", people_patch + "  - id: kwame\n", 1)
    (folder / "onduty.yaml").write_text(text + extra)
    for name, content in (files or {}).items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(content)
    return folder / "onduty.yaml"


def _without_section(text: str, key: str) -> str:
    """The plan text minus one top-level section (the tests write their own)."""
    kept, skipping = [], False
    for line in text.splitlines():
        if line and not line[0].isspace() and not line.startswith("#"):
            skipping = line.startswith(f"{key}:")
        if not skipping:
            kept.append(line)
    return "\n".join(kept) + "\n"


def _line_of(path: Path, needle: str) -> int:
    return next(n + 1 for n, line in enumerate(path.read_text().splitlines()) if needle in line)


def test_templates_are_read_from_files_next_to_the_plan(tmp_path: Path) -> None:
    path = _plan_with(tmp_path, "communications:\n  templates:\n    initial: comms/first.md.j2\n"
                      "  banned_phrases: [glitch]\n  recipients:\n    sev2: {client_contacts: false, "
                      "internal: [delivery_lead], people: [olga]}\n",
                      {"comms/first.md.j2": "Subject: {{ incident.title }}\n\nHello {{ client.name }}\n"})
    plan = load_plan(path)
    directory = to_directory(plan)
    source = directory.communications.templates["initial"]
    assert source.name == "comms/first.md.j2" and source.text.startswith("Subject: {{ incident.title }}")
    assert directory.communications.banned[: len(DEFAULT_BANNED)] == DEFAULT_BANNED
    assert directory.communications.banned[-1].phrase == "glitch"
    sev2 = directory.communications.audience_for(2)
    assert (sev2.client_contacts, sev2.roles, sev2.people) == (False, ("delivery_lead",), ("olga",))
    assert directory.communications.audience_for(1).client_contacts  # untouched severities keep the defaults
    # The stored document carries the template text, so the database needs no plan folder.
    again = to_directory(Plan.model_validate(plan.model_dump(mode="json")))
    assert again.communications.templates["initial"].text == source.text


def test_missing_template_file_names_the_plan_line(tmp_path: Path) -> None:
    path = _plan_with(tmp_path, "communications:\n  templates:\n    update: comms/nope.md.j2\n")
    with pytest.raises(PlanInvalid) as caught:
        load_plan(path)
    line = _line_of(path, "update: comms/nope.md.j2")
    assert str(caught.value) == (f"{path}:{line}: communications.templates.update: "
                                 "template file 'comms/nope.md.j2' not found next to the plan")


def test_template_syntax_error_names_the_template_file_and_line(tmp_path: Path) -> None:
    path = _plan_with(tmp_path, "communications:\n  templates:\n    resolution: comms/done.md.j2\n",
                      {"comms/done.md.j2": "Subject: done\n\nHello\n{% for x in %}\n"})
    with pytest.raises(PlanInvalid) as caught:
        load_plan(path)
    assert str(caught.value).startswith(f"{path.parent / 'comms/done.md.j2'}:4: communications.templates."
                                        "resolution: template syntax")


def test_template_using_an_unknown_name_is_refused_at_load(tmp_path: Path) -> None:
    path = _plan_with(tmp_path, "communications:\n  templates:\n    initial: c.j2\n",
                      {"c.j2": "Subject: x\n\n{{ incident.title }}\n{{ eta }}\n"})
    with pytest.raises(PlanInvalid, match=r"c\.j2:4: communications\.templates\.initial: .*'eta' is undefined"):
        load_plan(path)


def test_inline_template_errors_point_into_the_plan(tmp_path: Path) -> None:
    path = _plan_with(tmp_path, "communications:\n  templates:\n    initial: {text: \"no subject here\"}\n")
    with pytest.raises(PlanInvalid) as caught:
        load_plan(path)
    line = _line_of(path, "initial: {text:")
    assert f"onduty.yaml:{line}: communications.templates.initial: line 1 of the template" in str(caught.value)


def test_notification_rules_accept_zero_and_name_a_missing_contact(tmp_path: Path) -> None:
    rules = ("  - id: zoe\n    name: Zoe Park\n    time_zone: UTC\n    contact:\n"
             "      - {type: slack, address: \"https://hooks.example/zoe\"}\n"
             "      - {type: apprise, address: \"ntfy://ntfy.example/zoe\"}\n"
             "    notification_rules:\n      - {after: 0m, contact: 0}\n      - {after: 5m, contact: 1}\n")
    plan = load_plan(_plan_with(tmp_path, "", people_patch=rules))
    zoe = to_directory(plan).people["zoe"]
    assert [(r.after, r.contact) for r in zoe.notification_rules] == [(timedelta(0), 0), (timedelta(minutes=5), 1)]
    bad = _plan_with(tmp_path / "b", "", people_patch=rules.replace("{after: 5m, contact: 1}",
                                                                     "{after: 5m, contact: 2}"))
    with pytest.raises(PlanInvalid) as caught:
        load_plan(bad)
    line = _line_of(bad, "{after: 5m, contact: 2}")
    assert f":{line}: people[3].notification_rules[1].contact: contact 2 does not exist" in str(caught.value)


def test_unknown_recipient_person_is_named(tmp_path: Path) -> None:
    path = _plan_with(tmp_path, "communications:\n  recipients:\n    sev1: {people: [nobody]}\n")
    with pytest.raises(PlanInvalid, match=r"communications\.recipients\.sev1\.people\[0\]: unknown person 'nobody'"):
        load_plan(path)


def test_the_sample_plan_bans_its_own_phrases_on_top_of_the_defaults() -> None:
    policy = to_directory(load_plan(SAMPLE)).communications
    phrases = [b.phrase for b in policy.banned]
    assert phrases[: len(DEFAULT_BANNED)] == [b.phrase for b in DEFAULT_BANNED] and "human error" in phrases
    assert policy.audience_for(3).roles == ("account_manager", "delivery_lead")
    assert policy.organization == "Halyard Labs"
