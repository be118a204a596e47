"""The reports page: the MTTx summary over a period with filters, by group, and the monthly trend chart."""

from __future__ import annotations

import base64
import re

from onduty.app.incidents import change_status
from onduty.bootstrap import Container
from tests.integration.console_helpers import client_for, incidents_for_two_clients, people, sign_in


def _resolved(c: Container) -> dict[str, int]:
    people(c)
    ids = incidents_for_two_clients(c)
    change_status(c.db, ids["northwind"], "acknowledged", "tomas", c.clock.now())
    change_status(c.db, ids["northwind"], "resolved", "tomas", c.clock.now())
    return ids


def test_the_reports_page_shows_the_summary_groups_and_the_monthly_chart(planned: Container) -> None:
    _resolved(planned)
    http = client_for(planned)
    sign_in(http, "hannah")
    home = http.get("/").text
    assert 'href="/reports"' in home
    page = http.get("/reports?start=2026-11-01&end=2026-11-30")
    assert page.status_code == 200
    text = page.text
    assert "2026-11-01 to 2026-11-30: 2 incidents (1 still open" in text
    for heading in ("By client", "By service", "By severity", "By type", "Per month", "MTTA (mean / median / p90)",
                    "Reviews on time", "Northwind Home", "Tidewater Freight", "2026-11"):
        assert heading in text, heading
    chart = re.search(r'src="data:image/svg\+xml;base64,([^"]+)"', text)
    assert chart and base64.b64decode(chart.group(1)).lstrip().startswith(b"<?xml")


def test_report_filters_narrow_the_incidents_and_bad_ones_say_what_is_wrong(planned: Container) -> None:
    _resolved(planned)
    http = client_for(planned)
    sign_in(http, "tomas")
    only = http.get("/reports?start=2026-11-01&end=2026-11-30&client=tidewater").text
    assert "2026-11-01 to 2026-11-30: 1 incident (1 still open" in only and "Northwind Home</th>" not in only
    empty = http.get("/reports?start=2025-01-01&end=2025-01-31").text
    assert ": 0 incidents" in empty and "Per month" not in empty
    for query, says in (("client=nobody", "client &#39;nobody&#39; is not in the plan"),
                        ("start=2026-12-01&end=2026-11-01", "must end after it starts"),
                        ("start=yesterday", "from must be a date"), ("type=meteor", "type must be one of"),
                        ("severity=sev9", "sev")):
        bad = http.get(f"/reports?{query}")
        assert bad.status_code == 400 and says in bad.text, query


def test_signed_out_the_reports_page_asks_for_sign_in(planned: Container) -> None:
    response = client_for(planned).get("/reports")
    assert response.status_code == 303 and response.headers["location"] == "/login?next=/reports"
