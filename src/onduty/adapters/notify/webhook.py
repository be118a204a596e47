"""Generic webhook channel: JSON over HTTP, signed with Standard Webhooks headers.

Headers: `webhook-id` (the idempotency key, so a receiver can drop a re-sent page),
`webhook-timestamp` (Unix seconds) and `webhook-signature` = `v1,` + base64(HMAC-SHA256(secret,
"{id}.{timestamp}.{body}")). A secret written `whsec_<base64>` is decoded first, as the standard says.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from datetime import datetime

import httpx
import orjson

from onduty.adapters.notify.http import Resolver, new_client, post, system_resolver
from onduty.domain.incidents import OutboxMessage


def secret_bytes(secret: str) -> bytes:
    if secret.startswith("whsec_"):
        return base64.b64decode(secret.removeprefix("whsec_"))
    return secret.encode()


def sign(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    signed = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(secret_bytes(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


class WebhookChannel:
    def __init__(self, default_secret: str | None = None, client: httpx.Client | None = None,
                 resolve: Resolver = system_resolver, timeout: float = 10.0):
        self.default_secret = default_secret
        self.client = client or new_client(timeout)  # no redirects followed: a moved hook is a plan fix
        self.resolve = resolve

    def _secret(self, message: OutboxMessage) -> str | None:
        env = message.payload.get("secret_env")
        return os.environ.get(env) if env else self.default_secret

    def send(self, message: OutboxMessage, now: datetime) -> str:
        body = orjson.dumps(message.payload["body"])
        timestamp = int(now.timestamp())
        headers = {
            "content-type": "application/json",
            "user-agent": "onduty-webhook/1",
            "webhook-id": message.idempotency_key,
            "webhook-timestamp": str(timestamp),
            "idempotency-key": message.idempotency_key,
        }
        secret = self._secret(message)
        if secret:
            headers["webhook-signature"] = sign(secret, message.idempotency_key, timestamp, body)
        return post(self.client, message, body, headers, self.resolve)
