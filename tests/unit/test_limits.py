"""Token buckets: a request counts against every limit or none, and a refusal says which limit and when to retry."""

from __future__ import annotations

from onduty.web.limits import Bucket, Exceeded, RateLimiter, over_limit


def test_a_request_refused_by_one_limit_is_counted_by_none() -> None:
    now = [0.0]
    per_key = RateLimiter(rate=1.0, burst=3, clock=lambda: now[0])
    per_client = RateLimiter(rate=1.0, burst=2, clock=lambda: now[0])

    def send(key: str) -> Exceeded | None:
        return over_limit([Bucket(per_key, key, "this key"), Bucket(per_client, "acme", "client 'acme'")], 2)

    assert send("a") is None
    refused = send("a")  # the key has 1 token left, so the key's limit refuses
    assert refused is not None and refused.name == "this key"
    refused = send("b")  # b's bucket is full, but the client's has no room: b's two tokens are given back
    assert refused is not None and refused.name == "client 'acme'"
    assert per_key.take("b", 3) == 0.0  # b still has its whole burst


def test_a_refusal_names_the_limit_and_rounds_retry_after_up() -> None:
    limiter = RateLimiter(rate=4.0, burst=1, clock=lambda: 0.0)
    assert over_limit([Bucket(limiter, "k", "this key")]) is None
    refused = over_limit([Bucket(limiter, "k", "this key")])
    assert refused is not None
    assert refused.message == "rate limit for this key exceeded; retry in 0.2 s"
    assert refused.headers == {"Retry-After": "1"}
