"""API keys as `Authorization: Bearer <key>`: who is calling, with which role, scoped to which client."""

from __future__ import annotations

import threading
import time
from datetime import datetime
from typing import Annotated

from fastapi import Depends, HTTPException, Request

from onduty.app.keys import hash_key
from onduty.app.ports import ApiKey
from onduty.web.limits import Bucket, over_limit

ROLE_RANK = {"viewer": 0, "responder": 1, "admin": 2}


class KeyCache:
    """Key lookups cached briefly, so the hot ingest path does not read the key table every time."""

    def __init__(self, ttl: float = 30.0):
        self.ttl = ttl
        self._items: dict[str, tuple[float, object]] = {}
        self._lock = threading.Lock()

    def get(self, key: str) -> object | None:
        with self._lock:
            item = self._items.get(key)
            if item is None or item[0] < time.monotonic():
                return None
            return item[1]

    def put(self, key: str, value: object) -> None:
        with self._lock:
            if len(self._items) > 10_000:
                self._items.clear()
            self._items[key] = (time.monotonic() + self.ttl, value)


def bearer(request: Request) -> str:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise HTTPException(401, "send an API key as 'Authorization: Bearer <key>' "
                                 "(create one with: onduty keys create --role viewer)",
                            headers={"WWW-Authenticate": "Bearer"})
    return token.strip()


def principal(request: Request) -> ApiKey:
    token_hash = hash_key(bearer(request))
    cache: KeyCache = request.app.state.api_key_cache
    container = request.app.state.container
    found = cache.get(token_hash)
    if found is None:
        with container.db.transaction() as store:
            found = store.api_key(token_hash)
        if found is None:
            raise HTTPException(401, "unknown or revoked API key; create one with: onduty keys create --role viewer",
                                headers={"WWW-Authenticate": "Bearer"})
        cache.put(token_hash, found)
    assert isinstance(found, ApiKey)
    now = container.clock.now()
    if found.expires_at is not None and found.expires_at <= now:
        raise HTTPException(401, f"this API key expired at {found.expires_at:%Y-%m-%d %H:%M} UTC; "
                                 "create a new one with: onduty keys create", headers={"WWW-Authenticate": "Bearer"})
    _limit(request, found)
    if found.id is not None:
        _touch(request, found.id, now)
    return found


def _limit(request: Request, key: ApiKey) -> None:
    """429 past the key's own rate, or past its client's (all of that client's keys together)."""
    state = request.app.state
    buckets = [Bucket(state.api_key_limiter, f"key:{key.id}", "this API key")]
    if key.client_id is not None:
        buckets.append(Bucket(state.api_client_limiter, f"client:{key.client_id}",
                              f"client {key.client_id!r} (all its API keys together)"))
    exceeded = over_limit(buckets)
    if exceeded is not None:
        raise HTTPException(429, f"too many requests: {exceeded.message}", headers=exceeded.headers)


def _touch(request: Request, key_id: int, now: datetime) -> None:
    """Write the key's last use at most once a minute per app (and the store checks again)."""
    touched: dict[int, float] = request.app.state.api_key_touched
    if time.monotonic() - touched.get(key_id, -1e9) < 60:
        return
    touched[key_id] = time.monotonic()
    with request.app.state.container.db.transaction() as store:
        store.touch_api_key(key_id, now)


def require(role: str) -> object:
    def check(key: Annotated[ApiKey, Depends(principal)]) -> ApiKey:
        if ROLE_RANK[key.role] < ROLE_RANK[role]:
            raise HTTPException(403, f"this needs a {role} key; yours is {key.role}")
        return key

    return check


Viewer = Annotated[ApiKey, Depends(require("viewer"))]
Responder = Annotated[ApiKey, Depends(require("responder"))]
