"""Message templates: Jinja2 in a sandbox, onduty's default wording, and the check a plan's own templates get.

A template is text whose first line is `Subject: …`, then a blank line, then the body. Rendering is
strict (an unknown name is an error) and sandboxed (no reaching into Python objects); every error
names the template and the line.
"""

from __future__ import annotations

import traceback
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from importlib.resources import files
from pathlib import Path
from typing import Any

from jinja2 import FunctionLoader, StrictUndefined, Template, TemplateError, TemplateSyntaxError
from jinja2.exceptions import SecurityError
from jinja2.sandbox import SandboxedEnvironment

from onduty.domain.comms import KINDS, REQUIRED, TemplateSource

MAX_TEMPLATE_BYTES = 64 * 1024


class TemplateFailed(ValueError):
    """A template could not be compiled or rendered; says which template, which line, and why."""

    def __init__(self, name: str, line: int | None, message: str):
        self.name, self.line, self.reason = name, line, message
        super().__init__(f"{name}:{line}: {message}" if line else f"{name}: {message}")


@dataclass(frozen=True)
class Rendered:
    subject: str
    body: str


@lru_cache(maxsize=8)
def default_template(kind: str) -> TemplateSource:
    """onduty's own wording for `kind`, shipped in the package."""
    text = (files("onduty") / "templates" / "comms" / f"{kind}.md.j2").read_text(encoding="utf-8")
    return TemplateSource(f"default:{kind}", text)


@lru_cache(maxsize=64)
def _compile(source: TemplateSource) -> Template:
    """Compiled once per distinct template text (sources are immutable values)."""
    env = SandboxedEnvironment(
        loader=FunctionLoader(lambda name: (source.text, source.name, lambda: True)), undefined=StrictUndefined,
        autoescape=False, keep_trailing_newline=False, trim_blocks=True, lstrip_blocks=True, auto_reload=False,
    )
    try:
        return env.get_template(source.name)
    except TemplateSyntaxError as exc:
        raise TemplateFailed(source.name, exc.lineno, f"template syntax: {exc.message}") from None


def _line_of(exc: BaseException, name: str) -> int | None:
    """The template line an error was raised from (Jinja maps its frames back to template lines)."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename == name]
    return frames[-1].lineno if frames else None


def render(source: TemplateSource, context: dict[str, Any]) -> Rendered:
    """Render to subject and body, or raise TemplateFailed."""
    if len(source.text.encode()) > MAX_TEMPLATE_BYTES:
        raise TemplateFailed(source.name, None, f"template is larger than {MAX_TEMPLATE_BYTES // 1024} KiB")
    template = _compile(source)
    try:
        text = template.render(context)
    except SecurityError as exc:
        raise TemplateFailed(source.name, _line_of(exc, source.name), f"refused by the sandbox: {exc}") from None
    except TemplateError as exc:
        raise TemplateFailed(source.name, _line_of(exc, source.name), f"template error: {exc}") from None
    except Exception as exc:  # a filter or operation failing on the data, e.g. a division by zero
        raise TemplateFailed(source.name, _line_of(exc, source.name),
                             f"{type(exc).__name__} while rendering: {exc}") from None
    head, _, body = text.lstrip().partition("\n")
    if not head.lower().startswith("subject:"):
        raise TemplateFailed(source.name, 1, "the first line must be 'Subject: …', then a blank line, then the body")
    return Rendered(head[len("subject:"):].strip(), body.strip() + "\n")


def sample_context() -> dict[str, Any]:
    """A context with every name a template may use, to try a plan's templates when the plan is loaded."""
    fields = {spec.name: f"<{spec.label}>" for kind in KINDS for spec in REQUIRED[kind]}
    at = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
    return message_context(
        kind="initial", fields=fields, incident={"id": 1, "title": "Sample incident", "severity": "Sev1",
                                                 "status": "triggered", "type": "other",
                                                 "declared_at": "Thu 01 Jan, 12:00 UTC"},
        client={"id": "client", "name": "Client", "time_zone": "UTC"},
        service={"id": "service", "name": "Service", "kind": "model"},
        organization="Organization", now=at, link="http://onduty.example/incidents/1",
    )


def message_context(*, kind: str, fields: dict[str, str], incident: dict[str, Any], client: dict[str, Any],
                    service: dict[str, Any], organization: str, now: datetime, link: str) -> dict[str, Any]:
    """What a template sees: the fields by name (also under `fields`), and the incident's facts."""
    return {**fields, "fields": fields, "kind": kind, "incident": incident, "client": client,
            "service": service, "organization": organization, "now": now.isoformat(), "link": link}


def load_template_file(base: Path, relative: str) -> str:
    """Read a template beside the plan; OSError and ValueError name the problem."""
    path = base / relative
    if not path.is_file():
        raise ValueError(f"template file {relative!r} not found next to the plan")
    if path.stat().st_size > MAX_TEMPLATE_BYTES:
        raise ValueError(f"template file {relative!r} is larger than {MAX_TEMPLATE_BYTES // 1024} KiB")
    return path.read_text(encoding="utf-8")
