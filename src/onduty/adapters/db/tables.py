"""The schema, and the imperative mapping of the domain's records onto it.

Timeline entries and timers are not mapped as the domain creates them: SQLAlchemy's instrumentation of
every construction cost the ingest path more CPU than writing the rows did. Entries are written and
read with Core; timers are written with Core and claimed through `StoredTimer`, a mapped subclass, so
the worker's changes to a claimed timer are still flushed by the session. A mapped record's own
constructor writes its fields straight into the new object (`_construct_directly`): through the
ORM's attribute events, building an incident cost more than writing its row.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import registry
from sqlalchemy.orm.instrumentation import manager_of_class

from onduty.domain.alerts import Alert
from onduty.domain.incidents import Incident, OutboxMessage, Timer


def json_text(value: Any) -> str:
    """JSON as text through orjson, for JSON columns and the driver-level statements: several times
    faster than json.dumps on the ingest path."""
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()


def sqlite_time(value: datetime) -> str:
    """An aware time as UTCDateTime is stored on SQLite through SQLAlchemy (naive UTC text, always with
    microseconds), for statements that bypass its processors: rows written either way compare alike."""
    if value.tzinfo is None:
        raise ValueError("naive datetime reached the database; pass an aware one")
    return value.astimezone(UTC).isoformat(" ", "microseconds")[:-6]  # without its "+00:00"


class UTCDateTime(TypeDecorator[datetime]):
    """Aware datetimes in, aware UTC datetimes out, on SQLite (which keeps no zone) and PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime reached the database; pass an aware one")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)
Json: Any = JSON()

plans = Table(
    "plans", metadata,
    Column("id", Integer, primary_key=True),
    Column("sha256", String(64), nullable=False),
    Column("source", Text, nullable=False),
    Column("document", Json, nullable=False),
    Column("applied_at", UTCDateTime, nullable=False),
)

clients = Table(
    "clients", metadata,
    Column("id", String(64), primary_key=True),
    Column("name", Text, nullable=False),
    Column("time_zone", String(64), nullable=False),
    Column("active", Boolean, nullable=False, default=True),
)

services = Table(
    "services", metadata,
    Column("id", String(64), primary_key=True),
    Column("client_id", String(64), ForeignKey("clients.id"), nullable=False),
    Column("name", Text, nullable=False),
    Column("kind", String(32), nullable=False),
    Column("active", Boolean, nullable=False, default=True),
)

people = Table(
    "people", metadata,
    Column("id", String(64), primary_key=True),
    Column("name", Text, nullable=False),
    Column("active", Boolean, nullable=False, default=True),
)

integration_keys = Table(
    "integration_keys", metadata,
    Column("id", Integer, primary_key=True),
    Column("key_hash", String(64), nullable=False, unique=True),
    Column("service_id", String(64), ForeignKey("services.id"), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)

api_keys = Table(
    "api_keys", metadata,
    Column("id", Integer, primary_key=True),
    Column("key_hash", String(64), nullable=False, unique=True),
    Column("role", String(16), nullable=False),
    Column("client_id", String(64), ForeignKey("clients.id"), nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("prefix", String(16)),  # shown in `onduty keys list`, e.g. od_live_ab12
    Column("expires_at", UTCDateTime),
    Column("last_used_at", UTCDateTime),  # written at most once a minute
    Column("revoked_at", UTCDateTime),
    Column("revoked_by", Text),
)

incidents = Table(
    "incidents", metadata,
    Column("id", Integer, primary_key=True),
    Column("service_id", String(64), ForeignKey("services.id"), nullable=False),
    Column("client_id", String(64), ForeignKey("clients.id"), nullable=False),
    Column("title", Text, nullable=False),
    Column("severity", Integer, nullable=False),
    Column("status", String(16), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("first_signal_at", UTCDateTime),
    Column("acknowledged_at", UTCDateTime),
    Column("acknowledged_by", Text),
    Column("mitigated_at", UTCDateTime),
    Column("resolved_at", UTCDateTime),
    Column("resolved_by", Text),
    Column("escalation_level", Integer, nullable=False),
    Column("escalation_loop", Integer, nullable=False),
    Column("epoch", Integer, nullable=False),
    Column("incident_type", String(32), nullable=False, server_default="other"),
    Column("channel_link", Text),
    Column("reopen_count", Integer, nullable=False, server_default="0"),
    Column("clock_epoch", Integer, nullable=False, server_default="0"),
    Column("closed_at", UTCDateTime),
    Column("is_exercise", Boolean, nullable=False, server_default=text("false")),  # drills and tests: never in reports
    Index(None, "status", "client_id"),
)

alerts = Table(
    "alerts", metadata,
    Column("id", Integer, primary_key=True),
    Column("service_id", String(64), ForeignKey("services.id"), nullable=False),
    Column("dedup_key", String(255), nullable=False),
    Column("incident_id", Integer, ForeignKey("incidents.id")),
    Column("status", String(16), nullable=False),
    Column("summary", Text, nullable=False),
    Column("source", Text, nullable=False),
    Column("severity", String(16), nullable=False),
    Column("first_signal_at", UTCDateTime),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("resolved_at", UTCDateTime),
    Column("occurrences", Integer, nullable=False),
    Column("details", Json, nullable=False),
    # The dedup guard: one unresolved alert per key, enforced by the database, not by a read first.
    Index(
        "uq_alerts_open_key", "service_id", "dedup_key", unique=True,
        sqlite_where=text("status != 'resolved'"), postgresql_where=text("status != 'resolved'"),
    ),
    Index(None, "incident_id"),
)

timeline = Table(
    "timeline_entries", metadata,
    Column("id", Integer, primary_key=True),
    Column("incident_id", Integer, ForeignKey("incidents.id"), nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Column("kind", String(48), nullable=False),
    Column("actor", Text, nullable=False),
    Column("message", Text, nullable=False),
    Column("data", Json, nullable=False),
    Index(None, "incident_id", "id"),
)

timers = Table(
    "timers", metadata,
    Column("id", Integer, primary_key=True),
    Column("incident_id", Integer, ForeignKey("incidents.id"), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("due_at", UTCDateTime, nullable=False),
    Column("epoch", Integer, nullable=False),
    Column("level", Integer, nullable=False),
    Column("loop", Integer, nullable=False),
    Column("done", Boolean, nullable=False),
    Index(None, "done", "due_at"),
)

outbox = Table(
    "outbox", metadata,
    Column("id", Integer, primary_key=True),
    Column("idempotency_key", String(255), nullable=False, unique=True),
    Column("incident_id", Integer, ForeignKey("incidents.id"), nullable=False),
    Column("person_id", String(64), nullable=False),
    Column("channel", String(16), nullable=False),
    Column("address", Text, nullable=False),
    Column("contact_index", Integer, nullable=False),
    Column("payload", Json, nullable=False),
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("next_attempt_at", UTCDateTime, nullable=False),
    Column("lease_until", UTCDateTime),
    Column("last_error", Text),
    Column("delivered_at", UTCDateTime),
    Index(None, "status", "next_attempt_at"),
)

overrides = Table(
    "overrides", metadata,
    Column("id", Integer, primary_key=True),
    Column("schedule_id", String(64), nullable=False),
    Column("person_id", String(64), nullable=False),
    Column("replaces", String(64)),
    Column("start", UTCDateTime, nullable=False),
    Column("end", UTCDateTime, nullable=False),
    Column("reason", Text, nullable=False),
    Column("kind", String(16), nullable=False),  # override | swap
    Column("swap_group", String(32)),
    Column("created_by", Text, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("deleted_by", Text),
    Column("deleted_at", UTCDateTime),
    Index(None, "schedule_id", "end"),
)

instance_secrets = Table(
    "instance_secrets", metadata,
    Column("name", String(64), primary_key=True),
    Column("value", Text, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)

# -- alert handling -----------------------------------------------------------------------------

alert_groups = Table(
    "alert_groups", metadata,
    Column("id", Integer, primary_key=True),
    Column("service_id", String(64), ForeignKey("services.id"), nullable=False),
    Column("group_key", String(255), nullable=False),
    Column("incident_id", Integer, ForeignKey("incidents.id"), nullable=False),
    Column("opened_at", UTCDateTime, nullable=False),
    Column("closes_at", UTCDateTime, nullable=False),
    Column("active", Boolean, nullable=False),
    # The grouping guard: one active group per (service, group key), so racing alerts join one incident.
    Index(
        "uq_alert_groups_active", "service_id", "group_key", unique=True,
        sqlite_where=text("active"), postgresql_where=text("active"),
    ),
)

incident_services = Table(
    "incident_services", metadata,
    Column("incident_id", Integer, ForeignKey("incidents.id"), primary_key=True),
    Column("service_id", String(64), ForeignKey("services.id"), primary_key=True),
    Column("reason", String(16), nullable=False),  # origin, group, inhibit
    Column("added_at", UTCDateTime, nullable=False),
    # Whether the incident is open (its status in OPEN_STATUSES): written by triggers of the database on
    # every insert here and every status change of an incident (migration 0013), never by the code.
    Column("open", Boolean, nullable=False, server_default=text("false")),
    Index(None, "service_id"),
    # Inhibition's lookup: the oldest open incident affecting a service is the first entry of its range.
    Index("ix_incident_services_open", "service_id", "incident_id",
          sqlite_where=text("open"), postgresql_where=text("open")),
)

silences = Table(
    "silences", metadata,
    Column("id", Integer, primary_key=True),
    Column("matchers", Json, nullable=False),
    Column("service_id", String(64), ForeignKey("services.id")),
    Column("starts_at", UTCDateTime, nullable=False),
    Column("ends_at", UTCDateTime, nullable=False),
    Column("created_by", Text, nullable=False),
    Column("comment", Text, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expired_at", UTCDateTime),
    Column("expired_by", Text),
    Index(None, "ends_at"),
)

changes = Table(
    "changes", metadata,
    Column("id", Integer, primary_key=True),
    Column("service_id", String(64), ForeignKey("services.id"), nullable=False),
    Column("summary", Text, nullable=False),
    Column("source", Text, nullable=False),
    Column("occurred_at", UTCDateTime, nullable=False),
    Column("received_at", UTCDateTime, nullable=False),
    Column("details", Json, nullable=False),
    Column("links", Json, nullable=False),
    Index(None, "service_id", "occurred_at"),
)

heartbeat_keys = Table(
    "heartbeat_keys", metadata,
    Column("id", Integer, primary_key=True),
    Column("key_hash", String(64), nullable=False, unique=True),
    Column("check_id", String(64), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)

heartbeats = Table(
    "heartbeats", metadata,
    Column("check_id", String(64), primary_key=True),
    Column("service_id", String(64), ForeignKey("services.id"), nullable=False),
    Column("last_beat_at", UTCDateTime, nullable=False),
    Column("due_at", UTCDateTime, nullable=False),
    Column("missed_at", UTCDateTime),
    Column("beats", Integer, nullable=False),
    Index(None, "due_at"),
)

# -- playbook: ticks, workarounds, client requests, runbook texts -----------------------------------

playbook_ticks = Table(
    "playbook_ticks", metadata,
    Column("id", Integer, primary_key=True),
    Column("incident_id", Integer, ForeignKey("incidents.id"), nullable=False),
    Column("item_id", String(128), nullable=False),
    Column("done", Boolean, nullable=False),
    Column("by", Text, nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Column("note", Text, nullable=False),
    Index(None, "incident_id", "item_id", unique=True),
)

workarounds = Table(
    "workarounds", metadata,
    Column("id", Integer, primary_key=True),
    Column("incident_id", Integer, ForeignKey("incidents.id"), nullable=False),
    Column("text", Text, nullable=False),
    Column("added_by", Text, nullable=False),
    Column("added_at", UTCDateTime, nullable=False),
    Index(None, "incident_id"),
)

client_requests = Table(
    "client_requests", metadata,
    Column("id", Integer, primary_key=True),
    Column("incident_id", Integer, ForeignKey("incidents.id"), nullable=False),
    Column("text", Text, nullable=False),
    Column("due_at", UTCDateTime, nullable=False),
    Column("created_by", Text, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("done_at", UTCDateTime),
    Column("done_by", Text),
    Column("miss_recorded_at", UTCDateTime),
    Index(None, "incident_id"),
    Index(None, "miss_recorded_at", "due_at"),
)

runbook_texts = Table(
    "runbook_texts", metadata,
    Column("file", String(255), primary_key=True),
    Column("markdown", Text, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

drills = Table(
    "drills", metadata,
    Column("id", Integer, primary_key=True),
    Column("name", Text, nullable=False),
    Column("scenario", Text, nullable=False),
    Column("mode", String(8), nullable=False),
    Column("held_at", UTCDateTime, nullable=False),
    Column("started_at", UTCDateTime, nullable=False),
    Column("participants", Json, nullable=False),
    Column("findings", Json, nullable=False),
    Column("score", Integer, nullable=False),
    Index(None, "held_at"),
)

readiness_reminders = Table(
    "readiness_reminders", metadata,
    Column("key", String(128), primary_key=True),
    Column("sent_at", UTCDateTime, nullable=False),
    Column("recipients", Json, nullable=False),
)

# -- console sign-in and the client portal --------------------------------------------------------

user_accounts = Table(
    "user_accounts", metadata,
    Column("person_id", String(64), primary_key=True),
    Column("password_hash", Text),
    Column("role", String(16), nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

login_links = Table(
    "login_links", metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("person_id", String(64), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("used_at", UTCDateTime),
)

web_sessions = Table(
    "web_sessions", metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("person_id", String(64)),  # a responder's session
    Column("client_id", String(64)),  # a client contact's portal session
    Column("csrf_token", String(64), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Index(None, "expires_at"),
)

portal_links = Table(
    "portal_links", metadata,
    Column("client_id", String(64), primary_key=True),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("created_at", UTCDateTime, nullable=False),
)

feed_references = Table(
    "feed_references", metadata,
    Column("feed_id", String(64), primary_key=True),
    Column("profile", LargeBinary, nullable=False),  # detect.Profile.to_bytes(): npz, no pickle
    Column("rows", Integer, nullable=False),
    Column("source", Text, nullable=False),
    Column("set_at", UTCDateTime, nullable=False),
)

feed_snapshots = Table(
    "feed_snapshots", metadata,
    Column("feed_id", String(64), primary_key=True),
    Column("snapshot", LargeBinary, nullable=False),  # key hash → attribute hash, and the churn history
    Column("rows", Integer, nullable=False),
    Column("taken_at", UTCDateTime, nullable=False),
)

feed_batches = Table(
    "feed_batches", metadata,
    Column("id", Integer, primary_key=True),
    Column("feed_id", String(64), nullable=False),
    Column("received_at", UTCDateTime, nullable=False),
    Column("rows", Integer, nullable=False),
    Column("verdict", String(16), nullable=False),
    Column("findings", Json, nullable=False),
    Column("incident_id", Integer),
    Index(None, "feed_id", "id"),
)

# -- lifecycle: incident roles ------------------------------------------------------------------

incident_roles = Table(
    "incident_roles", metadata,
    Column("incident_id", Integer, ForeignKey("incidents.id"), primary_key=True),
    Column("role", String(32), primary_key=True),  # responder, commander, communications_lead
    Column("person_id", String(64), nullable=False),
    Column("assigned_by", Text, nullable=False),
    Column("assigned_at", UTCDateTime, nullable=False),
)
# A recurrence during monitoring finds its incident's groups from the incident side.
Index("ix_alert_groups_incident_id", alert_groups.c.incident_id)

# -- post-incident reviews --------------------------------------------------------------------------

reviews = Table(
    "reviews", metadata,
    Column("id", Integer, primary_key=True),
    Column("incident_id", Integer, ForeignKey("incidents.id"), nullable=False, unique=True),
    Column("status", String(16), nullable=False),
    Column("owner", String(64), nullable=False),
    Column("owner_reason", Text, nullable=False),
    Column("required", Boolean, nullable=False),
    Column("due_at", UTCDateTime),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("completed_at", UTCDateTime),
    Column("completed_by", Text),
    Column("sections", Json, nullable=False),
    Column("edited", Json, nullable=False),
    Index(None, "status", "due_at"),
)

review_changes = Table(
    "review_changes", metadata,
    Column("id", Integer, primary_key=True),
    Column("review_id", Integer, ForeignKey("reviews.id"), nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Column("by", Text, nullable=False),
    Column("what", String(64), nullable=False),
    Column("before", Text, nullable=False),
    Column("after", Text, nullable=False),
    Index(None, "review_id", "id"),
)

review_actions = Table(
    "review_actions", metadata,
    Column("id", Integer, primary_key=True),
    Column("review_id", Integer, ForeignKey("reviews.id"), nullable=False),
    Column("title", Text, nullable=False),
    Column("owner", String(64), nullable=False),
    Column("due_at", UTCDateTime, nullable=False),
    Column("status", String(16), nullable=False),
    Column("tracker_url", Text),
    Column("created_at", UTCDateTime, nullable=False),
    Column("created_by", Text, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Index(None, "review_id"),
    Index(None, "status", "due_at"),
)

communications = Table(
    "communications", metadata,
    Column("id", Integer, primary_key=True),
    Column("incident_id", Integer, ForeignKey("incidents.id"), nullable=False),
    Column("kind", String(16), nullable=False),  # initial | update | resolution
    Column("subject", Text, nullable=False),
    Column("body", Text, nullable=False),
    Column("fields", Json, nullable=False),
    Column("findings", Json, nullable=False),
    Column("recipients", Json, nullable=False),
    Column("client_visible", Boolean, nullable=False),
    Column("override_reason", Text),
    Column("sent_by", Text, nullable=False),
    Column("sent_at", UTCDateTime, nullable=False),
    Index(None, "incident_id", "id"),
)

# -- the audit trail ----------------------------------------------------------------------------
# timeline_entries, admin_actions and audit_seals are append-only: database triggers refuse UPDATE and
# DELETE (see migration 0011). A sealer in the worker chains each row per client into audit_seals.

admin_actions = Table(
    "admin_actions", metadata,
    Column("id", Integer, primary_key=True),
    Column("at", UTCDateTime, nullable=False),
    Column("actor", Text, nullable=False),
    Column("action", String(48), nullable=False),  # plan.applied, key.created, key.revoked, override.created …
    Column("client_id", String(64)),  # the client's chain; None: the organization's
    Column("subject", Text, nullable=False),
    Column("data", Json, nullable=False),
)

audit_seals = Table(
    "audit_seals", metadata,
    Column("id", Integer, primary_key=True),
    Column("chain", String(64), nullable=False),  # a client id, or "*" for organization-wide rows
    Column("seq", Integer, nullable=False),
    Column("source", String(16), nullable=False),  # timeline | admin
    Column("row_id", Integer, nullable=False),
    Column("chain_hash", String(64), nullable=False),  # sha256(previous chain_hash + canonical row)
    Column("sealed_at", UTCDateTime, nullable=False),
    Index("uq_audit_seals_chain_seq", "chain", "seq", unique=True),
    Index("uq_audit_seals_source_row", "source", "row_id", unique=True),
)

detector_states = Table(
    "detector_states", metadata,
    Column("service_id", String(64), primary_key=True),
    Column("detector_id", String(64), primary_key=True),
    Column("kind", String(32), nullable=False),
    Column("status", String(16), nullable=False),  # learning, ok, firing
    Column("state", Json, nullable=False),
    Column("points", Integer, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

mapper_registry = registry()


class StoredTimer(Timer):
    """A timer loaded from the database (mapped); timers the domain creates are plain `Timer`s."""


class _Fields:
    """A plain object the dataclass constructor fills in, to be copied into the mapped one."""


def _construct_directly(cls: type) -> None:
    """Run `cls`'s dataclass constructor on a plain object and copy its fields into the new instance.

    The ORM's constructor sets up the instance's state and then runs the class's own, whose every
    field assignment would go through an attribute event (about 1 µs each; an incident has 22). A
    new object has no history to record: a pending one is inserted from its values as they stand,
    so nothing else changes. Only for dataclasses without `__post_init__`.
    """
    if hasattr(cls, "__post_init__"):
        return
    manager: Any = manager_of_class(cls)
    original: Callable[..., None] = manager.original_init

    def construct(self: Any, *args: Any, **kwargs: Any) -> None:
        fields = _Fields()
        original(fields, *args, **kwargs)
        self.__dict__.update(fields.__dict__)

    manager.original_init = construct


def map_domain() -> None:
    """Map the domain's dataclasses onto the tables once per process."""
    if getattr(map_domain, "done", False):
        return
    for cls, table in ((Incident, incidents), (Alert, alerts), (StoredTimer, timers), (OutboxMessage, outbox)):
        mapper_registry.map_imperatively(cls, table)
        _construct_directly(cls)
    map_domain.done = True  # type: ignore[attr-defined]
