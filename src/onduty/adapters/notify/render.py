"""What every channel shows, read from any outbox payload: a page, a client message, or a channel post.

Payloads come from several places (paging, client communications, the incident channel), so this
reads them defensively: a title, a severity, a link, and a plain-text body, whatever the shape.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from onduty.domain.incidents import OutboxMessage

MAX_TEXT_CHARS = 12_000  # bodies beyond this are cut (and say so): chat services refuse huge posts


@dataclass(frozen=True)
class Summary:
    title: str
    severity: str
    status: str
    client: str
    service: str
    text: str
    link: str
    kind: str  # page | communication | other


def _cut(text: str, limit: int = MAX_TEXT_CHARS) -> str:
    return text if len(text) <= limit else text[: limit - 20].rstrip() + "\n… (message cut)"


def summarize(message: OutboxMessage, public_url: str = "") -> Summary:
    body: dict[str, Any] = message.payload.get("body") or {}
    incident: dict[str, Any] = body.get("incident") or {}
    event = str(body.get("event") or "")
    number = incident.get("id") or body.get("incident_id") or message.incident_id
    severity = str(incident.get("severity") or body.get("severity") or "")
    title = str(body.get("subject") or incident.get("title") or body.get("title") or body.get("summary")
                or (f"Incident #{number}" if number else "onduty"))
    link = str(body.get("link") or body.get("url") or incident.get("link") or incident.get("url") or "")
    if event == "incident.channel_opened" and public_url and number:
        link = ""  # its `link` is the channel itself: the button leads to the incident instead
    if not link and public_url and number:  # a reminder belongs to no incident: no link
        link = f"{public_url.rstrip('/')}/incidents/{number}"
    if event == "incident.communication":
        kind, text = "communication", str(body.get("text") or "")
    elif event == "incident.page":
        kind = "page"
        person = (body.get("person") or {}).get("name", "you")
        text = (f"{person}, you are paged for incident #{number} (level {body.get('level', 1)}): "
                f"{body.get('reason') or 'new incident'}.")
    else:  # notifications, clock reminders, channel posts, readiness reminders
        kind = "other"
        text = str(body.get("text") or body.get("message") or body.get("summary") or "")
        if not text and body.get("reason"):
            person = (body.get("person") or {}).get("name")
            text = f"{person}: {body['reason']}." if person else f"{body['reason']}."
    if kind != "communication" and not severity.startswith("[") and severity and not title.startswith("["):
        title = f"[{severity}] #{number} {title}"
    return Summary(
        title=_cut(title, 250), severity=severity, status=str(incident.get("status") or body.get("status") or ""),
        client=str(incident.get("client") or body.get("client") or ""),
        service=str(incident.get("service") or body.get("service") or ""), text=_cut(text), link=link, kind=kind,
    )


def plain_text(summary: Summary) -> str:
    """The summary as a plain-text message (e-mail, Apprise)."""
    facts = [f"{name}: {value}" for name, value in (("Severity", summary.severity), ("Status", summary.status),
                                                    ("Client", summary.client), ("Service", summary.service))
             if value]
    parts = [summary.text] if summary.kind == "communication" else [summary.text, "\n".join(facts)]
    if summary.link and summary.kind != "communication":
        parts.append(f"Open the incident: {summary.link}")
    return "\n\n".join(p for p in parts if p).strip() + "\n"
