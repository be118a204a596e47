"""The composer on the incident page: check a client message, see the findings, send it as the API would."""

from __future__ import annotations

import re

import pytest

from onduty.app.comms import communications
from onduty.bootstrap import Container
from tests.integration.console_helpers import client_for, csrf_of, incidents_for_two_clients, people, sign_in

GOOD = {"f_what_is_known": "Recommendations on the storefront are irrelevant since 17:40.",
        "f_what_is_being_done": "We are pinning the feed to the last good batch."}


@pytest.fixture
def console(planned: Container) -> Container:
    people(planned)
    return planned


def _signed_in(c: Container, who: str = "tomas"):  # type: ignore[no-untyped-def]
    http = client_for(c)
    sign_in(http, who)
    return http


def _post(http, incident: int, action: str, fields: dict[str, str], kind: str = "initial",  # type: ignore[no-untyped-def]
          **extra: str):
    csrf = csrf_of(http, f"/incidents/{incident}")
    return http.post(f"/incidents/{incident}/messages",
                     data={"csrf": csrf, "kind": kind, "action": action, **fields, **extra})


def _sent(c: Container, incident: int) -> list:  # type: ignore[type-arg]
    return [m for m, _ in communications(c.db, incident)]


def _comms_entries(c: Container, incident: int) -> list:  # type: ignore[type-arg]
    with c.db.transaction() as store:
        return [e for e in store.timeline(incident) if e.kind.startswith("comms.")]


def test_the_incident_page_offers_the_composer_with_onduty_defaults(console: Container) -> None:
    ids = incidents_for_two_clients(console)
    page = _signed_in(console).get(f"/incidents/{ids['northwind']}").text
    assert f'action="/incidents/{ids["northwind"]}/messages#compose-h"' in page
    assert '<label for="f_what_is_known">What is known (required)</label>' in page
    assert re.search(r'id="f_affected_system" name="f_affected_system" value="[^"]+"', page)
    assert re.search(r'id="f_next_update_at" name="f_next_update_at" value="2026-', page)
    assert "Rachel Kim (email, client)" in page  # who the message goes to
    assert "Initial notice" in page and "The check found" not in page


def test_check_shows_the_findings_inline_and_sends_nothing(console: Container) -> None:
    ids = incidents_for_two_clients(console)
    http = _signed_in(console)
    response = _post(http, ids["northwind"], "check",
                     {**GOOD, "f_next_update_at": "soon", "f_what_is_known": "A small glitch in the feed."})
    assert response.status_code == 200
    text = response.text
    assert "The check found 2 problems" in text
    assert "&#39;soon&#39; is not a time the client can plan around" in text
    assert "contains &#39;a small glitch&#39;" in text
    assert 'id="f_next_update_at" name="f_next_update_at" value="soon"' in text  # kept as typed
    assert 'aria-invalid="true"' in text and "What the client will read" in text
    assert _sent(console, ids["northwind"]) == [] and _comms_entries(console, ids["northwind"]) == []


def test_a_sev1_message_that_fails_the_check_is_refused_and_nothing_is_sent(console: Container) -> None:
    ids = incidents_for_two_clients(console)
    http = _signed_in(console)
    response = _post(http, ids["northwind"], "send", {**GOOD, "f_next_update_at": "later"})
    assert response.status_code == 422
    assert "Not sent: the check found 1 problem(s)" in response.text
    assert "give an override reason" in response.text
    assert 'value="later"' in response.text
    assert _sent(console, ids["northwind"]) == [] and _comms_entries(console, ids["northwind"]) == []


def test_an_override_reason_sends_a_failing_sev1_message_and_is_recorded(console: Container) -> None:
    ids = incidents_for_two_clients(console)
    http = _signed_in(console)
    response = _post(http, ids["northwind"], "send", {**GOOD, "f_next_update_at": "later"},
                     override_reason="client asked for a notice right now")
    assert response.status_code == 303
    [message] = _sent(console, ids["northwind"])
    assert message.override_reason == "client asked for a notice right now" and message.sent_by == "Tomás Ferreira"
    kinds = [e.kind for e in _comms_entries(console, ids["northwind"])]
    assert kinds == ["comms.override", "comms.initial"]
    page = http.get(response.headers["location"]).text
    assert "client asked for a notice right now" in page


def test_a_passing_message_is_sent_through_the_outbox_and_shows_on_the_timeline(console: Container) -> None:
    ids = incidents_for_two_clients(console)
    http = _signed_in(console)
    response = _post(http, ids["northwind"], "send", GOOD)
    assert response.status_code == 303
    assert re.fullmatch(rf"/incidents/{ids['northwind']}\?sent=\d+#compose-h", response.headers["location"])
    [message] = _sent(console, ids["northwind"])
    assert message.override_reason is None and message.findings == [] and message.client_visible
    with console.db.transaction() as store:
        queued = store.outbox_by_prefix(f"comms:{message.id}:")
    assert "rachel.kim@northwind.example" in {q.address for q in queued}
    page = http.get(response.headers["location"]).text
    assert "Initial notice sent to Rachel Kim (email)" in page
    timeline = page[page.index('id="tl-h"'):]
    assert "comms.initial" in timeline and message.subject in timeline
    assert '<option value="update" selected>' in page  # the next message is an update
    met = r'First client notice</span>\s*<span class="clock-state"><span aria-hidden="true">✓</span>\s*met at'
    assert re.search(met, page)  # the clock reads the message like any other


def test_sev3_findings_do_not_block_but_are_recorded_like_the_api(console: Container) -> None:
    ids = incidents_for_two_clients(console)
    http = _signed_in(console)
    csrf = csrf_of(http, f"/incidents/{ids['northwind']}")
    assert http.post(f"/incidents/{ids['northwind']}/severity",
                     data={"severity": "sev3", "reason": "only a few pages", "csrf": csrf}).status_code == 303
    response = _post(http, ids["northwind"], "send", {**GOOD, "f_next_update_at": "soon"})
    assert response.status_code == 303
    [message] = _sent(console, ids["northwind"])
    assert [f["code"] for f in message.findings] == ["next_update_not_specific"] and message.override_reason is None


def test_a_viewer_sees_no_composer_form_and_cannot_send(console: Container) -> None:
    ids = incidents_for_two_clients(console)
    http = _signed_in(console, "hannah")
    page = http.get(f"/incidents/{ids['northwind']}").text
    assert "responders and admins send client messages" in page and "/messages" not in page
    refused = _post(http, ids["northwind"], "send", GOOD)
    assert refused.status_code == 403 and "viewer" in refused.text
    assert _sent(console, ids["northwind"]) == []


def test_a_message_without_the_session_csrf_token_is_refused(console: Container) -> None:
    ids = incidents_for_two_clients(console)
    http = _signed_in(console)
    response = http.post(f"/incidents/{ids['northwind']}/messages",
                         data={"csrf": "forged", "kind": "initial", "action": "send", **GOOD})
    assert response.status_code == 403 and "CSRF" in response.text
    assert _sent(console, ids["northwind"]) == []


@pytest.mark.parametrize(("extra", "status", "said"), [
    ({"f_colour": "red"}, 400, "unknown field &#39;colour&#39;"),
    ({"f_what_is_known": "x" * 4001}, 400, "keep it under 4000"),
    ({"override_reason": "y" * 2001}, 400, "override reason is 2001 characters"),
])
def test_bad_input_re_renders_the_form_with_what_is_wrong_and_sends_nothing(
    console: Container, extra: dict[str, str], status: int, said: str,
) -> None:
    ids = incidents_for_two_clients(console)
    http = _signed_in(console)
    for action in ("check", "send"):
        response = _post(http, ids["northwind"], action, {**GOOD, **extra})
        assert response.status_code == status and said in response.text, (action, response.text[:300])
        assert 'role="alert"' in response.text and 'id="compose-form"' in response.text
    assert _sent(console, ids["northwind"]) == [] and _comms_entries(console, ids["northwind"]) == []


@pytest.mark.parametrize(("data", "said"), [
    ({"kind": "apology", "action": "send"}, "kind &#39;apology&#39; is not one of"),
    ({"kind": "update", "action": "shout"}, "action must be check or send"),
])
def test_an_unknown_kind_or_action_is_a_400(console: Container, data: dict[str, str], said: str) -> None:
    ids = incidents_for_two_clients(console)
    http = _signed_in(console)
    csrf = csrf_of(http, f"/incidents/{ids['northwind']}")
    response = http.post(f"/incidents/{ids['northwind']}/messages", data={"csrf": csrf, **data, **GOOD})
    assert response.status_code == 400 and said in response.text
    assert _sent(console, ids["northwind"]) == []


def test_picking_a_template_shows_its_fields(console: Container) -> None:
    ids = incidents_for_two_clients(console)
    http = _signed_in(console)
    assert f'href="/incidents/{ids["northwind"]}?compose=initial#compose-h"' in http.get(
        f"/incidents/{ids['northwind']}").text  # from the playbook's first-notice item
    page = http.get(f"/incidents/{ids['northwind']}?compose=resolution").text
    assert '<label for="f_root_cause">Root cause (required)</label>' in page and "f_what_is_known" not in page
    assert http.get(f"/incidents/{ids['northwind']}?compose=apology").status_code == 400
    resolution = _post(http, ids["northwind"], "check", {"f_root_cause": "a bad delta"}, kind="resolution")
    assert "still triggered: resolve it before announcing it" in resolution.text


def test_sending_to_an_unknown_incident_is_a_404(console: Container) -> None:
    incidents_for_two_clients(console)
    http = _signed_in(console)
    csrf = csrf_of(http, "/")
    response = http.post("/incidents/999/messages", data={"csrf": csrf, "kind": "initial", "action": "send", **GOOD})
    assert response.status_code == 404
