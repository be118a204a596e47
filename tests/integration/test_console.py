"""The web console over HTTP: sign-in, sessions, CSRF, roles, and every page for a signed-in admin."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from onduty.adapters.clock import SimulatedClock
from onduty.app.accounts import issue_login_link
from onduty.bootstrap import Container
from tests.integration.console_helpers import (
    client_for,
    csrf_of,
    follow_login_link,
    incidents_for_two_clients,
    login_csrf,
    people,
    sign_in,
)


@pytest.fixture
def console(planned: Container) -> Container:
    people(planned)
    return planned


def _pages(ids: dict[str, int]) -> list[str]:
    one = ids["northwind"]
    return ["/", "/live/now", "/incidents", "/incidents?status=resolved", f"/incidents/{one}",
            f"/incidents/{one}/live", f"/incidents/{one}/live?part=timeline", f"/incidents/{one}?kind=note",
            "/schedules", "/schedules/ml-primary", "/alerting",
            "/schedules/ml-primary?week=2026-11-30", "/people"]


def test_every_page_renders_for_an_admin(console: Container) -> None:
    ids = incidents_for_two_clients(console)
    http = client_for(console)
    sign_in(http, "lucia")
    for path in _pages(ids):
        response = http.get(path)
        assert response.status_code == 200, (path, response.text[:500])
        assert "Lucía Navarro" in response.text or path.startswith("/live") or "/live" in path
    now = http.get("/").text
    assert "Recommendations irrelevant on the storefront" in now and "On call now" in now
    assert "Acknowledge" in now and "left" in now  # the ack clock, with time left in words


def test_signed_out_pages_redirect_to_sign_in_and_back(console: Container) -> None:
    ids = incidents_for_two_clients(console)
    http = client_for(console)
    for path in _pages(ids):
        response = http.get(path)
        assert response.status_code == 303, path
        assert response.headers["location"].startswith("/login?next=/"), path
    assert http.post(f"/incidents/{ids['northwind']}/status", data={"to": "acknowledged"}).status_code == 303


def test_a_wrong_password_is_refused_without_a_session(console: Container) -> None:
    http = client_for(console)
    response = http.post("/login", data={"person": "lucia", "password": "not the password",
                                         "csrf": login_csrf(http)})
    assert response.status_code == 401
    assert "unknown person or wrong password" in response.text
    assert "onduty_session" not in http.cookies
    assert http.get("/").status_code == 303


def test_sign_in_sets_a_http_only_lax_session_cookie_and_goes_back(console: Container) -> None:
    http = client_for(console)
    response = http.post("/login", data={"person": "lucia", "password": "correct horse battery",
                                         "csrf": login_csrf(http), "next": "/schedules"})
    assert response.status_code == 303 and response.headers["location"] == "/schedules"
    cookie = response.headers["set-cookie"].lower()
    assert "onduty_session=" in cookie and "httponly" in cookie and "samesite=lax" in cookie
    assert "secure" not in cookie  # plain http here; https requests get Secure


def test_sign_in_never_redirects_off_site(console: Container) -> None:
    http = client_for(console)
    response = http.post("/login", data={"person": "lucia", "password": "correct horse battery",
                                         "csrf": login_csrf(http), "next": "//evil.example/"})
    assert response.headers["location"] == "/"


def test_the_login_form_without_its_csrf_token_is_refused(console: Container) -> None:
    http = client_for(console)
    login_csrf(http)
    response = http.post("/login", data={"person": "lucia", "password": "correct horse battery", "csrf": "forged"})
    assert response.status_code == 403
    assert "CSRF" in response.text


def test_an_action_without_the_session_csrf_token_is_refused_and_changes_nothing(console: Container) -> None:
    ids = incidents_for_two_clients(console)
    http = client_for(console)
    sign_in(http, "tomas")
    incident = f"/incidents/{ids['northwind']}"
    for data in ({"to": "acknowledged"}, {"to": "acknowledged", "csrf": "forged"}):
        assert http.post(f"{incident}/status", data=data).status_code == 403
    assert http.post(f"{incident}/notes", data={"text": "x", "csrf": "forged"}).status_code == 403
    with console.db.transaction() as store:
        assert store.incident(ids["northwind"]).status == "triggered"  # type: ignore[union-attr]


def test_a_responder_acknowledges_notes_and_resolves_from_the_incident_page(console: Container) -> None:
    ids = incidents_for_two_clients(console)
    http = client_for(console)
    sign_in(http, "tomas")
    incident = f"/incidents/{ids['northwind']}"
    csrf = csrf_of(http, incident)
    assert http.post(f"{incident}/status", data={"to": "acknowledged", "csrf": csrf}).status_code == 303
    assert http.post(f"{incident}/notes", data={"text": "feed pinned to 16:40", "csrf": csrf}).status_code == 303
    page = http.get(incident).text
    assert "Acknowledged by Tomás" in page and "feed pinned to 16:40" in page
    assert 'value="acknowledged"' not in page and 'value="resolved"' in page
    assert http.post(f"{incident}/status", data={"to": "resolved", "csrf": csrf, "note": "fixed"}).status_code == 303
    page = http.get(incident).text
    assert "Resolved by Tomás" in page and "no status change to make from here" in page
    again = http.post(f"{incident}/status", data={"to": "acknowledged", "csrf": csrf})
    assert again.status_code == 409 and "cannot acknowledge" in again.text


def test_the_timeline_is_newest_first_and_filters_by_kind(console: Container) -> None:
    ids = incidents_for_two_clients(console)
    http = client_for(console)
    sign_in(http, "lucia")
    page = http.get(f"/incidents/{ids['northwind']}").text
    assert page.index("INTERNAL: suspect") < page.index("incident declared")
    notes_only = http.get(f"/incidents/{ids['northwind']}?kind=note").text
    assert "INTERNAL: suspect" in notes_only and "incident.declared" not in notes_only


def test_a_viewer_sees_the_incident_but_cannot_act(console: Container) -> None:
    ids = incidents_for_two_clients(console)
    http = client_for(console)
    sign_in(http, "hannah")
    incident = f"/incidents/{ids['northwind']}"
    page = http.get(incident).text
    assert "viewer" in page and 'name="to"' not in page
    csrf = csrf_of(http, incident)
    refused = http.post(f"{incident}/status", data={"to": "acknowledged", "csrf": csrf})
    assert refused.status_code == 403 and "viewer" in refused.text
    assert http.post(f"{incident}/notes", data={"text": "hi", "csrf": csrf}).status_code == 403
    assert http.post("/schedules/ml-primary/overrides", data={
        "who": "hannah", "start": "2026-11-21T18:00", "end": "2026-11-22T09:00", "csrf": csrf}).status_code == 403


def test_a_login_link_signs_in_once(console: Container) -> None:
    token = issue_login_link(console.db, "tomas", console.clock.now())
    http = client_for(console)
    assert follow_login_link(http, f"/login/link/{token}") == 303
    assert http.get("/").status_code == 200
    again = client_for(console).get(f"/login/link/{token}")
    assert again.status_code == 401 and "already used or expired" in again.text


def test_opening_a_login_link_only_asks_so_a_link_scanner_does_not_spend_it(console: Container) -> None:
    token = issue_login_link(console.db, "tomas", console.clock.now())
    scanner = client_for(console)
    for _ in range(2):
        asked = scanner.get(f"/login/link/{token}")
        assert asked.status_code == 200 and "Sign in as Tomás" in asked.text and "onduty_session" not in str(
            asked.cookies)
    assert scanner.get("/").status_code == 303  # opening it signed nobody in
    person = client_for(console)
    assert follow_login_link(person, f"/login/link/{token}") == 303
    assert person.get("/").status_code == 200


def test_a_login_link_needs_the_pages_csrf_token(console: Container) -> None:
    token = issue_login_link(console.db, "tomas", console.clock.now())
    http = client_for(console)
    assert http.post(f"/login/link/{token}", data={"csrf": "forged"}).status_code == 403
    assert follow_login_link(http, f"/login/link/{token}") == 303  # still unused


def test_a_login_link_expires_after_15_minutes(console: Container) -> None:
    clock = console.clock
    assert isinstance(clock, SimulatedClock)
    token = issue_login_link(console.db, "tomas", clock.now())
    clock.set(clock.now() + timedelta(minutes=15, seconds=1))
    response = client_for(console).get(f"/login/link/{token}")
    assert response.status_code == 401


def test_sessions_expire_and_sign_out_ends_them(console: Container) -> None:
    http = client_for(console)
    sign_in(http, "lucia")
    response = http.post("/logout", data={"csrf": csrf_of(http)})
    assert response.status_code == 303 and http.get("/").status_code == 303
    sign_in(http, "lucia")
    clock = console.clock
    assert isinstance(clock, SimulatedClock)
    clock.set(clock.now() + timedelta(hours=12, seconds=1))
    assert http.get("/").status_code == 303


def test_sign_in_is_throttled_per_person_after_five_failures(console: Container) -> None:
    http = client_for(console)
    for _ in range(5):
        assert http.post("/login", data={"person": "tomas", "password": "wrong guess!",
                                         "csrf": login_csrf(http)}).status_code == 401
    blocked = http.post("/login", data={"person": "tomas", "password": "correct horse battery",
                                        "csrf": login_csrf(http)})
    assert blocked.status_code == 429 and "Too many failed sign-ins" in blocked.text
    sign_in(http, "lucia")  # another person from the same address is not locked out yet


def test_an_override_from_the_form_shows_in_the_week(console: Container) -> None:
    http = client_for(console)
    sign_in(http, "tomas")
    csrf = csrf_of(http, "/schedules/ml-primary")
    response = http.post("/schedules/ml-primary/overrides", data={
        "who": "kwame", "start": "2026-11-21T18:00", "end": "2026-11-22T09:00", "reason": "wedding", "csrf": csrf})
    assert response.status_code == 303
    assert response.headers["location"] == "/schedules/ml-primary?week=2026-11-16"
    week = http.get(response.headers["location"]).text
    assert "Kwame" in week and "(override)" in week and "wedding" in week


def test_a_bad_override_says_what_is_wrong_and_keeps_the_form(console: Container) -> None:
    http = client_for(console)
    sign_in(http, "tomas")
    csrf = csrf_of(http, "/schedules/ml-primary")
    response = http.post("/schedules/ml-primary/overrides", data={
        "who": "kwame", "start": "2026-11-22T09:00", "end": "2026-11-21T18:00", "reason": "oops", "csrf": csrf})
    assert response.status_code == 400
    assert "must end after it starts" in response.text and 'value="oops"' in response.text


def test_an_unknown_incident_or_schedule_is_a_404_page(console: Container) -> None:
    http = client_for(console)
    sign_in(http, "lucia")
    assert http.get("/incidents/999").status_code == 404
    assert http.get("/schedules/nope").status_code == 404
    assert http.get("/incidents?status=bogus").status_code == 400


def test_the_playbook_is_ticked_and_unticked_from_the_incident_page(console: Container) -> None:
    ids = incidents_for_two_clients(console)
    http = client_for(console)
    sign_in(http, "tomas")
    incident = f"/incidents/{ids['northwind']}"
    page = http.get(incident).text
    assert "Playbook" in page and "1. " in page
    item = re.search(rf'action="{incident}/playbook/([^"]+)"', page)
    assert item
    path, csrf = f"{incident}/playbook/{item.group(1)}", csrf_of(http, incident)
    assert http.post(path, data={"done": "1", "csrf": "forged"}).status_code == 403
    assert http.post(path, data={"done": "1", "csrf": csrf}).status_code == 303
    page = http.get(incident).text
    assert "Untick:" in page and "playbook.ticked" in page
    assert http.post(path, data={"done": "1", "csrf": csrf}).status_code == 409
    assert http.post(path, data={"done": "0", "csrf": csrf}).status_code == 303
    assert http.post(f"{incident}/playbook/no.such.item", data={"csrf": csrf}).status_code == 400


def test_a_viewer_sees_the_playbook_without_tick_buttons(console: Container) -> None:
    ids = incidents_for_two_clients(console)
    http = client_for(console)
    sign_in(http, "hannah")
    page = http.get(f"/incidents/{ids['northwind']}").text
    assert "Playbook" in page and "/playbook/" not in page


def test_the_silences_page_shows_silences_in_force_and_heartbeat_checks(console: Container) -> None:
    from onduty.app.silences import create_silence

    now = console.clock.now()
    create_silence(console.db, ['alertname="Drift"'], now, now + timedelta(hours=2), "aiko", "retraining", now,
                   service_id="recs-model")
    http = client_for(console)
    sign_in(http, "hannah")
    page = http.get("/alerting").text
    assert 'alertname=&#34;Drift&#34;' in page and "retraining" in page and "Northwind recommendation engine" in page


def test_severity_changes_from_the_page_with_a_reason(console: Container) -> None:
    ids = incidents_for_two_clients(console)
    http = client_for(console)
    sign_in(http, "tomas")
    incident = f"/incidents/{ids['tidewater']}"
    csrf = csrf_of(http, incident)
    refused = http.post(f"{incident}/severity", data={"severity": "sev1", "reason": "", "csrf": csrf})
    assert refused.status_code == 400
    done = http.post(f"{incident}/severity", data={"severity": "sev1", "reason": "every lane is late", "csrf": csrf})
    assert done.status_code == 303
    page = http.get(incident).text
    assert "every lane is late" in page and '<span class="sev sev1">Sev1</span>' in page


def test_roles_are_shown_and_assigned_from_the_page(console: Container) -> None:
    ids = incidents_for_two_clients(console)
    http = client_for(console)
    sign_in(http, "tomas")
    incident = f"/incidents/{ids['northwind']}"
    assert "Incident commander" in http.get(incident).text
    csrf = csrf_of(http, incident)
    done = http.post(f"{incident}/roles", data={"role": "commander", "who": "kwame", "csrf": csrf})
    assert done.status_code == 303
    page = http.get(incident).text
    assert "Kwame Mensah <span class=\"muted small\">assigned by Tomás Ferreira" in page
    bad = http.post(f"{incident}/roles", data={"role": "commander", "who": "nobody", "csrf": csrf})
    assert bad.status_code == 400 and "not in the applied plan" in bad.text
