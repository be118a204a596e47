"""A review as a document for people: Markdown, self-contained HTML (chart inline), PDF where an engine is
installed. The client-safe version leaves out internal notes and the change log and names only roles."""

from __future__ import annotations

import base64
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from onduty.app.exports.charts import events_chart, metric_chart
from onduty.app.exports.text import render
from onduty.app.reviews import ReviewBundle
from onduty.domain.review import INTERNAL_SECTIONS, SECTIONS, humanize, response_figures
from onduty.domain.review_draft import detection, evidence, first_abnormal_signal, minute, redact, review_timeline
from onduty.domain.severity import Severity

Audience = Literal["internal", "client"]
TITLES = {"summary": "Summary", "timeline": "Timeline", "detection": "Detection", "response": "Response",
          "impact": "Impact", "root_cause": "Root cause", "preventive_actions": "Preventive actions",
          "internal_notes": "Internal notes"}
ROLE_WORDS = {"account_manager": "the account manager", "delivery_lead": "the delivery lead",
              "tech_lead": "the tech lead", "legal": "the legal contact", "manager": "a manager",
              "engineer": "an on-call engineer"}
PDF_ENGINES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "libreoffice", "soffice")


class NoPdfEngine(RuntimeError):
    """No program that prints HTML to PDF is installed here."""


@dataclass(frozen=True)
class Row:
    at: str
    who: str
    text: str


@dataclass(frozen=True)
class ActionRow:
    id: int | None
    title: str
    owner: str
    due: str
    status: str
    tracker: str | None


@dataclass(frozen=True)
class ReviewDocument:
    title: str
    audience: Audience
    facts: list[tuple[str, str]]
    figures: list[tuple[str, str]]
    sections: list[tuple[str, str]]
    timeline: list[Row]
    actions: list[ActionRow]
    changes: list[Row]
    chart_png: bytes
    chart_caption: str


def role_names(bundle: ReviewBundle) -> dict[str, str]:
    """Every way a person may be named (name, first and last name, id) → the role the client sees."""
    review, directory = bundle.review, bundle.directory
    found: dict[str, str] = {}
    for person in directory.people.values():
        role = next((ROLE_WORDS[r] for r in person.roles if r in ROLE_WORDS), "a team member")
        if person.id == review.owner and review.owner_reason == "incident commander":
            role = "the incident commander"
        for alias in (person.name, *person.name.split(), person.id):
            if len(alias) >= 3 and alias not in found:
                found[alias] = role
    return found


def _who(actor: str, names: dict[str, str], audience: Audience, people: dict[str, str]) -> str:
    if audience == "client":
        return names.get(actor, redact(actor, names))
    return people.get(actor, actor)


def build_document(bundle: ReviewBundle, audience: Audience) -> ReviewDocument:
    incident, review, facts = bundle.incident, bundle.review, bundle.facts
    names = role_names(bundle)
    people = {p.id: p.name for p in bundle.directory.people.values()}

    def say(text: str) -> str:
        return redact(text, names) if audience == "client" else text

    found = detection(facts)
    figures = response_figures(incident, facts.timeline, first_abnormal_signal(facts)[0])
    owner = _who(review.owner, names, audience, people)
    header = [
        ("Incident", f"#{incident.id} {incident.title}"),
        ("Severity", Severity(incident.severity).label),
        ("Clients", ", ".join(facts.client_names)),
        ("Services", ", ".join(facts.affected_services)),
        ("Declared", minute(incident.created_at)),
        ("Resolved", minute(incident.resolved_at) if incident.resolved_at else "—"),
        ("Review", f"{review.status}, owner {owner}"
                   + (f", due {minute(review.due_at)}" if review.due_at else ", optional")),
    ]
    numbers = [("Time to detect", humanize(figures.time_to_detect)),
               ("Time to engage", humanize(figures.time_to_engage)),
               ("Time to acknowledge", humanize(figures.time_to_acknowledge)),
               ("Time to resolve", humanize(figures.time_to_resolve)),
               ("Duration", humanize(figures.duration))]
    sections = []
    for name in SECTIONS:
        if name == "timeline" or (audience == "client" and name in INTERNAL_SECTIONS):
            continue
        text = review.sections.get(name, "").strip()
        if name == "internal_notes" and not text:
            continue
        sections.append((TITLES[name], say(text) or "(not written yet)"))
    if audience == "internal" and "timeline" in review.edited:
        sections.insert(1, ("Timeline, as edited", review.sections.get("timeline", "")))
    rows = [Row(minute(r.at, ""), _who(r.actor, names, audience, people), say(r.text))
            for r in review_timeline(facts.timeline, audience)]
    actions = [ActionRow(a.id, say(a.title), _who(a.owner, names, audience, people), f"{a.due_at:%Y-%m-%d}",
                         a.status, a.tracker_url if audience == "internal" else None) for a in bundle.actions]
    changes = [] if audience == "client" else [
        Row(minute(c.at, ""), people.get(c.by, c.by), c.what) for c in bundle.changes]
    marks = {"first signal": found.first_signal, "detected": incident.created_at, "paged": found.first_page_at,
             "resolved": incident.resolved_at}
    metric = evidence(facts)
    if metric is not None and metric.points:
        chart, caption = metric_chart(metric, marks), f"{metric.metric} around the incident"
    else:
        chart = events_chart(review_timeline(facts.timeline, audience), marks)
        caption = "No metric is known for this incident: its events over time instead"
    title = f"Post-incident review: {incident.title}"
    return ReviewDocument(title, audience, header, numbers, sections, rows, actions, changes, chart, caption)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def to_markdown(doc: ReviewDocument) -> str:
    lines = [f"# {doc.title}", ""]
    if doc.audience == "client":
        lines += ["_Client version: people are named by role; internal notes are left out._", ""]
    lines += [f"- **{k}:** {v}" for k, v in doc.facts] + ["", "## Figures", ""]
    lines += ["| figure | value |", "|---|---|"] + [f"| {k} | {v} |" for k, v in doc.figures] + [""]
    for title, text in doc.sections[:1]:
        lines += [f"## {title}", "", text, ""]
    lines += ["## Timeline", "", "| time (UTC) | who | what |", "|---|---|---|"]
    lines += [f"| {r.at} | {_cell(r.who)} | {_cell(r.text)} |" for r in doc.timeline] + [""]
    for title, text in doc.sections[1:]:
        lines += [f"## {title}", "", text, ""]
        if title == "Preventive actions" and doc.actions:
            lines += ["| # | action | owner | due | status | tracker |", "|---|---|---|---|---|---|"]
            lines += [f"| {a.id} | {_cell(a.title)} | {_cell(a.owner)} | {a.due} | {a.status} | {a.tracker or '—'} |"
                      for a in doc.actions] + [""]
    encoded = base64.b64encode(doc.chart_png).decode()
    lines += ["## Chart", "", f"![{doc.chart_caption}](data:image/png;base64,{encoded})", ""]
    if doc.changes:
        lines += ["## Changes", "", "| when (UTC) | who | what |", "|---|---|---|"]
        lines += [f"| {c.at} | {_cell(c.who)} | {_cell(c.text)} |" for c in doc.changes] + [""]
    return "\n".join(lines)


def to_html(doc: ReviewDocument) -> str:
    return render("review.html", doc=doc, chart=base64.b64encode(doc.chart_png).decode(),
                  paragraphs=lambda text: [p for p in re.split(r"\n\s*\n", text) if p.strip()])


def pdf_engine() -> str | None:
    return next((path for name in PDF_ENGINES if (path := shutil.which(name))), None)


def to_pdf(html: str) -> bytes:
    """Print the HTML with a headless browser or LibreOffice; NoPdfEngine when neither is installed."""
    engine = pdf_engine()
    if engine is None:
        raise NoPdfEngine(f"no PDF engine is installed (looked for {', '.join(PDF_ENGINES)}); "
                          "export --format html and print it from a browser instead")
    with tempfile.TemporaryDirectory() as folder:
        source, target = Path(folder) / "review.html", Path(folder) / "review.pdf"
        source.write_text(html, encoding="utf-8")
        if "office" in Path(engine).name:
            command = [engine, "--headless", "--convert-to", "pdf", "--outdir", folder, str(source)]
        else:
            command = [engine, "--headless", "--disable-gpu", "--no-sandbox", f"--print-to-pdf={target}",
                       source.as_uri()]
        subprocess.run(command, check=True, capture_output=True, timeout=120)
        return target.read_bytes()


def export_review(bundle: ReviewBundle, fmt: str, audience: Audience) -> bytes:
    """The review in `fmt` (md, html, pdf) for `audience`."""
    if fmt not in ("md", "html", "pdf"):
        raise ValueError(f"format {fmt!r} is not one of md, html, pdf")
    if audience not in ("internal", "client"):
        raise ValueError(f"audience {audience!r} is not one of internal, client")
    doc = build_document(bundle, audience)
    if fmt == "md":
        return to_markdown(doc).encode()
    html = to_html(doc)
    return html.encode() if fmt == "html" else to_pdf(html)


def client_dict(doc: ReviewDocument, incident_id: int) -> dict[str, object]:
    """The client-safe review as JSON-ready data: roles only, no internal notes, no change log."""
    return {
        "incident_id": incident_id, "audience": doc.audience, "title": doc.title,
        "facts": dict(doc.facts), "figures": dict(doc.figures),
        "sections": {title: text for title, text in doc.sections},
        "timeline": [{"at": r.at, "who": r.who, "what": r.text} for r in doc.timeline],
        "actions": [{"id": a.id, "title": a.title, "owner": a.owner, "due": a.due, "status": a.status}
                    for a in doc.actions],
    }
