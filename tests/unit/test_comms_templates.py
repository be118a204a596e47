"""Message templates: onduty's defaults render every field, the sandbox refuses Python internals,
and every template error names the template and the line."""

from __future__ import annotations

import pytest

from onduty.domain.comms import KINDS, REQUIRED, TemplateSource
from onduty.plan.comms_templates import TemplateFailed, default_template, render, sample_context


@pytest.mark.parametrize("kind", KINDS)
def test_default_template_shows_every_required_field(kind: str) -> None:
    context = sample_context()
    rendered = render(default_template(kind), context)
    assert rendered.subject and "\n" not in rendered.subject
    for spec in REQUIRED[kind]:
        if spec.name != "affected_system" or kind != "resolution":
            assert f"<{spec.label}>" in rendered.subject + rendered.body, spec.name


def test_optional_fields_appear_only_when_given() -> None:
    context = sample_context()
    assert "Workaround" not in render(default_template("initial"), context).body
    fields = {**context["fields"], "workaround": "Use the saved list."}
    with_workaround = render(default_template("initial"), {**context, "fields": fields})
    assert "**Workaround**\nUse the saved list." in with_workaround.body


@pytest.mark.parametrize("text", [
    "Subject: x\n\n{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "Subject: x\n\n{{ incident.__class__ }}",
    "Subject: x\n\n{{ cycler.__init__.__globals__ }}",
])
def test_sandbox_refuses_reaching_into_python(text: str) -> None:
    with pytest.raises(TemplateFailed) as caught:
        render(TemplateSource("evil.md.j2", text), sample_context())
    assert str(caught.value).startswith("evil.md.j2:3: ")
    assert "sandbox" in str(caught.value) or "undefined" in str(caught.value)


def test_unknown_name_is_an_error_with_its_line() -> None:
    text = "Subject: {{ incident.title }}\n\nHello\n\n{{ whatever_is_this }}\n"
    with pytest.raises(TemplateFailed) as caught:
        render(TemplateSource("comms/initial.md.j2", text), sample_context())
    assert str(caught.value) == "comms/initial.md.j2:5: template error: 'whatever_is_this' is undefined"


def test_syntax_error_names_template_and_line() -> None:
    with pytest.raises(TemplateFailed) as caught:
        render(TemplateSource("update.md.j2", "Subject: x\n\n{% if %}\n"), sample_context())
    assert caught.value.name == "update.md.j2" and caught.value.line == 3
    assert "template syntax" in str(caught.value)


def test_template_without_a_subject_line_is_refused() -> None:
    with pytest.raises(TemplateFailed, match="first line must be 'Subject: "):
        render(TemplateSource("t.j2", "Hello {{ client.name }}"), sample_context())


def test_markup_in_fields_is_kept_as_written() -> None:
    context = sample_context()
    fields = {**context["fields"], "what_is_known": "rows < 10% & <b>not</b> escaped"}
    body = render(default_template("initial"), {**context, **fields, "fields": fields}).body
    assert "rows < 10% & <b>not</b> escaped" in body  # plain text: no HTML escaping
