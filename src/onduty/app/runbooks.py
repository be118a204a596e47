"""Runbooks shown with an incident: linked by service, type and alert labels; text from the database."""

from __future__ import annotations

from dataclasses import dataclass

from onduty.app.ports import NotFound, Store, Transactions
from onduty.domain.incidents import Incident
from onduty.domain.model import Directory
from onduty.domain.runbooks import LinkedRunbook, link_runbooks, runbook_title


@dataclass(frozen=True)
class RunbookView:
    file: str
    title: str
    reasons: tuple[str, ...]
    markdown: str | None  # None: the file was not stored at `plan apply`


def linked_runbooks(store: Store, directory: Directory, incident: Incident) -> list[LinkedRunbook]:
    """The incident's runbooks: its service first, then every service it affects, its type, its alerts."""
    assert incident.id is not None
    ids = [incident.service_id] + [s for s, _, _ in store.affected_services(incident.id) if s != incident.service_id]
    services = [directory.services[s] for s in ids if s in directory.services]
    labels = [a.details.get("labels") or {} for a in store.alerts_of(incident.id)]
    return link_runbooks(services, incident.incident_type, labels, directory.runbooks)


def runbook_views(store: Store, directory: Directory, incident: Incident) -> list[RunbookView]:
    linked = linked_runbooks(store, directory, incident)
    texts = store.runbook_texts([r.file for r in linked])
    return [RunbookView(r.file, runbook_title(r.file, texts.get(r.file), r.title), r.reasons, texts.get(r.file))
            for r in linked]


def incident_runbooks(txs: Transactions, incident_id: int, client_id: str | None = None) -> list[RunbookView]:
    """Every runbook linked to the incident, with why and its Markdown."""
    with txs() as store:
        incident = store.incident(incident_id, client_id)
        if incident is None:
            raise NotFound(f"incident {incident_id} not found")
        return runbook_views(store, store.directory(), incident)
