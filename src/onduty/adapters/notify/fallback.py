"""The fallback webhook: one signed POST (Standard Webhooks headers), a short timeout, no redirects."""

from __future__ import annotations

import os
from datetime import datetime
from typing import Any

import httpx
import orjson

from onduty.adapters.notify.webhook import sign
from onduty.app.fallback import FallbackFailed
from onduty.domain.model import FallbackWebhook


class HttpFallbackCaller:
    def __init__(self, default_secret: str | None = None, timeout: float = 10.0,
                 transport: httpx.BaseTransport | None = None):
        self.default_secret = default_secret
        self.timeout = timeout
        self.transport = transport

    def call(self, hook: FallbackWebhook, body: dict[str, Any], message_id: str, now: datetime) -> str:
        content = orjson.dumps(body)
        timestamp = int(now.timestamp())
        headers = {"content-type": "application/json", "user-agent": "onduty-fallback/1",
                   "webhook-id": message_id, "webhook-timestamp": str(timestamp), "idempotency-key": message_id}
        secret = os.environ.get(hook.secret_env) if hook.secret_env else self.default_secret
        if hook.secret_env and not secret:
            raise FallbackFailed(f"environment variable {hook.secret_env} (the webhook secret) is not set")
        if secret:
            headers["webhook-signature"] = sign(secret, message_id, timestamp, content)
        try:
            with httpx.Client(timeout=self.timeout, follow_redirects=False, transport=self.transport) as client:
                response = client.request(hook.method, hook.url, content=content, headers=headers)
        except httpx.TimeoutException:
            raise FallbackFailed(f"no answer from {hook.url} within {self.timeout:g} s") from None
        except httpx.HTTPError as exc:
            raise FallbackFailed(f"{type(exc).__name__}: {exc}") from None
        if response.is_redirect:
            raise FallbackFailed(f"HTTP {response.status_code}: redirects are not followed "
                                 f"(to {response.headers.get('location', '?')})")
        if not response.is_success:
            text = response.text.strip().replace("\n", " ")[:200]
            raise FallbackFailed(f"HTTP {response.status_code}" + (f": {text}" if text else ""))
        return f"HTTP {response.status_code}"
