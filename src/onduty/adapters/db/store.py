"""The Store port on SQLAlchemy: reads and writes inside one transaction, no commits of its own."""

from __future__ import annotations

import hmac
import time
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, func, insert, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from onduty.adapters.db import tables as t
from onduty.adapters.db.account_store import AccountStore
from onduty.adapters.db.alert_store import AlertStore
from onduty.adapters.db.audit_store import AuditStore
from onduty.adapters.db.comms_store import CommsStore
from onduty.adapters.db.detector_store import DetectorStore
from onduty.adapters.db.feed_store import FeedStore
from onduty.adapters.db.lifecycle_store import LifecycleStore
from onduty.adapters.db.playbook_store import PlaybookStore
from onduty.adapters.db.readiness_store import ReadinessStore
from onduty.adapters.db.record_rows import entries_of, insert_entries, insert_timers
from onduty.adapters.db.review_store import ReviewStore
from onduty.app.ports import ApiKey, ApiKeyInfo, Conflict, EngineState, IncidentFilter, OutboxState, Role
from onduty.domain.alerts import Alert
from onduty.domain.incidents import OPEN_STATUSES, Incident, OutboxMessage, TimelineEntry, Timer
from onduty.domain.model import Directory, Override
from onduty.plan.convert import to_directory
from onduty.plan.schema import Plan

_DIRECTORIES: dict[str, Directory] = {}
_OUTBOX_KEYS = [c.key for c in t.outbox.columns if c.key != "id"]
# One statement per dialect, built once (SQLAlchemy caches its compiled form): a tick firing timers
# queues many pages, and building the statement anew for each cost more than running it.
_ADD_OUTBOX = {
    locking: dialect_insert(t.outbox).on_conflict_do_nothing(index_elements=["idempotency_key"])
    .returning(t.outbox.c.id)
    for locking, dialect_insert in ((False, sqlite_insert), (True, pg_insert))
}
# The worker's per-tick reads, built once (on first use: the domain classes are mapped when a Database is
# made): building a statement and its cache key cost more than running it.
_CLAIMS: dict[tuple[str, bool], Any] = {}


def _claim_statement(kind: str, locking: bool) -> Any:
    stmt = _CLAIMS.get((kind, locking))
    if stmt is None:
        if kind == "timers":
            stmt = (select(t.StoredTimer)
                    .where(t.timers.c.done.is_(False), t.timers.c.due_at <= bindparam("now"))
                    .order_by(t.timers.c.due_at, t.timers.c.id).limit(bindparam("limit")))
        else:
            c = t.outbox.c
            stmt = (select(OutboxMessage)
                    .where(or_((c.status == "pending") & (c.next_attempt_at <= bindparam("now")),
                               (c.status == "delivering") & (c.lease_until <= bindparam("now"))))
                    .order_by(c.next_attempt_at, c.id).limit(bindparam("limit")))
        if locking:
            stmt = stmt.with_for_update(skip_locked=True)
        _CLAIMS[(kind, locking)] = stmt
    return stmt


_ENGINE_STATE = select(
    select(func.min(t.timers.c.due_at)).where(t.timers.c.done.is_(False)).scalar_subquery(),
    select(func.min(t.outbox.c.next_attempt_at)).where(t.outbox.c.status == "pending").scalar_subquery(),
    select(func.min(t.outbox.c.lease_until)).where(t.outbox.c.status == "delivering").scalar_subquery(),
    select(func.count()).select_from(t.outbox).where(t.outbox.c.status.in_(("pending", "delivering")))
    .scalar_subquery(),
    select(func.count()).select_from(t.outbox).where(t.outbox.c.status == "failed").scalar_subquery(),
)
_OUTBOX_STATES = (select(*(t.outbox.c[name] for name in OutboxState._fields))
                  .where(t.outbox.c.id.in_(bindparam("ids", expanding=True))).order_by(t.outbox.c.id))
_OUTBOX_STATES_LOCKED = _OUTBOX_STATES.with_for_update()
_MARK_DELIVERED = (update(t.outbox).where(t.outbox.c.id == bindparam("message_id"))
                   .values(status="delivered", delivered_at=bindparam("at"), lease_until=None))
PLAN_RECHECK_SECONDS = 2.0
_latest: dict[str, tuple[float, str]] = {}  # database url → (checked at, sha of its newest plan)


def _directory_for(sha256: str, document: dict[str, Any]) -> Directory:
    """Plans are immutable once stored, so a plan's Directory is built once per process."""
    if sha256 not in _DIRECTORIES:
        if len(_DIRECTORIES) > 8:
            _DIRECTORIES.clear()
        _DIRECTORIES[sha256] = to_directory(Plan.model_validate(document))
    return _DIRECTORIES[sha256]


class SqlStore(AlertStore, PlaybookStore, ReadinessStore, FeedStore, LifecycleStore, AccountStore,
               ReviewStore, AuditStore, CommsStore, DetectorStore):
    def __init__(self, session: Session):
        self.session = session
        self._locking = session.get_bind().dialect.name == "postgresql"
        self._locked_incidents: dict[int, Incident] = {}  # read by `lock_incidents` in this transaction

    # -- the plan ----------------------------------------------------------------------------
    def plan_sha(self) -> str | None:
        sha: str | None = self.session.scalar(select(t.plans.c.sha256).order_by(t.plans.c.id.desc()).limit(1))
        return sha

    def _current_sha(self) -> str | None:
        """The newest plan's sha, re-read at most every couple of seconds: a plan applied by another
        process is in effect within PLAN_RECHECK_SECONDS; one applied here, at once."""
        url = str(self.session.get_bind().engine.url)
        cached = _latest.get(url)
        if cached is not None and time.monotonic() - cached[0] < PLAN_RECHECK_SECONDS:
            return cached[1]
        sha = self.plan_sha()
        if sha is not None:
            _latest[url] = (time.monotonic(), sha)
        return sha

    def directory(self) -> Directory:
        sha = self._current_sha()
        if sha is None:
            return Directory()
        if sha in _DIRECTORIES:
            return _DIRECTORIES[sha]
        document = self.session.scalar(select(t.plans.c.document).where(t.plans.c.sha256 == sha).limit(1))
        if document is None:  # the database was reset under us
            _latest.clear()
            return Directory()
        return _directory_for(sha, document)

    def save_plan(self, sha256: str, source: str, document: dict[str, Any], now: datetime) -> None:
        self.session.execute(
            insert(t.plans).values(sha256=sha256, source=source, document=document, applied_at=now)
        )
        _latest.pop(str(self.session.get_bind().engine.url), None)

    def _sync(self, table: Any, rows: Sequence[dict[str, Any]]) -> tuple[int, int, int]:
        existing = {r.id: r._mapping for r in self.session.execute(select(table))}
        added = changed = 0
        for row in rows:
            wanted = {**row, "active": True}
            old = existing.pop(row["id"], None)
            if old is None:
                self.session.execute(insert(table).values(**wanted))
                added += 1
            elif any(old[k] != v for k, v in wanted.items()):
                self.session.execute(update(table).where(table.c.id == row["id"]).values(**wanted))
                changed += 1
        gone = [ident for ident, old in existing.items() if old["active"]]
        if gone:
            self.session.execute(update(table).where(table.c.id.in_(gone)).values(active=False))
        return added, changed, len(gone)

    def sync_entities(self, clients: Sequence[dict[str, Any]], services: Sequence[dict[str, Any]],
                      people: Sequence[dict[str, Any]]) -> dict[str, int]:
        totals = {"added": 0, "changed": 0, "removed": 0}
        for table, rows in ((t.clients, clients), (t.people, people), (t.services, services)):
            for name, count in zip(totals, self._sync(table, rows), strict=True):
                totals[name] += count
        return totals

    # -- overrides -----------------------------------------------------------------------------
    def add_override(self, override: Override, kind: str, swap_group: str | None, now: datetime) -> int:
        self.__dict__.pop("_overrides_memo", None)
        result = self.session.execute(insert(t.overrides).values(
            schedule_id=override.schedule_id, person_id=override.person_id, replaces=override.replaces,
            start=override.start, end=override.end, reason=override.reason, kind=kind, swap_group=swap_group,
            created_by=override.created_by, created_at=now,
        ).returning(t.overrides.c.id))
        return int(result.scalar_one())

    def overrides(self, schedule_id: str | None, start: datetime, end: datetime) -> list[Override]:
        """Live overrides overlapping [start, end), oldest first (so the newest wins); asked again with
        the same span in one transaction (a tick paging many incidents), answered from memory."""
        memo = self.__dict__.setdefault("_overrides_memo", {})
        if (schedule_id, start, end) not in memo:
            memo[(schedule_id, start, end)] = self._overrides(schedule_id, start, end)
        return list(memo[(schedule_id, start, end)])

    def _overrides(self, schedule_id: str | None, start: datetime, end: datetime) -> list[Override]:
        c = t.overrides.c
        stmt = select(t.overrides).where(c.deleted_at.is_(None), c.end > start, c.start < end).order_by(c.id)
        if schedule_id is not None:
            stmt = stmt.where(c.schedule_id == schedule_id)
        return [
            Override(r.schedule_id, r.person_id, r.start, r.end, r.replaces, r.created_by, r.reason, r.id)
            for r in self.session.execute(stmt)
        ]

    def delete_override(self, override_id: int, by: str, now: datetime) -> str | None:
        """Mark an override deleted; returns its schedule id, or None when there is no live one."""
        self.__dict__.pop("_overrides_memo", None)
        c = t.overrides.c
        schedule_id: str | None = self.session.scalar(
            update(t.overrides).where(c.id == override_id, c.deleted_at.is_(None))
            .values(deleted_by=by, deleted_at=now).returning(c.schedule_id)
        )
        return schedule_id

    def instance_secret(self, name: str, make: Callable[[], str], now: datetime) -> str:
        """A per-installation secret, created on first use (e.g. to sign calendar feed URLs)."""
        query = select(t.instance_secrets.c.value).where(t.instance_secrets.c.name == name)
        value: str | None = self.session.scalar(query)
        if value is None:
            # Two first uses at once both insert; the loser keeps the winner's secret.
            dialect_insert = pg_insert if self._locking else sqlite_insert
            self.session.execute(
                dialect_insert(t.instance_secrets).values(name=name, value=make(), created_at=now)
                .on_conflict_do_nothing(index_elements=["name"])
            )
            value = self.session.scalar(query)
        assert value is not None
        return value

    # -- keys --------------------------------------------------------------------------------
    def add_integration_key(self, key_hash: str, service_id: str, now: datetime) -> None:
        self.session.execute(
            insert(t.integration_keys).values(key_hash=key_hash, service_id=service_id, created_at=now)
        )

    def service_for_key(self, key_hash: str) -> tuple[str, str] | None:
        """(service, client) of an integration key."""
        keys, services = t.integration_keys.c, t.services.c
        row = self.session.execute(
            select(keys.service_id, services.client_id).join(t.services, services.id == keys.service_id)
            .where(keys.key_hash == key_hash)
        ).first()
        return None if row is None else (row.service_id, row.client_id)

    def add_api_key(self, key_hash: str, role: Role, client_id: str | None, now: datetime,
                    prefix: str | None = None, expires_at: datetime | None = None) -> int:
        return int(self.session.execute(insert(t.api_keys).values(
            key_hash=key_hash, role=role, client_id=client_id, created_at=now, prefix=prefix,
            expires_at=expires_at).returning(t.api_keys.c.id)).scalar_one())

    def api_key(self, key_hash: str) -> ApiKey | None:
        """The live (not revoked) key with this hash; the hashes are compared in constant time too."""
        c = t.api_keys.c
        row = self.session.execute(
            select(c.id, c.key_hash, c.role, c.client_id, c.expires_at)
            .where(c.key_hash == key_hash, c.revoked_at.is_(None))
        ).first()
        if row is None or not hmac.compare_digest(row.key_hash, key_hash):
            return None
        return ApiKey(row.role, row.client_id, row.id, row.expires_at)

    def api_keys(self) -> list[ApiKeyInfo]:
        c = t.api_keys.c
        return [ApiKeyInfo(r.id, r.prefix, r.role, r.client_id, r.created_at, r.expires_at, r.last_used_at,
                           r.revoked_at) for r in self.session.execute(select(t.api_keys).order_by(c.id))]

    def revoke_api_key(self, key_id: int, by: str, now: datetime) -> ApiKeyInfo | None:
        c = t.api_keys.c
        self.session.execute(update(t.api_keys).where(c.id == key_id, c.revoked_at.is_(None))
                             .values(revoked_at=now, revoked_by=by))
        return next((k for k in self.api_keys() if k.id == key_id), None)

    def touch_api_key(self, key_id: int, now: datetime) -> None:
        """Record use, at most once a minute: a busy key does not write on every request."""
        c = t.api_keys.c
        self.session.execute(update(t.api_keys).where(
            c.id == key_id, or_(c.last_used_at.is_(None), c.last_used_at < now - timedelta(minutes=1))
        ).values(last_used_at=now))

    # -- alerts and incidents ------------------------------------------------------------------
    def open_alert(self, service_id: str, dedup_key: str) -> Alert | None:
        stmt = select(Alert).where(
            t.alerts.c.service_id == service_id,
            t.alerts.c.dedup_key == dedup_key,
            t.alerts.c.status != "resolved",
        )
        return self.session.scalars(stmt.with_for_update() if self._locking else stmt).first()

    def add_alert(self, alert: Alert) -> None:
        self.session.add(alert)
        try:
            self.session.flush()  # the caller's transaction is lost on conflict; ingest retries it whole
        except IntegrityError as exc:
            raise Conflict(f"an open alert with key {alert.dedup_key!r} already exists") from exc

    def alerts_of(self, incident_id: int) -> list[Alert]:
        return list(self.session.scalars(
            select(Alert).where(t.alerts.c.incident_id == incident_id).order_by(t.alerts.c.id)
        ))

    def add_incident(self, incident: Incident) -> None:
        self.session.add(incident)
        self.session.flush()

    def lock_incidents(self, incident_ids: Sequence[int]) -> None:
        """Read (and on PostgreSQL lock, in id order) these incidents in one statement, so that a tick
        firing a batch of timers asks `incident` for each without a round trip apiece."""
        ids = sorted(set(incident_ids))
        if not ids:
            return
        stmt = select(Incident).where(t.incidents.c.id.in_(ids)).order_by(t.incidents.c.id)
        locked = self.session.scalars(stmt.with_for_update(key_share=True) if self._locking else stmt)
        self._locked_incidents.update({i.id: i for i in locked if i.id is not None})

    def expect_incidents(self, count: int) -> None:
        """Nothing to prepare: each incident takes its id when it is flushed."""

    def incident(self, incident_id: int, client_id: str | None = None) -> Incident | None:
        held = self._locked_incidents.get(incident_id)
        if held is not None and (client_id is None or held.client_id == client_id):
            return held  # read and locked earlier in this transaction by `lock_incidents`
        stmt = select(Incident).where(t.incidents.c.id == incident_id)
        if client_id is not None:
            stmt = stmt.where(t.incidents.c.client_id == client_id)
        # FOR NO KEY UPDATE: rows that merely point at the incident (timeline, timers, pages) can still
        # be written by others meanwhile, so recording a delivered page never waits on a long tick.
        return self.session.scalars(stmt.with_for_update(key_share=True) if self._locking else stmt).first()

    def incidents(self, query: IncidentFilter) -> list[Incident]:
        c = t.incidents.c
        stmt = select(Incident).order_by(c.id.desc()).limit(query.limit)
        for column, value in (
            (c.status, query.status), (c.client_id, query.client_id),
            (c.service_id, query.service_id), (c.severity, query.severity),
        ):
            if value is not None:
                stmt = stmt.where(column == value)
        if query.open_only:
            stmt = stmt.where(c.status.in_(OPEN_STATUSES))
        return list(self.session.scalars(stmt))

    # -- timeline ------------------------------------------------------------------------------
    def append(self, incident_id: int, entries: Sequence[TimelineEntry]) -> None:
        for entry in entries:
            entry.incident_id = incident_id
        insert_entries(self.session, entries)

    def timeline(self, incident_id: int) -> list[TimelineEntry]:
        return entries_of(self.session.execute(
            select(t.timeline).where(t.timeline.c.incident_id == incident_id).order_by(t.timeline.c.id)
        ))

    # -- timers --------------------------------------------------------------------------------
    def add_timer(self, timer: Timer) -> None:
        insert_timers(self.session, [timer])

    def claim_due_timers(self, now: datetime, limit: int) -> list[Timer]:
        """Due timers, loaded as mapped `StoredTimer`s: the caller's changes to them are flushed."""
        stmt = _claim_statement("timers", self._locking)
        return list(self.session.scalars(stmt, {"now": now, "limit": limit}))

    def next_timer_due(self) -> datetime | None:
        due: datetime | None = self.session.scalar(
            select(func.min(t.timers.c.due_at)).where(t.timers.c.done.is_(False))
        )
        return due

    # -- outbox --------------------------------------------------------------------------------
    def add_outbox(self, message: OutboxMessage) -> bool:
        """Queue `message` unless one with its idempotency key exists: one statement, and two
        transactions queuing the same key at once end with one row instead of a failed transaction."""
        values = {key: getattr(message, key) for key in _OUTBOX_KEYS}
        with self.session.no_autoflush:  # the row needs nothing pending in the session; that goes at commit
            added = self.session.execute(_ADD_OUTBOX[self._locking], values).scalar()
        return added is not None

    def claim_deliveries(self, now: datetime, lease_until: datetime, limit: int) -> list[OutboxMessage]:
        """Lease due messages; a lease left by a crashed worker expires and the message is re-sent."""
        stmt = _claim_statement("pages", self._locking)
        claimed = list(self.session.scalars(stmt, {"now": now, "limit": limit}))
        for message in claimed:
            message.status = "delivering"
            message.lease_until = lease_until
            message.attempts += 1
        self.session.flush()
        return claimed

    def next_delivery_due(self) -> datetime | None:
        c = t.outbox.c
        pending = self.session.scalar(select(func.min(c.next_attempt_at)).where(c.status == "pending"))
        leased = self.session.scalar(select(func.min(c.lease_until)).where(c.status == "delivering"))
        return min((d for d in (pending, leased) if d is not None), default=None)

    def engine_state(self) -> EngineState:
        """The soonest unfired timer, pending page and lease, and the outbox's depth and failures: one statement."""
        timer_due, pending, leased, depth, failed = self.session.execute(_ENGINE_STATE).one()
        delivery_due = min((d for d in (pending, leased) if d is not None), default=None)
        return EngineState(timer_due, delivery_due, int(depth or 0), int(failed or 0))

    def outbox_states(self, message_ids: Sequence[int]) -> list[OutboxState]:
        """Without the ORM: recording a group of delivered pages read and updated each as a mapped object,
        which cost more than the statements."""
        stmt = _OUTBOX_STATES_LOCKED if self._locking else _OUTBOX_STATES
        return [OutboxState(*row) for row in self.session.execute(stmt, {"ids": sorted(set(message_ids))})]

    def mark_delivered(self, delivered: Sequence[tuple[int, datetime]]) -> None:
        if delivered:
            self.session.execute(_MARK_DELIVERED, [{"message_id": i, "at": at} for i, at in delivered])

    def outbox_message(self, message_id: int) -> OutboxMessage | None:
        stmt = select(OutboxMessage).where(t.outbox.c.id == message_id)
        return self.session.scalars(stmt.with_for_update() if self._locking else stmt).first()

    def outbox_depth(self) -> int:
        return int(self.session.scalar(
            select(func.count()).select_from(t.outbox).where(t.outbox.c.status.in_(("pending", "delivering")))
        ) or 0)

    def outbox_failed(self) -> int:
        return int(self.session.scalar(
            select(func.count()).select_from(t.outbox).where(t.outbox.c.status == "failed")
        ) or 0)

    # -- reports -------------------------------------------------------------------------------
    def pages_delivered(self, start: datetime, end: datetime) -> list[tuple[str, datetime]]:
        """(person, delivered at) of every page delivered in [start, end), oldest first; notifications
        (keys `notify:…`) and channel posts are not pages."""
        c = t.outbox.c
        rows = self.session.execute(
            select(c.person_id, c.delivered_at)
            .where(c.status == "delivered", c.delivered_at >= start, c.delivered_at < end,
                   ~c.idempotency_key.startswith("notify:"), ~c.idempotency_key.startswith("channel:"),
                   ~c.idempotency_key.startswith("comms:"))  # client messages are not pages either
            .order_by(c.delivered_at, c.id)
        )
        return [(r.person_id, r.delivered_at) for r in rows]
