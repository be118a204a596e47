"""Benchmark: how long the console's pages take to render, printed as JSON.

The demo's story replayed, then `--open` more incidents declared on the sample plan; a signed-in admin
fetches each page `--requests` times through the app (no network): median and p95 milliseconds and the
page size in bytes, per page.

Run: .venv/bin/python bench/console_pages.py [--requests 50] [--open 20]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time as clock
import warnings
from pathlib import Path
from urllib.parse import urlparse

from rich.progress import track

from onduty.app.incidents import declare
from onduty.domain.severity import Severity
from onduty.sim.console import demo_console, free_port
from onduty.sim.demo import run_demo
from onduty.web.app import create_app

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.integration.console_helpers import follow_login_link

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
    from fastapi.testclient import TestClient


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--open", type=int, default=20, help="open incidents besides the demo's")
    args = parser.parse_args()
    result = run_demo(lambda _when, _text: None)
    console = demo_console(result.database, free_port(0), result.timeline[-1].at)
    c = console.container
    with c.db.transaction() as store:
        directory = store.directory()
        services = list(directory.services.values())
        for n in range(args.open):
            declare(store, directory, services[n % len(services)], f"load incident {n}", Severity(n % 4 + 1),
                    c.clock.now(), "bench")
    http = TestClient(create_app(c), follow_redirects=False)
    assert follow_login_link(http, urlparse(console.login_url).path) == 303
    one = f"/incidents/{result.incident.id}"
    pages = ["/", "/incidents", one, f"{one}/live?part=timeline", "/schedules/ml-primary", "/alerting"]
    portal = TestClient(create_app(c), follow_redirects=False)
    portal.get(urlparse(console.portal_url).path)
    figures = {}
    for client, path in [*((http, p) for p in pages), (portal, "/portal")]:
        took = []
        size = 0
        for _ in track(range(args.requests), description=path, transient=True):
            started = clock.perf_counter()
            response = client.get(path)
            took.append((clock.perf_counter() - started) * 1000)
            assert response.status_code == 200, (path, response.status_code)
            size = len(response.content)
        took.sort()
        figures[path] = {"median_ms": round(statistics.median(took), 2),
                         "p95_ms": round(took[int(len(took) * 0.95) - 1], 2), "bytes": size}
    print(json.dumps({"requests_per_page": args.requests, "open_incidents": args.open, "pages": figures}, indent=2))
    c.db.dispose()


if __name__ == "__main__":
    main()
