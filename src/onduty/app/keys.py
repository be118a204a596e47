"""Integration keys and API keys: printed once, stored only as a hash."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

from onduty.app.ports import NotFound, Role, Transactions


def hash_key(key: str) -> str:
    """Keys are long random tokens, so a plain SHA-256 is enough to make the stored copy useless."""
    return hashlib.sha256(key.strip().encode()).hexdigest()


def create_integration_key(txs: Transactions, service_id: str, now: datetime) -> str:
    """A new 32-character routing key (PagerDuty's shape) for `service_id`."""
    key = secrets.token_hex(16)
    with txs() as store:
        if service_id not in store.directory().services:
            raise NotFound(f"service {service_id!r} is not in the applied plan")
        store.add_integration_key(hash_key(key), service_id, now)
    return key


def create_api_key(txs: Transactions, role: Role, client_id: str | None, now: datetime) -> str:
    """A new API key; scoped to one client when `client_id` is given."""
    key = "odk_" + secrets.token_urlsafe(32)
    with txs() as store:
        if client_id is not None and client_id not in store.directory().clients:
            raise NotFound(f"client {client_id!r} is not in the applied plan")
        store.add_api_key(hash_key(key), role, client_id, now)
    return key
