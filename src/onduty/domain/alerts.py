"""Alerts: the normalised event every source produces, the stored alert, and the dedup rules."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from typing import Any, Literal

EventAction = Literal["trigger", "acknowledge", "resolve"]
AlertStatus = Literal["triggered", "acknowledged", "resolved", "suppressed"]


@dataclass(slots=True)
class AlertEvent:
    """One signal from any source, in onduty's own terms. `dedup_key` is set by the adapter.

    Not frozen, though nothing changes an event once made: one is built for every alert of every
    batch, and a frozen dataclass's constructor costs four times as much (the same goes for the
    per-alert records below and in the ingest use case).
    """

    action: EventAction
    dedup_key: str
    summary: str = ""
    source: str = ""
    severity: str = "error"
    timestamp: datetime | None = None
    component: str | None = None
    group: str | None = None
    event_class: str | None = None
    custom_details: dict[str, Any] = field(default_factory=dict)
    links: list[dict[str, str]] = field(default_factory=list)
    images: list[dict[str, str]] = field(default_factory=list)
    client: str | None = None
    client_url: str | None = None
    labels: dict[str, str] = field(default_factory=dict)  # what routing, classification and silences match
    annotations: dict[str, str] = field(default_factory=dict)


@dataclass
class Alert:
    """A stored alert. At most one unresolved alert per (service, dedup_key): the database enforces it."""

    service_id: str
    dedup_key: str
    summary: str
    source: str
    severity: str
    created_at: datetime
    updated_at: datetime
    incident_id: int | None = None
    status: AlertStatus = "triggered"
    first_signal_at: datetime | None = None
    resolved_at: datetime | None = None
    occurrences: int = 1
    details: dict[str, Any] = field(default_factory=dict)
    id: int | None = None


class Decision(Enum):
    """What an event does, given the open alert with its key (if any).

    `decide` answers the first five; placing a new alert can also give GROUP (joined its group's open
    incident), INHIBIT (joined the open incident of a service it depends on), SUPPRESS (stored, not paged)
    or REOPEN (it recurred while its incident was being monitored).
    """

    OPEN = "open"
    DEDUPLICATE = "deduplicate"
    ACKNOWLEDGE = "acknowledge"
    RESOLVE = "resolve"
    DROP = "drop"
    GROUP = "group"
    INHIBIT = "inhibit"
    SUPPRESS = "suppress"
    REOPEN = "reopen"


def decide(action: EventAction, open_alert: Alert | None) -> Decision:
    """PagerDuty Events v2 dedup rules: a trigger on an open key joins it; ack/resolve on none drop."""
    if action == "trigger":
        return Decision.DEDUPLICATE if open_alert else Decision.OPEN
    if open_alert is None:
        return Decision.DROP
    if action == "acknowledge":
        return Decision.ACKNOWLEDGE if open_alert.status == "triggered" else Decision.DROP
    if open_alert.status == "suppressed":
        return Decision.RESOLVE
    return Decision.RESOLVE


def details_of(event: AlertEvent) -> dict[str, Any]:
    """Everything of an event worth keeping beyond the summary, for display and review (None and empty
    collections left out). Written out field by field: it runs for every alert of every batch."""
    kept: dict[str, Any] = {}
    if event.component is not None:
        kept["component"] = event.component
    if event.group is not None:
        kept["group"] = event.group
    if event.event_class is not None:
        kept["class"] = event.event_class
    for name, collection in (("custom_details", event.custom_details), ("links", event.links),
                             ("images", event.images)):
        if collection is not None and collection != {} and collection != []:
            kept[name] = collection
    if event.client is not None:
        kept["client"] = event.client
    if event.client_url is not None:
        kept["client_url"] = event.client_url
    if event.labels is not None and event.labels != {}:
        kept["labels"] = event.labels
    if event.annotations is not None and event.annotations != {}:
        kept["annotations"] = event.annotations
    return kept


def labels_hash(labels: Mapping[str, str]) -> str:
    """A stable key for sources that send labels but no fingerprint."""
    canonical = json.dumps(labels, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:32]


def group_digest(group: str) -> str:
    """A group key short enough to index: kept as is up to 200 characters, else hashed."""
    return group if len(group) <= 200 else "sha256:" + hashlib.sha256(group.encode()).hexdigest()


@dataclass(slots=True)
class AlertUpsert:
    """One key's triggers in a batch, to insert as a new alert or count into the open one."""

    service_id: str
    dedup_key: str
    summary: str
    source: str
    severity: str
    occurrences: int
    first_signal_at: datetime | None
    details: dict[str, Any]
    status: AlertStatus = "triggered"  # "suppressed" when a silence or window holds it
    incident_id: int | None = None  # a new alert's incident, set by placement before it is inserted


@dataclass(slots=True)
class UpsertOutcome:
    """The alert row after the upsert; `inserted` tells a new alert from a counted repeat."""

    id: int
    status: str
    incident_id: int | None
    occurrences: int
    inserted: bool
