"""A data feed as the plan declares it: the service it belongs to, its key, pairs and thresholds."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from onduty.domain.severity import Severity


@dataclass(frozen=True)
class FeedSpec:
    id: str
    service_id: str
    severity: Severity = Severity.SEV2
    format: str | None = None  # csv, jsonl or parquet: used when a request names no Content-Type
    key: str | None = None
    attributes: tuple[str, ...] = ()
    pairs: tuple[tuple[str, str], ...] = ()
    columns: tuple[str, ...] = ()
    multivariate: bool = False  # PCA reconstruction error against held-out reference chunks
    reference: str = "first_batch"  # or "explicit": only `onduty feeds set-reference` sets it
    thresholds: Mapping[str, float | str | bool | None] = field(default_factory=dict)

    @property
    def alert_key(self) -> str:
        return f"feed/{self.id}/quarantine"
