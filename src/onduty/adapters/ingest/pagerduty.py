"""PagerDuty Events API v2: validate a request body and turn it into an AlertEvent.

Errors follow PagerDuty's shape: a list of messages, each naming the field at fault.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from onduty.domain.alerts import AlertEvent

ACTIONS = ("trigger", "acknowledge", "resolve")
SEVERITIES = ("critical", "error", "warning", "info")
OPTIONAL_TEXT = ("component", "group", "class")

class InvalidEvent(ValueError):
    def __init__(self, errors: list[str]):
        super().__init__("; ".join(errors))
        self.errors = errors

@dataclass(frozen=True)
class ParsedEvent:
    routing_key: str
    event: AlertEvent

def parse_timestamp(value: Any, field: str, errors: list[str]) -> datetime | None:
    if value is None:
        return None
    if not isinstance(value, str):
        errors.append(f"'{field}' must be an ISO 8601 string")
        return None
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        errors.append(f"'{field}' is not a valid ISO 8601 timestamp: {value!r}")
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)

def _text(obj: dict[str, Any], key: str, field: str, errors: list[str], *, required: bool,
          limit: int) -> str | None:
    value = obj.get(key)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            errors.append(f"'{field}' is missing or blank")
        return None
    if not isinstance(value, str):
        errors.append(f"'{field}' must be a string")
        return None
    if len(value) > limit:
        errors.append(f"'{field}' is longer than {limit} characters")
        return None
    return value

def _objects(body: dict[str, Any], key: str, required_field: str, errors: list[str]) -> list[dict[str, str]]:
    items = body.get(key) or []
    if not isinstance(items, list):
        errors.append(f"'{key}' must be an array")
        return []
    kept: list[dict[str, str]] = []
    for index, item in enumerate(items):
        if not isinstance(item, dict) or not isinstance(item.get(required_field), str):
            errors.append(f"'{key}[{index}].{required_field}' is missing or not a string")
            continue
        kept.append({k: str(v) for k, v in item.items() if isinstance(v, str | int | float)})
    return kept

def parse_event(body: Any) -> ParsedEvent:
    """Validate an Events v2 body; raise InvalidEvent listing every problem at once."""
    if not isinstance(body, dict):
        raise InvalidEvent(["the request body must be a JSON object"])
    errors: list[str] = []
    routing_key = _text(body, "routing_key", "routing_key", errors, required=True, limit=255)
    action = body.get("event_action")
    if action not in ACTIONS:
        errors.append(f"'event_action' must be one of {', '.join(ACTIONS)}; got {action!r}")
    dedup_key = _text(body, "dedup_key", "dedup_key", errors, required=action in ("acknowledge", "resolve"),
                      limit=255)
    links = _objects(body, "links", "href", errors) if body.get("links") else []
    images = _objects(body, "images", "src", errors) if body.get("images") else []
    payload = body.get("payload")
    summary = source = severity = None
    extras: dict[str, Any] = {}
    timestamp = None
    if action == "trigger":
        if not isinstance(payload, dict):
            errors.append("'payload' is missing or not an object")
        else:
            summary = _text(payload, "summary", "payload.summary", errors, required=True, limit=1024)
            source = _text(payload, "source", "payload.source", errors, required=True, limit=255)
            severity = payload.get("severity")
            if severity not in SEVERITIES:
                errors.append(f"'payload.severity' must be one of {', '.join(SEVERITIES)}; got {severity!r}")
            timestamp = parse_timestamp(payload.get("timestamp"), "payload.timestamp", errors)
            for key in OPTIONAL_TEXT:
                extras[key] = None if payload.get(key) is None else _text(
                    payload, key, f"payload.{key}", errors, required=False, limit=1024)
            details = payload.get("custom_details")
            extras["custom_details"] = details if isinstance(details, dict) else (
                {"details": details} if details is not None else {}
            )
    if errors:
        raise InvalidEvent(errors)
    assert routing_key is not None
    event = AlertEvent(
        action=action,  # type: ignore[arg-type]
        dedup_key=dedup_key or uuid.uuid4().hex,
        summary=summary or "",
        source=source or "",
        severity=severity or "error",
        timestamp=timestamp,
        component=extras.get("component"),
        group=extras.get("group"),
        event_class=extras.get("class"),
        custom_details=extras.get("custom_details", {}),
        links=links,
        images=images,
        client=body.get("client") if isinstance(body.get("client"), str) else None,
        client_url=body.get("client_url") if isinstance(body.get("client_url"), str) else None,
        labels=_labels(extras.get("custom_details", {}), source, severity, extras),
    )
    return ParsedEvent(routing_key, event)


def _labels(
    details: dict[str, Any], source: str | None, severity: str | None, extras: dict[str, Any]
) -> dict[str, str]:
    """What routing rules and silences match on: custom_details' plain values, then the payload's fields."""
    labels = {k: str(v) for k, v in details.items() if isinstance(v, str | int | float | bool) and len(k) <= 128}
    fields = {"source": source, "severity": severity, "component": extras.get("component"),
              "group": extras.get("group"), "class": extras.get("class")}
    labels.update({k: v for k, v in fields.items() if v})
    return labels


@dataclass(frozen=True)
class ParsedChange:
    routing_key: str
    summary: str
    source: str
    timestamp: datetime | None
    custom_details: dict[str, Any]
    links: list[dict[str, str]]


def parse_change_event(body: Any) -> ParsedChange:
    """Validate a change event (`POST /v2/change/enqueue`); raise InvalidEvent naming each bad field."""
    if not isinstance(body, dict):
        raise InvalidEvent(["the request body must be a JSON object"])
    errors: list[str] = []
    routing_key = _text(body, "routing_key", "routing_key", errors, required=True, limit=255)
    links = _objects(body, "links", "href", errors)
    payload = body.get("payload")
    summary = source = None
    timestamp = None
    details: dict[str, Any] = {}
    if not isinstance(payload, dict):
        errors.append("'payload' is missing or not an object")
    else:
        summary = _text(payload, "summary", "payload.summary", errors, required=True, limit=1024)
        source = _text(payload, "source", "payload.source", errors, required=False, limit=255)
        timestamp = parse_timestamp(payload.get("timestamp"), "payload.timestamp", errors)
        raw = payload.get("custom_details")
        if raw is not None and not isinstance(raw, dict):
            errors.append("'payload.custom_details' must be an object")
        details = raw if isinstance(raw, dict) else {}
    if errors:
        raise InvalidEvent(errors)
    assert routing_key is not None and summary is not None
    return ParsedChange(routing_key, summary, source or "", timestamp, details, links)
