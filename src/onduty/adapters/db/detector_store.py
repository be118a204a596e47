"""The detector half of the Store port: each detector's state (baseline, statistics, window counters)
as one JSON row, read with a row lock on PostgreSQL so two requests cannot both update it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select, tuple_
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from onduty.adapters.db import tables as t
from onduty.app.ports import DetectorRow


class DetectorStore:
    session: Session
    _locking: bool

    def detector_states(self, keys: Sequence[tuple[str, str]]) -> dict[tuple[str, str], DetectorRow]:
        """(service, detector) → stored row, for those that have one; locked until the transaction ends."""
        if not keys:
            return {}
        c = t.detector_states.c
        stmt = select(t.detector_states).where(tuple_(c.service_id, c.detector_id).in_(list(keys)))
        if self._locking:
            stmt = stmt.order_by(c.service_id, c.detector_id).with_for_update()
        return {(r.service_id, r.detector_id): DetectorRow(r.service_id, r.detector_id, r.kind, r.status,
                                                           dict(r.state), r.points, r.updated_at)
                for r in self.session.execute(stmt)}

    def all_detector_states(self) -> list[DetectorRow]:
        c = t.detector_states.c
        stmt = select(c.service_id, c.detector_id, c.kind, c.status, c.points, c.updated_at).order_by(
            c.service_id, c.detector_id)
        return [DetectorRow(r.service_id, r.detector_id, r.kind, r.status, {}, r.points, r.updated_at)
                for r in self.session.execute(stmt)]

    def save_detector_states(self, rows: Sequence[DetectorRow]) -> None:
        insert = (postgresql if self._locking else sqlite).insert
        for row in rows:
            values: dict[str, Any] = {"kind": row.kind, "status": row.status, "state": row.state,
                                      "points": row.points, "updated_at": row.updated_at}
            stmt = insert(t.detector_states).values(service_id=row.service_id, detector_id=row.detector_id,
                                                    **values)
            self.session.execute(stmt.on_conflict_do_update(
                index_elements=[t.detector_states.c.service_id, t.detector_states.c.detector_id], set_=values))
