"""Place new alerts: join their group's open incident, join the open incident of a service they depend
on (inhibition: the blast radius pages once), or open an incident of their own. One round of a batch
is placed with a handful of queries, whatever its size.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from onduty.app.incidents import declare
from onduty.app.lifecycle import reopen
from onduty.app.ports import Store
from onduty.domain.alerts import AlertEvent, AlertUpsert, Decision, details_of, group_digest
from onduty.domain.incidents import OPEN_STATUSES, TimelineEntry
from onduty.domain.model import Directory, Service
from onduty.domain.routing import AlertPolicy, Route, classify
from onduty.domain.suppression import Silence, suppressed_by, upstream


@dataclass(slots=True)
class Pending:
    """An alert that needs an incident; `indexes` are the batch positions of its triggers.

    Either stored already (`alert_id`: placing it updates its row) or new (`row`: placing it sets the
    row's incident, and the caller inserts the row afterwards, written once).
    """

    alert_id: int | None
    service_id: str
    event: AlertEvent
    route: Route
    indexes: list[int]
    held: bool = False  # stored as suppressed until now (its status changes as it is placed)
    row: AlertUpsert | None = None


@dataclass(slots=True)
class Placed:
    service_id: str
    event: AlertEvent
    incident_id: int
    decision: Decision
    indexes: list[int] = field(default_factory=list)


class Placer:
    def __init__(self, store: Store, directory: Directory, policy: AlertPolicy, now: datetime):
        self.store, self.directory, self.policy, self.now = store, directory, policy, now
        self._silences: list[Silence] | None = None

    def suppressed_by(self, service_id: str, labels: dict[str, str]) -> str | None:
        """Why an alert of `service_id` with `labels` must not page now, or None."""
        if self._silences is None:
            self._silences = [s for s in self.store.silences(self.now) if s.state(self.now) == "active"]
        if not self._silences and not self.policy.maintenance:
            return None
        service = self.directory.services[service_id]
        client = self.directory.clients.get(service.client_id)
        return suppressed_by(service, client.time_zone if client else "UTC", labels, self.now,
                             self._silences, self.policy.maintenance)

    def place(self, pending: Sequence[Pending]) -> list[Placed]:
        if not pending:
            return []
        services = self.directory.services
        digests = {group: group_digest(group) for group in {p.event.group for p in pending} if group}
        # by (service, dedup key): one pending alert each in a round, stored or new
        group_keys = {(p.service_id, p.event.dedup_key): digests[p.event.group] for p in pending if p.event.group}
        groups = self.store.active_groups([(key[0], group) for key, group in group_keys.items()])
        ups = {service_id: upstream(services, service_id) for service_id in {p.service_id for p in pending}}
        affecting = self.store.open_incidents_affecting(sorted({s for chain in ups.values() for s in chain}))
        status = self.store.open_incident_status([g[1] for g in groups.values()] + list(affecting.values()))
        stale = [g[0] for g in groups.values() if g[2] <= self.now or status.get(g[1], "closed") not in OPEN_STATUSES]
        self.store.close_groups(stale)
        # An alert with the key or group of an incident in monitoring is a recurrence: it reopens that incident.
        by_key, by_group = self.store.monitoring_incidents_for(
            [(p.service_id, p.event.dedup_key) for p in pending],
            [(key[0], group) for key, group in group_keys.items()])
        reopened: set[int] = set()
        live = {key: g[1] for key, g in groups.items() if g[0] not in stale}
        placed: list[Placed] = []
        placements: list[tuple[int, int | None, str | None]] = []
        affected: list[tuple[int, str, str]] = []
        joins: dict[tuple[int, str], list[Pending]] = {}  # (incident, how) → alerts that joined it
        inhibitors: dict[str, str | None] = {}  # per service, until an incident opens or reopens

        def inhibitor_of(service_id: str) -> str | None:
            """The nearest service this one depends on with an open incident (the same for all its alerts)."""
            if service_id not in inhibitors:
                inhibitors[service_id] = next((s for s in ups[service_id]
                                               if status.get(affecting.get(s, -1), "closed") in OPEN_STATUSES), None)
            return inhibitors[service_id]

        opening: set[tuple[str, str, str]] = set()  # at most one incident per alert without one, or per new group
        for p in pending:
            key = (p.service_id, p.event.dedup_key)
            group = group_keys.get(key)
            if ((p.service_id, group) not in live and key not in by_key
                    and (p.service_id, group or "") not in by_group and inhibitor_of(p.service_id) is None):
                opening.add(("group", p.service_id, group) if group else ("alert", *key))
        self.store.expect_incidents(len(opening))
        for p in pending:
            service = services[p.service_id]
            group = group_keys.get((p.service_id, p.event.dedup_key))
            joined = live.get((p.service_id, group)) if group else None
            same_key = by_key.get((p.service_id, p.event.dedup_key))
            recurred = same_key if same_key is not None else by_group.get((p.service_id, group or ""))
            if recurred is not None and joined is None and recurred not in reopened and not self._reopen(
                    recurred, p, "same alert key" if same_key is not None else "same group"):
                recurred = None  # closed meanwhile (its monitor period ended): the alert starts afresh
            if recurred is not None and joined is None and recurred not in reopened:
                reopened.add(recurred)
                status[recurred] = "triggered"
                inhibitors.clear()
                if group:  # the reopened incident gathers its group again
                    window = self.policy.for_service(p.service_id).group_window
                    self.store.open_group(p.service_id, group, recurred, self.now, self.now + window)
                    live[(p.service_id, group)] = recurred
                result = Placed(p.service_id, p.event, recurred, Decision.REOPEN, p.indexes)
            elif recurred is not None and joined is None:
                result = Placed(p.service_id, p.event, recurred, Decision.GROUP, p.indexes)
                joins.setdefault((recurred, "alert.grouped"), []).append(p)
            elif joined is not None:
                result = Placed(p.service_id, p.event, joined, Decision.GROUP, p.indexes)
                joins.setdefault((joined, "alert.grouped"), []).append(p)
            elif (inhibitor := inhibitor_of(p.service_id)) is not None:
                target = affecting[inhibitor]
                result = Placed(p.service_id, p.event, target, Decision.INHIBIT, p.indexes)
                affected.append((target, p.service_id, "inhibit"))
                joins.setdefault((target, f"alert.inhibited:{inhibitor}"), []).append(p)
            else:
                incident_id = self._open(p, service)
                result = Placed(p.service_id, p.event, incident_id, Decision.OPEN, p.indexes)
                affected.append((incident_id, p.service_id, "origin"))
                if group:
                    window = self.policy.for_service(p.service_id).group_window
                    self.store.open_group(p.service_id, group, incident_id, self.now, self.now + window)
                    live[(p.service_id, group)] = incident_id
                status[incident_id] = "triggered"  # later alerts of dependent services in this round join it
                affecting.setdefault(p.service_id, incident_id)
                inhibitors.clear()
            if p.row is not None:
                p.row.incident_id = result.incident_id
            elif p.alert_id is not None:
                placements.append((p.alert_id, result.incident_id, "triggered" if p.held else None))
            placed.append(result)
        self.store.place_alerts(placements)
        self.store.add_affected_services(affected, self.now)
        for (incident_id, how), joined_alerts in joins.items():
            self._note(incident_id, how, joined_alerts)
        return placed

    def _open(self, p: Pending, service: Service) -> int:
        event = p.event
        actor = event.source or "integration"
        found = classify(self.policy, self.directory.severity, event.labels, service.id, service.kind, event.severity,
                         event.event_class)
        incident = declare(self.store, self.directory, service, event.summary or "(no summary)", found.severity,
                           self.now, actor, event.timestamp or self.now)
        incident.incident_type = found.incident_type
        assert incident.id is not None
        self.store.append(incident.id, [
            TimelineEntry(self.now, "alert.triggered", f"Alert from {actor}: {event.summary}", actor,
                          {"dedup_key": event.dedup_key, "severity": event.severity, **details_of(event)}),
            TimelineEntry(self.now, "alert.classified", f"{p.route.note.capitalize()}; {found.note}", "onduty",
                          {"service": service.id, "route_rule": p.route.rule, "severity": int(found.severity),
                           "severity_rule": found.severity_rule, "type": found.incident_type,
                           "type_rule": found.type_rule}),
        ])
        return incident.id

    def _reopen(self, incident_id: int, p: Pending, how: str) -> bool:
        """The alert recurred while its incident was being monitored: reopen it and page again.

        False when the incident left monitoring after the lookup (the row lock is taken here).
        """
        incident = self.store.incident(incident_id)
        if incident is None or incident.status != "monitoring":
            return False
        actor = p.event.source or "integration"
        reopen(self.store, self.directory, incident, self.now, actor,
               f"alert recurred during monitoring ({how}): {p.event.summary}",
               {"dedup_key": p.event.dedup_key, "service": p.service_id, "summary": p.event.summary,
                "matched": how})
        return True

    def _note(self, incident_id: int, how: str, joined: list[Pending]) -> None:
        """One timeline entry per incident and round, however many alerts joined (a storm stays readable)."""
        first = joined[0]
        kind, _, inhibitor = how.partition(":")
        count = f"{len(joined)} alerts" if len(joined) > 1 else "Alert"
        if kind == "alert.grouped":
            message = f"{count} joined the incident's group ({first.event.group}): {first.event.summary}"
        else:
            names = sorted({self.directory.services[p.service_id].name for p in joined})
            message = (f"{count} of {', '.join(names)} joined this incident instead of paging: "
                       f"{'they depend' if len(names) > 1 else 'it depends'} on "
                       f"{self.directory.services[inhibitor].name}: {first.event.summary}")
        self.store.append(incident_id, [TimelineEntry(
            self.now, kind, message, first.event.source or "integration",
            {"alerts": [{"dedup_key": p.event.dedup_key, "service": p.service_id, "summary": p.event.summary}
                        for p in joined[:50]], "count": len(joined), "route": first.route.note},
        )])
