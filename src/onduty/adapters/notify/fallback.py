"""The fallback webhook: one signed POST (Standard Webhooks headers), a short timeout, no redirects."""

from __future__ import annotations

import os
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import httpx
import orjson

from onduty.adapters.notify.http import Network, Resolver, networks_of, safe_request, system_resolver
from onduty.adapters.notify.webhook import sign
from onduty.app.fallback import FallbackFailed
from onduty.app.ports import DeliveryError, Transactions
from onduty.domain.model import FallbackWebhook


class HttpFallbackCaller:
    """Calls the fallback webhook through `safe_request`: private targets only where the plan allows
    them (read from `txs` at call time, or given as `allow`)."""

    def __init__(self, default_secret: str | None = None, timeout: float = 10.0,
                 transport: httpx.BaseTransport | None = None, *, allow: Sequence[Network] | None = None,
                 txs: Transactions | None = None, resolve: Resolver = system_resolver):
        self.default_secret = default_secret
        self.timeout = timeout
        self.transport = transport
        self.allow, self.txs, self.resolve = allow, txs, resolve

    def _allowed(self) -> Sequence[Network]:
        if self.allow is not None:
            return self.allow
        if self.txs is None:
            return ()
        with self.txs() as store:
            return networks_of(store.directory())

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
            with httpx.Client(transport=self.transport) as client:
                response = safe_request(client, hook.method, hook.url, content=content, headers=headers,
                                        allow=self._allowed(), resolve=self.resolve,
                                        timeout=httpx.Timeout(self.timeout))
        except DeliveryError as exc:
            if isinstance(exc.__cause__, httpx.TimeoutException):
                raise FallbackFailed(f"no answer from {hook.url} within {self.timeout:g} s") from None
            raise FallbackFailed(str(exc)) from None
        if not response.is_success:
            text = response.body.decode(errors="replace").strip().replace("\n", " ")[:200]
            raise FallbackFailed(f"HTTP {response.status_code}" + (f": {text}" if text else ""))
        return f"HTTP {response.status_code}"
