"""Wording and rendering shared by the exports: durations, coverage hours, contact addresses, templates."""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import cache
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from jinja2 import Environment, PackageLoader, StrictUndefined

from onduty.domain.model import ContactMethod, Coverage, Directory

DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
NONE = "—"


def duration(value: timedelta | None) -> str:
    """30 min, 60 min, 2 h, 48 h, 7 days; an em dash for an obligation that does not apply."""
    if value is None:
        return NONE
    seconds = int(value.total_seconds())
    if seconds % 86400 == 0 and seconds >= 3 * 86400:
        return f"{seconds // 86400} days"
    if seconds % 3600 == 0 and seconds >= 2 * 3600:
        return f"{seconds // 3600} h"
    return f"{seconds // 60} min"


def weekdays(days: frozenset[int]) -> str:
    """{0..6} → 'every day', {0..4} → 'Mon-Fri', {0, 2, 4} → 'Mon, Wed, Fri'."""
    if days == frozenset(range(7)):
        return "every day"
    ordered = sorted(days)
    runs: list[list[int]] = []
    for day in ordered:
        if runs and runs[-1][-1] == day - 1:
            runs[-1].append(day)
        else:
            runs.append([day])
    return ", ".join(
        f"{DAY_NAMES[r[0]]}-{DAY_NAMES[r[-1]]}" if len(r) > 2 else ", ".join(DAY_NAMES[d] for d in r) for r in runs
    )


def coverage_hours(coverage: Coverage) -> str:
    """'24x7' or '07:00-22:00 every day' (on the client's wall clock, which callers name)."""
    if coverage.always:
        return "24x7"
    return f"{coverage.start:%H:%M}-{coverage.end:%H:%M} {weekdays(coverage.days)}"


def address(method: ContactMethod) -> str:
    """What a person can use to reach someone by hand.

    Webhook, Slack, Teams and Apprise URLs are credentials (anyone holding one can post), so a printed
    list shows only their host; the full URL stays in the plan.
    """
    if method.kind in ("webhook", "slack", "teams", "apprise"):
        host = urlsplit(method.address).hostname or "?"
        return f"{host} (URL kept in the plan)"
    if method.kind == "console":
        return "the onduty server's console"
    return method.address


def human_contact(directory: Directory, person_id: str) -> str:
    """A person's first phone or e-mail, for a name printed beside an escalation step."""
    person = directory.people.get(person_id)
    for method in person.contacts if person else ():
        if method.kind in ("sms", "email"):
            return method.address
    return ""


def role_words(roles: tuple[str, ...]) -> str:
    """('tech_lead', 'engineer') → 'tech lead, engineer'."""
    return ", ".join(role.replace("_", " ") for role in roles)


def name_of(directory: Directory, person_id: str | None) -> str:
    """A person's name, or their id when they have left the plan (old records still name them)."""
    if person_id is None:
        return NONE
    person = directory.people.get(person_id)
    return person.name if person else person_id


def local_time(at: datetime, time_zone: str, fmt: str = "%a %d %b %H:%M") -> str:
    """An instant on the wall clock of `time_zone` (a template filter, too)."""
    return at.astimezone(ZoneInfo(time_zone)).strftime(fmt)


@cache
def _templates() -> Environment:
    env = Environment(loader=PackageLoader("onduty", "templates"), autoescape=True, undefined=StrictUndefined,
                      trim_blocks=True, lstrip_blocks=True)
    env.filters.update(duration=duration, roles=role_words, address=address, local=local_time)
    return env


def render(template: str, **context: Any) -> str:
    """A self-contained HTML page from `templates/`; every value is escaped."""
    return _templates().get_template(template).render(**context)
