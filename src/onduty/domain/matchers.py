"""Label matchers, written as Alertmanager writes them: `name="value"`, `name!=value`, `name=~regex`,
`name!~regex`, plus `name` (the label exists, non-empty) and `!name` (it does not).

Regexes are anchored (a full match), and a missing label reads as the empty string, as in Alertmanager.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

Op = Literal["=", "!=", "=~", "!~", "exists", "absent"]
_NAME = r"[A-Za-z_][A-Za-z0-9_.:-]*"
_FORM = re.compile(rf"^\s*(?P<name>{_NAME})\s*(?P<op>=~|!~|!=|=)\s*(?P<value>.*?)\s*$")
_BARE = re.compile(rf"^\s*(?P<neg>!?)\s*(?P<name>{_NAME})\s*$")


class BadMatcher(ValueError):
    """A matcher that cannot be parsed; the message shows the accepted forms."""


@dataclass(frozen=True)
class Matcher:
    name: str
    op: Op
    value: str = ""
    pattern: re.Pattern[str] | None = field(default=None, compare=False, repr=False)

    def matches(self, labels: Mapping[str, str]) -> bool:
        actual = labels.get(self.name, "")
        if self.op == "=":
            return actual == self.value
        if self.op == "!=":
            return actual != self.value
        if self.op == "exists":
            return actual != ""
        if self.op == "absent":
            return actual == ""
        assert self.pattern is not None
        found = self.pattern.fullmatch(actual) is not None
        return found if self.op == "=~" else not found

    def __str__(self) -> str:
        if self.op == "exists":
            return self.name
        if self.op == "absent":
            return f"!{self.name}"
        return f'{self.name}{self.op}"{self.value}"'


def _unquote(text: str) -> str:
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'":
        return text[1:-1].replace('\\"', '"')
    return text


def parse_matcher(text: str) -> Matcher:
    """`alertname="DiskFull"` → Matcher; raise BadMatcher saying what is accepted."""
    if not isinstance(text, str) or not text.strip():
        raise BadMatcher("a matcher must be non-empty text such as alertname=\"DiskFull\"")
    bare = _BARE.match(text)
    if bare:
        return Matcher(bare["name"], "absent" if bare["neg"] else "exists")
    form = _FORM.match(text)
    if not form:
        raise BadMatcher(
            f"cannot read matcher {text!r}; write name=\"value\", name!=\"value\", name=~\"regex\", "
            "name!~\"regex\", name (exists) or !name (absent)"
        )
    op: Op = form["op"]  # type: ignore[assignment]
    value = _unquote(form["value"])
    pattern = None
    if op in ("=~", "!~"):
        try:
            pattern = re.compile(value)
        except re.error as exc:
            raise BadMatcher(f"matcher {text!r}: the regex does not compile: {exc}") from None
    return Matcher(form["name"], op, value, pattern)


def parse_matchers(texts: Sequence[str]) -> tuple[Matcher, ...]:
    return tuple(parse_matcher(text) for text in texts)


def match_all(matchers: Sequence[Matcher], labels: Mapping[str, str]) -> bool:
    """True when every matcher holds (an empty list matches everything)."""
    return all(m.matches(labels) for m in matchers)
