"""The review page in the console (sections, actions, change log, exports, completion) and shared reviews
in the client portal, which show only the client-safe version of a client's own completed reviews."""

from __future__ import annotations

import re

import pytest

from onduty.app.accounts import issue_portal_link
from onduty.app.incidents import change_status
from onduty.app.reviews import add_action, complete_review, edit_review
from onduty.bootstrap import Container
from tests.integration.console_helpers import client_for, csrf_of, incidents_for_two_clients, people, sign_in

ROOT_CAUSE = "Catalog deltas reach the model with no schema check, so a delta with swapped columns was served."


@pytest.fixture
def resolved(planned: Container) -> dict[str, int]:
    """Both clients' incidents resolved, so each has a drafted review."""
    people(planned)
    ids = incidents_for_two_clients(planned)
    for incident_id in ids.values():
        change_status(planned.db, incident_id, "resolved", "tomas", planned.clock.now())
    return ids


def _complete(c: Container, incident_id: int) -> None:
    now = c.clock.now()
    edit_review(c.db, incident_id, {"root_cause": ROOT_CAUSE, "internal_notes": "INTERNAL: Tomás missed a page"},
                "lucia", now)
    add_action(c.db, incident_id, "Check the schema of every catalog delta", "tomas", now, "lucia", now)
    complete_review(c.db, incident_id, "lucia", now)


def test_the_review_page_shows_sections_owner_due_exports_and_a_link_from_the_incident(
    planned: Container, resolved: dict[str, int],
) -> None:
    http = client_for(planned)
    sign_in(http, "hannah")
    one = resolved["northwind"]
    assert f'href="/incidents/{one}/review"' in http.get(f"/incidents/{one}").text
    page = http.get(f"/incidents/{one}/review").text
    for text in ("Summary", "Detection", "Root cause", "Recommendations irrelevant on the storefront", "Owner",
                 "Due", "Change log", "drafted from the timeline", "the root cause section is empty",
                 "format=md&amp;audience=client", "format=html"):
        assert text in page, text
    assert "Save root cause" not in page and "Complete the review" not in page  # a viewer only reads
    export = http.get(f"/incidents/{one}/review/export?format=md&audience=client")
    assert export.status_code == 200 and "Recommendations irrelevant" in export.text
    assert "Tomás" not in export.text and "INTERNAL" not in export.text
    assert http.get(f"/incidents/{one}/review/export?format=pdf").status_code == 400


def test_an_open_incident_has_no_review_page_yet(planned: Container) -> None:
    people(planned)
    ids = incidents_for_two_clients(planned)
    http = client_for(planned)
    sign_in(http, "lucia")
    missing = http.get(f"/incidents/{ids['northwind']}/review")
    assert missing.status_code == 404 and "drafted when the incident resolves" in missing.text


def test_signed_out_the_review_page_asks_for_sign_in(planned: Container, resolved: dict[str, int]) -> None:
    http = client_for(planned)
    one = resolved["northwind"]
    for path in (f"/incidents/{one}/review", f"/incidents/{one}/review/export"):
        response = http.get(path)
        assert response.status_code == 303 and response.headers["location"].startswith("/login?next=/incidents")
    assert http.post(f"/incidents/{one}/review/complete").status_code == 303


def test_a_refused_root_cause_is_shown_beside_its_box_and_changes_nothing(
    planned: Container, resolved: dict[str, int],
) -> None:
    http = client_for(planned)
    sign_in(http, "tomas")
    path = f"/incidents/{resolved['northwind']}/review"
    csrf = csrf_of(http, path)
    refused = http.post(f"{path}/sections", data={"section": "root_cause", "text": "human error", "csrf": csrf})
    assert refused.status_code == 422
    assert "Root cause refused" in refused.text and "systemic" in refused.text
    assert re.search(r'<textarea id="t-root_cause"[^>]*aria-invalid="true"[^>]*>human error</textarea>', refused.text)
    assert "human error" not in http.get(path).text
    saved = http.post(f"{path}/sections", data={"section": "root_cause", "text": ROOT_CAUSE, "csrf": csrf})
    assert saved.status_code == 303
    page = http.get(path).text
    assert ROOT_CAUSE in page and "Tomás Ferreira: root_cause" in page


def test_actions_are_added_and_updated_and_completion_lists_what_is_missing(
    planned: Container, resolved: dict[str, int],
) -> None:
    http = client_for(planned)
    sign_in(http, "tomas")
    path = f"/incidents/{resolved['northwind']}/review"
    csrf = csrf_of(http, path)
    early = http.post(f"{path}/complete", data={"csrf": csrf})
    assert early.status_code == 409
    assert "The review was not completed" in early.text and "the root cause section is empty" in early.text
    assert "no preventive action" in early.text
    added = http.post(f"{path}/actions", data={"title": "Check every delta's schema", "owner": "kwame",
                                               "due": "2026-12-31", "tracker_url": "https://tracker.example/1",
                                               "csrf": csrf})
    assert added.status_code == 303
    page = http.get(path).text
    assert "Check every delta&#39;s schema" in page and "Kwame Mensah · due 2026-12-31" in page
    action_id = re.search(rf'action="{path}/actions/(\d+)"', page)
    assert action_id
    done = http.post(f"{path}/actions/{action_id.group(1)}", data={"status": "done", "csrf": csrf})
    assert done.status_code == 303
    assert '<span class="act-done">done</span>' in http.get(path).text
    bad = http.post(f"{path}/actions", data={"title": "x", "owner": "kwame", "due": "soon", "csrf": csrf})
    assert bad.status_code == 400 and "due must be a date" in bad.text
    http.post(f"{path}/sections", data={"section": "root_cause", "text": ROOT_CAUSE, "csrf": csrf})
    assert http.post(f"{path}/complete", data={"csrf": csrf}).status_code == 303
    assert "Review completed" in http.get(path).text


def test_a_viewer_cannot_change_a_review_and_forms_need_csrf(planned: Container, resolved: dict[str, int]) -> None:
    http = client_for(planned)
    sign_in(http, "hannah")
    path = f"/incidents/{resolved['northwind']}/review"
    csrf = csrf_of(http, path)
    for sub, data in (("sections", {"section": "root_cause", "text": ROOT_CAUSE}), ("complete", {}),
                      ("actions", {"title": "t", "owner": "kwame", "due": "2026-12-31"})):
        refused = http.post(f"{path}/{sub}", data={**data, "csrf": csrf})
        assert refused.status_code == 403 and "viewer" in refused.text, sub
    responder = client_for(planned)
    sign_in(responder, "tomas")
    forged = responder.post(f"{path}/sections", data={"section": "root_cause", "text": ROOT_CAUSE, "csrf": "x"})
    assert forged.status_code == 403
    assert ROOT_CAUSE not in responder.get(path).text


def test_the_portal_shows_a_client_only_its_own_completed_reviews_client_safe(
    planned: Container, resolved: dict[str, int],
) -> None:
    north, tide = resolved["northwind"], resolved["tidewater"]
    portal = client_for(planned)
    assert portal.get(f"/portal/enter/{issue_portal_link(planned.db, 'northwind', planned.clock.now())}"
                      ).status_code == 303
    assert portal.get(f"/portal/incidents/{north}/review").status_code == 404  # a draft is not shared
    assert "Review of" not in portal.get("/portal").text
    _complete(planned, north)
    _complete(planned, tide)
    home = portal.get("/portal").text
    assert f'href="/portal/incidents/{north}/review"' in home and f"/portal/incidents/{tide}/review" not in home
    page = portal.get(f"/portal/incidents/{north}/review")
    assert page.status_code == 200 and ROOT_CAUSE in page.text and "Check the schema" in page.text
    for secret in ("INTERNAL", "Tomás", "Lucía", "Ferreira", "Change log"):
        assert secret not in page.text, secret
    printable = portal.get(f"/portal/incidents/{north}/review.html")
    assert printable.status_code == 200 and "INTERNAL" not in printable.text and "Tomás" not in printable.text
    for path in (f"/portal/incidents/{tide}/review", f"/portal/incidents/{tide}/review.html"):
        other = portal.get(path)
        assert other.status_code == 404 and "Delivery estimates" not in other.text
    assert client_for(planned).get(f"/portal/incidents/{north}/review").status_code == 401
