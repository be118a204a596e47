"""Outbound webhooks: private targets refused unless allowed, the checked address pinned against DNS
rebinding, redirects never followed, answers read only up to a cap."""

from __future__ import annotations

import socket

import httpx
import pytest

from onduty.adapters.notify.http import (
    RecentFailures,
    TargetRefused,
    allowed_networks,
    safe_post,
    system_resolver,
)
from onduty.app.ports import DeliveryError
from onduty.plan.schema import Plan

Seen = list[httpx.Request]


def client(seen: Seen, status: int = 204, body: bytes = b"", headers: dict[str, str] | None = None) -> httpx.Client:
    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(status, stream=httpx.ByteStream(body), headers=headers)

    return httpx.Client(transport=httpx.MockTransport(handle))


def resolver(*addresses: str):  # type: ignore[no-untyped-def]
    return lambda host, port: list(addresses)


def post(url: str, addresses: tuple[str, ...], seen: Seen, allow=(), **kw):  # type: ignore[no-untyped-def]
    return safe_post(client(seen, **kw), url, content=b"{}", headers={}, allow=allow, resolve=resolver(*addresses))


@pytest.mark.parametrize("address", [
    "127.0.0.1", "10.1.2.3", "172.16.0.9", "192.168.1.1", "169.254.169.254", "::1", "fe80::1", "fd00::1",
    "::ffff:127.0.0.1", "0.0.0.0", "100.64.0.1",
])
def test_private_loopback_and_link_local_targets_are_refused(address: str) -> None:
    seen: Seen = []
    with pytest.raises(TargetRefused, match="private, loopback or link-local") as caught:
        post("https://hooks.example/page", (address,), seen)
    assert caught.value.permanent and not seen


def test_a_public_target_is_called_at_the_checked_address_with_its_own_host_name() -> None:
    seen: Seen = []
    answer = post("https://hooks.example:8443/page?x=1", ("93.184.216.34",), seen)
    assert answer.status_code == 204
    assert seen[0].url.host == "93.184.216.34" and seen[0].url.port == 8443
    assert seen[0].headers["host"] == "hooks.example:8443"
    assert seen[0].extensions["sni_hostname"] == "hooks.example"


def test_a_name_that_also_resolves_to_a_private_address_is_refused() -> None:
    with pytest.raises(TargetRefused):
        post("http://rebind.example/", ("93.184.216.34", "10.0.0.5"), [])


def test_the_plan_can_allow_loopback_explicitly() -> None:
    seen: Seen = []
    assert post("http://127.0.0.1:9000/p", ("127.0.0.1",), seen, allow=allowed_networks(False, ["127.0.0.0/8"]))
    assert post("http://[::1]:9000/p", ("::1",), seen, allow=allowed_networks(True)).status_code == 204
    with pytest.raises(TargetRefused):
        post("http://10.0.0.1/p", ("10.0.0.1",), seen, allow=allowed_networks(False, ["127.0.0.0/8"]))


def test_redirects_are_refused_not_followed() -> None:
    seen: Seen = []
    with pytest.raises(DeliveryError, match="redirects are not followed") as caught:
        post("https://hooks.example/", ("93.184.216.34",), seen, status=302,
             headers={"location": "http://169.254.169.254/latest/meta-data"})
    assert caught.value.permanent and len(seen) == 1


def test_a_huge_answer_is_read_only_up_to_the_cap() -> None:
    answer = post("https://hooks.example/", ("93.184.216.34",), [], status=200, body=b"x" * 1_000_000)
    assert len(answer.body) == 64 * 1024


@pytest.mark.parametrize("url", ["file:///etc/passwd", "gopher://hooks.example/", "http:///nohost"])
def test_only_http_urls_are_called(url: str) -> None:
    with pytest.raises(TargetRefused, match="not an http"):
        post(url, ("93.184.216.34",), [])


def test_a_bad_allow_list_entry_is_named_in_the_plan_error() -> None:
    with pytest.raises(ValueError, match=r"'10\.0\.0\.0/33' is not a network"):
        Plan.model_validate({"organization": {"name": "A", "webhook_allow_networks": ["10.0.0.0/33"]},
                             "people": [{"id": "a", "name": "A", "time_zone": "UTC"}]})


def test_a_host_that_failed_to_resolve_fails_at_once_until_its_failure_is_old(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    lookups: list[str] = []

    def getaddrinfo(host: str, *_: object, **__: object) -> list[object]:
        lookups.append(host)
        raise socket.gaierror(-2, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    now = [100.0]
    failed = RecentFailures(ttl=30.0, clock=lambda: now[0])
    for _ in range(3):  # one slow lookup, not one per message queued behind it
        with pytest.raises(DeliveryError, match=r"cannot resolve hooks\.chat\.example"):
            system_resolver("hooks.chat.example", 443, failed)
    assert lookups == ["hooks.chat.example"]
    with pytest.raises(DeliveryError, match=r"cannot resolve other\.example"):
        system_resolver("other.example", 443, failed)  # other hosts are looked up on their own
    now[0] += 30.0
    with pytest.raises(DeliveryError):
        system_resolver("hooks.chat.example", 443, failed)
    assert lookups == ["hooks.chat.example", "other.example", "hooks.chat.example"]


def test_an_address_that_timed_out_connecting_fails_at_once_for_a_while() -> None:
    attempts: list[str] = []

    def blackhole(request: httpx.Request) -> httpx.Response:
        attempts.append(str(request.url))
        raise httpx.ConnectTimeout("timed out", request=request)

    now = [100.0]
    unreachable = RecentFailures(ttl=30.0, clock=lambda: now[0])
    dead = httpx.Client(transport=httpx.MockTransport(blackhole))

    def send(url: str) -> None:
        safe_post(dead, url, content=b"{}", headers={}, resolve=resolver("93.184.216.34"), unreachable=unreachable)

    for _ in range(3):  # one connect timeout, not one per page queued behind it
        with pytest.raises(DeliveryError, match=r"ConnectTimeout|took no connection") as caught:
            send("https://hooks.gone.example/x")
        assert caught.value.permanent is False  # retried later, with backoff
    assert len(attempts) == 1
    with pytest.raises(DeliveryError):
        send("http://hooks.gone.example/x")  # port 80 of the same address is tried on its own
    now[0] += 30.0
    with pytest.raises(DeliveryError):
        send("https://hooks.gone.example/x")
    assert len(attempts) == 3


def test_a_channel_keeps_a_connection_for_every_sender_to_a_slow_receiver() -> None:
    """32 senders paging one receiver that answers slowly: each keeps its connection for its next page
    (httpx keeps 20 by default, so a dozen senders connected anew, a TLS handshake each on https)."""
    import threading
    import time
    from datetime import UTC, datetime
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from onduty.adapters.notify.webhook import WebhookChannel
    from onduty.domain.incidents import OutboxMessage

    peers: set[tuple[str, int]] = set()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers["content-length"]))
            peers.add(self.client_address)
            time.sleep(0.1)
            self.send_response(204)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    channel = WebhookChannel()
    now = datetime.now(UTC)
    message = OutboxMessage(
        idempotency_key="page:1:escalate:0:0:ana:c0", incident_id=1, person_id="ana", channel="webhook",
        address=f"http://127.0.0.1:{server.server_address[1]}/ana", contact_index=0,
        payload={"body": {"event": "incident.page"}, "allow_private": True}, created_at=now, next_attempt_at=now)
    try:
        for _ in range(3):
            senders = [threading.Thread(target=channel.send, args=(message, now)) for _ in range(32)]
            for sender in senders:
                sender.start()
            for sender in senders:
                sender.join()
    finally:
        server.shutdown()
        server.server_close()
    assert len(peers) <= 32
