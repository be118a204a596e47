"""Feed batches over HTTP: the first batch becomes the reference, a clean batch is accepted, a shuffled
catalog is quarantined with findings and opens a pipeline_failure incident carrying the evidence; bad
files get a 400 naming the problem and store nothing; an oversized body gets 413; past a key's or a
client's limit a batch gets 429 with Retry-After and stores nothing."""

from __future__ import annotations

import io
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from fastapi.testclient import TestClient

from onduty.app.keys import create_api_key, create_integration_key
from onduty.app.plans import apply_plan
from onduty.bootstrap import Container
from onduty.plan.load import load_plan
from onduty.web.app import create_app
from tests.conftest import SAMPLE_PLAN
from tests.integration.alerting_plan import alerting_plan_text

FEEDS = """
feeds:
  - id: catalog
    service: catalog-feed
    format: csv
    key: product_id
    pairs: ["category:brand"]
    severity: sev1
  - id: telemetry
    service: telemetry-pipeline
    format: csv
"""
CATEGORIES = np.array([f"cat{i}" for i in range(12)])


def apply_feed_plan(container: Container, folder: Path) -> None:
    plan = folder / "onduty.yaml"
    plan.write_text(alerting_plan_text() + FEEDS)
    shutil.copytree(SAMPLE_PLAN.parent / "runbooks", folder / "runbooks", dirs_exist_ok=True)
    apply_plan(container.db, load_plan(plan), str(plan), container.clock.now())


def catalog(seed: int = 1, rows: int = 3000, shuffle: float = 0.0, price_changes: float = 0.002) -> pa.Table:
    rng = np.random.default_rng(0)
    category = rng.integers(0, CATEGORIES.size, rows)
    brand = category * 2 + rng.integers(0, 2, rows)
    price = np.round(rng.lognormal(3, 0.4, rows), 2)
    changes = np.random.default_rng(seed)
    moved = changes.random(rows) < price_changes
    price[moved] += 1
    if shuffle:
        picked = changes.choice(rows, int(shuffle * rows), replace=False)
        category[picked] = category[changes.permutation(picked)]
    return pa.table({"product_id": [f"p{i:05d}" for i in range(rows)], "category": CATEGORIES[category],
                     "brand": [f"brand{b}" for b in brand], "price": price})


def as_csv(table: pa.Table) -> bytes:
    header = ",".join(table.column_names)
    rows = zip(*(table.column(n).to_pylist() for n in table.column_names), strict=True)
    return (header + "\n" + "\n".join(",".join(str(v) for v in row) for row in rows) + "\n").encode()


def as_parquet(table: pa.Table) -> bytes:
    sink = io.BytesIO()
    pq.write_table(table, sink)
    return sink.getvalue()


@pytest.fixture
def http(container: Container, tmp_path: Path) -> Iterator[TestClient]:
    apply_feed_plan(container, tmp_path)
    with TestClient(create_app(container)) as client:
        yield client


@pytest.fixture
def feed_key(container: Container, http: TestClient) -> dict[str, str]:
    return {"Authorization": f"Bearer {create_integration_key(container.db, 'catalog-feed', container.clock.now())}"}


@pytest.fixture
def viewer(container: Container, http: TestClient) -> dict[str, str]:
    return {"Authorization": f"Bearer {create_api_key(container.db, 'viewer', None, container.clock.now())}"}


def post(http: TestClient, headers: dict[str, str], body: bytes, content_type: str = "text/csv") -> Any:
    return http.post("/api/v1/feeds/catalog/batches", content=body, headers={**headers, "Content-Type": content_type})


def batches(container: Container) -> list[str]:
    with container.db.transaction() as store:
        return [b.verdict for b in store.feed_batches("catalog")]


def test_clean_batches_are_accepted_and_the_first_becomes_the_reference(
    http: TestClient, feed_key: dict[str, str], container: Container,
) -> None:
    first = post(http, feed_key, as_csv(catalog(1)))
    assert first.status_code == 200, first.text
    assert first.json()["verdict"] == "accept" and first.json()["reference_set"] is True
    second = post(http, feed_key, as_parquet(catalog(2)), "application/vnd.apache.parquet")
    assert second.status_code == 200, second.text
    body = second.json()
    assert body["verdict"] == "accept" and body["findings"] == [] and body["incident_id"] is None
    assert body["evidence"]["keys"]["changed_share"] < 0.01
    assert batches(container) == ["accept", "accept"]


def test_shuffled_catalog_is_quarantined_and_opens_an_incident_with_the_evidence(
    http: TestClient, feed_key: dict[str, str], viewer: dict[str, str], container: Container,
) -> None:
    for seed in range(1, 6):
        assert post(http, feed_key, as_csv(catalog(seed))).json()["verdict"] == "accept"
    held = post(http, feed_key, as_csv(catalog(9, shuffle=0.05)))
    assert held.status_code == 200, held.text
    body = held.json()
    assert body["verdict"] == "quarantine"
    assert {f["check"] for f in body["findings"] if f["blocking"]} == {"keys", "pairs"}
    assert body["evidence"]["drift"]["drifted_columns"] == []
    assert body["incident_id"] is not None
    incident = http.get(f"/api/v1/incidents/{body['incident_id']}", headers=viewer).json()
    assert incident["type"] == "pipeline_failure" and incident["severity"] == "Sev1"  # the feed's
    evidence = incident["alerts"][0]["custom_details"]["evidence"]
    keys = next(f for f in evidence["findings"] if f["check"] == "keys")
    assert keys["statistic"] == "changed_key_share" and keys["value"] > keys["threshold"]
    assert evidence["keys"]["normal_churn"] < 0.01
    assert batches(container)[0] == "quarantine"
    after = post(http, feed_key, as_csv(catalog(10)))  # the snapshot is still the last good batch
    assert after.json()["verdict"] == "accept"


@pytest.mark.parametrize(("body", "content_type", "expected"), [
    (b"product_id,category\np1,cat1\np2,cat2,extra\n", "text/csv", "line 3"),
    (b'{"product_id": "p1"}\n{"product_id": \n', "application/x-ndjson", "JSON parse error"),
    (b"not parquet at all", "application/vnd.apache.parquet", "not valid parquet"),
    (b"product_id,category\n", "text/csv", "no rows"),
])
def test_unreadable_batch_is_refused_with_400_and_nothing_is_stored(
    http: TestClient, feed_key: dict[str, str], container: Container, body: bytes, content_type: str, expected: str,
) -> None:
    response = post(http, feed_key, body, content_type)
    assert response.status_code == 400
    assert expected in response.json()["detail"]
    assert batches(container) == []
    with container.db.transaction() as store:
        assert store.feed_reference("catalog") is None


def test_oversized_batch_is_refused_with_413(http: TestClient, feed_key: dict[str, str],
                                             container: Container) -> None:
    container.settings.max_feed_bytes = 1000
    response = post(http, feed_key, as_csv(catalog(1)))
    assert response.status_code == 413 and "ONDUTY_MAX_FEED_BYTES" in response.json()["detail"]
    assert batches(container) == []


def test_wrong_key_or_type_is_refused(http: TestClient, feed_key: dict[str, str], container: Container) -> None:
    other = create_integration_key(container.db, "recs-model", container.clock.now())
    assert post(http, {"Authorization": f"Bearer {other}"}, as_csv(catalog(1))).status_code == 404
    assert post(http, {"Authorization": "Bearer nope"}, as_csv(catalog(1))).status_code == 401
    assert post(http, feed_key, b"x", "image/png").status_code == 415
    assert batches(container) == []


def test_batches_past_the_keys_limit_get_429_store_nothing_and_pass_after_the_refill(
    http: TestClient, feed_key: dict[str, str], container: Container,
) -> None:
    from onduty.web.limits import RateLimiter

    now = [0.0]
    http.app.state.rate_limiter = RateLimiter(rate=1.0, burst=2, clock=lambda: now[0])  # type: ignore[attr-defined]
    small = as_csv(catalog(1, rows=300))
    assert [post(http, feed_key, small).status_code for _ in range(2)] == [200, 200]
    limited = post(http, feed_key, small)
    assert limited.status_code == 429 and limited.headers["Retry-After"] == "1"
    assert "rate limit for feed batches of this integration key exceeded" in limited.json()["detail"]
    assert batches(container) == ["accept", "accept"]
    alert = {"routing_key": feed_key["Authorization"].removeprefix("Bearer "), "event_action": "trigger",
             "payload": {"summary": "s", "source": "m", "severity": "error"}}
    assert http.post("/v2/enqueue", json=alert).status_code == 202  # batches do not use up the alerts' share
    now[0] = 1.0
    assert post(http, feed_key, small).status_code == 200
    assert len(batches(container)) == 3


def test_one_clients_keys_share_its_limit_for_batches_and_another_client_is_unaffected(
    http: TestClient, feed_key: dict[str, str], container: Container,
) -> None:
    from onduty.web.limits import RateLimiter

    now = [0.0]
    http.app.state.client_rate_limiter = RateLimiter(rate=1.0, burst=1, clock=lambda: now[0])  # type: ignore[attr-defined]
    at = container.clock.now()
    small = as_csv(catalog(1, rows=300))
    assert post(http, feed_key, small).status_code == 200
    second_key = {"Authorization": f"Bearer {create_integration_key(container.db, 'catalog-feed', at)}"}
    limited = post(http, second_key, small)  # a fresh key, but its client has had its share
    assert limited.status_code == 429 and limited.headers["Retry-After"] == "1"
    assert "feed batches of client 'northwind' (all its keys together)" in limited.json()["detail"]
    assert batches(container) == ["accept"]
    tidewater = {"Authorization": f"Bearer {create_integration_key(container.db, 'telemetry-pipeline', at)}"}
    telemetry = http.post("/api/v1/feeds/telemetry/batches", content=small,
                          headers={**tidewater, "Content-Type": "text/csv"})
    assert telemetry.status_code == 200, telemetry.text
    now[0] = 1.0
    assert post(http, second_key, small).status_code == 200
    assert len(batches(container)) == 2
