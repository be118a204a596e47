"""Start a real Prometheus Alertmanager (the Debian binary) on loopback for side-by-side figures, and
build the request loads for its own API (`POST /api/v2/alerts`)."""

from __future__ import annotations

import contextlib
import subprocess
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import orjson
from loadgen import request_bytes

BINARY = "/usr/bin/prometheus-alertmanager"
# A receiver with nothing configured, and a long group_wait: the run measures taking alerts in.
CONFIG = """
route:
  receiver: sink
  group_by: [alertname, key]
  group_wait: 5m
  group_interval: 5m
  repeat_interval: 4h
receivers:
  - name: sink
"""


def wait_ready(url: str, what: str, seconds: float = 30.0) -> None:
    """Poll `url` until it answers 200; exit naming `what` if it does not within `seconds`."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(url, timeout=1, trust_env=False).status_code == 200:
                return
        time.sleep(0.1)
    raise SystemExit(f"{what} did not become ready in {seconds:g} s")


@contextlib.contextmanager
def alertmanager(workdir: Path, port: int) -> Iterator[str]:
    if not Path(BINARY).exists():
        raise SystemExit(f"{BINARY} is missing: apt-get install prometheus-alertmanager")
    (workdir / "am").mkdir(exist_ok=True)
    config = workdir / "am" / "alertmanager.yml"
    config.write_text(CONFIG)
    process = subprocess.Popen(
        [BINARY, f"--config.file={config}", f"--storage.path={workdir / 'am'}",
         f"--web.listen-address=127.0.0.1:{port}", "--cluster.listen-address=", "--log.level=error"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_ready(f"{url}/-/ready", "alertmanager")
        yield url
    finally:
        process.terminate()
        process.wait(15)


def api_requests(url: str, prefix: str, batches: int, size: int) -> list[tuple[bytes, int]]:
    """`batches` posts of `size` distinct alerts each to Alertmanager's own API."""
    start = datetime.now(UTC).isoformat()
    requests = []
    for b in range(batches):
        alerts = [{"labels": {"alertname": "BenchAlert", "key": f"{prefix}-{b}-{i}", "severity": "warning"},
                   "annotations": {"summary": f"bench alert {b}/{i}"}, "startsAt": start} for i in range(size)]
        requests.append((request_bytes(url, "/api/v2/alerts", orjson.dumps(alerts)), size))
    return requests
