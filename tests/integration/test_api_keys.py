"""API keys: a visible prefix, stored hashed, expiry, revocation, last use written at most once a minute,
and rate limits per key and per client."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from onduty.adapters.clock import SimulatedClock
from onduty.adapters.db import tables as t
from onduty.app.keys import create_api_key, hash_key, list_api_keys, revoke_api_key
from onduty.bootstrap import Container
from onduty.web.app import create_app


@pytest.fixture
def http(planned: Container) -> Iterator[TestClient]:
    with TestClient(create_app(planned)) as client:
        yield client


def auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def test_a_key_is_random_shows_only_its_prefix_and_is_stored_hashed(planned: Container) -> None:
    key = create_api_key(planned.db, "viewer", "northwind", planned.clock.now())
    assert key.startswith("od_live_") and len(key) == len("od_live_") + 43  # 256 random bits, base64url
    listed = list_api_keys(planned.db)
    assert [k.prefix for k in listed] == [key[:12]]
    with planned.db.session() as session:
        stored = session.execute(select(t.api_keys)).one()
    assert stored.key_hash == hash_key(key) and key not in str(tuple(stored))


def test_an_expired_key_is_refused_saying_when_it_expired(
    http: TestClient, planned: Container, clock: SimulatedClock,
) -> None:
    key = create_api_key(planned.db, "viewer", None, clock.now(), expires_at=clock.now() + timedelta(days=90))
    assert http.get("/api/v1/incidents", headers=auth(key)).status_code == 200
    clock.advance(timedelta(days=90, seconds=1))
    refused = http.get("/api/v1/incidents", headers=auth(key))
    assert refused.status_code == 401 and "expired at" in refused.json()["detail"]


def test_a_revoked_key_stops_working(http: TestClient, planned: Container) -> None:
    key = create_api_key(planned.db, "viewer", None, planned.clock.now())
    revoked = revoke_api_key(planned.db, key[:12], "ops", planned.clock.now())
    assert revoked.revoked_at is not None
    refused = http.get("/api/v1/incidents", headers=auth(key))
    assert refused.status_code == 401 and "revoked" in refused.json()["detail"]


def test_last_use_is_recorded_but_not_on_every_request(
    http: TestClient, planned: Container, clock: SimulatedClock,
) -> None:
    key = create_api_key(planned.db, "viewer", None, clock.now())
    assert list_api_keys(planned.db)[0].last_used_at is None
    http.get("/api/v1/incidents", headers=auth(key))
    first = list_api_keys(planned.db)[0].last_used_at
    assert first == clock.now()
    clock.advance(timedelta(seconds=20))
    http.get("/api/v1/incidents", headers=auth(key))
    assert list_api_keys(planned.db)[0].last_used_at == first  # within the minute: no write


def test_a_key_past_its_rate_gets_429_with_retry_after(planned: Container) -> None:
    planned.settings.api_rate_per_key, planned.settings.api_burst_per_key = 1.0, 3.0
    key = create_api_key(planned.db, "viewer", None, planned.clock.now())
    with TestClient(create_app(planned)) as http:
        codes = [http.get("/api/v1/incidents", headers=auth(key)).status_code for _ in range(5)]
        limited = http.get("/api/v1/incidents", headers=auth(key))
    assert codes[:3] == [200, 200, 200] and 429 in codes
    assert limited.status_code == 429 and int(limited.headers["retry-after"]) >= 1
    assert "too many requests" in limited.json()["detail"]


def test_one_clients_keys_share_the_clients_rate(planned: Container) -> None:
    planned.settings.api_rate_per_client, planned.settings.api_burst_per_client = 1.0, 4.0
    keys = [create_api_key(planned.db, "viewer", "northwind", planned.clock.now()) for _ in range(2)]
    other = create_api_key(planned.db, "viewer", "tidewater", planned.clock.now())
    with TestClient(create_app(planned)) as http:
        codes = [http.get("/api/v1/incidents", headers=auth(keys[i % 2])).status_code for i in range(6)]
        assert http.get("/api/v1/incidents", headers=auth(other)).status_code == 200
    assert codes[:4] == [200] * 4 and codes[4:] == [429, 429]
