"""The data-feed half of the Store port: reference profiles, keyed snapshots and batch verdicts.
Profiles and snapshots are opaque bytes here; `detect` reads and writes them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from onduty.adapters.db import tables as t
from onduty.app.ports import FeedBatchRecord, StoredReference


class FeedStore:
    session: Session

    def feed_reference(self, feed_id: str) -> StoredReference | None:
        c = t.feed_references.c
        row = self.session.execute(select(t.feed_references).where(c.feed_id == feed_id)).first()
        return StoredReference(row.feed_id, bytes(row.profile), row.rows, row.source, row.set_at) if row else None

    def save_feed_reference(self, feed_id: str, profile: bytes, rows: int, source: str, now: datetime) -> None:
        self.session.execute(delete(t.feed_references).where(t.feed_references.c.feed_id == feed_id))
        self.session.execute(insert(t.feed_references).values(feed_id=feed_id, profile=profile, rows=rows,
                                                              source=source, set_at=now))

    def feed_snapshot(self, feed_id: str) -> bytes | None:
        c = t.feed_snapshots.c
        data = self.session.scalar(select(c.snapshot).where(c.feed_id == feed_id))
        return bytes(data) if data is not None else None

    def save_feed_snapshot(self, feed_id: str, snapshot: bytes, rows: int, now: datetime) -> None:
        self.session.execute(delete(t.feed_snapshots).where(t.feed_snapshots.c.feed_id == feed_id))
        self.session.execute(insert(t.feed_snapshots).values(feed_id=feed_id, snapshot=snapshot, rows=rows,
                                                             taken_at=now))

    def add_feed_batch(self, record: FeedBatchRecord) -> int:
        found = self.session.execute(insert(t.feed_batches).values(
            feed_id=record.feed_id, received_at=record.received_at, rows=record.rows, verdict=record.verdict,
            findings=record.findings, incident_id=record.incident_id,
        ).returning(t.feed_batches.c.id)).scalar_one()
        return int(found)

    def feed_batches(self, feed_id: str, limit: int = 20) -> list[FeedBatchRecord]:
        c = t.feed_batches.c
        rows = self.session.execute(select(t.feed_batches).where(c.feed_id == feed_id)
                                    .order_by(c.id.desc()).limit(limit))
        return [FeedBatchRecord(r.feed_id, r.received_at, r.rows, r.verdict, _json(r.findings), r.incident_id, r.id)
                for r in rows]


def _json(value: Any) -> list[dict[str, Any]]:
    return list(value or [])
