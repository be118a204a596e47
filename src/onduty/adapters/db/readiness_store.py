"""The readiness half of the Store port: drills held, reminders sent, and the facts `onduty doctor`
reads from the database (alert sources per service, incident types, when the plan was applied)."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from onduty.adapters.db import tables as t
from onduty.app.ports import Drill


class ReadinessStore:
    session: Session

    def add_drill(self, drill: Drill) -> int:
        result = self.session.execute(insert(t.drills).values(
            name=drill.name, scenario=drill.scenario, mode=drill.mode, held_at=drill.held_at,
            started_at=drill.started_at, participants=list(drill.participants), findings=list(drill.findings),
            score=drill.score,
        ).returning(t.drills.c.id))
        return int(result.scalar_one())

    def drills(self, limit: int = 100) -> list[Drill]:
        c = t.drills.c
        rows = self.session.execute(select(t.drills).order_by(c.held_at.desc(), c.id.desc()).limit(limit))
        return [Drill(r.name, r.scenario, r.mode, r.held_at, r.started_at, tuple(r.participants),
                      tuple(r.findings), r.score, r.id) for r in rows]

    def plan_applied_at(self) -> datetime | None:
        """When the plan in effect was applied (a change, not a re-apply of the same file)."""
        c = t.plans.c
        found: datetime | None = self.session.scalar(select(c.applied_at).order_by(c.id.desc()).limit(1))
        return found

    def plan_document(self) -> dict[str, Any] | None:
        c = t.plans.c
        found: dict[str, Any] | None = self.session.scalar(select(c.document).order_by(c.id.desc()).limit(1))
        return found

    def services_with_keys(self) -> set[str]:
        return set(self.session.scalars(select(t.integration_keys.c.service_id).distinct()))

    def incident_type_counts(self, since: datetime) -> dict[str, int]:
        c = t.incidents.c
        rows = self.session.execute(select(c.incident_type, func.count()).where(c.created_at >= since)
                                    .group_by(c.incident_type))
        return dict(Counter({r[0]: int(r[1]) for r in rows}))

    def claim_reminder(self, key: str, recipients: list[str], now: datetime) -> bool:
        """Record a reminder as sent; False when it already was (another worker, or an earlier tick)."""
        dialect = postgresql if self.session.get_bind().dialect.name == "postgresql" else sqlite
        stmt = (dialect.insert(t.readiness_reminders).values(key=key, sent_at=now, recipients=recipients)
                .on_conflict_do_nothing(index_elements=[t.readiness_reminders.c.key])
                .returning(t.readiness_reminders.c.key))
        return self.session.execute(stmt).first() is not None
