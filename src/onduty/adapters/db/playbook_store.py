"""The playbook half of the Store: ticks, workarounds, client requests and runbook texts, in Core SQL.

SqlStore inherits it; every method runs inside the caller's transaction.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.orm import Session

from onduty.adapters.db import tables as t
from onduty.domain.client_requests import ClientRequest
from onduty.domain.playbook import Tick, Workaround


def _request(row: Any) -> ClientRequest:
    return ClientRequest(row.id, row.incident_id, row.text, row.due_at, row.created_by, row.created_at,
                         row.done_at, row.done_by, row.miss_recorded_at)


class PlaybookStore:
    session: Session
    _locking: bool

    # -- ticks -------------------------------------------------------------------------------------
    def ticks(self, incident_id: int) -> list[Tick]:
        self.session.flush()
        c = t.playbook_ticks.c
        rows = self.session.execute(select(t.playbook_ticks).where(c.incident_id == incident_id).order_by(c.id))
        return [Tick(r.item_id, r.done, r.by, r.at, r.note) for r in rows]

    def save_tick(self, incident_id: int, tick: Tick) -> None:
        """Keep only the latest word per item; the timeline keeps the history."""
        self.session.flush()
        c = t.playbook_ticks.c
        self.session.execute(delete(t.playbook_ticks).where(c.incident_id == incident_id, c.item_id == tick.item_id))
        self.session.execute(insert(t.playbook_ticks).values(
            incident_id=incident_id, item_id=tick.item_id, done=tick.done, by=tick.by, at=tick.at, note=tick.note))

    # -- workarounds -------------------------------------------------------------------------------
    def add_workaround(self, incident_id: int, text: str, by: str, now: datetime) -> int:
        self.session.flush()
        result = self.session.execute(insert(t.workarounds).values(
            incident_id=incident_id, text=text, added_by=by, added_at=now).returning(t.workarounds.c.id))
        return int(result.scalar_one())

    def workarounds(self, incident_id: int) -> list[Workaround]:
        self.session.flush()
        c = t.workarounds.c
        rows = self.session.execute(select(t.workarounds).where(c.incident_id == incident_id).order_by(c.id))
        return [Workaround(r.id, r.text, r.added_by, r.added_at) for r in rows]

    # -- client requests ---------------------------------------------------------------------------
    def add_client_request(self, incident_id: int, text: str, due_at: datetime, by: str, now: datetime) -> int:
        self.session.flush()
        result = self.session.execute(insert(t.client_requests).values(
            incident_id=incident_id, text=text, due_at=due_at, created_by=by, created_at=now,
        ).returning(t.client_requests.c.id))
        return int(result.scalar_one())

    def client_requests(self, incident_id: int) -> list[ClientRequest]:
        self.session.flush()
        c = t.client_requests.c
        return [_request(r) for r in self.session.execute(
            select(t.client_requests).where(c.incident_id == incident_id).order_by(c.id))]

    def client_request(self, incident_id: int, request_id: int) -> ClientRequest | None:
        c = t.client_requests.c
        stmt = select(t.client_requests).where(c.id == request_id, c.incident_id == incident_id)
        row = self.session.execute(stmt.with_for_update() if self._locking else stmt).first()
        return _request(row) if row else None

    def update_client_request(self, request_id: int, **values: Any) -> None:
        self.session.execute(update(t.client_requests).where(t.client_requests.c.id == request_id).values(**values))

    def unrecorded_missed_requests(self, now: datetime, limit: int) -> list[ClientRequest]:
        """Requests past due whose miss is not on the timeline yet (skipped when another worker holds them)."""
        c = t.client_requests.c
        stmt = (select(t.client_requests)
                .where(c.miss_recorded_at.is_(None), c.due_at < now, c.done_at.is_(None) | (c.done_at > c.due_at))
                .order_by(c.due_at).limit(limit))
        if self._locking:
            stmt = stmt.with_for_update(skip_locked=True)
        return [_request(r) for r in self.session.execute(stmt)]

    # -- runbook texts -----------------------------------------------------------------------------
    def save_runbook_texts(self, texts: Mapping[str, tuple[str, str]], now: datetime) -> int:
        """file → (markdown, sha256); returns how many were added or changed."""
        c = t.runbook_texts.c
        known = {r.file: r.sha256 for r in self.session.execute(select(c.file, c.sha256))}
        changed = 0
        for file, (markdown, sha) in texts.items():
            if file not in known:
                self.session.execute(insert(t.runbook_texts).values(file=file, markdown=markdown, sha256=sha,
                                                                     updated_at=now))
            elif known[file] != sha:
                self.session.execute(update(t.runbook_texts).where(c.file == file)
                                     .values(markdown=markdown, sha256=sha, updated_at=now))
            else:
                continue
            changed += 1
        return changed

    def runbook_texts(self, files: Sequence[str]) -> dict[str, str]:
        c = t.runbook_texts.c
        return {r.file: r.markdown for r in self.session.execute(
            select(c.file, c.markdown).where(c.file.in_(list(files))))}
