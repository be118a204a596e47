"""Integration keys and API keys: printed once, stored only as a hash; API keys carry a visible prefix,
an optional expiry and a last-used time, and can be revoked. Creating and revoking are admin actions."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

from onduty.app.ports import ApiKeyInfo, NotFound, Role, Transactions

API_KEY_PREFIX = "od_live_"
VISIBLE = len(API_KEY_PREFIX) + 4  # od_live_ab12: enough to tell keys apart, useless to an attacker


def hash_key(key: str) -> str:
    """Keys are long random tokens, so a plain SHA-256 is enough to make the stored copy useless."""
    return hashlib.sha256(key.strip().encode()).hexdigest()


def create_integration_key(txs: Transactions, service_id: str, now: datetime, actor: str = "cli") -> str:
    """A new 32-character routing key (PagerDuty's shape) for `service_id`."""
    key = secrets.token_hex(16)
    with txs() as store:
        service = store.directory().services.get(service_id)
        if service is None:
            raise NotFound(f"service {service_id!r} is not in the applied plan")
        store.add_integration_key(hash_key(key), service_id, now)
        store.record_admin_action(now, actor, "integration_key.created", service.client_id, service_id)
    return key


def create_api_key(txs: Transactions, role: Role, client_id: str | None, now: datetime,
                   expires_at: datetime | None = None, actor: str = "cli") -> str:
    """A new API key (256 random bits); scoped to one client when `client_id` is given."""
    key = API_KEY_PREFIX + secrets.token_urlsafe(32)
    with txs() as store:
        if client_id is not None and client_id not in store.directory().clients:
            raise NotFound(f"client {client_id!r} is not in the applied plan")
        key_id = store.add_api_key(hash_key(key), role, client_id, now, key[:VISIBLE], expires_at)
        store.record_admin_action(now, actor, "api_key.created", client_id, key[:VISIBLE], {
            "id": key_id, "role": role, "expires_at": expires_at.isoformat() if expires_at else None})
    return key


def list_api_keys(txs: Transactions) -> list[ApiKeyInfo]:
    with txs() as store:
        return store.api_keys()


def revoke_api_key(txs: Transactions, which: str, by: str, now: datetime) -> ApiKeyInfo:
    """Revoke the key with this id or visible prefix; it stops working at once (servers cache ≤ 5 s)."""
    with txs() as store:
        keys = store.api_keys()
        matches = [k for k in keys if str(k.id) == which or (k.prefix and which.startswith(k.prefix))]
        if len(matches) != 1:
            raise NotFound(f"no single API key matches {which!r}; see: onduty keys list")
        key = matches[0]
        if key.revoked_at is not None:
            return key
        revoked = store.revoke_api_key(key.id, by, now)
        assert revoked is not None
        store.record_admin_action(now, by, "api_key.revoked", key.client_id, key.prefix or str(key.id),
                                  {"id": key.id})
        return revoked
