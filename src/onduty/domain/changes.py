"""Change events (deploys, data releases, config pushes): kept per service, shown beside incidents."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class Change:
    service_id: str
    summary: str
    source: str
    occurred_at: datetime
    received_at: datetime
    details: dict[str, Any] = field(default_factory=dict)
    links: list[dict[str, str]] = field(default_factory=list)
    id: int | None = None
