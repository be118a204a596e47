"""Client communications over HTTP: draft, check and send a message; list what was sent.

A client-scoped key sees only its own client's incidents (404 otherwise) and only the messages its
client received.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from fastapi import APIRouter, HTTPException, Request
from pydantic import BaseModel, ConfigDict, Field

from onduty.app.comms import Draft, MessageRefused, communications, draft, send
from onduty.app.ports import NotFound
from onduty.domain.comms import SentMessage
from onduty.domain.incidents import OutboxMessage
from onduty.plan.comms_templates import TemplateFailed
from onduty.web.auth import Responder, Viewer

router = APIRouter(prefix="/api/v1/incidents", tags=["communications"])


class MessageIn(BaseModel):
    """A message to draft (`dry_run`) or send; fields left out take onduty's defaults where it has one."""

    model_config = ConfigDict(extra="forbid")
    kind: Literal["initial", "update", "resolution"]
    fields: dict[str, str] = Field(default_factory=dict)
    override_reason: str | None = Field(None, max_length=2000)
    dry_run: bool = False
    by: str | None = Field(None, max_length=120)


class FindingOut(BaseModel):
    code: str
    field: str
    message: str


class RecipientOut(BaseModel):
    name: str
    address: str
    channel: str
    audience: str


class MessageOut(BaseModel):
    kind: str
    subject: str
    body: str
    fields: dict[str, str]
    findings: list[FindingOut]
    sent: bool
    id: int | None = None
    recipients: list[RecipientOut] = Field(default_factory=list)
    unreachable: list[str] = Field(default_factory=list, description="who the message cannot reach, and why")
    override_reason: str | None = None


class DeliveryOut(BaseModel):
    recipient: str
    channel: str
    status: str
    attempts: int
    last_error: str | None
    delivered_at: datetime | None


class CommunicationOut(BaseModel):
    id: int
    kind: str
    subject: str
    body: str
    sent_at: datetime
    sent_by: str
    override_reason: str | None
    findings: list[FindingOut]
    recipients: list[RecipientOut]
    deliveries: list[DeliveryOut]


def _out(made: Draft, record: SentMessage | None) -> MessageOut:
    return MessageOut(
        kind=made.kind, subject=made.subject, body=made.body, fields=made.fields,
        findings=[FindingOut(code=f.code, field=f.field, message=f.message) for f in made.findings],
        sent=record is not None, id=record.id if record else None,
        recipients=[RecipientOut(**r.as_dict()) for r in made.recipients],
        unreachable=made.unreachable,
        override_reason=record.override_reason if record else None,
    )


def _delivery(message: OutboxMessage) -> DeliveryOut:
    recipient = (message.payload.get("body") or {}).get("recipient") or {}
    return DeliveryOut(recipient=recipient.get("name", message.person_id), channel=message.channel,
                       status=message.status, attempts=message.attempts, last_error=message.last_error,
                       delivered_at=message.delivered_at)


@router.post("/{incident_id}/communications", response_model=MessageOut)
def post_message(request: Request, incident_id: int, key: Responder, body: MessageIn) -> MessageOut:
    """Render and check a message; unless `dry_run`, send it. A failing Sev1/Sev2 message answers 422
    with the findings unless `override_reason` is given."""
    container = request.app.state.container
    now = container.clock.now()
    link = container.settings.public_url
    try:
        if body.dry_run:
            return _out(draft(container.db, incident_id, body.kind, body.fields, now, link_base=link,
                              client_id=key.client_id), None)
        made, record = send(container.db, incident_id, body.kind, body.fields, now,
                            actor=body.by or f"api ({key.role} key)", override_reason=body.override_reason,
                            link_base=link, client_id=key.client_id)
    except NotFound:
        raise HTTPException(404, f"incident {incident_id} not found") from None
    except MessageRefused as exc:
        raise HTTPException(422, {"message": str(exc).splitlines()[0], "findings": [
            {"code": f.code, "field": f.field, "message": f.message} for f in exc.findings]}) from None
    except TemplateFailed as exc:
        raise HTTPException(422, f"the message template failed: {exc}") from None
    except ValueError as exc:
        raise HTTPException(400, str(exc)) from None
    return _out(made, record)


@router.get("/{incident_id}/communications", response_model=list[CommunicationOut])
def list_messages(request: Request, incident_id: int, key: Viewer) -> list[CommunicationOut]:
    """Messages sent about the incident, with each delivery's state; a client key sees its own only."""
    try:
        found = communications(request.app.state.container.db, incident_id, key.client_id)
    except NotFound:
        raise HTTPException(404, f"incident {incident_id} not found") from None
    return [CommunicationOut(
        id=m.id or 0, kind=m.kind, subject=m.subject, body=m.body, sent_at=m.sent_at, sent_by=m.sent_by,
        override_reason=m.override_reason if key.client_id is None else None,
        findings=[FindingOut(**f) for f in m.findings] if key.client_id is None else [],
        recipients=[RecipientOut(name=r["name"], address=r["address"], channel=r["channel"],
                                 audience=r["audience"]) for r in m.recipients],
        deliveries=[_delivery(d) for d in deliveries],
    ) for m, deliveries in found]
