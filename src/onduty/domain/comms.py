"""Client communications: the fields each message needs, their defaults, and the check before sending.

Pure: the caller brings the incident's facts, the filled-in fields and `now`. The check returns
findings, each with a code, the field it concerns and what to change; an empty list means "send it".
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

Kind = Literal["initial", "update", "resolution"]
KINDS: tuple[Kind, ...] = ("initial", "update", "resolution")
TIMELINE_KINDS: Mapping[str, str] = {
    "initial": "comms.initial", "update": "comms.update", "resolution": "comms.resolution",
}
KIND_NAMES: Mapping[str, str] = {
    "initial": "Initial notice", "update": "Status update", "resolution": "Resolution notice",
}


@dataclass(frozen=True)
class FieldSpec:
    name: str
    label: str
    hint: str


_NOTICE_FIELDS = (
    FieldSpec("affected_system", "affected system", "name the system the client sees failing"),
    FieldSpec("what_is_known", "what is known", "say plainly what is wrong and since when"),
    FieldSpec("what_is_being_done", "what is being done", "say what the team is doing right now"),
    FieldSpec("next_update_at", "next update", "give the clock time of the next update, e.g. 19:30"),
    FieldSpec("contact_person", "contact person", "name who the client can call or write to"),
)
REQUIRED: Mapping[str, tuple[FieldSpec, ...]] = {
    "initial": _NOTICE_FIELDS,
    "update": _NOTICE_FIELDS,
    "resolution": (
        FieldSpec("resolved_at", "time resolved", "give the time service was back to normal"),
        FieldSpec("root_cause", "root cause", "explain the cause in plain words, without jargon"),
        FieldSpec("fix", "fix", "say what was changed to restore service"),
        FieldSpec("monitoring", "monitoring", "say what is being watched, and for how long"),
        FieldSpec("review", "review", "say when the post-incident review happens and what the client gets"),
    ),
}


@dataclass(frozen=True)
class BannedPhrase:
    """A phrase a client message must not contain; `unless_next_step` allows it beside a stated next step."""

    phrase: str
    why: str
    unless_next_step: bool = False


DEFAULT_BANNED: tuple[BannedPhrase, ...] = (
    BannedPhrase("not sure what happened",
                 "uncertainty without a plan worries a client; say what you are doing to find out, "
                 "e.g. 'we are still finding the cause and will check the feed next'", unless_next_step=True),
    BannedPhrase("should not have happened",
                 "it reads as blame and says nothing; describe what happened and what changes now"),
    BannedPhrase("probably minor",
                 "guessing at impact undermines trust; state the measured impact or that it is being measured"),
)
NEXT_STEP_CUES = ("we will", "we'll", "next step", "next we", "we are going to", "we're going to", "we are now",
                  "we're now", "we are checking", "we're checking")
PLACEHOLDERS = re.compile(r"\b(TBD|TODO|XXX|FIXME)\b|\?\?\?|<[^<>\n]{1,40}>|\[\s*\.\.\.\s*\]")
VAGUE_TIMES = ("soon", "later", "shortly", "asap", "tbd", "when we know more", "in due course", "eod")
_CLOCK = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")


@dataclass(frozen=True)
class Finding:
    code: str
    field: str
    message: str


@dataclass(frozen=True)
class Audience:
    """Who receives a message at one severity: the client's contacts, and the named internal roles."""

    client_contacts: bool
    roles: tuple[str, ...] = ()
    people: tuple[str, ...] = ()


DEFAULT_AUDIENCE: Mapping[int, Audience] = {
    1: Audience(True, ("account_manager", "delivery_lead", "tech_lead")),
    2: Audience(True, ("account_manager", "delivery_lead")),
    3: Audience(True, ("account_manager",)),
    4: Audience(False, ("account_manager",)),
}


@dataclass(frozen=True)
class TemplateSource:
    """A message template: `name` for error messages (a file path or 'default:initial'), and its text."""

    name: str
    text: str


@dataclass(frozen=True)
class CommsPolicy:
    """The plan's `communications:` section; empty mappings mean onduty's defaults."""

    templates: Mapping[str, TemplateSource] = field(default_factory=dict)
    banned: tuple[BannedPhrase, ...] = DEFAULT_BANNED
    audience: Mapping[int, Audience] = field(default_factory=lambda: dict(DEFAULT_AUDIENCE))
    organization: str = ""  # who signs the messages

    def audience_for(self, severity: int) -> Audience:
        return self.audience.get(severity, DEFAULT_AUDIENCE.get(severity, Audience(False)))


def parse_kind(text: str) -> Kind:
    for kind in KINDS:
        if text == kind:
            return kind
    raise ValueError(f"kind {text!r} is not one of {', '.join(KINDS)}")


def parse_time(value: str, now: datetime, time_zone: str) -> datetime | None:
    """A specific time: ISO 8601 (naive read in `time_zone`) or HH:MM today in `time_zone`; else None."""
    text = value.strip()
    zone = ZoneInfo(time_zone)
    clock = _CLOCK.match(text)
    if clock:
        local = now.astimezone(zone)
        return local.replace(hour=int(clock.group(1)), minute=int(clock.group(2)), second=0, microsecond=0)
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=zone)


def format_time(when: datetime, time_zone: str) -> str:
    """`Fri 20 Nov, 19:30 CST`: a time a client reads without converting."""
    return when.astimezone(ZoneInfo(time_zone)).strftime("%a %d %b, %H:%M %Z")


def _next_update_findings(value: str, now: datetime, time_zone: str, update_every: timedelta | None
                          ) -> list[Finding]:
    text = value.strip()
    if not text:
        return []
    if text.lower() in VAGUE_TIMES or text.lower().startswith(("in ", "within ")):
        return [Finding("next_update_not_specific", "next_update_at",
                        f"{text!r} is not a time the client can plan around; give a clock time such as 19:30 "
                        "or 2026-11-20T19:30")]
    when = parse_time(text, now, time_zone)
    if when is None:
        return [Finding("next_update_not_specific", "next_update_at",
                        f"{text!r} is not a time onduty can read; write HH:MM (in {time_zone}) "
                        "or an ISO 8601 time like 2026-11-20T19:30-06:00")]
    if when <= now:
        return [Finding("next_update_in_past", "next_update_at",
                        f"{format_time(when, time_zone)} has already passed (now {format_time(now, time_zone)}); "
                        "promise a time still ahead")]
    if update_every is not None and when > now + update_every:
        return [Finding("next_update_too_late", "next_update_at",
                        f"{format_time(when, time_zone)} is later than the policy allows: updates are due every "
                        f"{int(update_every.total_seconds() // 60)} min, so by "
                        f"{format_time(now + update_every, time_zone)}")]
    return []


def _banned_findings(fields: Mapping[str, str], rendered: str, banned: Sequence[BannedPhrase]) -> list[Finding]:
    found: list[Finding] = []
    places = [*fields.items(), ("message", rendered)]
    for rule in banned:
        needle = rule.phrase.lower()
        for name, text in places:
            lowered = text.lower()
            if needle not in lowered:
                continue
            if rule.unless_next_step and any(cue in lowered for cue in NEXT_STEP_CUES):
                continue
            found.append(Finding("banned_phrase", name, f"contains {rule.phrase!r}: {rule.why}"))
            break  # once per phrase: the field it was typed in, else the template
    return found


def check_message(
    kind: Kind, fields: Mapping[str, str], rendered: str, now: datetime, time_zone: str,
    banned: Sequence[BannedPhrase] = DEFAULT_BANNED, update_every: timedelta | None = None,
) -> list[Finding]:
    """Every reason not to send this message yet; `rendered` is the subject and body as the client reads them."""
    findings: list[Finding] = []
    for spec in REQUIRED[kind]:
        if not fields.get(spec.name, "").strip():
            findings.append(Finding("missing_field", spec.name, f"{spec.label} is empty: {spec.hint}"))
    for name, text in fields.items():
        match = PLACEHOLDERS.search(text)
        if match:
            findings.append(Finding("placeholder", name,
                                    f"still holds the placeholder {match.group(0)!r}: replace it with the real text"))
    findings += _banned_findings(fields, rendered, banned)
    if kind != "resolution":
        findings += _next_update_findings(fields.get("next_update_at", ""), now, time_zone, update_every)
    elif fields.get("resolved_at", "").strip() and parse_time(fields["resolved_at"], now, time_zone) is None:
        findings.append(Finding("resolved_at_not_a_time", "resolved_at",
                                f"{fields['resolved_at']!r} is not a time; write HH:MM or an ISO 8601 time"))
    return findings


def default_fields(
    kind: Kind, *, service_name: str, contact: str, now: datetime, time_zone: str,
    update_every: timedelta | None, resolved_at: datetime | None, review_due: timedelta | None,
) -> dict[str, str]:
    """Fields onduty can fill from the incident and the policy; people write the rest."""
    if kind == "resolution":
        local = resolved_at.astimezone(ZoneInfo(time_zone)) if resolved_at else None
        fields = {"resolved_at": local.isoformat(timespec="minutes") if local else ""}
        if review_due is not None and resolved_at is not None:
            fields["review"] = (f"We will share a written post-incident review by "
                                f"{format_time(resolved_at + review_due, time_zone)}, with the actions we are taking "
                                "so this does not happen again.")
        return fields
    fields = {"affected_system": service_name, "contact_person": contact}
    if update_every is not None:
        due = now + update_every  # the latest time the policy allows, on a five-minute mark
        due = due.replace(minute=due.minute - due.minute % 5, second=0, microsecond=0)
        fields["next_update_at"] = due.astimezone(ZoneInfo(time_zone)).isoformat(timespec="minutes")
    return fields


@dataclass
class SentMessage:
    """A message as it was sent: the rendered text, the check's findings, who it went to, any override."""

    incident_id: int
    kind: str
    subject: str
    body: str
    fields: dict[str, str]
    findings: list[dict[str, str]]
    recipients: list[dict[str, str]]
    client_visible: bool
    sent_by: str
    sent_at: datetime
    override_reason: str | None = None
    id: int | None = None
