"""Who would be paged for a service at an instant, level by level."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from onduty.app.ports import NotFound
from onduty.domain.escalation import Recipient, Unreachable, recipients_for
from onduty.domain.model import Directory, Override


@dataclass(frozen=True)
class LevelOnCall:
    level: int
    ack_timeout: timedelta
    recipients: list[Recipient]
    unreachable: list[Unreachable]


def oncall_for_service(
    directory: Directory, service_id: str, at: datetime, client_id: str | None = None,
    overrides: Sequence[Override] = (),
) -> list[LevelOnCall]:
    """Every level of the service's escalation policy, resolved to people at `at`."""
    service = directory.services.get(service_id)
    if service is None or (client_id is not None and service.client_id != client_id):
        known = ", ".join(sorted(s for s, v in directory.services.items()
                                 if client_id is None or v.client_id == client_id))
        raise NotFound(f"service {service_id!r} not found; known services: {known or 'none'}")
    policy = directory.policies[service.escalation_policy_id]
    levels = []
    for index, level in enumerate(policy.levels):
        found, missing = recipients_for(level.targets, directory.schedules, directory.people, at, overrides,
                                        service.qualified)
        levels.append(LevelOnCall(index + 1, level.ack_timeout, found, missing))
    return levels
