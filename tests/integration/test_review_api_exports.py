"""Reviews over HTTP and the CLI, and their exports: sections present, the client-safe version with no
internal notes and no person's name, client scoping, and detector evidence turned into the metric chart."""

from __future__ import annotations

import base64
import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from onduty.adapters.clock import SimulatedClock
from onduty.app.exports.review import export_review, pdf_engine
from onduty.app.incidents import change_status
from onduty.app.ingest import ingest_event
from onduty.app.keys import create_api_key
from onduty.app.reviews import review_bundle
from onduty.bootstrap import Container
from onduty.cli import app as cli_app
from onduty.domain.alerts import AlertEvent
from onduty.plan.load import load_plan
from onduty.web.app import create_app
from tests.conftest import SAMPLE_PLAN
from tests.integration.review_story import NOTE, scripted_incident

ROOT_CAUSE = "Catalog batches reach the model with no schema or row-count check, so a truncated batch was served."
PEOPLE = [p.name for p in load_plan(SAMPLE_PLAN).people]


@pytest.fixture
def http(planned: Container) -> Iterator[TestClient]:
    with TestClient(create_app(planned)) as client:
        yield client


def bearer(c: Container, role: str = "responder", client: str | None = None) -> dict[str, str]:
    return {"Authorization": f"Bearer {create_api_key(c.db, role, client, c.clock.now())}"}  # type: ignore[arg-type]


def names_in(text: str) -> list[str]:
    return [name for name in PEOPLE for part in (name, *name.split()) if re.search(rf"\b{re.escape(part)}\b", text)]


def test_exports_carry_every_section_and_the_chart(planned: Container, clock: SimulatedClock) -> None:
    incident_id = scripted_incident(planned, clock)
    bundle = review_bundle(planned.db, incident_id, clock.now())
    markdown = export_review(bundle, "md", "internal").decode()
    headings = re.findall(r"^## (.+)$", markdown, re.M)
    assert headings == ["Figures", "Summary", "Timeline", "Detection", "Response", "Impact", "Root cause",
                        "Preventive actions", "Chart", "Changes"]
    assert NOTE in markdown and "Lucía Navarro" in markdown  # the internal version keeps notes and names
    png = base64.b64decode(re.search(r"data:image/png;base64,([A-Za-z0-9+/=]+)", markdown).group(1))  # type: ignore[union-attr]
    assert png.startswith(b"\x89PNG")
    html = export_review(bundle, "html", "internal").decode()
    assert "<h2>Root cause</h2>" in html and 'src="data:image/png;base64,' in html
    assert re.search(r'(src|href)="(https?:)?//', html) is None and "<link" not in html  # nothing to fetch


def test_client_version_has_no_internal_notes_and_names_only_roles(planned: Container,
                                                                   clock: SimulatedClock) -> None:
    incident_id = scripted_incident(planned, clock)
    from onduty.app.reviews import edit_review

    edit_review(planned.db, incident_id, {"internal_notes": "Aiko missed the first page: phone on silent",
                                          "root_cause": ROOT_CAUSE}, "hannah", clock.now())
    bundle = review_bundle(planned.db, incident_id, clock.now())
    for fmt in ("md", "html"):
        text = export_review(bundle, fmt, "client").decode()
        assert NOTE not in text and "phone on silent" not in text and "Internal notes" not in text
        assert names_in(text) == [], fmt
        assert "an on-call engineer" in text and ROOT_CAUSE in text
        assert "Changes" not in text  # the change log names people: internal only


def test_pdf_export_says_when_no_engine_is_installed(planned: Container, clock: SimulatedClock) -> None:
    incident_id = scripted_incident(planned, clock)
    bundle = review_bundle(planned.db, incident_id, clock.now())
    if pdf_engine() is not None:
        assert export_review(bundle, "pdf", "client").startswith(b"%PDF")
    else:
        with pytest.raises(RuntimeError, match="no PDF engine is installed"):
            export_review(bundle, "pdf", "client")


def test_detector_evidence_dates_the_first_signal_and_measures_the_metric(planned: Container,
                                                                         clock: SimulatedClock) -> None:
    start = clock.now()
    points = [{"ts": (start + timedelta(minutes=m - 120)).isoformat(), "value": 0.031 if m < 60 else 0.025}
              for m in range(0, 121, 10)]
    evidence = {"metric": "conversion_rate", "baseline": 0.031, "points": points,
                "window": {"start": (start - timedelta(minutes=60)).isoformat(), "end": start.isoformat()}}
    result = ingest_event(planned.db, "recs-model", AlertEvent(
        "trigger", "kpi/conversion", "conversion rate below its baseline", "detector:kpi", "critical",
        custom_details={"evidence": evidence}), clock.now())
    assert result.incident_id is not None
    planned.worker.run_once(clock.now())
    change_status(planned.db, result.incident_id, "resolved", "aiko", clock.now() + timedelta(minutes=30))
    bundle = review_bundle(planned.db, result.incident_id, clock.now())
    sections = bundle.review.sections
    assert "- How: by onduty's kpi detector: conversion rate below its baseline" in sections["detection"]
    assert "- Time to detect: 1 h 00 min" in sections["detection"]
    assert "A detector fired < 1 s before the first page." in sections["detection"]
    assert ("- Business metric: conversion_rate: baseline 0.031, furthest from it 0.025 (-19.4%)"
            in sections["impact"])
    assert "conversion_rate around the incident" in export_review(bundle, "md", "client").decode()


def test_reviews_api_edits_refuses_and_completes(http: TestClient, planned: Container, clock: SimulatedClock) -> None:
    incident_id = scripted_incident(planned, clock)
    key = bearer(planned)
    got = http.get(f"/api/v1/reviews/{incident_id}", headers=key).json()
    assert got["status"] == "draft" and got["owner"] == "lucia" and got["can_complete"] is False
    refused = http.patch(f"/api/v1/reviews/{incident_id}", headers=key,
                         json={"sections": {"root_cause": "operator error"}, "by": "hannah"})
    assert refused.status_code == 422 and "systemic" in refused.json()["detail"]["message"]
    bad = http.patch(f"/api/v1/reviews/{incident_id}", headers=key, json={"sections": {"cause": "x"}})
    assert bad.status_code == 400 and "unknown section 'cause'" in bad.json()["detail"]
    assert http.post(f"/api/v1/reviews/{incident_id}/complete", headers=key).status_code == 409
    ok = http.patch(f"/api/v1/reviews/{incident_id}", headers=key,
                    json={"sections": {"root_cause": ROOT_CAUSE}, "by": "hannah"})
    assert ok.status_code == 200 and ok.json()["sections"]["root_cause"] == ROOT_CAUSE
    action = http.post(f"/api/v1/reviews/{incident_id}/actions", headers=key,
                       json={"title": "Schema check", "owner": "aiko", "due": "2026-12-15", "by": "hannah"})
    assert action.status_code == 201 and action.json()["due_at"].startswith("2026-12-15T23:59")
    assert http.post(f"/api/v1/reviews/{incident_id}/actions", headers=key,
                     json={"title": "x", "owner": "nobody", "due": "2026-12-15"}).status_code == 400
    done = http.patch(f"/api/v1/reviews/{incident_id}/actions/{action.json()['id']}", headers=key,
                      json={"status": "done", "by": "aiko"})
    assert done.status_code == 200 and done.json()["status"] == "done"
    completed = http.post(f"/api/v1/reviews/{incident_id}/complete", headers=key, json={"by": "hannah"})
    assert completed.status_code == 200 and completed.json()["status"] == "completed"
    whos = [(c["by"], c["what"]) for c in completed.json()["changes"]]
    assert ("hannah", "root_cause") in whos and ("aiko", "action 1 status") in whos
    exported = http.get(f"/api/v1/reviews/{incident_id}/export?format=html&audience=client", headers=key)
    assert exported.status_code == 200 and exported.headers["content-type"].startswith("text/html")


def test_client_keys_get_404_for_other_clients_and_only_the_client_safe_review(
        http: TestClient, planned: Container, clock: SimulatedClock) -> None:
    incident_id = scripted_incident(planned, clock)  # a Northwind incident
    other, own = bearer(planned, "responder", "tidewater"), bearer(planned, "responder", "northwind")
    for method, path, body in (
            ("GET", "", None), ("PATCH", "", {"sections": {"summary": "x"}}),
            ("POST", "/actions", {"title": "t", "owner": "aiko", "due": "2026-12-01"}),
            ("PATCH", "/actions/1", {"status": "done"}), ("POST", "/complete", {}), ("GET", "/export?format=md", None)):
        answer = http.request(method, f"/api/v1/reviews/{incident_id}{path}", headers=other, json=body)
        assert answer.status_code == 404, (method, path)
    view = http.get(f"/api/v1/reviews/{incident_id}", headers=own).json()
    assert view["audience"] == "client" and "changes" not in view and names_in(str(view)) == []
    exported = http.get(f"/api/v1/reviews/{incident_id}/export?format=md&audience=internal", headers=own).text
    assert NOTE not in exported and names_in(exported) == []  # asking for the internal one still gets the client's
    assert http.patch(f"/api/v1/reviews/{incident_id}", headers=own,
                      json={"sections": {"summary": "x"}}).status_code == 403


def test_pir_commands_show_edit_actions_complete_and_export(
        planned: Container, clock: SimulatedClock, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    incident_id = scripted_incident(planned, clock)
    monkeypatch.setenv("ONDUTY_DATABASE_URL", planned.settings.database_url)
    monkeypatch.setenv("COLUMNS", "200")
    cli = CliRunner()

    def run(*args: str) -> tuple[int, str, str]:
        result = cli.invoke(cli_app, ["pir", str(incident_id), *args])
        return result.exit_code, result.stdout, result.stderr

    code, out, _ = run("show")
    assert code == 0 and "first responder who acknowledged" in out and "Before it can be completed" in out
    code, _, err = run("edit", "--section", "root_cause", "--text", "Someone made a mistake")
    assert code == 1 and "root cause refused" in err
    cause = tmp_path / "cause.md"
    cause.write_text(ROOT_CAUSE)
    assert run("edit", "--section", "root_cause", "--from-file", str(cause), "--by", "hannah")[0] == 0
    code, _, err = run("complete", "--by", "hannah")
    assert code == 1 and "no preventive action" in err
    assert run("actions", "add", "--title", "Schema check", "--owner", "aiko", "--due", "2026-12-15")[0] == 0
    code, out, _ = run("actions", "list", "--json")
    assert code == 0 and '"status": "open"' in out
    assert run("actions", "update", "1", "--status", "in_progress")[0] == 0
    assert run("complete", "--by", "hannah")[0] == 0
    target = tmp_path / "review.md"
    code, _, err = run("export", "--format", "md", "--audience", "client", "-o", str(target))
    assert code == 0 and "client version" in err and NOTE not in target.read_text()
    code, _, err = run("export", "--format", "pdf", "-o", str(tmp_path / "r.pdf"))
    assert code == (0 if pdf_engine() else 1)
    if pdf_engine() is None:
        assert "no PDF engine is installed" in err
