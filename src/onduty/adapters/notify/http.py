"""Outbound HTTP to addresses written in the plan, made safe: `safe_post(...)` for every channel.

A plan author (or whoever can change the plan) must not be able to make onduty call into its own
network. So the host is resolved first and every address checked: private, loopback, link-local,
multicast and reserved targets are refused unless the plan allows them; the connection then goes to
the checked address (no second lookup a DNS rebinding could answer differently), redirects are not
followed, time is bounded and at most `max_response_bytes` of the answer are read.
"""

from __future__ import annotations

import functools
import ipaddress
import socket
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
import orjson

from onduty.adapters.notify.render import Summary, summarize
from onduty.app.ports import DeliveryError
from onduty.domain.incidents import OutboxMessage
from onduty.domain.model import Directory

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Resolver = Callable[[str, int], list[str]]
DEFAULT_TIMEOUT = httpx.Timeout(10.0, connect=5.0)
MAX_RESPONSE_BYTES = 64 * 1024
PRIVATE_NETWORKS = ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "127.0.0.0/8", "169.254.0.0/16",
                    "100.64.0.0/10", "::1/128", "fc00::/7", "fe80::/10")


class TargetRefused(DeliveryError):
    """The address is not one onduty may call: a permanent failure (the next contact is tried)."""

    def __init__(self, message: str):
        super().__init__(message, permanent=True)


@dataclass(frozen=True)
class Answer:
    status_code: int
    body: bytes  # at most max_response_bytes

    @property
    def is_success(self) -> bool:
        return 200 <= self.status_code < 300


def allowed_networks(allow_private: bool, cidrs: Sequence[str] = ()) -> list[Network]:
    """The networks a plan opens: its CIDR allow-list, plus every private range with `allow_private`."""
    return list(_networks(allow_private, tuple(cidrs)))


@functools.lru_cache(maxsize=64)
def _networks(allow_private: bool, cidrs: tuple[str, ...]) -> tuple[Network, ...]:
    """Parsed once per plan setting: every page carries them, and parsing them cost a tenth of a send."""
    names = [*cidrs, *(PRIVATE_NETWORKS if allow_private else ())]
    return tuple(ipaddress.ip_network(name, strict=False) for name in names)


class RecentFailures:
    """Hosts that failed to resolve, or addresses that did not take a connection, lately. A lookup can hang
    for the resolver's timeout and a blackholed address for the connect timeout (seconds); trying again for
    every message would hold a sender that long each time, and every page queued behind it."""

    def __init__(self, ttl: float = 30.0, clock: Callable[[], float] = time.monotonic):
        self.ttl, self._clock = ttl, clock
        self._failed: dict[str, tuple[float, str]] = {}  # host → (until, error)
        self._lock = threading.Lock()

    def recent(self, host: str) -> str | None:
        """The error of a failure at `host` younger than `ttl`, else None."""
        with self._lock:
            until, error = self._failed.get(host, (0.0, ""))
            return error if self._clock() < until else None

    def remember(self, host: str, error: str) -> None:
        with self._lock:
            if len(self._failed) > 10_000:
                self._failed.clear()
            self._failed[host] = (self._clock() + self.ttl, error)


FAILED_LOOKUPS = RecentFailures()
UNREACHABLE = RecentFailures()  # "address:port" that timed out connecting


def system_resolver(host: str, port: int, failed: RecentFailures = FAILED_LOOKUPS) -> list[str]:
    """The host's addresses; a host that failed to resolve in the last `failed.ttl` seconds fails at once."""
    recent = failed.recent(host)
    if recent is not None:
        raise DeliveryError(f"cannot resolve {host}: {recent} (a lookup under {failed.ttl:.0f} s ago failed)")
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        failed.remember(host, str(exc))
        raise DeliveryError(f"cannot resolve {host}: {exc}") from exc
    return sorted({str(info[4][0]) for info in infos})


def is_public(address: IPAddress) -> bool:
    mapped = getattr(address, "ipv4_mapped", None)
    if mapped is not None:
        address = mapped
    return address.is_global and not (address.is_multicast or address.is_reserved or address.is_unspecified)


def checked_address(url: str, allow: Sequence[Network], resolve: Resolver) -> tuple[str, str]:
    """(host, address to connect to) for `url`, or TargetRefused naming why."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise TargetRefused(f"{url!r} is not an http(s) URL")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    addresses = resolve(parts.hostname, port)
    if not addresses:
        raise DeliveryError(f"{parts.hostname} resolves to no address")
    for text in addresses:
        address = ipaddress.ip_address(text.split("%", 1)[0])
        if not is_public(address) and not any(address in network for network in allow):
            raise TargetRefused(
                f"{parts.hostname} resolves to {address}, a private, loopback or link-local address; "
                "allow it in the plan (organization.webhook_allow_networks) if it is meant")
    return parts.hostname, addresses[0]


def _pinned(url: str, address: str) -> str:
    """`url` with its host replaced by the checked address, so no second lookup happens."""
    parts = urlsplit(url)
    host = f"[{address}]" if ":" in address else address
    netloc = host + (f":{parts.port}" if parts.port else "")
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def networks_of(directory: Directory) -> list[Network]:
    """The networks the applied plan opens to outbound webhooks."""
    return allowed_networks(directory.webhook_allow_private, directory.webhook_allow_networks)


def safe_post(client: httpx.Client, url: str, **kwargs: Any) -> Answer:
    """POST to a plan-defined `url` after the address checks (see `safe_request`)."""
    return safe_request(client, "POST", url, **kwargs)


def safe_request(
    client: httpx.Client, method: str, url: str, *, content: bytes, headers: dict[str, str],
    allow: Sequence[Network] = (), resolve: Resolver = system_resolver,
    max_response_bytes: int = MAX_RESPONSE_BYTES, timeout: httpx.Timeout = DEFAULT_TIMEOUT,
    unreachable: RecentFailures = UNREACHABLE,
) -> Answer:
    """Send `content` to `url` after the address checks; a redirect is an error, never followed.
    Transport errors raise DeliveryError with the httpx error as its cause (timeouts can be told apart).
    An address that timed out connecting fails at once for `unreachable.ttl` seconds (a retry later)."""
    host, address = checked_address(url, allow, resolve)
    port = urlsplit(url).port
    target = f"{address}:{port or (443 if url.startswith('https') else 80)}"
    recent = unreachable.recent(target)
    if recent is not None:
        raise DeliveryError(f"{host} ({target}) took no connection under {unreachable.ttl:.0f} s ago: {recent}")
    request_headers = {**headers, "host": host + (f":{port}" if port else "")}
    extensions = {"sni_hostname": host} if url.startswith("https") else {}
    try:
        with client.stream(method, _pinned(url, address), content=content, headers=request_headers,
                           timeout=timeout, follow_redirects=False, extensions=extensions) as response:
            body = b""
            for chunk in response.iter_bytes():
                body += chunk
                if len(body) >= max_response_bytes:
                    body = body[:max_response_bytes]
                    break
    except httpx.HTTPError as exc:
        if isinstance(exc, httpx.ConnectTimeout):
            unreachable.remember(target, f"connect timed out ({exc})")
        raise DeliveryError(f"{type(exc).__name__}: {exc}") from exc
    if 300 <= response.status_code < 400:
        raise DeliveryError(f"HTTP {response.status_code}: redirects are not followed "
                            f"(to {response.headers.get('location', '?')})", permanent=True)
    return Answer(response.status_code, body)


RETRYABLE_STATUS = {408, 425, 429}
MAX_REQUEST_BYTES = 256 * 1024


# Every connection the pool may open is kept for reuse: httpx keeps 20 by default, so a worker's senders
# (32 by default) sending to one slow receiver closed and reopened a connection (a TLS handshake on https)
# for most of their pages.
CONNECTIONS = httpx.Limits(max_connections=100, max_keepalive_connections=100, keepalive_expiry=5.0)


def new_client(timeout: float) -> httpx.Client:
    return httpx.Client(timeout=timeout, follow_redirects=False, limits=CONNECTIONS)


def post(client: httpx.Client, message: OutboxMessage, content: bytes, headers: dict[str, str],
         resolve: Resolver = system_resolver) -> str:
    """POST an outbox message's `content` to its address through the address checks the plan allows;
    a short receipt, or DeliveryError: retry later (timeouts, 5xx, 429) or give up (other 4xx, oversized)."""
    if not message.address.startswith(("http://", "https://")):
        raise DeliveryError(f"{message.address!r} is not an http(s) URL", permanent=True)
    if len(content) > MAX_REQUEST_BYTES:
        raise DeliveryError(f"message is {len(content)} bytes, over the {MAX_REQUEST_BYTES} byte cap", permanent=True)
    allow = _networks(bool(message.payload.get("allow_private")), tuple(message.payload.get("allow_networks") or ()))
    answer = safe_post(client, message.address, content=content, headers=headers, allow=allow, resolve=resolve)
    if answer.is_success:
        return f"HTTP {answer.status_code}"
    detail = answer.body[:200].decode("utf-8", "replace").strip()
    permanent = 400 <= answer.status_code < 500 and answer.status_code not in RETRYABLE_STATUS
    raise DeliveryError(f"HTTP {answer.status_code}" + (f": {detail}" if detail else ""), permanent=permanent)


class ChatChannel:
    """A chat incoming webhook (Slack, Teams): the outbox message summarised, shaped by `payload`,
    POSTed as JSON through the address checks."""

    def __init__(self, public_url: str = "", client: httpx.Client | None = None, timeout: float = 10.0,
                 resolve: Resolver = system_resolver):
        self.resolve = resolve
        self.public_url = public_url
        self.client = client or new_client(timeout)

    def payload(self, summary: Summary) -> dict[str, Any]:
        raise NotImplementedError

    def send(self, message: OutboxMessage, now: datetime) -> str:
        content = orjson.dumps(self.payload(summarize(message, self.public_url)))
        return post(self.client, message, content, {"content-type": "application/json"}, self.resolve)
