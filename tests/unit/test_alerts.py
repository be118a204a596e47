"""Alert dedup rules (PagerDuty Events v2 semantics) and the labels hash used as a fallback key."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from onduty.domain.alerts import Alert, AlertStatus, Decision, EventAction, decide, labels_hash

T0 = datetime(2026, 1, 6, 12, 0, tzinfo=UTC)


def open_alert(status: AlertStatus) -> Alert:
    return Alert("recs-model", "key-1", "drift", "detector", "error", T0, T0, status=status)


@pytest.mark.parametrize(
    ("action", "existing", "expected"),
    [
        ("trigger", None, Decision.OPEN),
        ("trigger", "triggered", Decision.DEDUPLICATE),
        ("trigger", "acknowledged", Decision.DEDUPLICATE),
        ("acknowledge", None, Decision.DROP),
        ("acknowledge", "triggered", Decision.ACKNOWLEDGE),
        ("acknowledge", "acknowledged", Decision.DROP),
        ("resolve", None, Decision.DROP),
        ("resolve", "triggered", Decision.RESOLVE),
        ("resolve", "acknowledged", Decision.RESOLVE),
    ],
)
def test_event_decision_depends_on_the_open_alert_with_its_key(
    action: EventAction, existing: AlertStatus | None, expected: Decision
) -> None:
    alert = open_alert(existing) if existing else None
    assert decide(action, alert) is expected


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ({"alertname": "Drift", "service": "recs"}, {"service": "recs", "alertname": "Drift"}),
        (
            {"a": "1", "b": "2", "c": "3", "é": "ü"},
            {"é": "ü", "c": "3", "a": "1", "b": "2"},
        ),
        ({}, {}),
    ],
)
def test_labels_hash_ignores_key_order(first: dict[str, str], second: dict[str, str]) -> None:
    assert labels_hash(first) == labels_hash(second)


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ({"alertname": "Drift"}, {"alertname": "drift"}),  # values are case-sensitive
        ({"alertname": "Drift"}, {"alertname": "Drift", "env": "prod"}),  # an extra label matters
        ({"a": "b"}, {"b": "a"}),  # keys and values are not interchangeable
        ({"a": "1", "b": "2"}, {"a": "12"}),
    ],
)
def test_labels_hash_differs_for_different_labels(first: dict[str, str], second: dict[str, str]) -> None:
    assert labels_hash(first) != labels_hash(second)


def test_labels_hash_is_a_fixed_length_hex_key_stable_across_calls() -> None:
    labels = {"alertname": "HighErrorRate", "service": "recs-api"}
    key = labels_hash(labels)
    assert key == labels_hash(dict(labels))
    assert len(key) == 32
    assert int(key, 16) >= 0  # hexadecimal
