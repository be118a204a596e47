"""One careful HTTP POST for the chat channels: a timeout, no redirects, capped sizes, and errors sorted
into retry-later (timeouts, 5xx, 429) and give-up (other 4xx, redirects, oversized)."""

from __future__ import annotations

import httpx

from onduty.app.ports import DeliveryError

RETRYABLE_STATUS = {408, 425, 429}
MAX_REQUEST_BYTES = 256 * 1024
MAX_RESPONSE_BYTES = 64 * 1024


def new_client(timeout: float) -> httpx.Client:
    return httpx.Client(timeout=timeout, follow_redirects=False)


def post(client: httpx.Client, url: str, content: bytes, headers: dict[str, str]) -> str:
    """POST and return a short receipt, or raise DeliveryError."""
    if not url.startswith(("http://", "https://")):
        raise DeliveryError(f"{url!r} is not an http(s) URL", permanent=True)
    if len(content) > MAX_REQUEST_BYTES:
        raise DeliveryError(f"message is {len(content)} bytes, over the {MAX_REQUEST_BYTES} byte cap", permanent=True)
    try:
        with client.stream("POST", url, content=content, headers=headers) as response:
            received = b""
            for chunk in response.iter_bytes():
                received += chunk
                if len(received) >= MAX_RESPONSE_BYTES:
                    break
    except httpx.HTTPError as exc:
        raise DeliveryError(f"{type(exc).__name__}: {exc}") from exc
    status = response.status_code
    if 300 <= status < 400:
        raise DeliveryError(f"HTTP {status}: redirect to {response.headers.get('location', '?')} refused; "
                            "put the final URL in the plan", permanent=True)
    if 200 <= status < 300:
        return f"HTTP {status}"
    detail = received[:200].decode("utf-8", "replace").strip()
    permanent = 400 <= status < 500 and status not in RETRYABLE_STATUS
    raise DeliveryError(f"HTTP {status}" + (f": {detail}" if detail else ""), permanent=permanent)
