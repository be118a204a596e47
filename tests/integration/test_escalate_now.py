"""Escalate now: the next level is paged at once with the reason on the timeline, the chain carries on
from there; from the console (responders only, with CSRF) and the API (scoped keys see their client only)."""

from __future__ import annotations

from datetime import timedelta

from onduty.adapters.clock import SimulatedClock
from onduty.app.incidents import change_status
from onduty.app.keys import create_api_key
from onduty.bootstrap import Container
from tests.conftest import advance
from tests.integration.console_helpers import client_for, csrf_of, incidents_for_two_clients, people, sign_in


def _levels(c: Container, incident_id: int) -> list[int]:
    with c.db.transaction() as store:
        return [int(e.data["level"]) for e in store.timeline(incident_id) if e.kind == "escalation.level"]


def test_escalating_from_the_console_pages_the_next_level_and_the_chain_goes_on_from_there(
    planned: Container, clock: SimulatedClock,
) -> None:
    people(planned)
    ids = incidents_for_two_clients(planned)
    north = ids["northwind"]
    advance(planned, clock, timedelta(seconds=1))
    assert _levels(planned, north) == [1]
    http = client_for(planned)
    sign_in(http, "tomas")
    page = f"/incidents/{north}"
    assert "Escalate now" in http.get(page).text
    done = http.post(f"{page}/escalate", data={"reason": "needs the secondary on-call", "csrf": csrf_of(http, page)})
    assert done.status_code == 303
    text = http.get(page).text
    assert "Tomás Ferreira escalated to level 2: needs the secondary on-call" in text
    assert "Escalated to level 2: escalated by Tomás Ferreira" in text
    assert _levels(planned, north) == [1, 2]
    advance(planned, clock, timedelta(minutes=10))  # level 1's ack timeout: already escalated, no second page
    assert _levels(planned, north) == [1, 2]
    advance(planned, clock, timedelta(minutes=6))  # level 2's 15 minutes from the manual escalation
    assert _levels(planned, north) == [1, 2, 3]


def test_a_viewer_cannot_escalate_and_a_forged_form_is_refused(planned: Container, clock: SimulatedClock) -> None:
    people(planned)
    ids = incidents_for_two_clients(planned)
    page = f"/incidents/{ids['northwind']}"
    viewer = client_for(planned)
    sign_in(viewer, "hannah")
    assert "Escalate now" not in viewer.get(page).text
    refused = viewer.post(f"{page}/escalate", data={"reason": "x", "csrf": csrf_of(viewer, page)})
    assert refused.status_code == 403 and "viewer" in refused.text
    responder = client_for(planned)
    sign_in(responder, "tomas")
    assert responder.post(f"{page}/escalate", data={"reason": "x", "csrf": "forged"}).status_code == 403
    no_reason = responder.post(f"{page}/escalate", data={"reason": " ", "csrf": csrf_of(responder, page)})
    assert no_reason.status_code == 400 and "reason is required" in no_reason.text
    assert client_for(planned).post(f"{page}/escalate", data={"reason": "x"}).status_code == 303
    assert _levels(planned, ids["northwind"]) == []


def test_the_api_escalates_to_the_last_level_then_says_there_is_none_higher(
    planned: Container, clock: SimulatedClock,
) -> None:
    ids = incidents_for_two_clients(planned)
    north, tide = ids["northwind"], ids["tidewater"]
    http = client_for(planned)
    now = planned.clock.now()
    key = {"Authorization": f"Bearer {create_api_key(planned.db, 'responder', None, now)}"}
    scoped = {"Authorization": f"Bearer {create_api_key(planned.db, 'responder', 'tidewater', now)}"}
    assert http.post(f"/api/v1/incidents/{north}/escalate", headers=scoped, json={"reason": "x"}).status_code == 404
    missing = http.post(f"/api/v1/incidents/{north}/escalate", headers=key, json={})
    assert missing.status_code == 400 and "reason" in missing.text
    first = http.post(f"/api/v1/incidents/{north}/escalate", headers=key, json={"reason": "no page yet", "by": "aiko"})
    assert first.status_code == 200 and first.json()["escalation_level"] == 1  # nobody paged yet: level 1 now
    for level in (2, 3):
        done = http.post(f"/api/v1/incidents/{north}/escalate", headers=key, json={"reason": "still stuck"})
        assert done.status_code == 200 and done.json()["escalation_level"] == level
    last = http.post(f"/api/v1/incidents/{north}/escalate", headers=key, json={"reason": "more"})
    assert last.status_code == 409 and "no higher level" in last.json()["detail"]
    change_status(planned.db, tide, "resolved", "tomas", now)
    closed = http.post(f"/api/v1/incidents/{tide}/escalate", headers=scoped, json={"reason": "x"})
    assert closed.status_code == 409 and "only an open incident" in closed.json()["detail"]
