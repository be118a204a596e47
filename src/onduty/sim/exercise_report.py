"""A drill's report as data (JSON), Markdown and a self-contained HTML page."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import Environment, select_autoescape

from onduty.app.exports.text import render
from onduty.domain.readiness import Check
from onduty.domain.severity import Severity
from onduty.sim.exercise import ExerciseResult


def _local(result: ExerciseResult, at: datetime | None) -> str:
    if at is None:
        return "—"
    return at.astimezone(ZoneInfo(result.scenario.time_zone)).strftime("%a %d %b %H:%M:%S")


def _check(check: Check) -> dict[str, Any]:
    return {"id": check.id, "title": check.title, "must": check.must, "passed": check.passed,
            "evidence": check.evidence, "next_step": check.next_step}


def report_data(result: ExerciseResult) -> dict[str, Any]:
    """Everything the report shows, in plain data: what `--json` prints and the drill record keeps."""
    return {
        "scenario": result.scenario.name, "source": result.source, "mode": result.mode,
        "time_zone": result.scenario.time_zone, "started_at": result.started_at.isoformat(),
        "ended_at": result.ended_at.isoformat(), "score": result.score,
        "participants": result.scenario.participants,
        "narration": [{"at": at.isoformat(), "local": _local(result, at), "text": text}
                      for at, text in result.narration],
        "pages": [{"at": p.at.isoformat(), "local": _local(result, p.at), "incident": p.incident_id,
                   "person": p.person_id, "name": p.person, "channel": p.channel, "level": p.level}
                  for p in result.pages],
        "incidents": [{
            "id": r.incident.id, "title": r.incident.title, "severity": Severity(r.incident.severity).label,
            "type": r.incident.incident_type, "status": r.incident.status, "service": r.incident.service_id,
            "declared": _local(result, r.incident.created_at),
            "acknowledged": _local(result, r.incident.acknowledged_at),
            "resolved": _local(result, r.incident.resolved_at),
            "clocks": [{"name": c.name, "due": _local(result, c.due), "state": c.state,
                        "met_at": _local(result, c.met_at) if c.met_at else None} for c in r.clocks],
        } for r in result.incidents],
        "expectations": [_check(c) for c in result.expectations],
        "findings": [_check(c) for c in result.findings],
        "fix_first": [_check(c) for c in result.fix_first],
    }


MARKDOWN = """# Drill: {{ d.scenario }}

{{ description }}

- Mode: {{ d.mode }}; {{ start }} → {{ end }} ({{ d.time_zone }})
- Score: **{{ d.score }}/100**
{%- if d.participants %}
- Participants: {{ d.participants | join(", ") }}
{%- endif %}

## What happened
{% for n in d.narration %}
- {{ n.local }}: {{ n.text }}
{%- endfor %}

## Who was paged, when, and how
{% if d.pages %}
| when | incident | who | channel | level |
|---|---|---|---|---|
{%- for p in d.pages %}
| {{ p.local }} | #{{ p.incident }} | {{ p.name }} | {{ p.channel }} | {{ p.level }} |
{%- endfor %}
{% else %}
Nobody was paged.
{% endif %}
## Clocks
{% for i in d.incidents %}
### #{{ i.id }} {{ i.title }} ({{ i.severity }}, {{ i.type }}, {{ i.status }})
{% for c in i.clocks %}
- {{ c.name }}: due {{ c.due }}: **{{ c.state }}**{% if c.met_at %} at {{ c.met_at }}{% endif %}
{%- endfor %}
{% endfor %}
## Expectations
{% for c in d.expectations %}
- {{ "PASS" if c.passed else "FAIL" }}: {{ c.title }} ({{ c.evidence | join("; ") }})
{%- endfor %}

## Gaps found
{% for c in d.findings %}
- {{ "PASS" if c.passed else "FAIL" }}{{ "" if c.must else " (should)" }}: {{ c.title }}
{%- for e in c.evidence[:8] %}
  - {{ e }}
{%- endfor %}
{%- endfor %}

## Fix first
{% for c in d.fix_first %}
{{ loop.index }}. {{ c.title }}: {{ c.next_step or "see the evidence above" }}
{%- else %}
Nothing: every expectation was met and no gap was found.
{%- endfor %}
"""

_ENV = Environment(autoescape=select_autoescape(default_for_string=False), keep_trailing_newline=True)


def to_markdown(result: ExerciseResult) -> str:
    data = report_data(result)
    return _ENV.from_string(MARKDOWN).render(d=data, description=result.scenario.description.strip(),
                                            start=_local(result, result.started_at),
                                            end=_local(result, result.ended_at))


def to_html(result: ExerciseResult) -> str:
    """A self-contained page (the same look as the contact list and escalation chart)."""
    return render("drill.html", d=report_data(result), description=result.scenario.description.strip())
