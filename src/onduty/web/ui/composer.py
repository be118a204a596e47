"""The incident page's composer for client messages: the chosen template's fields, the check's findings, who gets it.

Built from `app.comms.draft`, so the console fills and checks a message exactly as the CLI and the API do.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from fastapi import Request

from onduty.app.comms import OPTIONAL_FIELDS, STRICT_SEVERITIES, Draft, draft
from onduty.domain.comms import KIND_NAMES, KINDS, REQUIRED, Finding, Kind, parse_kind
from onduty.domain.incidents import Incident
from onduty.plan.comms_templates import TemplateFailed

OPTIONAL_LABELS = {
    "impact": ("Impact on the client (optional)", "what the client's users notice, measured if you can"),
    "workaround": ("Workaround (optional)", "what the client can do meanwhile"),
    "client_action": ("What we need from the client (optional)", "anything their team should do or send"),
}
SHORT_FIELDS = ("affected_system", "next_update_at", "contact_person", "resolved_at")
OPTIONAL_BY_KIND: Mapping[str, tuple[str, ...]] = {
    "initial": OPTIONAL_FIELDS, "update": OPTIONAL_FIELDS, "resolution": ("client_action",),
}
FIELD_PREFIX = "f_"


@dataclass(frozen=True)
class FieldView:
    """One control of the composer: its label, hint, the value to show and what the check said about it."""

    name: str
    label: str
    hint: str
    value: str
    required: bool
    short: bool
    findings: list[str] = field(default_factory=list)

    @property
    def id(self) -> str:
        return f"{FIELD_PREFIX}{self.name}"


def default_kind(incident: Incident, sent_kinds: set[str]) -> Kind:
    """Resolution once the incident is resolved; an update once the initial notice went; else the initial notice."""
    if not incident.is_open:
        return "resolution"
    return "update" if "initial" in sent_kinds else "initial"


def kind_from(text: str, fallback: Kind) -> Kind:
    return parse_kind(text) if text else fallback


def _fields(kind: Kind, values: Mapping[str, str], findings: list[Finding]) -> list[FieldView]:
    by_field: dict[str, list[str]] = {}
    for f in findings:
        by_field.setdefault(f.field, []).append(f.message)
    views = [FieldView(spec.name, spec.label.capitalize(), spec.hint.capitalize(), values.get(spec.name, ""),
                       True, spec.name in SHORT_FIELDS, by_field.get(spec.name, []))
             for spec in REQUIRED[kind]]
    for name in OPTIONAL_BY_KIND[kind]:
        label, hint = OPTIONAL_LABELS[name]
        views.append(FieldView(name, label, hint.capitalize(), values.get(name, ""), False, False,
                               by_field.get(name, [])))
    return views


def composer(request: Request, incident: Incident, kind: Kind, given: Mapping[str, str] | None = None, *,
             checked: bool = False, error: str = "", override_reason: str = "", sent: str = "") -> dict[str, Any]:
    """The composer's view; `given` are the fields as typed (None: onduty's defaults), `checked` shows findings."""
    container = request.app.state.container
    assert incident.id is not None
    made: Draft | None = None
    try:
        made = draft(container.db, incident.id, kind, given or {}, container.clock.now(),
                     link_base=container.settings.public_url)
    except (ValueError, TemplateFailed) as exc:  # bad input: show it as typed, with what is wrong
        error = error or str(exc)
    if made is None:
        fallback = draft(container.db, incident.id, kind, {}, container.clock.now(),
                         link_base=container.settings.public_url)
        values = {**fallback.fields, **(given or {})}
        findings: list[Finding] = []
        recipients, unreachable = fallback.recipients, fallback.unreachable
    else:
        values = made.fields
        findings = made.findings if checked else []
        recipients, unreachable = made.recipients, made.unreachable
    field_names = {spec.name for spec in REQUIRED[kind]} | set(OPTIONAL_BY_KIND[kind])
    return {"composer": {
        "kind": kind, "kinds": [(k, KIND_NAMES[k]) for k in KINDS], "kind_name": KIND_NAMES[kind],
        "fields": _fields(kind, values, findings), "checked": checked and made is not None,
        "findings": findings, "general": [f for f in findings if f.field not in field_names],
        "subject": made.subject if made and checked else "", "body": made.body if made and checked else "",
        "recipients": [r.as_dict() for r in recipients], "unreachable": unreachable,
        "strict": incident.severity in STRICT_SEVERITIES, "override_reason": override_reason,
        "error": error, "sent": sent,
    }}
