"""Every route caps request bodies: a declared oversized body and a streamed one both get 413 with the
limit named, before the server holds them in memory."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from onduty.app.keys import create_api_key
from onduty.bootstrap import Container
from onduty.web.app import create_app


@pytest.fixture
def http(planned: Container) -> Iterator[TestClient]:
    planned.settings.max_body_bytes = 64 * 1024
    with TestClient(create_app(planned)) as client:
        yield client


def test_an_oversized_body_on_an_api_route_is_refused_with_413(http: TestClient, planned: Container) -> None:
    auth = {"Authorization": f"Bearer {create_api_key(planned.db, 'responder', None, planned.clock.now())}"}
    response = http.post("/api/v1/incidents/1/notes", headers=auth, json={"text": "x" * 100_000})
    assert response.status_code == 413 and "larger than 65536 bytes" in response.json()["detail"]


def test_a_streamed_body_is_cut_off_once_past_the_limit(http: TestClient, planned: Container) -> None:
    auth = {"Authorization": f"Bearer {create_api_key(planned.db, 'responder', None, planned.clock.now())}"}
    def endless() -> Iterator[bytes]:  # no Content-Length: chunked, 16 MB if it were all read
        for _ in range(1000):
            yield b"x" * 16384

    response = http.post("/api/v1/silences", headers={**auth, "content-type": "application/json"}, content=endless())
    assert response.status_code == 413 and "larger than" in response.json()["detail"]
