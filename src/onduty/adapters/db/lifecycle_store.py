"""The lifecycle half of the Store port: incident roles, and the monitored incidents an alert may reopen."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select, tuple_
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from onduty.adapters.db import tables as t
from onduty.domain.roles import Assignment


class LifecycleStore:
    session: Session
    _locking: bool

    def _flush_pending(self) -> None:
        self.session.flush()

    def _insert(self, table: Any) -> Any:
        return (postgresql if self._locking else sqlite).insert(table)

    def roles(self, incident_id: int) -> dict[str, Assignment]:
        """The roles someone assigned on this incident (defaults are derived elsewhere)."""
        c = t.incident_roles.c
        rows = self.session.execute(select(t.incident_roles).where(c.incident_id == incident_id))
        return {r.role: Assignment(r.role, r.person_id, "assigned", r.assigned_by, r.assigned_at) for r in rows}

    def assign_role(self, incident_id: int, role: str, person_id: str, by: str, now: datetime) -> None:
        """Give `role` to `person_id`, replacing the holder (the hand-over is on the timeline)."""
        self._flush_pending()
        values = {"person_id": person_id, "assigned_by": by, "assigned_at": now}
        stmt = self._insert(t.incident_roles).values(incident_id=incident_id, role=role, **values)
        self.session.execute(stmt.on_conflict_do_update(
            index_elements=[t.incident_roles.c.incident_id, t.incident_roles.c.role], set_=values))

    def monitoring_incidents_for(self, keys: Sequence[tuple[str, str]], groups: Sequence[tuple[str, str]]
                                 ) -> tuple[dict[tuple[str, str], int], dict[tuple[str, str], int]]:
        """(service, dedup key) → and (service, group key) → the incident in monitoring they belong to.

        Both start from the few incidents in monitoring (the status index), then their alerts or groups:
        cheap on the ingest path however many alerts the database holds.
        """
        by_key: dict[tuple[str, str], int] = {}
        by_group: dict[tuple[str, str], int] = {}
        if not keys and not groups:
            return by_key, by_group
        self._flush_pending()
        i = t.incidents.c
        if keys:
            a = t.alerts.c
            stmt = (select(a.service_id, a.dedup_key, i.id).join(t.incidents, i.id == a.incident_id)
                    .where(i.status == "monitoring", tuple_(a.service_id, a.dedup_key).in_(list(set(keys))))
                    .order_by(i.id))
            for row in self.session.execute(stmt):
                by_key.setdefault((row.service_id, row.dedup_key), row.id)
        if groups:
            g = t.alert_groups.c
            stmt = (select(g.service_id, g.group_key, i.id).join(t.incidents, i.id == g.incident_id)
                    .where(i.status == "monitoring", tuple_(g.service_id, g.group_key).in_(list(set(groups))))
                    .order_by(i.id))
            for row in self.session.execute(stmt):
                by_group.setdefault((row.service_id, row.group_key), row.id)
        return by_key, by_group
