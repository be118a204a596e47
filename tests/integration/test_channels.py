"""Channel edge cases: redirects refused, errors sorted into retry and give-up, sizes capped, headers safe."""

from __future__ import annotations

import json

import httpx
import pytest

from onduty.adapters.notify.email import EmailChannel
from onduty.adapters.notify.slack import SlackChannel
from onduty.adapters.notify.teams import TeamsChannel
from onduty.adapters.notify.webhook import WebhookChannel
from onduty.app.ports import DeliveryError
from onduty.domain.incidents import OutboxMessage
from tests.conftest import STORY_START


def _message(channel: str, text: str = "We are on it.", subject: str = "[Sev1] Recs: investigating",
             address: str = "https://hooks.example/x") -> OutboxMessage:
    return OutboxMessage(
        idempotency_key="comms:1:dev:c0", incident_id=1, person_id="dev", channel=channel, address=address,
        contact_index=0, payload={"body": {"event": "incident.communication", "subject": subject, "text": text,
                                           "incident": {"id": 1, "severity": "Sev1"}}},
        created_at=STORY_START, next_attempt_at=STORY_START,
    )


def PUBLIC(host: str, port: int) -> list[str]:
    return ["93.184.216.34"]


def _answering(status: int, headers: dict[str, str] | None = None) -> httpx.Client:
    return httpx.Client(transport=httpx.MockTransport(lambda request: httpx.Response(status, headers=headers)),
                        follow_redirects=False)


@pytest.mark.parametrize(("status", "permanent"), [(500, False), (503, False), (429, False), (408, False),
                                                   (400, True), (404, True), (410, True)])
@pytest.mark.parametrize("make", [SlackChannel, TeamsChannel])
def test_http_errors_are_sorted_into_retry_and_give_up(make: type, status: int, permanent: bool) -> None:
    channel = make(client=_answering(status), resolve=PUBLIC)
    with pytest.raises(DeliveryError) as failed:
        channel.send(_message("slack"), STORY_START)
    assert failed.value.permanent is permanent and f"HTTP {status}" in str(failed.value)


def test_a_redirect_is_refused_not_followed() -> None:
    channel = WebhookChannel(client=_answering(302, {"location": "https://elsewhere.example/"}), resolve=PUBLIC)
    with pytest.raises(DeliveryError) as failed:
        channel.send(_message("webhook"), STORY_START)
    assert failed.value.permanent and "redirects are not followed (to https://elsewhere.example/)" in str(failed.value)


def test_teams_workflow_accepts_with_202() -> None:
    assert TeamsChannel(client=_answering(202), resolve=PUBLIC).send(_message("teams"), STORY_START) == "HTTP 202"


def test_long_slack_messages_are_split_into_sections_and_capped() -> None:
    seen: list[bytes] = []

    def record(request: httpx.Request) -> httpx.Response:
        seen.append(request.content)
        return httpx.Response(200, text="ok")

    client = httpx.Client(transport=httpx.MockTransport(record))
    SlackChannel(client=client, resolve=PUBLIC).send(_message("slack", text="word " * 20_000), STORY_START)
    blocks = json.loads(seen[0])["blocks"]
    sections = [b for b in blocks if b["type"] == "section" and "text" in b]
    assert all(len(s["text"]["text"]) <= 3000 for s in sections) and len(sections) >= 4
    assert sections[-1]["text"]["text"].endswith("… (message cut)")


def test_an_address_that_is_not_a_url_is_refused_for_good() -> None:
    with pytest.raises(DeliveryError) as failed:
        SlackChannel(client=_answering(200)).send(_message("slack", address="file:///etc/passwd"), STORY_START)
    assert failed.value.permanent


def test_email_refuses_header_injection_and_missing_server() -> None:
    channel = EmailChannel("127.0.0.1", 1, starttls=False)
    with pytest.raises(DeliveryError) as injected:
        channel.build(_message("email", subject="hi\nBcc: everyone@example.com", address="a@b.example"),
                      STORY_START)
    assert injected.value.permanent
    with pytest.raises(DeliveryError, match="ONDUTY_SMTP_HOST") as unset:
        EmailChannel(None).send(_message("email", address="a@b.example"), STORY_START)
    assert unset.value.permanent
