"""The floor under any Python ingest endpoint: the same HTTP stack `onduty serve` runs (uvicorn with
uvloop and httptools, one process, no access log) with an app that does the least an endpoint can: read
the body, parse it as JSON and answer a PagerDuty-shaped 202. Nothing is checked or stored.

Driven with the same requests and the same load generator as onduty and Alertmanager in
`bench/ingest.py`, it tells how much of the distance to Alertmanager is the runtime's and how much is
onduty's own work (the key, the limits, the commit).
"""

from __future__ import annotations

import contextlib
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
from alertmanager_side import wait_ready

Receive = Any
Send = Any


async def app(scope: dict[str, Any], receive: Receive, send: Send) -> None:
    """An ASGI app: `GET /ready` answers 200, and any POST its JSON body's `dedup_key` with 202."""
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            else:
                await send({"type": "lifespan.shutdown.complete"})
                return
    body, more = b"", True
    while more:
        message = await receive()
        body += message.get("body", b"")
        more = message.get("more_body", False)
    if scope["method"] == "POST":
        event = orjson.loads(body)
        answer = orjson.dumps({"status": "success", "message": "Event processed",
                               "dedup_key": event.get("dedup_key")})
        status = 202
    else:
        answer, status = b"{}", 200
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(answer)).encode())]})
    await send({"type": "http.response.body", "body": answer})


@contextlib.contextmanager
def floor_server(port: int) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """This module's app under uvicorn as `onduty serve` configures it, on loopback; (url, process)."""
    process = subprocess.Popen(
        [sys.executable, "-c", "import uvicorn, http_floor; uvicorn.run(http_floor.app, host='127.0.0.1', "
                               f"port={port}, log_level='warning', access_log=False)"],
        cwd=str(Path(__file__).parent), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_ready(f"{url}/ready", "the HTTP floor app")
        yield url, process
    finally:
        process.terminate()
        process.wait(15)
