"""Escalation: which level to page now, and when to look again if nobody acknowledges."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from onduty.domain.model import EscalationPolicy, Override, Person, Schedule, Target
from onduty.domain.schedules import Uncovered, resolve_on_call


@dataclass(frozen=True)
class Position:
    """Where an incident stands in its policy: the level index and how many loops are done."""

    level: int
    loop: int = 0


@dataclass(frozen=True)
class EscalationStep:
    """Page `position`'s level now; look again at `next_due` unless acknowledged by then."""

    position: Position
    targets: tuple[Target, ...]
    next_position: Position | None
    next_due: datetime | None


def step_at(policy: EscalationPolicy, position: Position, now: datetime) -> EscalationStep:
    """The page due at `position`, and the next position after its ack timeout.

    After the last level the policy starts again from level one while loops remain
    (`repeats`); after that there is nothing further to try.
    """
    if not 0 <= position.level < len(policy.levels):
        raise ValueError(f"level {position.level + 1} does not exist in policy {policy.id!r}")
    level = policy.levels[position.level]
    nxt: Position | None
    if position.level + 1 < len(policy.levels):
        nxt = Position(position.level + 1, position.loop)
    elif position.loop < policy.repeats:
        nxt = Position(0, position.loop + 1)
    else:
        nxt = None
    due = now + level.ack_timeout if nxt is not None else None
    return EscalationStep(position, level.targets, nxt, due)


def after_resolve_timeout(policy: EscalationPolicy, position: Position) -> Position | None:
    """The level to page when an acknowledged incident outlives its resolve timeout."""
    if position.level + 1 < len(policy.levels):
        return Position(position.level + 1, position.loop)
    return None


@dataclass(frozen=True)
class Recipient:
    """A person to page, and why they were chosen."""

    person_id: str
    target: Target
    covering_for: str | None = None
    cover_reason: str | None = None


@dataclass(frozen=True)
class Unreachable:
    """A target that resolved to nobody at this instant, with the reason."""

    target: Target
    reason: str


def recipients_for(
    targets: tuple[Target, ...],
    schedules: Mapping[str, Schedule],
    people: Mapping[str, Person],
    at: datetime,
    overrides: Sequence[Override] = (),
    qualified: Sequence[str] = (),
) -> tuple[list[Recipient], list[Unreachable]]:
    """Turn a level's targets into people at `at`: schedules give their on-call, people themselves.

    A person reached through two targets is paged once; people on time off are skipped; rotation
    members not qualified for the service are skipped (people named in the policy are not).
    """
    found: dict[str, Recipient] = {}
    missing: list[Unreachable] = []
    for target in targets:
        if target.kind == "schedule":
            schedule = schedules.get(target.id)
            on_call = resolve_on_call(schedule, people, at, overrides, qualified) if schedule else None
            if on_call is None:
                missing.append(Unreachable(target, "schedule is not in the plan"))
            elif isinstance(on_call, Uncovered):
                missing.append(Unreachable(target, on_call.reason))
            elif on_call.person_id not in found:
                found[on_call.person_id] = Recipient(
                    on_call.person_id, target, on_call.covering_for, on_call.cover_reason
                )
            continue
        person = people.get(target.id)
        away = person.away_at(at) if person else None
        if person is None:
            missing.append(Unreachable(target, "person is not in the plan"))
        elif away is not None:
            missing.append(Unreachable(target, f"{person.name} is away ({away.reason})"))
        elif person.id not in found:
            found[person.id] = Recipient(person.id, target)
    return list(found.values()), missing
