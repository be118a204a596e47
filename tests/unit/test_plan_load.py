"""Loading `onduty.yaml`: every mistake is refused with the file, the line and the dotted field."""

from __future__ import annotations

import json
from datetime import time, timedelta
from pathlib import Path

import pytest
from pydantic import ValidationError

from onduty.plan.load import PlanError, PlanInvalid, load_plan
from onduty.plan.schema import Plan, TimeOff

SAMPLE = Path(__file__).resolve().parents[2] / "examples" / "agency" / "onduty.yaml"

BASE = """\
version: 1
organization:
  name: Acme ML
  time_zone: Europe/Lisbon
people:
  - id: ann
    name: Ann Amaral
    time_zone: Europe/Lisbon
  - id: bob
    name: Bob Brandt
    time_zone: America/Los_Angeles
clients:
  - id: acme-shop
    name: Acme Shop
    time_zone: Europe/Lisbon
    account_manager: ann
    delivery_lead: bob
services:
  - id: recs
    client: acme-shop
    kind: model
    escalation_policy: standard
schedules:
  - id: primary
    time_zone: Europe/Lisbon
    layers:
      - members: [ann, bob]
        start: 2026-01-05
        handoff_time: "09:00"
  - id: backup
    time_zone: Europe/Lisbon
    layers:
      - members: [bob]
        start: 2026-01-05
escalation_policies:
  - id: standard
    levels:
      - targets: [{schedule: primary}]
        ack_timeout: 10m
      - targets:
          - schedule: backup
          - person: ann
        ack_timeout: 15m
    resolve_timeout: 30m
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "onduty.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def edited(old: str, new: str) -> str:
    assert BASE.count(old) == 1, f"{old!r} must occur once in BASE"
    return BASE.replace(old, new)


def line_of(text: str, fragment: str) -> int:
    """The 1-based line holding `fragment`, which must occur exactly once."""
    lines = [n for n, line in enumerate(text.splitlines(), start=1) if fragment in line]
    assert len(lines) == 1, f"{fragment!r} is on lines {lines}"
    return lines[0]


def errors_of(tmp_path: Path, text: str) -> list[PlanError]:
    path = write(tmp_path, text)
    with pytest.raises(PlanInvalid) as caught:
        load_plan(path)
    errors = caught.value.errors
    assert errors, "PlanInvalid must carry at least one error"
    assert all(e.file == str(path) for e in errors)
    return errors


def only_error(tmp_path: Path, text: str) -> PlanError:
    errors = errors_of(tmp_path, text)
    assert len(errors) == 1, errors
    return errors[0]


def test_base_plan_of_these_tests_is_valid(tmp_path: Path) -> None:
    plan = load_plan(write(tmp_path, BASE))
    assert [p.id for p in plan.people] == ["ann", "bob"]
    assert plan.escalation_policies[0].levels[1].ack_timeout == timedelta(minutes=15)


def test_sample_agency_plan_loads() -> None:
    plan = load_plan(SAMPLE)
    assert plan.organization.name == "Halyard Labs"
    assert {s.id for s in plan.schedules} == {"ml-primary", "ml-secondary", "data-primary", "apac"}
    ml = next(p for p in plan.escalation_policies if p.id == "ml-standard")
    assert [level.ack_timeout for level in ml.levels] == [timedelta(minutes=10), *[timedelta(minutes=15)] * 2]
    assert ml.repeats == 1
    assert plan.schedules[0].layers[0].handoff_time == time(9, 0)


@pytest.mark.parametrize(
    ("old", "new", "fragment", "field"),
    [
        pytest.param(
            "    time_zone: America/Los_Angeles\n",
            "    time_zone: America/Los_Angeles\n    phone: '+1 555 0100'\n",
            "phone:", "people[1].phone", id="person",
        ),
        pytest.param(
            "  time_zone: Europe/Lisbon\npeople:",
            "  time_zone: Europe/Lisbon\n  colour: blue\npeople:",
            "colour:", "organization.colour", id="organization",
        ),
        pytest.param(
            "        ack_timeout: 15m\n",
            "        ack_timeout: 15m\n        ack_timout: 20m\n",
            "ack_timout:", "escalation_policies[0].levels[1].ack_timout", id="typo-beside-the-real-key",
        ),
        pytest.param(
            "          - person: ann\n",
            "          - person: ann\n            channel: sms\n",
            "channel:", "escalation_policies[0].levels[1].targets[1].channel", id="target",
        ),
        pytest.param("version: 1\n", "version: 1\nteam: x\n", "team:", "team", id="top-level"),
    ],
)
def test_unknown_key_is_refused_with_its_line_and_dotted_field(
    tmp_path: Path, old: str, new: str, fragment: str, field: str
) -> None:
    text = edited(old, new)
    error = only_error(tmp_path, text)
    assert error.field == field
    assert error.line == line_of(text, fragment)
    assert "unknown key" in error.message
    assert str(error).startswith(f"{tmp_path / 'onduty.yaml'}:{error.line}: {field}: ")


@pytest.mark.parametrize(
    ("old", "new", "fragment", "field", "shown"),
    [
        ("ack_timeout: 10m", "ack_timeout: 10 minutes", "10 minutes",
         "escalation_policies[0].levels[0].ack_timeout", "'10 minutes'"),
        ("resolve_timeout: 30m", "resolve_timeout: 0m", "resolve_timeout",
         "escalation_policies[0].resolve_timeout", "'0m'"),
        ("ack_timeout: 15m", "ack_timeout: 15", "ack_timeout: 15",
         "escalation_policies[0].levels[1].ack_timeout", "15"),
        ("ack_timeout: 15m", "ack_timeout: 1.5h", "1.5h",
         "escalation_policies[0].levels[1].ack_timeout", "'1.5h'"),
    ],
)
def test_bad_duration_names_line_field_and_the_expected_form(
    tmp_path: Path, old: str, new: str, fragment: str, field: str, shown: str
) -> None:
    text = edited(old, new)
    error = only_error(tmp_path, text)
    assert (error.line, error.field) == (line_of(text, fragment), field)
    assert "like 15m, 2h, 7d or 1w" in error.message
    assert shown in error.message


@pytest.mark.parametrize(
    ("old", "new", "fragment", "field", "expected"),
    [
        pytest.param(
            "[{schedule: primary}]", "[{schedule: primery}]", "primery",
            "escalation_policies[0].levels[0].targets[0].schedule",
            "unknown schedule 'primery'; expected one of: backup, primary", id="schedule-in-target",
        ),
        pytest.param(
            "- person: ann", "- person: anne", "person: anne",
            "escalation_policies[0].levels[1].targets[1].person",
            "unknown person 'anne'; expected one of: ann, bob", id="person-in-target",
        ),
        pytest.param(
            "members: [ann, bob]", "members: [ann, carl]", "carl",
            "schedules[0].layers[0].members[1]",
            "unknown person 'carl'; expected one of: ann, bob", id="schedule-member",
        ),
        pytest.param(
            "escalation_policy: standard", "escalation_policy: standrad", "standrad",
            "services[0].escalation_policy",
            "unknown escalation policy 'standrad'; expected one of: standard", id="service-policy",
        ),
        pytest.param(
            "    client: acme-shop", "    client: acme", "client: acme",
            "services[0].client",
            "unknown client 'acme'; expected one of: acme-shop", id="service-client",
        ),
        pytest.param(
            "delivery_lead: bob", "delivery_lead: dora", "dora",
            "clients[0].delivery_lead",
            "unknown person 'dora'; expected one of: ann, bob", id="client-role",
        ),
    ],
)
def test_unknown_reference_names_line_and_lists_the_known_ids(
    tmp_path: Path, old: str, new: str, fragment: str, field: str, expected: str
) -> None:
    text = edited(old, new)
    error = only_error(tmp_path, text)
    assert (error.line, error.field, error.message) == (line_of(text, fragment), field, expected)


@pytest.mark.parametrize(
    ("before", "copy", "field", "message"),
    [
        pytest.param(
            "clients:\n",
            "  - id: ann  # copied\n    name: Ann Again\n    time_zone: UTC\n",
            "people[2].id", "id 'ann' is used twice in people", id="people",
        ),
        pytest.param(
            "escalation_policies:\n",
            "  - id: primary  # copied\n    time_zone: UTC\n"
            "    layers: [{members: [ann], start: 2026-01-05}]\n",
            "schedules[2].id", "id 'primary' is used twice in schedules", id="schedules",
        ),
    ],
)
def test_duplicate_id_is_refused_at_its_second_use(
    tmp_path: Path, before: str, copy: str, field: str, message: str
) -> None:
    text = edited(before, copy + before)
    error = only_error(tmp_path, text)
    assert (error.line, error.field, error.message) == (line_of(text, "# copied"), field, message)


def test_duplicate_yaml_key_is_refused_not_silently_overwritten(tmp_path: Path) -> None:
    text = edited("    name: Bob Brandt\n", "    name: Bob Brandt\n    name: Robert Brandt\n")
    error = only_error(tmp_path, text)
    assert error.line == line_of(text, "Robert Brandt")
    assert "duplicate key 'name'" in error.message


def test_yaml_syntax_error_reports_its_line(tmp_path: Path) -> None:
    text = edited("    name: Ann Amaral\n", "    name: Ann Amaral\n     time_zone: UTC\n")  # bad indent
    error = only_error(tmp_path, text)
    assert error.line == line_of(text, "time_zone: UTC")
    assert error.message.startswith("YAML syntax:")


@pytest.mark.parametrize(("written", "expected"), [("9:00", time(9, 0)), ("21:30", time(21, 30))])
def test_unquoted_clock_time_is_a_time_of_day_not_sexagesimal(
    tmp_path: Path, written: str, expected: time
) -> None:
    plan = load_plan(write(tmp_path, edited('handoff_time: "09:00"', f"handoff_time: {written}")))
    assert plan.schedules[0].layers[0].handoff_time == expected


def test_impossible_clock_time_names_the_expected_form(tmp_path: Path) -> None:
    text = edited('handoff_time: "09:00"', "handoff_time: 25:00")
    error = only_error(tmp_path, text)
    assert (error.line, error.field) == (line_of(text, "25:00"), "schedules[0].layers[0].handoff_time")
    assert "HH:MM" in error.message


def test_missing_runbook_file_is_reported(tmp_path: Path) -> None:
    (tmp_path / "runbooks").mkdir()
    (tmp_path / "runbooks" / "recs.md").write_text("# Recs\n", encoding="utf-8")
    text = edited(
        "    escalation_policy: standard\n",
        "    escalation_policy: standard\n    runbooks: [runbooks/recs.md, runbooks/feed.md]\n",
    )
    error = only_error(tmp_path, text)
    assert (error.line, error.field) == (line_of(text, "runbooks:"), "services[0].runbooks[1]")
    assert error.message == "runbook file 'runbooks/feed.md' not found"


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    text = edited("members: [ann, bob]", "members: [zed, yan]")
    errors = errors_of(tmp_path, text)
    members = "schedules[0].layers[0].members"
    assert [e.field for e in errors] == [f"{members}[0]", f"{members}[1]"]


@pytest.mark.parametrize("text", ["", "- just\n- a list\n", "plain text\n"])
def test_document_that_is_not_a_mapping_is_refused(tmp_path: Path, text: str) -> None:
    error = only_error(tmp_path, text)
    assert error.line == 1
    assert "expected a mapping" in error.message


def test_missing_plan_file_is_reported(tmp_path: Path) -> None:
    with pytest.raises(PlanInvalid) as caught:
        load_plan(tmp_path / "nope.yaml")
    assert "cannot read the plan" in str(caught.value)


def test_missing_required_field_is_named(tmp_path: Path) -> None:
    text = edited("    delivery_lead: bob\n", "")
    error = only_error(tmp_path, text)
    assert (error.field, error.message) == ("clients[0].delivery_lead", "required field is missing")
    assert error.line == line_of(text, "  - id: acme-shop")


def test_durations_round_trip_through_the_stored_json_form(tmp_path: Path) -> None:
    text = (
        edited("ack_timeout: 10m", "ack_timeout: 90s")
        .replace("ack_timeout: 15m", "ack_timeout: 36h")
        .replace("resolve_timeout: 30m", "resolve_timeout: 2w")
        .replace('handoff_time: "09:00"', "handoff_time: 9:00\n        shift_length: 1d")
        + "severity_policy:\n  levels:\n    sev1: {first_notice: 10m, review_due: 3d}\n"
    )
    plan = load_plan(write(tmp_path, text))
    stored = json.dumps(plan.model_dump(mode="json"))  # what the database keeps
    dumped = json.loads(stored)

    policy = dumped["escalation_policies"][0]
    assert [level["ack_timeout"] for level in policy["levels"]] == ["90s", "36h"]
    assert policy["resolve_timeout"] == "2w"
    assert dumped["schedules"][0]["layers"][0]["shift_length"] == "1d"
    assert dumped["schedules"][0]["layers"][0]["handoff_time"] == "09:00"
    assert dumped["severity_policy"]["levels"]["sev1"]["first_notice"] == "10m"

    again = Plan.model_validate(dumped)
    assert again == plan
    assert again.model_dump(mode="json") == dumped


def test_sample_plan_reads_back_identically_from_its_stored_form() -> None:
    plan = load_plan(SAMPLE)
    assert Plan.model_validate(json.loads(json.dumps(plan.model_dump(mode="json")))) == plan


@pytest.mark.parametrize(
    ("start", "end", "valid"),
    [
        ("2026-07-01T10:00:00+05:00", "2026-07-01T08:00:00+00:00", True),  # 05:00Z → 08:00Z
        ("2026-07-01T08:00:00+00:00", "2026-07-01T10:00:00+05:00", False),  # 08:00Z → 05:00Z
    ],
)
def test_time_off_order_is_checked_on_instants_not_wall_clock(start: str, end: str, valid: bool) -> None:
    try:
        TimeOff.model_validate({"start": start, "end": end})
        accepted = True
    except ValidationError:
        accepted = False
    assert accepted is valid
