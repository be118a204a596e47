"""Prometheus Alertmanager webhooks (version "4") and Grafana's (version "1", with orgId and state).

Each alert becomes an event keyed by its fingerprint (or, without one, a hash of its labels) inside
its group: the same alert sent again — Alertmanager repeats whole groups on purpose — lands on the
same key and changes nothing but a counter. Labels and annotations are kept in the alert's details.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any

from onduty.adapters.ingest.pagerduty import InvalidEvent
from onduty.domain.alerts import AlertEvent, labels_hash

ZERO_TIME = "0001-01-01T00:00:00Z"
SUMMARY_ANNOTATIONS = ("summary", "description", "message")
LINK_FIELDS = (("generatorURL", "Source"), ("dashboardURL", "Dashboard"), ("panelURL", "Panel"),
               ("silenceURL", "Silence in Grafana"))
DETAIL_FIELDS = ("startsAt", "endsAt", "generatorURL", "fingerprint", "dashboardURL", "panelURL",
                 "silenceURL", "valueString", "values", "imageURL")
WEBHOOK_FIELDS = ("receiver", "groupKey", "externalURL", "orgId", "truncatedAlerts")
STRINGS = frozenset({str})


def _time(value: Any, i: int, field: str, errors: list[str], seen: dict[str, datetime | None]) -> datetime | None:
    """`alerts[i].field` as an aware time (None when unset); each distinct text is parsed once per webhook."""
    if value is None:
        return None
    if not isinstance(value, str):
        errors.append(f"'alerts[{i}].{field}' must be an RFC 3339 time string")
        return None
    if value in seen:  # the alerts of one webhook mostly share their times ("" and the zero time: unset)
        return seen[value]
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        errors.append(f"'alerts[{i}].{field}' is not an RFC 3339 time: {value!r}")
        return None
    found = seen[value] = parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return found


def _strings(value: Any, i: int, field: str, errors: list[str]) -> dict[str, str]:
    """`alerts[i].field` as an object of strings (empty when unset)."""
    if value is None:
        return {}
    # the types of all keys and values at once, in C: a hundred alerts' labels are checked in microseconds
    if not isinstance(value, dict) or not STRINGS.issuperset(map(type, value)) or \
            not STRINGS.issuperset(map(type, value.values())):
        errors.append(f"'alerts[{i}].{field}' must be an object of string values")
        return {}
    return value


def _summary(labels: dict[str, str], annotations: dict[str, str]) -> str:
    for name in SUMMARY_ANNOTATIONS:
        if annotations.get(name, "").strip():
            return annotations[name].strip()[:1024]
    where = labels.get("instance") or labels.get("job") or labels.get("service") or ""
    name = labels.get("alertname", "alert")
    return f"{name} on {where}" if where else name


def parse_webhook(body: Any) -> list[AlertEvent]:
    """Validate a webhook body; raise InvalidEvent listing every problem, each naming its field."""
    if not isinstance(body, dict):
        raise InvalidEvent(["the request body must be a JSON object"])
    errors: list[str] = []
    version = body.get("version")
    grafana = version == "1" or "orgId" in body
    if version not in ("4", "1"):
        errors.append(f"'version' must be \"4\" (Alertmanager) or \"1\" (Grafana); got {version!r}")
    group = body.get("groupKey")
    if group is not None and not isinstance(group, str):
        errors.append("'groupKey' must be a string")
        group = None
    alerts = body.get("alerts")
    if not isinstance(alerts, list):
        errors.append("'alerts' must be an array")
        alerts = []
    group_part = hashlib.sha256((group or "").encode()).hexdigest()[:16]
    origin = "grafana" if grafana else "alertmanager"
    shared = {k: body[k] for k in WEBHOOK_FIELDS if body.get(k) not in (None, "")}  # the same in every alert
    times: dict[str, datetime | None] = {"": None, ZERO_TIME: None}
    events: list[AlertEvent] = []
    for i, alert in enumerate(alerts):
        if not isinstance(alert, dict):
            errors.append(f"'alerts[{i}]' must be an object")
            continue
        status = alert.get("status")
        if status not in ("firing", "resolved"):
            errors.append(f"'alerts[{i}].status' must be firing or resolved; got {status!r}")
        labels = _strings(alert.get("labels"), i, "labels", errors)
        annotations = _strings(alert.get("annotations"), i, "annotations", errors)
        starts = _time(alert.get("startsAt"), i, "startsAt", errors, times)
        _time(alert.get("endsAt"), i, "endsAt", errors, times)
        fingerprint = alert.get("fingerprint")
        if fingerprint is not None and (not isinstance(fingerprint, str) or len(fingerprint) > 128):
            errors.append(f"'alerts[{i}].fingerprint' must be a string of at most 128 characters")
            fingerprint = None
        details = {name: alert[name] for name in DETAIL_FIELDS if alert.get(name) not in (None, "")}
        links = [{"href": details[name], "text": text} for name, text in LINK_FIELDS
                 if isinstance(details.get(name), str) and details[name].startswith(("http://", "https://"))]
        details.update(shared)
        events.append(AlertEvent(
            action="trigger" if status == "firing" else "resolve",
            dedup_key=f"am:{group_part}:{fingerprint or labels_hash(labels)}",
            summary=_summary(labels, annotations),
            source=(labels.get("instance") or labels.get("job") or origin)[:255],
            severity=(labels.get("severity") or "error").lower()[:16],
            timestamp=starts, group=group or None, custom_details=details, links=links,
            labels=labels, annotations=annotations,
        ))
    if errors:
        raise InvalidEvent(errors)
    return events
