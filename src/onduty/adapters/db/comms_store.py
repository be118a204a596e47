"""Sent client communications, and the outbox rows that carry them (mixed into SqlStore)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from onduty.adapters.db import tables as t
from onduty.domain.comms import SentMessage
from onduty.domain.incidents import OutboxMessage


class CommsStore:
    session: Session

    def add_communication(self, message: SentMessage) -> int:
        result = self.session.execute(insert(t.communications).values(
            incident_id=message.incident_id, kind=message.kind, subject=message.subject, body=message.body,
            fields=message.fields, findings=message.findings, recipients=message.recipients,
            client_visible=message.client_visible, override_reason=message.override_reason,
            sent_by=message.sent_by, sent_at=message.sent_at,
        ).returning(t.communications.c.id))
        message.id = int(result.scalar_one())
        return message.id

    def communications(self, incident_id: int, client_visible_only: bool = False) -> list[SentMessage]:
        c = t.communications.c
        stmt = select(t.communications).where(c.incident_id == incident_id).order_by(c.id)
        if client_visible_only:
            stmt = stmt.where(c.client_visible.is_(True))
        return [_sent(row) for row in self.session.execute(stmt)]

    def outbox_by_prefix(self, prefix: str) -> list[OutboxMessage]:
        """Outbox rows whose idempotency key starts with `prefix` (e.g. every delivery of one message)."""
        escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        stmt = (select(OutboxMessage).where(t.outbox.c.idempotency_key.like(escaped + "%", escape="\\"))
                .order_by(t.outbox.c.id))
        return list(self.session.scalars(stmt))


def _sent(row: Any) -> SentMessage:
    return SentMessage(
        incident_id=row.incident_id, kind=row.kind, subject=row.subject, body=row.body, fields=dict(row.fields),
        findings=list(row.findings), recipients=list(row.recipients), client_visible=row.client_visible,
        sent_by=row.sent_by, sent_at=row.sent_at, override_reason=row.override_reason, id=row.id,
    )
