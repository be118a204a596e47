"""The demo's hand-off to the console: its links sign in and show the story's incident."""

from __future__ import annotations

import re
from urllib.parse import urlparse

from onduty.app.exports.review import export_review
from onduty.app.reviews import review_bundle
from onduty.sim.console import demo_console, free_port
from onduty.sim.demo import run_demo
from tests.integration.console_helpers import client_for, follow_login_link


def test_the_demo_console_links_show_the_story_incident() -> None:
    result = run_demo(lambda _when, _text: None)
    console = demo_console(result.database, free_port(0), result.timeline[-1].at)
    try:
        http = client_for(console.container)
        assert follow_login_link(http, urlparse(console.login_url).path) == 303
        now = http.get("/").text
        assert "Lucía Navarro" in now and "admin" in now and "Recommendation relevance 0.05 vs baseline 0.66" in now
        incident = http.get(f"/incidents/{result.incident.id}").text
        assert "Mitigated by Lucía Navarro" in incident and "runbooks/recs-model.md" in incident
        # The client was told at 25 minutes, through the template and its check: the clock is met.
        assert re.search(r'First client notice</span>\s*<span class="clock-state"><span aria-hidden="true">✓</span>'
                         r'\s*met at 18:05 CST', incident)
        assert "Initial notice sent to Rachel Kim (email)" in incident
        # The console's time runs on from the story's end, so the review (due 48 h after resolve) is running,
        # named with its day, and the page counts down from the server's figure, not the browser's clock.
        assert re.search(r'Review</span>\s*<span class="clock-state"><span aria-hidden="true">◔</span>\s*'
                         r'<span data-due="[^"]+" data-left="16\d{4}\.\d">\d+ h \d+ min left '
                         r'\(due Sun 22 Nov 18:11 CST',
                         incident), incident
        # The relevance series around the incident, drawn on the page, with its text alternative.
        assert '<svg class="metric-chart"' in incident and 'role="img"' in incident
        summary = "relevance 0.66 → 0.05 at 17:41; back to 0.65 at 18:10"  # on the series' clock
        assert f'<title id="chart-title">{summary}</title>' in incident and f"{summary}." in incident
        assert "alert 17:41" in incident and "paged 17:42" in incident and "resolved 18:10" in incident
        # The detector's evidence reads as figures and local times, not as a Python dict or Unix seconds.
        assert "<dt>baseline</dt><dd>0.6593</dd>" in incident
        assert "<dt>start</dt><dd>Fri 20 Nov 17:40 CST</dd>" in incident
        portal = client_for(console.container)
        assert portal.get(urlparse(console.portal_url).path).status_code == 303
        assert "Recommendation relevance 0.05 vs baseline 0.66" in portal.get("/portal").text
        told = portal.get(f"/portal/incidents/{result.incident.id}").text
        assert "we are investigating an incident" in told and "categories mixed up between products" in told
        # The review's chart draws the same series.
        bundle = review_bundle(console.container.db, result.incident.id, console.container.clock.now())
        exported = export_review(bundle, "md", "internal").decode()
        assert "relevance around the incident" in exported
        impact = bundle.review.sections["impact"]
        assert "- Business metric: relevance: baseline 0.6593, furthest from it 0.04" in impact
    finally:
        console.container.db.dispose()
