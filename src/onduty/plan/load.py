"""Read `onduty.yaml` into a validated Plan; every error names the file, line and field.

YAML 1.1 quirks are switched off where they bite plans: `9:00` stays text (not 540) and duplicate
keys are an error instead of the last one silently winning.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from onduty.domain.comms import TemplateSource
from onduty.plan.comms_templates import TemplateFailed, load_template_file, render, sample_context
from onduty.plan.references import check_references
from onduty.plan.schema import MessageTemplate, Plan


@dataclass(frozen=True)
class PlanError:
    file: str
    line: int | None
    field: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.field}: {self.message}" if self.field else f"{where}: {self.message}"


class PlanInvalid(Exception):
    """The plan has errors; `errors` lists each with its place."""

    def __init__(self, errors: list[PlanError]):
        self.errors = errors
        super().__init__("\n".join(str(e) for e in errors))


class _Loader(yaml.SafeLoader):
    """SafeLoader without sexagesimal numbers, refusing duplicate keys."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r}", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag not in ("tag:yaml.org,2002:int",)]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:int",
    re.compile(r"^(?:[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+)$"),
    list("-+0123456789"),
)


def _node_at(node: yaml.Node | None, loc: tuple[int | str, ...]) -> yaml.Node | None:
    """The deepest YAML node along `loc` (a pydantic error location)."""
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            match = next((v for k, v in node.value if k.value == part), None)
            if match is None:
                return node
            node = match
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
        else:
            return node
    return node


def _key_line(node: yaml.Node | None, loc: tuple[int | str, ...]) -> int | None:
    """Line (1-based) of the key or item at `loc`, falling back to its parent."""
    parent = _node_at(node, loc[:-1]) if loc else node
    if isinstance(parent, yaml.MappingNode) and loc:
        for key, _ in parent.value:
            if key.value == loc[-1]:
                return int(key.start_mark.line) + 1
    target = _node_at(node, loc)
    return int(target.start_mark.line) + 1 if target is not None else None


def _field_name(loc: tuple[int | str, ...]) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


TYPE_TAGS = {"date", "datetime", "time", "str", "int", "float", "bool", "dict", "list"}


def _clean_loc(loc: tuple[int | str, ...]) -> tuple[int | str, ...]:
    """Drop the union-member tags pydantic adds (`Coverage`, `literal['24x7']`, `date`): not plan fields."""
    return tuple(
        part for part in loc
        if isinstance(part, int) or not (part[:1].isupper() or "[" in part or part in TYPE_TAGS)
    )


def _most_specific(errors: list[tuple[tuple[int | str, ...], str]]) -> list[tuple[tuple[int | str, ...], str]]:
    """When a union fails on every branch, keep the deepest complaint and drop duplicates."""
    kept: list[tuple[tuple[int | str, ...], str]] = []
    for loc, message in errors:
        deeper = any(other[: len(loc)] == loc and len(other) > len(loc) for other, _ in errors)
        if not deeper and all(loc != seen for seen, _ in kept):
            kept.append((loc, message))
    return kept


def _message(error: Any) -> str:
    kind, msg = error["type"], error["msg"]
    if kind == "extra_forbidden":
        return "unknown key (check its spelling and indentation against the plan reference)"
    if kind == "missing":
        return "required field is missing"
    if kind.startswith(("date", "datetime")):
        return f"expected a date like 2026-11-20 or a time like 2026-11-20T18:00+00:00, got {error['input']!r}"
    return str(msg).removeprefix("Value error, ")


def parse_yaml(text: str, file: str) -> tuple[Any, yaml.Node | None]:
    """YAML text → (data, node tree); raises PlanInvalid with the line on a syntax error."""
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        raise PlanInvalid([PlanError(file, line, "", f"YAML syntax: {exc.problem or exc}")]) from None
    finally:
        loader.dispose()
    return data, node


M = TypeVar("M", bound=BaseModel)


def load_model(path: Path | str, model: type[M], expected: str, what: str = "the file") -> tuple[M, yaml.Node | None]:
    """Read a YAML file into `model`; PlanInvalid names file, line and field for every error."""
    path = Path(path)
    file = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise PlanInvalid([PlanError(file, None, "", f"cannot read {what}: {exc.strerror}")]) from None
    data, node = parse_yaml(text, file)
    if not isinstance(data, dict):
        raise PlanInvalid([PlanError(file, 1, "", f"expected a mapping with {expected}")])
    try:
        return model.model_validate(data), node
    except ValidationError as exc:
        found = _most_specific([(_clean_loc(tuple(e["loc"])), _message(e)) for e in exc.errors()])
        raise PlanInvalid(
            [PlanError(file, _key_line(node, loc), _field_name(loc), msg) for loc, msg in found]
        ) from None


def errors_at(file: str, node: yaml.Node | None, problems: list[tuple[tuple[int | str, ...], str]]) -> PlanInvalid:
    """Cross-reference problems (location, message) as one PlanInvalid with lines."""
    return PlanInvalid([PlanError(file, _key_line(node, loc), _field_name(loc), msg) for loc, msg in problems])


def load_plan(path: Path | str) -> Plan:
    """Load and validate a plan file, with cross-references and runbook files checked."""
    path = Path(path)
    plan, node = load_model(path, Plan, "organization, people, …", "the plan")
    problems = check_references(plan, path.parent)
    if problems:
        raise errors_at(str(path), node, problems)
    return _with_templates(plan, path.parent, str(path), node)


def _with_templates(plan: Plan, base: Path, file: str, node: yaml.Node | None) -> Plan:
    """Read each message template the plan names into the plan, and try it once with sample values."""
    errors: list[PlanError] = []
    loaded: dict[str, MessageTemplate] = {}
    for kind, ref in plan.communications.templates.items():
        loc: tuple[int | str, ...] = ("communications", "templates", kind)
        name, text = f"{file}:{_field_name(loc)}", ref.text or ""
        if ref.file:
            try:
                text, name = load_template_file(base, ref.file), str(base / ref.file)
            except (OSError, ValueError) as exc:
                errors.append(PlanError(file, _key_line(node, loc), _field_name(loc), str(exc)))
                continue
        try:
            render(TemplateSource(name, text), sample_context())
        except TemplateFailed as exc:
            if ref.file:
                errors.append(PlanError(name, exc.line, _field_name(loc), exc.reason))
            else:
                errors.append(PlanError(file, _key_line(node, loc), _field_name(loc),
                                        f"line {exc.line} of the template: {exc.reason}"))
        loaded[kind] = ref.model_copy(update={"text": text})
    if errors:
        raise PlanInvalid(errors)
    if not loaded:
        return plan
    comms = plan.communications.model_copy(update={"templates": loaded})
    return plan.model_copy(update={"communications": comms})
