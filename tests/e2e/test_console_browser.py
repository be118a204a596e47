"""The console in a real browser (Debian's Chromium driven by Playwright) against a real `onduty serve`:
sign in, watch a note arrive without reloading, acknowledge, add a note, send a client notice that first fails
the check and then passes (the client reads it in the portal), resolve, open the drafted review,
see the reports, read the timeline; a client contact sees their incident in the portal and gets 404 for another
client's. Screenshots go to build/screenshots/.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from onduty.app.accounts import issue_portal_link
from onduty.app.keys import create_api_key
from onduty.app.plans import apply_plan
from onduty.bootstrap import build
from onduty.config import Settings
from onduty.plan.load import load_plan
from tests.conftest import ROOT, SAMPLE_PLAN
from tests.e2e.test_page_over_http import Server, wait_for
from tests.integration.console_helpers import PASSWORD, incidents_for_two_clients, people

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
SHOTS = ROOT / "build" / "screenshots"


def _need_chromium() -> None:
    if Path(CHROMIUM).exists():
        return
    reason = f"{CHROMIUM} is missing (apt-get install -y chromium)"
    if os.environ.get("CI"):
        pytest.fail(f"CI must run the browser tests: {reason}")
    print(f"skipping: {reason}", file=sys.stderr)
    pytest.skip(reason)


class ConsoleServer(Server):
    """`onduty serve` without the worker: the sample plan's contacts are not reachable from a test."""

    def start(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "onduty", "serve", "--port", str(self.port), "--no-worker"], env=self.env,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        wait_for(self._healthy)


@dataclass
class Stack:
    server: Server
    incidents: dict[str, int]
    portal: dict[str, str]
    api: dict[str, str]


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[Stack]:
    _need_chromium()
    url = f"sqlite:///{tmp_path}/console.db"
    c = build(Settings(database_url=url))
    apply_plan(c.db, load_plan(SAMPLE_PLAN), str(SAMPLE_PLAN), c.clock.now())
    ids = incidents_for_two_clients(c)
    people(c)
    portal = {client: issue_portal_link(c.db, client, c.clock.now()) for client in ids}
    api = {"Authorization": f"Bearer {create_api_key(c.db, 'responder', None, c.clock.now())}"}
    c.db.dispose()
    server = ConsoleServer({**os.environ, "ONDUTY_DATABASE_URL": url})
    server.start()
    try:
        yield Stack(server, ids, portal, api)
    finally:
        server.kill()


@pytest.fixture
def browser() -> Iterator[Any]:
    _need_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        launched = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            yield launched
        finally:
            launched.close()


UNNAMED_CONTROLS = """() => Array.from(document.querySelectorAll(
    'input:not([type=hidden]), select, textarea, button, a[href]')).filter(el => {
  const named = (el.labels && el.labels.length) || el.getAttribute('aria-label') ||
    el.getAttribute('aria-labelledby') || (el.tagName !== 'INPUT' && el.textContent.trim());
  return !named;
}).map(el => el.outerHTML.slice(0, 120))"""


def _shot(page: Any, name: str) -> None:
    """Save a screenshot of the page, after checking that every control on it has a name (label or text)."""
    assert page.evaluate(UNNAMED_CONTROLS) == [], name
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / name), full_page=True)


def test_a_responder_handles_an_incident_in_the_browser(stack: Stack, browser: Any) -> None:
    from playwright.sync_api import expect

    base, northwind = stack.server.url, stack.incidents["northwind"]
    page = browser.new_page(viewport={"width": 1280, "height": 860})
    page.goto(f"{base}/incidents/{northwind}")
    expect(page).to_have_url(f"{base}/login?next=/incidents/{northwind}")
    page.get_by_label("Your id in the plan").fill("lucia")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_label("Password").press("Enter")
    expect(page).to_have_url(f"{base}/incidents/{northwind}")
    page.keyboard.press("Tab")  # the first stop is the skip link, and it leads to the content
    expect(page.locator(":focus")).to_have_text("Skip to content")
    page.keyboard.press("Enter")
    expect(page.locator(":focus")).to_have_id("main")

    # Another responder writes a note through the API: the open page shows it without reloading.
    httpx.post(f"{base}/api/v1/incidents/{northwind}/notes", headers=stack.api, timeout=5,
               json={"text": "catalog delta at 17:40 has swapped columns", "by": "Kwame Mensah"}).raise_for_status()
    timeline = page.locator("ol.timeline")
    expect(timeline).to_contain_text("catalog delta at 17:40 has swapped columns", timeout=15_000)

    page.get_by_role("button", name="Acknowledge", exact=True).click()
    expect(page.locator(".state .status")).to_have_text("● Acknowledged")
    page.get_by_label("Add a note to the timeline").fill("Storefront on popularity fallback")
    page.get_by_role("button", name="Add note", exact=True).click()
    expect(timeline.locator("li").first).to_contain_text("Storefront on popularity fallback")
    tick = page.get_by_role("button", name="Tick: Confirm the affected system", exact=False)
    tick.focus()
    page.keyboard.press("Enter")  # the playbook works from the keyboard too
    expect(page.get_by_role("button", name="Untick: Confirm the affected system", exact=False)).to_have_count(1)
    _shot(page, "incident.png")
    page.set_viewport_size({"width": 390, "height": 844})
    _shot(page, "incident-phone.png")
    page.set_viewport_size({"width": 1280, "height": 860})

    # A client notice that fails the check (a vague next-update time), then passes once fixed.
    composer = page.locator("section.composer")
    expect(page.get_by_label("Message template", exact=True)).to_have_value("initial")
    page.get_by_label("What is known (required)").fill("Recommendations on the storefront are irrelevant since 17:40.")
    page.get_by_label("What is being done (required)").fill("We are pinning the feed to the last good batch.")
    next_update = page.get_by_label("Next update (required)")
    promised = next_update.input_value()  # onduty's default: the latest time the policy allows
    next_update.fill("soon")
    page.get_by_role("button", name="Check", exact=True).click()
    expect(composer.get_by_role("alert")).to_contain_text("The check found 1 problem")
    expect(composer).to_contain_text("'soon' is not a time the client can plan around")
    expect(next_update).to_have_attribute("aria-invalid", "true")
    expect(composer).to_contain_text("What the client will read")
    assert page.evaluate(UNNAMED_CONTROLS) == []
    SHOTS.mkdir(parents=True, exist_ok=True)
    composer.screenshot(path=str(SHOTS / "composer-findings.png"))
    next_update.fill(promised)
    send = page.get_by_role("button", name="Send", exact=True)
    send.focus()
    page.keyboard.press("Enter")  # the composer works from the keyboard
    expect(page).to_have_url(re.compile(rf"/incidents/{northwind}\?sent=\d+#compose-h$"))
    expect(composer.get_by_role("status")).to_contain_text("Initial notice sent to Rachel Kim (email)")
    expect(timeline).to_contain_text("Initial notice sent to Rachel Kim (email)")
    sent = timeline.locator("li", has_text="Initial notice sent to").locator(".tl-msg").first.inner_text()
    subject = sent.split(": ", 1)[1]  # "Initial notice sent to <who>: <subject>"
    client = browser.new_page(viewport={"width": 1024, "height": 700})  # the client's own browser
    client.goto(f"{base}/portal/enter/{stack.portal['northwind']}")
    client.goto(f"{base}/portal/incidents/{northwind}")
    messages = client.locator("section[aria-labelledby=p-msg-h]")
    expect(messages).to_contain_text("Recommendations on the storefront are irrelevant since 17:40.")
    expect(messages.get_by_role("heading", level=3)).to_have_text([subject])
    expect(messages).not_to_contain_text("Lucía Navarro")
    _shot(client, "portal-incident.png")
    client.close()

    page.get_by_label("Note with the change (optional)").fill("good batch restored")
    page.get_by_role("button", name="Resolve", exact=True).click()
    expect(page.locator(".state .status")).to_have_text(re.compile("✓ Resolved|◑ Monitoring"))
    expect(timeline).to_contain_text("Resolved by Lucía Navarro: good batch restored")
    expect(page.get_by_role("button", name="Acknowledge", exact=True)).to_have_count(0)
    page.get_by_role("link", name="Open the post-incident review").click()
    expect(page).to_have_url(f"{base}/incidents/{northwind}/review")
    expect(page.get_by_role("heading", name="Summary (required)")).to_be_visible()
    expect(page.get_by_role("heading", name="Root cause (required)")).to_be_visible()
    expect(page.locator("main")).to_contain_text("Recommendations irrelevant on the storefront")
    _shot(page, "review.png")
    page.goto(f"{base}/reports")
    expect(page.get_by_role("img", name=re.compile("Incidents per month"))).to_be_visible()
    _shot(page, "reports.png")
    page.goto(f"{base}/incidents/{northwind}")
    page.get_by_label("Show").select_option("note")
    expect(page).to_have_url(f"{base}/incidents/{northwind}?kind=note")
    expect(timeline.locator("li")).to_have_count(3)
    page.get_by_label("Show").select_option("comms")
    expect(timeline.locator("li")).to_have_count(1)
    # Resolved: the next message is the resolution notice.
    expect(page.get_by_label("Message template", exact=True)).to_have_value("resolution")

    page.goto(f"{base}/")
    expect(page.get_by_role("heading", name="On call now")).to_be_visible()
    expect(page.locator(".incidents")).to_contain_text("Delivery estimates frozen")
    _shot(page, "now.png")
    page.goto(f"{base}/schedules/ml-primary?week=2026-11-16")
    expect(page.locator(".week .seg").first).to_be_visible()
    _shot(page, "schedule-week.png")
    page.get_by_role("link", name="People").click()
    expect(page.locator("#person-hannah")).to_contain_text("Hannah")
    _shot(page, "people.png")


def test_a_client_contact_sees_only_their_own_incidents(stack: Stack, browser: Any) -> None:
    from playwright.sync_api import expect

    base = stack.server.url
    page = browser.new_page(viewport={"width": 1024, "height": 700})
    page.goto(f"{base}/portal/enter/{stack.portal['tidewater']}")
    expect(page).to_have_url(f"{base}/portal")
    expect(page.get_by_role("heading", name="Incidents for Tidewater Freight")).to_be_visible()
    expect(page.locator("main")).not_to_contain_text("Recommendations irrelevant")
    _shot(page, "portal.png")
    page.get_by_role("link", name=f"#{stack.incidents['tidewater']} Delivery estimates frozen").click()
    expect(page.locator("main")).to_contain_text("Started")
    response = page.goto(f"{base}/portal/incidents/{stack.incidents['northwind']}")
    assert response is not None and response.status == 404
    expect(page.locator("main")).not_to_contain_text("Recommendations irrelevant")
    response = page.goto(f"{base}/incidents/{stack.incidents['tidewater']}")
    expect(page).to_have_url(f"{base}/login?next=/incidents/{stack.incidents['tidewater']}")
