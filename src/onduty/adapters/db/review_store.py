"""The review half of the Store port: reviews, their change log and action items, and the bulk reads
the reports need (incidents of a period with their alerts, timelines, reviews and actions)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from onduty.adapters.db import tables as t
from onduty.adapters.db.record_rows import entries_of
from onduty.app.ports import ReportFilter
from onduty.domain.alerts import Alert
from onduty.domain.incidents import Incident, TimelineEntry
from onduty.domain.review import ActionItem, Review, ReviewChange

_REVIEW_FIELDS = ("incident_id", "status", "owner", "owner_reason", "required", "due_at", "created_at",
                  "updated_at", "completed_at", "completed_by", "sections", "edited")
_ACTION_FIELDS = ("review_id", "title", "owner", "due_at", "status", "tracker_url", "created_at", "created_by",
                  "updated_at")


def _review(row: Any) -> Review:
    return Review(row.incident_id, row.owner, row.owner_reason, row.required, row.due_at, row.created_at,
                  row.updated_at, dict(row.sections), list(row.edited), row.status, row.completed_at,
                  row.completed_by, row.id)


def _action(row: Any) -> ActionItem:
    return ActionItem(row.review_id, row.title, row.owner, row.due_at, row.status, row.tracker_url, row.created_at,
                      row.created_by, row.updated_at, row.id)


class ReviewStore:
    session: Session
    _locking: bool

    def _flush_pending(self) -> None:
        """Write pending changes before a statement of our own (the batching store also writes its buffers)."""
        self.session.flush()

    # -- reviews ---------------------------------------------------------------------------------
    def add_review(self, review: Review) -> None:
        self._flush_pending()
        values = {name: getattr(review, name) for name in _REVIEW_FIELDS}
        review.id = int(self.session.execute(insert(t.reviews).values(**values).returning(t.reviews.c.id))
                        .scalar_one())

    def review(self, incident_id: int) -> Review | None:
        self._flush_pending()
        stmt = select(t.reviews).where(t.reviews.c.incident_id == incident_id)
        row = self.session.execute(stmt.with_for_update() if self._locking else stmt).first()
        return _review(row) if row else None

    def save_review(self, review: Review) -> None:
        values = {name: getattr(review, name) for name in _REVIEW_FIELDS if name != "incident_id"}
        self.session.execute(update(t.reviews).where(t.reviews.c.id == review.id).values(**values))

    def add_review_changes(self, review_id: int, changes: Sequence[ReviewChange]) -> None:
        if changes:
            self.session.execute(insert(t.review_changes), [
                {"review_id": review_id, "at": c.at, "by": c.by, "what": c.what, "before": c.before,
                 "after": c.after} for c in changes])

    def review_changes(self, review_id: int) -> list[ReviewChange]:
        c = t.review_changes.c
        rows = self.session.execute(select(t.review_changes).where(c.review_id == review_id).order_by(c.id))
        return [ReviewChange(r.at, r.by, r.what, r.before, r.after) for r in rows]

    def overdue_reviews(self, now: datetime, limit: int = 500) -> list[Review]:
        c = t.reviews.c
        rows = self.session.execute(select(t.reviews).where(c.status == "draft", c.due_at < now)
                                    .order_by(c.due_at).limit(limit))
        return [_review(r) for r in rows]

    # -- action items ------------------------------------------------------------------------------
    def add_action(self, action: ActionItem) -> None:
        values = {name: getattr(action, name) for name in _ACTION_FIELDS}
        action.id = int(self.session.execute(insert(t.review_actions).values(**values)
                                             .returning(t.review_actions.c.id)).scalar_one())

    def save_action(self, action: ActionItem) -> None:
        values = {name: getattr(action, name) for name in _ACTION_FIELDS}
        self.session.execute(update(t.review_actions).where(t.review_actions.c.id == action.id).values(**values))

    def actions(self, review_id: int) -> list[ActionItem]:
        c = t.review_actions.c
        return [_action(r) for r in self.session.execute(
            select(t.review_actions).where(c.review_id == review_id).order_by(c.id))]

    def overdue_actions(self, now: datetime, limit: int = 500) -> list[tuple[ActionItem, int]]:
        """Open or in-progress actions past due, each with its review's incident."""
        a, r = t.review_actions.c, t.reviews.c
        rows = self.session.execute(
            select(t.review_actions, r.incident_id).join(t.reviews, r.id == a.review_id)
            .where(a.status.in_(("open", "in_progress")), a.due_at < now).order_by(a.due_at).limit(limit))
        return [(_action(row), row.incident_id) for row in rows]

    # -- reports -----------------------------------------------------------------------------------
    def report_incidents(self, query: ReportFilter) -> list[Incident]:
        """Incidents declared in [start, end), exercises and tests left out, oldest first."""
        c = t.incidents.c
        stmt = (select(Incident).where(c.created_at >= query.start, c.created_at < query.end,
                                       c.is_exercise.is_(False)).order_by(c.created_at, c.id))
        for column, value in ((c.client_id, query.client_id), (c.service_id, query.service_id),
                              (c.severity, query.severity), (c.incident_type, query.incident_type)):
            if value is not None:
                stmt = stmt.where(column == value)
        return list(self.session.scalars(stmt))

    def timelines(self, incident_ids: Sequence[int]) -> dict[int, list[TimelineEntry]]:
        found: dict[int, list[TimelineEntry]] = {i: [] for i in incident_ids}
        for chunk in _chunks(incident_ids):
            for entry in entries_of(self.session.execute(select(t.timeline)
                                                         .where(t.timeline.c.incident_id.in_(chunk))
                                                         .order_by(t.timeline.c.id))):
                found[entry.incident_id or 0].append(entry)
        return found

    def alerts_of_incidents(self, incident_ids: Sequence[int]) -> dict[int, list[Alert]]:
        found: dict[int, list[Alert]] = {i: [] for i in incident_ids}
        for chunk in _chunks(incident_ids):
            for alert in self.session.scalars(select(Alert).where(t.alerts.c.incident_id.in_(chunk))
                                              .order_by(t.alerts.c.id)):
                found[alert.incident_id or 0].append(alert)
        return found

    def reviews_of(self, incident_ids: Sequence[int]) -> dict[int, tuple[Review, list[ActionItem]]]:
        found: dict[int, tuple[Review, list[ActionItem]]] = {}
        for chunk in _chunks(incident_ids):
            reviews = {r.id: _review(r) for r in self.session.execute(
                select(t.reviews).where(t.reviews.c.incident_id.in_(chunk)))}
            actions: dict[int, list[ActionItem]] = {i: [] for i in reviews}
            if reviews:
                for row in self.session.execute(select(t.review_actions)
                                                .where(t.review_actions.c.review_id.in_(list(reviews)))):
                    actions[row.review_id].append(_action(row))
            for review_id, review in reviews.items():
                found[review.incident_id] = (review, actions[review_id])
        return found


def _chunks(ids: Sequence[int], size: int = 500) -> list[list[int]]:
    return [list(ids[i:i + size]) for i in range(0, len(ids), size)]
