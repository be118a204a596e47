"""Matchers, routing, classification, silences, maintenance windows and the dependency chain, as tables."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest

from onduty.domain.matchers import BadMatcher, parse_matcher, parse_matchers
from onduty.domain.model import Restriction, Service
from onduty.domain.routing import AlertPolicy, ClassificationRule, RoutingRule, classify, route
from onduty.domain.severity import Severity, SeverityPolicy
from onduty.domain.suppression import MaintenanceWindow, Silence, suppressed_by, upstream

LABELS = {"alertname": "HighLatency", "env": "prod", "job": "recs-api", "empty": ""}
T0 = datetime(2026, 11, 22, 8, 30, tzinfo=UTC)  # a Sunday: 02:30 in Chicago


@pytest.mark.parametrize(("text", "expected"), [
    ('alertname="HighLatency"', True),
    ("alertname=HighLatency", True),
    ('env!="dev"', True),
    ('env!="prod"', False),
    ('job=~"recs-.*"', True),
    ('job=~"recs"', False),  # anchored: a full match, as in Alertmanager
    ('job!~"feed-.*"', True),
    ("env", True),
    ("empty", False),  # an empty label does not exist
    ("!team", True),
    ("!env", False),
    ('team=""', True),  # a missing label reads as empty
])
def test_matcher_forms(text: str, expected: bool) -> None:
    assert parse_matcher(text).matches(LABELS) is expected


@pytest.mark.parametrize("text", ["", "=x", "a=~\"(\"", "1abc=x", "a b"])
def test_bad_matchers_are_refused_with_the_accepted_forms(text: str) -> None:
    with pytest.raises(BadMatcher):
        parse_matcher(text)


def test_matcher_text_round_trips() -> None:
    for text in ('env="prod"', 'job=~"a|b"', "team", "!team", 'x!="y"'):
        assert str(parse_matcher(str(parse_matcher(text)))) == str(parse_matcher(text))


POLICY = AlertPolicy(
    routes=(
        RoutingRule("only-from-cluster", parse_matchers(['ns="tidewater"']), "eta-model", frozenset({"cluster"})),
        RoutingRule("api", parse_matchers(['job=~"recs-.*"']), "recs-api"),
    ),
    classes=(
        ClassificationRule("latency is availability", parse_matchers(["alertname=~.*Latency"]),
                           incident_type="api_availability"),
        ClassificationRule("prod is sev1", parse_matchers(['env="prod"']), severity=Severity.SEV1),
        ClassificationRule("never reached for type", parse_matchers(["env"]), incident_type="security"),
    ),
)


@pytest.mark.parametrize(("labels", "key_service", "service", "rule"), [
    ({"job": "recs-api"}, "cluster", "recs-api", "api"),
    ({"ns": "tidewater"}, "cluster", "eta-model", "only-from-cluster"),
    ({"ns": "tidewater"}, "recs-model", "recs-model", None),  # the rule is for the cluster key only
    ({"job": "other"}, "catalog-feed", "catalog-feed", None),
])
def test_routing_picks_the_first_matching_rule_else_the_keys_service(
    labels: dict[str, str], key_service: str, service: str, rule: str | None
) -> None:
    found = route(POLICY, labels, key_service)
    assert (found.service_id, found.rule) == (service, rule)
    assert ("the integration key's service" in found.note) is (rule is None)


def test_classification_takes_each_attribute_from_the_first_rule_that_sets_it() -> None:
    found = classify(POLICY, SeverityPolicy(), LABELS, "recs-api", "api", "warning")
    assert found.severity is Severity.SEV1 and found.severity_rule == "prod is sev1"
    assert found.incident_type == "api_availability" and found.type_rule == "latency is availability"


@pytest.mark.parametrize(("kind", "expected"), [
    ("model", "model_degradation"), ("pipeline", "pipeline_failure"), ("feed", "pipeline_failure"),
    ("api", "api_availability"), ("dashboard", "other"),
])
def test_classification_defaults_come_from_the_event_and_the_service_kind(kind: str, expected: str) -> None:
    found = classify(AlertPolicy(), SeverityPolicy(), {}, "s", kind, "warning")
    assert found.severity is Severity.SEV3 and found.incident_type == expected
    assert "from the event's severity" in found.note and "the service's kind" in found.note


SERVICE = Service("recs-model", "Recs", "northwind", "model", "ml", depends_on=("catalog-feed",))


@pytest.mark.parametrize(("offset", "expired", "state"), [
    (timedelta(hours=-1), None, "active"),
    (timedelta(hours=1), None, "pending"),
    (timedelta(hours=-3), None, "expired"),
    (timedelta(hours=-1), T0 - timedelta(minutes=1), "expired"),
])
def test_silence_state_follows_its_span_and_early_expiry(
    offset: timedelta, expired: datetime | None, state: str
) -> None:
    silence = Silence(parse_matchers(["env=prod"]), T0 + offset, T0 + offset + timedelta(hours=2), "aiko", "x",
                      expired_at=expired)
    assert silence.state(T0) == state
    assert silence.applies("recs-model", LABELS, T0) is (state == "active")


def test_silence_scoped_to_a_service_leaves_others_alone() -> None:
    silence = Silence((), T0 - timedelta(hours=1), T0 + timedelta(hours=1), "aiko", "x", service_id="recs-api")
    assert suppressed_by(SERVICE, "UTC", LABELS, T0, [silence], []) is None


SUNDAY_NIGHT = Restriction(frozenset({6}), time(2, 0), time(4, 0))


@pytest.mark.parametrize(("at", "zone", "held"), [
    (T0, None, True),  # 02:30 Sunday in the client's zone (Chicago)
    (T0 + timedelta(hours=2), None, False),  # 04:30 Chicago
    (T0, "UTC", False),  # 08:30 Sunday UTC: outside when read in UTC
    (T0 - timedelta(days=1), None, False),  # Saturday
])
def test_maintenance_window_is_read_in_the_clients_zone(at: datetime, zone: str | None, held: bool) -> None:
    window = MaintenanceWindow("sunday-reindex", SUNDAY_NIGHT, clients=frozenset({"northwind"}), time_zone=zone)
    reason = suppressed_by(SERVICE, "America/Chicago", LABELS, at, [], [window])
    assert (reason == "maintenance window 'sunday-reindex'") is held


def test_maintenance_window_scoped_to_other_services_does_not_apply() -> None:
    window = MaintenanceWindow("w", SUNDAY_NIGHT, services=frozenset({"recs-api"}))
    assert suppressed_by(SERVICE, "America/Chicago", LABELS, T0, [], [window]) is None


def test_upstream_is_transitive_nearest_first_and_survives_cycles() -> None:
    services = {
        "api": Service("api", "api", "c", "api", "p", depends_on=("model",)),
        "model": Service("model", "m", "c", "model", "p", depends_on=("feed", "api")),
        "feed": Service("feed", "f", "c", "feed", "p"),
    }
    assert upstream(services, "api") == ["model", "feed"]
    assert upstream(services, "feed") == []
