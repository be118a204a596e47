"""Exports on a real database: calendar feeds (and their token URLs), the contact list, escalation charts."""

from __future__ import annotations

import csv
import io
import re
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import recurring_ical_events
import vobject
from fastapi.testclient import TestClient
from icalendar import Calendar
from typer.testing import CliRunner

from onduty.adapters.clock import SimulatedClock
from onduty.app.exports.calendar import calendar_feed, feed_token, feed_window
from onduty.app.exports.chart import chart_html, escalation_chart
from onduty.app.exports.contacts import CSV_COLUMNS, contact_sheet, contacts_csv, contacts_html, contacts_vcard
from onduty.app.plans import apply_plan
from onduty.app.ports import NotFound
from onduty.app.schedules import OverrideRequest, create_override, schedule_shifts
from onduty.bootstrap import Container
from onduty.cli import app as cli_app
from onduty.plan.load import load_plan
from onduty.web.app import create_app
from tests.conftest import SAMPLE_PLAN

LISBON = ZoneInfo("Europe/Lisbon")
MARGIN = timedelta(days=62)


def events(ics: bytes, lo: datetime, hi: datetime) -> list[Any]:
    return list(recurring_ical_events.of(Calendar.from_ical(ics)).between(lo, hi))


def vevents(ics: bytes) -> list[Any]:
    return list(Calendar.from_ical(ics).walk("VEVENT"))


def feed(c: Container, kind: str, ident: str) -> bytes:
    with c.db.transaction() as store:
        return calendar_feed(store, kind, ident, c.clock.now())  # type: ignore[arg-type]


def owned(c: Container, schedule_id: str, lo: datetime, hi: datetime) -> list[tuple[datetime, datetime, str]]:
    with c.db.transaction() as store:
        return [(s.start, s.end, s.person_id) for s in schedule_shifts(store, schedule_id, lo, hi) if s.person_id]


def spans(found: list[Any], names: dict[str, str], lo: datetime, hi: datetime) -> list[tuple[datetime, datetime, str]]:
    """(start, end, person) of each event, clipped to [lo, hi) the way `schedule_shifts` clips."""
    result = []
    for e in found:
        name = re.fullmatch(r"On call: [\w.-]+ \((.+)\)", str(e["SUMMARY"])).group(1)  # type: ignore[union-attr]
        result.append((max(e["DTSTART"].dt, lo), min(e["DTEND"].dt, hi), names[name]))
    return sorted(result)


def test_schedule_feed_matches_the_shifts_of_the_same_range(planned: Container) -> None:
    lo, hi = feed_window(planned.clock.now())
    with planned.db.transaction() as store:
        names = {p.name: p.id for p in store.directory().people.values()}
    for schedule_id in ("ml-primary", "ml-secondary", "data-primary", "apac"):
        found = events(feed(planned, "schedule", schedule_id), lo, hi)

        assert len(found) >= 15 and spans(found, names, lo, hi) == owned(planned, schedule_id, lo, hi)
        # Edge events keep their real start and end (so their UIDs do not move as the window slides).
        assert sorted((e["DTSTART"].dt, e["DTEND"].dt) for e in found) == sorted(
            (s, e) for s, e, _ in owned(planned, schedule_id, lo - MARGIN, hi + MARGIN) if e > lo and s < hi)


def test_feed_times_are_utc_and_uids_unique_and_stable(planned: Container, clock: SimulatedClock) -> None:
    first = feed(planned, "schedule", "ml-primary")
    assert feed(planned, "schedule", "ml-primary") == first  # a re-fetch is byte for byte the same
    lines = first.decode().splitlines()
    times = [line for line in lines if line.startswith(("DTSTART", "DTEND", "DTSTAMP"))]
    assert times and all(re.fullmatch(r"DT(START|END|STAMP):\d{8}T\d{6}Z", line) for line in times)
    assert all(line == "DTSTAMP:20261120T234000Z" for line in times if line.startswith("DTSTAMP"))
    before = {str(e["UID"]): (e["DTSTART"].dt, e["DTEND"].dt) for e in vevents(first)}
    assert len(before) == sum(line == "BEGIN:VEVENT" for line in lines)

    old_end = feed_window(clock.now())[1]
    clock.advance(timedelta(days=1, hours=3))
    after = vevents(feed(planned, "schedule", "ml-primary"))
    still = [e for e in after if e["DTSTART"].dt < old_end]
    assert still and all(before[str(e["UID"])] == (e["DTSTART"].dt, e["DTEND"].dt) for e in still)


def test_cover_and_override_events_say_whom_they_cover_and_why(planned: Container) -> None:
    now = planned.clock.now()
    create_override(planned.db, OverrideRequest("ml-primary", "tomas", datetime(2026, 11, 21, 18, tzinfo=LISBON),
                                                datetime(2026, 11, 22, 9, tzinfo=LISBON), "aiko", "family dinner"),
                    "hannah", now)
    found = vevents(feed(planned, "schedule", "ml-primary"))
    by_start = {e["DTSTART"].dt: e for e in found}

    tomas = by_start[datetime(2026, 11, 21, 18, tzinfo=UTC)]
    assert str(tomas["SUMMARY"]) == "On call: ml-primary (Tomás Ferreira)"
    assert "Covering for Aiko Tanaka (family dinner)." in str(tomas["DESCRIPTION"])
    aiko = by_start[datetime(2026, 11, 16, 9, tzinfo=UTC)]  # Priya's week: she is on vacation
    assert "Covering for Priya Raman (vacation)." in str(aiko["DESCRIPTION"])
    assert by_start[datetime(2026, 11, 22, 9, tzinfo=UTC)]["SUMMARY"] == "On call: ml-primary (Aiko Tanaka)"


def test_person_feed_holds_their_shifts_across_every_schedule(planned: Container) -> None:
    lo, hi = feed_window(planned.clock.now())
    found = vevents(feed(planned, "person", "tomas"))
    got = sorted((str(e["SUMMARY"]).split()[2], e["DTSTART"].dt, e["DTEND"].dt) for e in found)
    expected = sorted(
        (sid, s, e) for sid in ("ml-primary", "data-primary", "ml-secondary", "apac")
        for s, e, who in owned(planned, sid, lo - MARGIN, hi + MARGIN) if who == "tomas" and e > lo and s < hi
    )
    assert got == expected and {g[0] for g in got} == {"ml-primary", "data-primary"}
    assert all("(Tomás Ferreira)" in str(e["SUMMARY"]) for e in found)


@pytest.fixture
def http(planned: Container) -> Iterator[TestClient]:
    with TestClient(create_app(planned)) as client:
        yield client


def token(c: Container, kind: str, ident: str) -> str:
    with c.db.transaction() as store:
        return feed_token(store, kind, ident, c.clock.now())  # type: ignore[arg-type]


def test_feed_over_http_needs_its_own_token_and_otherwise_answers_404(planned: Container, http: TestClient) -> None:
    right = token(planned, "schedule", "ml-primary")
    response = http.get(f"/api/v1/schedules/ml-primary/calendar.ics?token={right}")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/calendar")
    assert response.content == feed(planned, "schedule", "ml-primary")
    assert re.fullmatch(r"[0-9a-f]{32}", right)

    for path in (
        "/api/v1/schedules/ml-primary/calendar.ics",
        "/api/v1/schedules/ml-primary/calendar.ics?token=" + "0" * 32,
        f"/api/v1/schedules/ml-primary/calendar.ics?token={right[:-1]}",
        f"/api/v1/schedules/apac/calendar.ics?token={right}",  # another schedule's token
        f"/api/v1/schedules/nope/calendar.ics?token={token(planned, 'schedule', 'nope')}",
        f"/api/v1/people/ml-primary/calendar.ics?token={right}",
        "/api/v1/schedules/ml-primary/calendar.ics?token=%C3%A9",
    ):
        assert http.get(path).status_code == 404, path


def test_person_feed_over_http(planned: Container, http: TestClient) -> None:
    response = http.get(f"/api/v1/people/aiko/calendar.ics?token={token(planned, 'person', 'aiko')}")
    assert response.status_code == 200
    assert "On call: ml-primary (Aiko Tanaka)" in response.text
    assert token(planned, "person", "aiko") != token(planned, "schedule", "aiko")


def test_unknown_ids_are_refused_naming_the_known_ones(planned: Container) -> None:
    with pytest.raises(NotFound, match="known schedules: apac, data-primary, ml-primary, ml-secondary"):
        feed(planned, "schedule", "nope")
    with pytest.raises(NotFound, match="known people: aiko, ben, dev"):
        feed(planned, "person", "nope")
    with pytest.raises(NotFound, match="known clients: bairro, northwind, tidewater"):
        chart_of(planned, "nope")


# -- the contact list --------------------------------------------------------------------------

def sheet_of(c: Container) -> Any:
    with c.db.transaction() as store:
        return contact_sheet(store, c.clock.now())


def test_vcard_parses_back_with_every_person_and_client_contact(planned: Container) -> None:
    cards = list(vobject.readComponents(contacts_vcard(sheet_of(planned))))
    with planned.db.transaction() as store:
        directory = store.directory()
    by_name = {card.fn.value: card for card in cards}

    assert all(card.version.value == "3.0" for card in cards)
    assert {p.name for p in directory.people.values()} <= set(by_name)
    hannah = by_name["Hannah Weiss"]
    assert hannah.n.value.family == "Weiss" and hannah.tel.value == "+351-21-555-0107"
    assert hannah.title.value == "tech lead, engineer" and "Europe/Lisbon" in hannah.note.value
    assert by_name["Aiko Tanaka"].email.value == "aiko@halyard.example"
    rachel = by_name["Rachel Kim"]
    assert rachel.org.value == ["Northwind Home"] and rachel.email.value == "rachel.kim@northwind.example"
    assert len(cards) == len(directory.people) + sum(len(c.contacts) for c in directory.clients.values())


def test_csv_has_a_row_per_contact_method_and_client_contact(planned: Container) -> None:
    rows = list(csv.DictReader(io.StringIO(contacts_csv(sheet_of(planned)))))
    with planned.db.transaction() as store:
        directory = store.directory()

    assert tuple(rows[0]) == CSV_COLUMNS
    people = [r for r in rows if r["kind"] == "person"]
    assert len(people) == sum(len(p.contacts) for p in directory.people.values())
    assert {r["id"] for r in people} == set(directory.people)
    kwame = [(r["order"], r["method"], r["address"]) for r in people if r["id"] == "kwame"]
    assert kwame == [("1", "webhook", "pager.halyard.example (URL kept in the plan)"), ("2", "sms", "+1-312-555-0142")]
    clients = {(r["client"], r["name"], r["method"]) for r in rows if r["kind"] == "client contact"}
    assert clients == {("Northwind Home", "Rachel Kim", "email"), ("Northwind Home", "Rachel Kim", "phone"),
                       ("Tidewater Freight", "Liam Walsh", "email"), ("Bairro Seguros", "Inês Carvalho", "email")}


def test_contact_sheet_names_who_is_on_call_now_at_each_level(planned: Container) -> None:
    northwind = next(line for line in sheet_of(planned).clients if line.client.id == "northwind")
    recs = next(s for s in northwind.services if s.service.id == "recs-model")
    first, second, third = recs.levels

    assert first.targets == ("ML primary (Lisbon)",) and first.ack_timeout == timedelta(minutes=10)
    assert [(r.name, r.note) for r in first.on_call] == [("Aiko Tanaka", "covering for Priya Raman: vacation")]
    assert [r.name for r in second.on_call] == ["Lucía Navarro"] and second.targets == ("ML secondary (Chicago)",)
    assert [r.name for r in third.on_call] == ["Hannah Weiss", "Dev Patel"]
    assert dict(northwind.leads)["account manager"].contact == "maria@halyard.example"


def test_contact_html_is_self_contained_lists_everyone_and_escapes(planned: Container, tmp_path: Path) -> None:
    html = contacts_html(sheet_of(planned))
    with planned.db.transaction() as store:
        names = [p.name for p in store.directory().people.values()]
    assert all(name in html for name in names) and "Rachel Kim" in html and "+1-312-555-0199" in html
    assert not re.search(r"<script|<link|src=|@import|url\(", html)
    assert "/hooks/" not in html  # webhook URLs are credentials

    shutil.copytree(SAMPLE_PLAN.parent / "runbooks", tmp_path / "runbooks")
    nasty = tmp_path / "onduty.yaml"
    nasty.write_text(SAMPLE_PLAN.read_text().replace("name: Olga Ivanova", 'name: "Olga <script>x()</script> & Co"'))
    apply_plan(planned.db, load_plan(nasty), str(nasty), planned.clock.now())
    html = contacts_html(sheet_of(planned))
    assert "<script>" not in html and "Olga &lt;script&gt;x()&lt;/script&gt; &amp; Co" in html


# -- the escalation chart ----------------------------------------------------------------------

def chart_of(c: Container, client: str) -> Any:
    with c.db.transaction() as store:
        return escalation_chart(store, client, c.clock.now())


def test_chart_names_who_is_paged_and_told_for_each_severity(planned: Container) -> None:
    sev1, sev2, sev3, sev4 = chart_of(planned, "northwind").severities

    assert sev1.paged.startswith("All hands, at any hour: level-1 on call (")
    assert all(who in sev1.paged for who in ("Aiko Tanaka", "Hannah Weiss (tech lead)", "Dev Patel (delivery lead)",
                                             "Maria Costa (account manager)"))
    assert (sev1.first_notice, sev1.updates, sev1.monitor) == (
        "30 min after declaration", "every 60 min until resolved", "60 min after the fix")
    assert sev1.review == "mandatory, due 48 h after resolution"
    assert "at once in coverage hours (07:00-22:00 every day)" in sev2.paged
    assert sev2.notified == "Maria Costa (account manager) and Dev Patel (delivery lead)"
    assert sev2.review == "mandatory, due 7 days after resolution"  # the sample plan makes Sev2 reviews mandatory
    assert "no night page" in sev3.paged and (sev3.first_notice, sev3.updates) == ("—", "—")
    assert sev4.paged == "Nobody is paged: tracked only" and sev4.monitor == "—" and sev4.review == "—"
    assert "at any hour" in chart_of(planned, "tidewater").severities[1].paged  # Tidewater is covered 24x7


def test_chart_shows_this_weeks_on_call_level_by_level(planned: Container) -> None:
    chart = chart_of(planned, "northwind")
    ml = next(w for w in chart.services if "recs-model" in [s.id for s in w.services])
    assert [s.id for s in ml.services] == ["recs-api", "recs-model"]  # same policy: one table

    (primary,) = ml.levels[0].targets
    assert primary.label == "ML primary (Lisbon)"
    assert [(h.name, h.span, h.note) for h in primary.holders] == [
        ("Aiko Tanaka", "Fri 20 Nov 17:40 → Mon 23 Nov 03:00", "covering for Priya Raman: vacation"),
        ("Aiko Tanaka", "Mon 23 Nov 03:00 → Fri 27 Nov 17:40", ""),
    ]
    assert [t.label for t in ml.levels[2].targets] == ["Hannah Weiss (directly)", "Dev Patel (directly)"]
    html = chart_html(chart)
    assert "07:00-22:00 every day" in html and "Sev4" in html and "Rachel" not in html
    assert not re.search(r"<script|<link|src=|@import|url\(", html)


# -- the CLI -------------------------------------------------------------------------------------

@pytest.fixture
def cli(planned: Container, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("ONDUTY_DATABASE_URL", planned.settings.database_url)
    monkeypatch.setenv("ONDUTY_PUBLIC_URL", "https://oncall.halyard.example/")
    monkeypatch.setenv("COLUMNS", "200")
    return CliRunner()


def run(cli: CliRunner, *args: str) -> tuple[int, str, str]:
    result = cli.invoke(cli_app, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_cli_feed_url_is_one_the_api_accepts(cli: CliRunner, http: TestClient) -> None:
    code, out, _ = run(cli, "export", "calendar", "--schedule", "ml-primary", "--url")
    assert code == 0
    match = re.fullmatch(r"https://oncall\.halyard\.example(/api/v1/schedules/ml-primary/calendar\.ics\?token=\w{32})\n",
                         out)
    assert match, out
    assert http.get(match.group(1)).status_code == 200


def test_cli_prints_or_writes_the_calendar(cli: CliRunner, tmp_path: Path) -> None:
    code, out, _ = run(cli, "export", "calendar", "--person", "aiko")
    assert code == 0 and Calendar.from_ical(out)["X-WR-CALNAME"] == "On call: Aiko Tanaka"
    target = tmp_path / "aiko.ics"
    code, out, err = run(cli, "export", "calendar", "--person", "aiko", "--out", str(target))
    assert code == 0 and out == "" and "wrote the calendar" in err
    assert target.read_bytes().startswith(b"BEGIN:VCALENDAR\r\n")


CLI_ERRORS = [
    (["export", "calendar", "--schedule", "nope"], 1, "known schedules: apac, data-primary"),
    (["export", "calendar", "--person", "nope"], 1, "known people: aiko, ben"),
    (["export", "calendar"], 2, "exactly one of --schedule or --person"),
    (["export", "calendar", "--schedule", "apac", "--person", "ben"], 2, "exactly one of --schedule or --person"),
    (["export", "chart", "--client", "nope"], 1, "known clients: bairro, northwind, tidewater"),
    (["export", "contacts", "--format", "pdf"], 2, "not one of html, csv, vcard"),
    (["export", "contacts", "--out", "/nonexistent/folder/c.html"], 1, "cannot write the contact list (html)"),
]


def test_cli_errors_say_what_is_wrong(cli: CliRunner) -> None:
    for args, code, says in CLI_ERRORS:
        got, _, err = run(cli, *args)
        assert (got, True) == (code, says in " ".join(err.split())), (args, err)


def test_cli_contacts_and_chart(cli: CliRunner, tmp_path: Path) -> None:
    target = tmp_path / "team.csv"
    assert run(cli, "export", "contacts", "--format", "csv", "--out", str(target))[0] == 0
    assert {r["name"] for r in csv.DictReader(target.open(encoding="utf-8"))} >= {"Aiko Tanaka", "Rachel Kim"}
    code, out, _ = run(cli, "export", "contacts", "--format", "vcard")
    assert code == 0 and out.count("BEGIN:VCARD") == 13 + 3
    code, out, _ = run(cli, "export", "chart", "--client", "bairro")
    assert code == 0 and "Escalation chart: Bairro Seguros" in out and "08:00-20:00 Mon-Fri" in out
