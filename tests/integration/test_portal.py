"""The client portal with two clients: each contact sees their own incidents only, and nothing internal."""

from __future__ import annotations

import re

import pytest

from onduty.app.accounts import issue_portal_link
from onduty.app.comms import communications, send
from onduty.app.lifecycle import change_severity
from onduty.bootstrap import Container
from onduty.domain.severity import Severity
from tests.integration.console_helpers import client_for, incidents_for_two_clients

CLIENTS = ("northwind", "tidewater")
OTHER = {"northwind": "tidewater", "tidewater": "northwind"}
TITLES = {"northwind": "Recommendations irrelevant on the storefront", "tidewater": "Delivery estimates frozen"}


@pytest.fixture
def two_clients(planned: Container) -> tuple[Container, dict[str, int], dict[str, str]]:
    ids = incidents_for_two_clients(planned)
    links = {c: issue_portal_link(planned.db, c, planned.clock.now()) for c in CLIENTS}
    return planned, ids, links


def _enter(c: Container, token: str):  # type: ignore[no-untyped-def]
    http = client_for(c)
    response = http.get(f"/portal/enter/{token}")
    assert response.status_code == 303 and response.headers["location"] == "/portal"
    assert "path=/portal" in response.headers["set-cookie"].lower()
    return http


@pytest.mark.parametrize("client", CLIENTS)
def test_a_contact_sees_their_own_incidents_and_never_the_other_clients(
    two_clients: tuple[Container, dict[str, int], dict[str, str]], client: str,
) -> None:
    c, ids, links = two_clients
    http = _enter(c, links[client])
    home = http.get("/portal")
    assert home.status_code == 200
    assert TITLES[client] in home.text and TITLES[OTHER[client]] not in home.text
    own = http.get(f"/portal/incidents/{ids[client]}")
    assert own.status_code == 200 and TITLES[client] in own.text
    other = http.get(f"/portal/incidents/{ids[OTHER[client]]}")
    assert other.status_code == 404 and TITLES[OTHER[client]] not in other.text
    assert http.get("/portal/incidents/999").status_code == 404


@pytest.mark.parametrize("client", CLIENTS)
def test_the_portal_shows_no_internal_notes_or_peoples_names(
    two_clients: tuple[Container, dict[str, int], dict[str, str]], client: str,
) -> None:
    c, ids, links = two_clients
    http = _enter(c, links[client])
    with c.db.transaction() as store:
        names = [p.name for p in store.directory().people.values()]
    for path in ("/portal", f"/portal/incidents/{ids[client]}"):
        text = http.get(path).text
        assert "INTERNAL" not in text and "monitor" not in text
        assert not [n for n in names if n in text], path


@pytest.mark.parametrize("client", CLIENTS)
def test_a_portal_session_opens_no_console_page(
    two_clients: tuple[Container, dict[str, int], dict[str, str]], client: str,
) -> None:
    c, ids, links = two_clients
    http = _enter(c, links[client])
    for path in ("/", f"/incidents/{ids[client]}", "/schedules", f"/api/v1/incidents/{ids[client]}"):
        assert http.get(path).status_code in (303, 401), path


@pytest.mark.parametrize("path", ["/portal", "/portal/incidents/1", "/portal/incidents/2"])
def test_the_portal_without_a_link_says_how_to_get_in(
    two_clients: tuple[Container, dict[str, int], dict[str, str]], path: str,
) -> None:
    c, _, _ = two_clients
    response = client_for(c).get(path)
    assert response.status_code == 401 and "secret link" in response.text


def test_a_wrong_portal_link_is_a_404(two_clients: tuple[Container, dict[str, int], dict[str, str]]) -> None:
    c, _, _ = two_clients
    assert client_for(c).get("/portal/enter/not-a-real-token").status_code == 404


def test_rotating_a_portal_link_ends_the_old_link_and_its_sessions(
    two_clients: tuple[Container, dict[str, int], dict[str, str]],
) -> None:
    c, _, links = two_clients
    http = _enter(c, links["northwind"])
    new = issue_portal_link(c.db, "northwind", c.clock.now())
    assert http.get("/portal").status_code == 401
    assert client_for(c).get(f"/portal/enter/{links['northwind']}").status_code == 404
    assert _enter(c, new).get("/portal").status_code == 200
    assert _enter(c, links["tidewater"]).get("/portal").status_code == 200  # the other client is untouched


def test_portal_sign_out_needs_its_csrf_token(two_clients: tuple[Container, dict[str, int], dict[str, str]]) -> None:
    c, _, links = two_clients
    http = _enter(c, links["tidewater"])
    assert http.post("/portal/sign-out", data={"csrf": "forged"}).status_code == 403
    found = re.search(r'name="csrf" value="([^"]+)"', http.get("/portal").text)
    assert found
    assert http.post("/portal/sign-out", data={"csrf": found.group(1)}).status_code == 200
    assert http.get("/portal").status_code == 401


def test_portal_links_are_stored_hashed(two_clients: tuple[Container, dict[str, int], dict[str, str]]) -> None:
    c, _, links = two_clients
    from sqlalchemy import select

    from onduty.adapters.db.tables import portal_links

    with c.db.transaction() as store:
        stored = set(store.session.scalars(select(portal_links.c.token_hash)))
    assert len(stored) == 2 and not stored & set(links.values())


def _send(c: Container, incident: int, known: str, reason: str | None = None, next_update: str | None = None) -> str:
    """Send an update about `incident`; returns its subject."""
    fields = {"what_is_known": known, "what_is_being_done": "We are restoring the last good batch."}
    if next_update is not None:
        fields["next_update_at"] = next_update
    made, _ = send(c.db, incident, "initial", fields, c.clock.now(), actor="Lucía Navarro", override_reason=reason)
    return made.subject


def test_each_contact_sees_the_messages_sent_to_their_client_and_nothing_else(
    two_clients: tuple[Container, dict[str, int], dict[str, str]],
) -> None:
    c, ids, links = two_clients
    subjects = {
        "northwind": _send(c, ids["northwind"], "Storefront recommendations irrelevant since 17:40.",
                           reason="OVERRIDE-REASON-internal", next_update="later"),
        "tidewater": _send(c, ids["tidewater"], "Delivery estimates stopped updating at 06:10."),
    }
    known = {"northwind": "Storefront recommendations irrelevant since 17:40.",
             "tidewater": "Delivery estimates stopped updating at 06:10."}
    for client in CLIENTS:
        http = _enter(c, links[client])
        own = http.get(f"/portal/incidents/{ids[client]}")
        assert own.status_code == 200
        text = own.text
        assert subjects[client] in text and known[client] in text
        assert "Initial notice · sent" in text and "<time datetime=" in text
        assert known[OTHER[client]] not in text and subjects[OTHER[client]] not in text
        for internal in ("INTERNAL", "OVERRIDE-REASON", "Lucía Navarro", "next_update_not_specific"):
            assert internal not in text, (client, internal)
        other = http.get(f"/portal/incidents/{ids[OTHER[client]]}")
        assert other.status_code == 404 and known[OTHER[client]] not in other.text


def test_internal_only_messages_never_reach_the_portal(
    two_clients: tuple[Container, dict[str, int], dict[str, str]],
) -> None:
    c, ids, links = two_clients
    change_severity(c.db, ids["tidewater"], Severity.SEV4, "only one depot affected", "Lucía Navarro", c.clock.now())
    _send(c, ids["tidewater"], "Depot 7 ETA job restarted twice; internal heads-up.")
    [sent] = [m for m, _ in communications(c.db, ids["tidewater"])]
    assert not sent.client_visible  # at Sev4 the plan tells only the account manager
    text = _enter(c, links["tidewater"]).get(f"/portal/incidents/{ids['tidewater']}").text
    assert "Depot 7 ETA job" not in text and "No messages have been sent to you" in text


def _incident_routes() -> list[str]:
    """Every GET route of the portal that names an incident, read from the app so a new one is covered too."""
    from fastapi.routing import APIRoute

    from onduty.web.ui import portal, portal_reviews

    paths = [r.path for m in (portal, portal_reviews) for r in m.router.routes
             if isinstance(r, APIRoute) and "GET" in r.methods and "{incident_id}" in r.path]
    assert len(paths) >= 3, paths  # the incident page, its review and the review's printable page
    return paths


@pytest.mark.parametrize("client", CLIENTS)
def test_every_portal_incident_route_answers_404_for_the_other_clients_incident(
    two_clients: tuple[Container, dict[str, int], dict[str, str]], client: str,
) -> None:
    c, ids, links = two_clients
    _send(c, ids[OTHER[client]], "OTHER-CLIENT-MESSAGE")
    http = _enter(c, links[client])
    for path in _incident_routes():
        response = http.get(path.replace("{incident_id}", str(ids[OTHER[client]])))
        assert response.status_code == 404, path
        assert TITLES[OTHER[client]] not in response.text and "OTHER-CLIENT-MESSAGE" not in response.text, path
