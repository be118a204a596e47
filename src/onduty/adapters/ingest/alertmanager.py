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


def _time(value: Any, field: str, errors: list[str]) -> datetime | None:
    if value in (None, "", ZERO_TIME):
        return None
    if not isinstance(value, str):
        errors.append(f"'{field}' must be an RFC 3339 time string")
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        errors.append(f"'{field}' is not an RFC 3339 time: {value!r}")
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _strings(value: Any, field: str, errors: list[str]) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
        errors.append(f"'{field}' must be an object of string values")
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
    events: list[AlertEvent] = []
    for i, alert in enumerate(alerts):
        where = f"alerts[{i}]"
        if not isinstance(alert, dict):
            errors.append(f"'{where}' must be an object")
            continue
        status = alert.get("status")
        if status not in ("firing", "resolved"):
            errors.append(f"'{where}.status' must be firing or resolved; got {status!r}")
        labels = _strings(alert.get("labels"), f"{where}.labels", errors)
        annotations = _strings(alert.get("annotations"), f"{where}.annotations", errors)
        starts = _time(alert.get("startsAt"), f"{where}.startsAt", errors)
        _time(alert.get("endsAt"), f"{where}.endsAt", errors)
        fingerprint = alert.get("fingerprint")
        if fingerprint is not None and (not isinstance(fingerprint, str) or len(fingerprint) > 128):
            errors.append(f"'{where}.fingerprint' must be a string of at most 128 characters")
            fingerprint = None
        links = [{"href": alert[name], "text": text} for name, text in LINK_FIELDS
                 if isinstance(alert.get(name), str) and alert[name].startswith(("http://", "https://"))]
        details = {name: alert[name] for name in DETAIL_FIELDS if alert.get(name) not in (None, "")}
        details.update({k: body[k] for k in ("receiver", "groupKey", "externalURL", "orgId", "truncatedAlerts")
                        if body.get(k) not in (None, "")})
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
