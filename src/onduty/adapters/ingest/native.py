"""onduty's own alert format (`POST /api/v1/alerts`), validated by pydantic with named fields."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from onduty.domain.alerts import AlertEvent


class Link(BaseModel):
    model_config = ConfigDict(extra="forbid")
    href: str
    text: str | None = None


class NativeAlert(BaseModel):
    """One alert. `key` deduplicates: a trigger on an open key joins its incident."""

    model_config = ConfigDict(extra="forbid")
    action: Literal["trigger", "acknowledge", "resolve"] = "trigger"
    key: str | None = Field(None, max_length=255, description="dedup key; generated when left out")
    summary: str | None = Field(None, min_length=1, max_length=1024)
    source: str = Field("api", min_length=1, max_length=255)
    severity: Literal["critical", "error", "warning", "info"] = "error"
    occurred_at: AwareDatetime | datetime | None = None
    component: str | None = None
    group: str | None = None
    details: dict[str, Any] = Field(default_factory=dict)
    links: list[Link] = Field(default_factory=list)
    labels: dict[str, str] = Field(default_factory=dict, description="what routing rules and silences match on")

    @model_validator(mode="after")
    def _summary_to_trigger(self) -> NativeAlert:
        if self.action == "trigger" and not self.summary:
            raise ValueError("summary is required to trigger an alert")
        if self.action != "trigger" and not self.key:
            raise ValueError(f"key is required to {self.action} an alert")
        return self

    def to_event(self) -> AlertEvent:
        occurred = self.occurred_at
        if occurred is not None and occurred.tzinfo is None:
            occurred = occurred.replace(tzinfo=UTC)
        return AlertEvent(
            action=self.action,
            dedup_key=self.key or uuid.uuid4().hex,
            summary=self.summary or "",
            source=self.source,
            severity=self.severity,
            timestamp=occurred,
            component=self.component,
            group=self.group,
            custom_details=self.details,
            links=[link.model_dump(exclude_none=True) for link in self.links],
            labels={**{k: v for k, v in (("source", self.source), ("severity", self.severity),
                                         ("component", self.component), ("group", self.group)) if v},
                    **self.labels},
        )
