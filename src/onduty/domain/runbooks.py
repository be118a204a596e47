"""Which runbooks an incident shows, and why: by its services, its type and its alerts' labels."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from onduty.domain.matchers import Matcher, match_all
from onduty.domain.model import Service


@dataclass(frozen=True)
class RunbookLink:
    """One entry of the plan's `runbooks` section: shown when every criterion given holds."""

    file: str
    title: str | None = None
    services: tuple[str, ...] = ()
    types: tuple[str, ...] = ()
    match: tuple[Matcher, ...] = field(default=(), compare=False)


@dataclass(frozen=True)
class LinkedRunbook:
    file: str
    title: str | None
    reasons: tuple[str, ...]


def _title(markdown: str) -> str | None:
    """The first Markdown heading, without its hashes."""
    for line in markdown.splitlines():
        if line.startswith("#"):
            return line.lstrip("#").strip() or None
    return None


def runbook_title(file: str, markdown: str | None, given: str | None = None) -> str:
    """The plan's title, else the file's first heading, else the file name."""
    return given or (_title(markdown) if markdown else None) or file.rsplit("/", 1)[-1]


def link_runbooks(
    services: Sequence[Service], incident_type: str, alert_labels: Sequence[Mapping[str, str]],
    links: Sequence[RunbookLink],
) -> list[LinkedRunbook]:
    """Runbooks for an incident on `services` (origin first), in the order found, each with its reasons."""
    found: dict[str, tuple[str | None, list[str]]] = {}

    def add(file: str, title: str | None, reason: str) -> None:
        entry = found.setdefault(file, (title, []))
        if reason not in entry[1]:
            entry[1].append(reason)
        if title and not entry[0]:
            found[file] = (title, entry[1])

    for service in services:
        for file in service.runbooks:
            add(file, None, f"runbook of service {service.id}")
    ids = [s.id for s in services]
    for link in links:
        reasons: list[str] = []
        if link.services:
            hit = next((s for s in ids if s in link.services), None)
            if hit is None:
                continue
            reasons.append(f"service {hit}")
        if link.types:
            if incident_type not in link.types:
                continue
            reasons.append(f"type {incident_type}")
        if link.match:
            if not any(match_all(link.match, labels) for labels in alert_labels):
                continue
            reasons.append("alert labels " + ", ".join(str(m) for m in link.match))
        add(link.file, link.title, " and ".join(reasons))
    return [LinkedRunbook(file, title, tuple(reasons)) for file, (title, reasons) in found.items()]
