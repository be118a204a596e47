"""Client communications end to end: sent through real SMTP and HTTP receivers on loopback, on the timeline,
meeting the severity clocks; refused when the check fails at Sev1/Sev2 unless overridden."""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from onduty.adapters.clock import SimulatedClock
from onduty.app.comms import MessageRefused, communications, draft, send
from onduty.app.incidents import change_status, clocks_for
from onduty.bootstrap import Container
from onduty.domain.incidents import OutboxMessage
from tests.conftest import advance
from tests.integration.comms_plan import PUBLIC_URL, WEBHOOK_SECRET, apply_text, comms_container, comms_plan_text
from tests.integration.receivers import HttpReceiver, SmtpReceiver, http_receiver, smtp_receiver  # noqa: F401
from tests.integration.test_escalation import kinds, trigger

NOTICE = {
    "what_is_known": "Since 17:25 the storefront shows recommendations from unrelated categories.",
    "what_is_being_done": "We switched to popularity recommendations and are checking the 17:00 catalog batch.",
}


@pytest.fixture
def comms(database_url: str, clock: SimulatedClock, smtp_receiver: SmtpReceiver,  # noqa: F811
          http_receiver: HttpReceiver, tmp_path: Path) -> Iterator[Container]:  # noqa: F811
    container = comms_container(database_url, clock, smtp_receiver.port)
    apply_text(container, tmp_path / "plan", comms_plan_text(http_receiver.base))
    yield container
    container.db.dispose()


def test_sev1_initial_notice_reaches_the_client_by_email_and_meets_the_first_notice_clock(
    comms: Container, clock: SimulatedClock, smtp_receiver: SmtpReceiver, http_receiver: HttpReceiver,  # noqa: F811
) -> None:
    incident_id = trigger(comms)
    advance(comms, clock, timedelta(minutes=12))
    made, record = send(comms.db, incident_id, "initial", NOTICE, clock.now(), actor="maria", link_base=PUBLIC_URL)
    assert made.findings == [] and record.client_visible
    advance(comms, clock, timedelta(seconds=1))

    (mail,) = smtp_receiver.to("rachel.kim@northwind.example")
    assert mail["Subject"] == made.subject
    assert made.subject.startswith("[Sev1] Northwind recommendation engine")
    assert mail["From"] == "incidents@halyard.example"
    body = mail.get_content()
    assert NOTICE["what_is_known"] in body and "Maria Costa (maria@halyard.example)" in body
    assert "Fri 20 Nov, 18:50 CST" in body  # the next update, 60 min on, in the client's zone
    copies = [m for m in smtp_receiver.to("maria@halyard.example") if m["Subject"] == made.subject]
    assert len(copies) == 1  # the account manager gets a copy (besides the Sev1 all-hands page)

    cards = [r.json()["attachments"][0] for r in http_receiver.at("/teams/dev")]
    card = next(c for c in cards if c["content"]["body"][0]["text"] == made.subject)
    assert card["contentType"] == "application/vnd.microsoft.card.adaptive"
    assert card["content"]["body"][0]["text"] == made.subject
    hook = next(r for r in http_receiver.at("/hooks/hannah") if r.json()["event"] == "incident.communication")
    expected = base64.b64encode(hmac.new(
        base64.b64decode(WEBHOOK_SECRET.removeprefix("whsec_")),
        f"{hook.headers['webhook-id']}.{hook.headers['webhook-timestamp']}.".encode() + hook.body,
        hashlib.sha256).digest()).decode()
    assert hook.headers["webhook-signature"] == f"v1,{expected}"
    assert hook.json()["event"] == "incident.communication" and hook.json()["subject"] == made.subject

    with comms.db.transaction() as store:
        timeline = store.timeline(incident_id)
        clocks = {c.name: c for c in clocks_for(store.directory(), store.incident(incident_id), timeline,
                                                  clock.now())}  # type: ignore[arg-type]
    assert clocks["first_notice"].state == "met"
    notice = next(e for e in timeline if e.kind == "comms.initial")
    assert notice.actor == "maria" and notice.data["body"] == made.body
    assert {r["name"] for r in notice.data["recipients"]} == {"Rachel Kim", "Maria Costa", "Dev Patel",
                                                              "Hannah Weiss"}
    assert notice.data["channels"] == ["email", "teams", "webhook"]
    assert [e.kind for e in timeline].count("comms.delivered") == 4
    assert any(e.kind == "comms.unreachable" and "Front desk" in e.message for e in timeline)


def test_incident_channel_posts_show_title_severity_and_link(
    comms: Container, clock: SimulatedClock, http_receiver: HttpReceiver,  # noqa: F811
) -> None:
    incident_id = trigger(comms)
    with comms.db.transaction() as store:
        for channel in ("slack", "teams"):
            store.add_outbox(OutboxMessage(
                idempotency_key=f"channel:{incident_id}:{channel}", incident_id=incident_id, person_id="channel",
                channel=channel, address=f"{http_receiver.base}/room/{channel}", contact_index=0,
                payload={"body": {"event": "incident.channel", "incident": {
                    "id": incident_id, "title": "relevance collapsed", "severity": "Sev1", "status": "triggered",
                    "client": "Northwind Home", "service": "Northwind recommendation engine"}},
                    "allow_networks": ["127.0.0.0/8"]},
                created_at=clock.now(), next_attempt_at=clock.now(),
            ))
    comms.worker.run_once(clock.now())
    slack = http_receiver.at("/room/slack")[0].json()
    header = slack["blocks"][0]
    assert header["type"] == "header" and header["text"]["text"] == f"[Sev1] #{incident_id} relevance collapsed"
    fields = [f["text"] for f in slack["blocks"][1]["fields"]]
    assert "*Severity*\nSev1" in fields and "*Client*\nNorthwind Home" in fields
    button = slack["blocks"][-1]["elements"][0]
    assert button["url"] == f"{PUBLIC_URL}/incidents/{incident_id}" and slack["text"] == header["text"]["text"]
    card = http_receiver.at("/room/teams")[0].json()["attachments"][0]["content"]
    assert card["type"] == "AdaptiveCard" and card["body"][0]["text"] == f"[Sev1] #{incident_id} relevance collapsed"
    assert {"title": "Severity", "value": "Sev1"} in card["body"][1]["facts"]
    assert card["actions"][0]["url"] == f"{PUBLIC_URL}/incidents/{incident_id}"


def test_the_oncall_slack_page_is_a_block_kit_message(
    comms: Container, clock: SimulatedClock, http_receiver: HttpReceiver,  # noqa: F811
) -> None:
    incident_id = trigger(comms)
    comms.worker.run_once(clock.now())
    page = http_receiver.at("/slack/ana")[0].json()
    assert page["blocks"][0]["text"]["text"] == f"[Sev1] #{incident_id} relevance collapsed"
    assert "Ana Souza, you are paged" in page["blocks"][2]["text"]["text"]
    assert "page.delivered" in kinds(comms, incident_id)


def test_failing_sev2_message_is_refused_without_override_and_sent_with_one(
    comms: Container, clock: SimulatedClock, smtp_receiver: SmtpReceiver,  # noqa: F811
) -> None:
    incident_id = trigger(comms, severity="error")
    fields = {**NOTICE, "what_is_known": "Probably minor: some odd recommendations.", "next_update_at": "soon"}
    with pytest.raises(MessageRefused) as refused:
        send(comms.db, incident_id, "update", fields, clock.now(), actor="maria")
    assert {f.code for f in refused.value.findings} == {"banned_phrase", "next_update_not_specific"}
    assert "probably minor" in str(refused.value) and "override reason" in str(refused.value)
    assert communications(comms.db, incident_id) == []
    assert not any(k.startswith("comms.") for k in kinds(comms, incident_id))

    _, record = send(comms.db, incident_id, "update", fields, clock.now(), actor="maria",
                     override_reason="client asked for a message within minutes; details follow by phone")
    assert record.override_reason and len(record.findings) == 2
    with comms.db.transaction() as store:
        timeline = store.timeline(incident_id)
    override = next(e for e in timeline if e.kind == "comms.override")
    assert "client asked for a message within minutes" in override.message and override.actor == "maria"
    assert [f["code"] for f in override.data["findings"]] == [f.code for f in refused.value.findings]
    assert "comms.update" in [e.kind for e in timeline]
    advance(comms, clock, timedelta(seconds=1))
    assert len(smtp_receiver.to("rachel.kim@northwind.example")) == 1


def test_a_sev3_message_with_findings_is_sent_and_keeps_them(comms: Container, clock: SimulatedClock) -> None:
    incident_id = trigger(comms, severity="warning")
    _, record = send(comms.db, incident_id, "initial", {"what_is_known": "TBD"}, clock.now(), actor="maria")
    assert {f["code"] for f in record.findings} >= {"placeholder", "missing_field"}
    assert record.override_reason is None


def test_resolution_notice_before_resolving_is_flagged(comms: Container, clock: SimulatedClock) -> None:
    incident_id = trigger(comms)
    fields = {"root_cause": "A truncated catalog batch.", "fix": "Reloaded the last good batch.",
              "monitoring": "Relevance watched for 60 minutes."}
    made = draft(comms.db, incident_id, "resolution", fields, clock.now())
    assert [f.code for f in made.findings] == ["not_resolved", "missing_field", "missing_field"]  # time, review
    change_status(comms.db, incident_id, "resolved", "ana", clock.now())
    made = draft(comms.db, incident_id, "resolution", fields, clock.now() + timedelta(minutes=1))
    assert made.findings == []
    assert "Sun 22 Nov" in made.fields["review"]  # Sev1 review due 48 h after resolution


def test_slack_receiver_down_retries_then_falls_back_to_email_and_escalation_goes_on(
    comms: Container, clock: SimulatedClock, smtp_receiver: SmtpReceiver, tmp_path: Path,  # noqa: F811
    http_receiver: HttpReceiver,  # noqa: F811
) -> None:
    from tests.integration.receivers import free_port

    dead = f"http://127.0.0.1:{free_port()}/slack/ana"
    apply_text(comms, tmp_path / "down", comms_plan_text(http_receiver.base, ana_contacts=(
        f'      - {{type: slack, address: "{dead}"}}\n      - {{type: email, address: ana@halyard.example}}\n')))
    incident_id = trigger(comms)
    advance(comms, clock, timedelta(seconds=69))  # slack attempts at 0, 10, 30 s
    assert smtp_receiver.to("ana@halyard.example") == []
    advance(comms, clock, timedelta(seconds=1))  # the 4th and last at 70 s, then e-mail at once
    (mail,) = smtp_receiver.to("ana@halyard.example")
    assert f"#{incident_id}" in mail["Subject"] and "Ana Souza, you are paged" in mail.get_content()
    advance(comms, clock, timedelta(minutes=10))
    assert http_receiver.at("/hooks/raj")  # level 2 paged on time: the dead channel held nothing up
    with comms.db.transaction() as store:
        timeline = store.timeline(incident_id)
    first_page = [e for e in timeline if e.at < timeline[0].at + timedelta(minutes=5)]  # before any reminder
    retries = [e for e in first_page if e.kind == "page.retry"]
    assert len(retries) == 3 and all("ConnectError" in e.message for e in retries)
    assert [e.kind for e in first_page if e.kind in ("page.failed", "page.fallback")] == ["page.failed",
                                                                                         "page.fallback"]


def test_smtp_refusing_a_client_address_is_on_the_timeline(
    comms: Container, clock: SimulatedClock, smtp_receiver: SmtpReceiver,  # noqa: F811
) -> None:
    incident_id = trigger(comms)
    smtp_receiver.refuse_rcpt = "550 5.1.1 mailbox unknown"
    send(comms.db, incident_id, "initial", NOTICE, clock.now(), actor="maria")
    advance(comms, clock, timedelta(seconds=1))
    with comms.db.transaction() as store:
        timeline = store.timeline(incident_id)
    failed = [e for e in timeline if e.kind == "comms.failed"]
    assert {e.data["person"] for e in failed} == {"client:0", "maria"}  # both e-mails refused for good
    assert all("mailbox unknown" in e.message for e in failed)
    assert any(e.kind == "comms.undeliverable" and "Rachel Kim" in e.message for e in timeline)
    ((_message, deliveries),) = communications(comms.db, incident_id)
    assert {d.person_id: d.status for d in deliveries}["client:0"] == "failed"


def test_smtp_server_down_is_retried_with_backoff(
    comms: Container, clock: SimulatedClock, smtp_receiver: SmtpReceiver,  # noqa: F811
) -> None:
    from onduty.adapters.notify.email import EmailChannel
    from tests.integration.receivers import free_port

    channels = dict(comms.worker.channels)
    channels["email"] = EmailChannel("127.0.0.1", free_port(), starttls=False, timeout=2)
    comms.worker.channels = channels
    incident_id = trigger(comms)
    send(comms.db, incident_id, "initial", NOTICE, clock.now(), actor="maria")
    advance(comms, clock, timedelta(seconds=15))
    retries = [e for e in kinds(comms, incident_id) if e == "comms.retry"]
    assert len(retries) == 4  # Rachel and Maria, attempts at 0 and 10 s; the next waits 20 s
