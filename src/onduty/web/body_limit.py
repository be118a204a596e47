"""A request body cap on every route (413), checked on Content-Length and counted while streaming, so a
huge or endless upload cannot fill the server's memory whichever route it is sent to."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class BodyLimit:
    """`limit` bytes per request body; paths under a prefix of `larger` get that prefix's limit (feed
    batches stream to disk and are capped by their own, larger setting)."""

    def __init__(self, app: ASGIApp, limit: int, larger: dict[str, int] | None = None):
        self.app, self.limit, self.larger = app, limit, larger or {}

    def _limit_for(self, path: str) -> int:
        return next((size for prefix, size in self.larger.items() if path.startswith(prefix)), self.limit)

    @staticmethod
    def _refusal(limit: int) -> str:
        return f"the request body is larger than {limit} bytes; send less (or split it)"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self._limit_for(scope.get("path", ""))
        declared = dict(scope.get("headers") or []).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > limit:
            body = orjson.dumps({"detail": self._refusal(limit)})
            await send({"type": "http.response.start", "status": 413, "headers": [
                (b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                (b"connection", b"close")]})
            await send({"type": "http.response.body", "body": body})
            return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message: dict[str, Any] = dict(await receive())
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise HTTPException(413, self._refusal(limit))
            return message

        await self.app(scope, counted, send)
