"""Alertmanager webhooks parsed into events: times read once per distinct text, errors per alert."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from onduty.adapters.ingest.alertmanager import parse_webhook
from onduty.adapters.ingest.pagerduty import InvalidEvent


def _alert(n: int, starts: object) -> dict[str, object]:
    return {"status": "firing", "labels": {"alertname": "DiskFull", "pod": f"p{n}"}, "startsAt": starts,
            "endsAt": "0001-01-01T00:00:00Z", "fingerprint": f"f{n}"}


def test_each_alert_keeps_its_own_start_time_when_some_share_one() -> None:
    body = {"version": "4", "groupKey": "g", "receiver": "onduty",
            "alerts": [_alert(0, "2026-11-20T23:40:00Z"), _alert(1, "2026-11-20T23:41:00Z"),
                       _alert(2, "2026-11-20T23:40:00Z"), _alert(3, "0001-01-01T00:00:00Z")]}
    events = parse_webhook(body)
    assert [e.timestamp for e in events] == [
        datetime(2026, 11, 20, 23, 40, tzinfo=UTC), datetime(2026, 11, 20, 23, 41, tzinfo=UTC),
        datetime(2026, 11, 20, 23, 40, tzinfo=UTC), None]
    assert all(e.custom_details["receiver"] == "onduty" and e.custom_details["groupKey"] == "g" for e in events)
    assert events[0].custom_details is not events[2].custom_details  # each alert's details are its own


def test_a_bad_time_shared_by_several_alerts_is_reported_for_each() -> None:
    body = {"version": "4", "alerts": [_alert(0, "yesterday"), _alert(1, "yesterday"), _alert(2, {"at": 1})]}
    with pytest.raises(InvalidEvent) as refused:
        parse_webhook(body)
    assert refused.value.errors == [
        "'alerts[0].startsAt' is not an RFC 3339 time: 'yesterday'",
        "'alerts[1].startsAt' is not an RFC 3339 time: 'yesterday'",
        "'alerts[2].startsAt' must be an RFC 3339 time string",
    ]


def test_labels_with_a_value_that_is_not_text_are_refused_naming_the_alert() -> None:
    alert = {**_alert(1, None), "labels": {"alertname": "DiskFull", "replicas": 3}}
    with pytest.raises(InvalidEvent) as refused:
        parse_webhook({"version": "4", "alerts": [_alert(0, None), alert]})
    assert refused.value.errors == ["'alerts[1].labels' must be an object of string values"]
