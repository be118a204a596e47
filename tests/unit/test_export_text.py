"""The wording of the exports, and the plan fields they read (client contacts, compensation rates)."""

from __future__ import annotations

from datetime import time, timedelta

import pytest

from onduty.app.exports.text import address, coverage_hours, duration, render, weekdays
from onduty.cli.report import bar
from onduty.domain.model import ContactMethod, Coverage
from onduty.plan.convert import to_directory
from onduty.plan.schema import Plan


@pytest.mark.parametrize(("value", "text"), [
    (None, "—"), (timedelta(minutes=30), "30 min"), (timedelta(minutes=60), "60 min"),
    (timedelta(minutes=90), "90 min"), (timedelta(hours=2), "2 h"), (timedelta(hours=48), "48 h"),
    (timedelta(days=7), "7 days"), (timedelta(days=2), "48 h"),
])
def test_durations_read_like_the_spec(value: timedelta | None, text: str) -> None:
    assert duration(value) == text


@pytest.mark.parametrize(("days", "text"), [
    (frozenset(range(7)), "every day"), (frozenset(range(5)), "Mon-Fri"), (frozenset({0, 2, 4}), "Mon, Wed, Fri"),
    (frozenset({5, 6}), "Sat, Sun"), (frozenset({0, 1, 2, 5}), "Mon-Wed, Sat"),
])
def test_weekdays_are_written_as_runs(days: frozenset[int], text: str) -> None:
    assert weekdays(days) == text


def test_coverage_hours_text() -> None:
    assert coverage_hours(Coverage("UTC", always=True)) == "24x7"
    assert coverage_hours(Coverage("Europe/Lisbon", frozenset(range(5)), time(8), time(20))) == "08:00-20:00 Mon-Fri"


@pytest.mark.parametrize(("method", "shown"), [
    (ContactMethod("email", "ann@example.com"), "ann@example.com"),
    (ContactMethod("sms", "+1-312-555-0100"), "+1-312-555-0100"),
    (ContactMethod("webhook", "https://pager.example/hooks/ann?sig=s3cret"), "pager.example (URL kept in the plan)"),
    (ContactMethod("slack", "https://hooks.slack.com/services/T0/B0/s3cret"), "hooks.slack.com (URL kept in the plan)"),
])
def test_printed_addresses_never_show_webhook_secrets(method: ContactMethod, shown: str) -> None:
    assert address(method) == shown
    assert "s3cret" not in address(method)


def test_the_page_layout_is_self_contained() -> None:
    page = render("_page.html")
    assert page.startswith("<!DOCTYPE html>") and "<style>" in page and "<script" not in page


@pytest.mark.parametrize(("value", "largest", "width", "drawn"), [
    (10, 10, 4, "████"), (5, 10, 4, "██"), (1, 8, 1, "▏"), (0, 10, 4, ""), (3, 0, 4, ""),
])
def test_terminal_bar_is_proportional_to_an_eighth(value: float, largest: float, width: int, drawn: str) -> None:
    assert bar(value, largest, width) == drawn


def test_the_plan_brings_client_contacts_and_compensation_rates() -> None:
    plan = Plan.model_validate({
        "organization": {"name": "Acme"},
        "people": [{"id": "ann", "name": "Ann", "time_zone": "UTC", "roles": ["account_manager"]}],
        "clients": [{"id": "c", "name": "C Corp", "time_zone": "UTC", "account_manager": "ann",
                     "delivery_lead": "ann", "contacts": [{"name": "Zed", "phone": "+1-555", "role": "CTO"}]}],
        "compensation": {"per_page": 0.5, "per_night_page": 2},
    })
    directory = to_directory(plan)

    (contact,) = directory.clients["c"].contacts
    assert (contact.name, contact.phone, contact.email, contact.role) == ("Zed", "+1-555", None, "CTO")
    assert directory.compensation.per_page == 0.5 and directory.compensation.per_night_page == 2.0
    assert directory.compensation.per_hour_outside_coverage == 0.1  # the default where the plan is silent
