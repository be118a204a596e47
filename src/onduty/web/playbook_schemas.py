"""API models for the playbook, client requests, workarounds, runbooks and the fallback action."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from onduty.app.fallback import FallbackOutcome
from onduty.app.playbook import PlaybookReport
from onduty.app.runbooks import RunbookView
from onduty.domain.client_requests import ClientRequest
from onduty.domain.playbook import StepView, Tick, Workaround
from onduty.web.alerting_schemas import ChangeOut
from onduty.web.schemas import IncidentOut

IncidentTypeName = Literal["model_degradation", "pipeline_failure", "api_availability", "security", "other"]


class ItemOut(BaseModel):
    id: str
    text: str
    kind: str
    data: dict[str, Any]
    done: bool
    by: str | None
    at: datetime | None
    note: str


class StepOut(BaseModel):
    number: int
    key: str
    title: str
    starts: datetime | None = Field(description="timebox start; null until the incident resolves (steps 4-5)")
    ends: datetime | None
    state: str = Field(description="upcoming, running, overrun, done, done_late or waiting")
    seconds_left: float | None = Field(description="until the timebox ends; negative when overrun")
    done: int
    total: int
    items: list[ItemOut]

    @classmethod
    def of(cls, view: StepView, ticks: dict[str, Tick]) -> StepOut:
        items = []
        for item in view.step.items:
            tick = ticks.get(item.id)
            items.append(ItemOut(id=item.id, text=item.text, kind=item.kind, data=item.data,
                                 done=bool(tick and tick.done), by=tick.by if tick else None,
                                 at=tick.at if tick else None, note=tick.note if tick else ""))
        return cls(number=view.step.number, key=view.step.key, title=view.step.title, starts=view.step.starts,
                   ends=view.step.ends, state=view.state,
                   seconds_left=view.left.total_seconds() if view.left is not None else None,
                   done=view.done, total=view.total, items=items)


class RequestOut(BaseModel):
    id: int
    text: str
    due_at: datetime
    state: str = Field(description="running, met, met_late or missed")
    seconds_left: float
    created_by: str
    created_at: datetime
    done_at: datetime | None
    done_by: str | None

    @classmethod
    def of(cls, r: ClientRequest, now: datetime) -> RequestOut:
        return cls(id=r.id, text=r.text, due_at=r.due_at, state=r.state(now), seconds_left=r.left(now).total_seconds(),
                   created_by=r.created_by, created_at=r.created_at, done_at=r.done_at, done_by=r.done_by)


class WorkaroundOut(BaseModel):
    id: int
    text: str
    added_by: str
    added_at: datetime
    item: str = Field(description="the step 4 item to tick when it is removed")

    @classmethod
    def of(cls, w: Workaround) -> WorkaroundOut:
        return cls(id=w.id, text=w.text, added_by=w.added_by, added_at=w.added_at, item=f"verify.workaround.{w.id}")


class RunbookOut(BaseModel):
    title: str
    file: str
    why: list[str] = Field(description="why it is linked: service, type, alert labels")
    markdown: str | None = Field(description="null when the file was not stored at `plan apply`")

    @classmethod
    def of(cls, r: RunbookView, with_text: bool = True) -> RunbookOut:
        return cls(title=r.title, file=r.file, why=list(r.reasons), markdown=r.markdown if with_text else None)


class PlaybookOut(BaseModel):
    incident: IncidentOut
    now: datetime
    suggested_severity: str | None = Field(description="from the assessment questions answered yes")
    steps: list[StepOut]
    candidate_changes: list[ChangeOut]
    blast_radius: list[str] = Field(description="services that depend on this one, nearest first")
    requests: list[RequestOut]
    workarounds: list[WorkaroundOut]
    runbooks: list[RunbookOut]

    @classmethod
    def of(cls, r: PlaybookReport) -> PlaybookOut:
        return cls(
            incident=IncidentOut.of(r.incident), now=r.now, suggested_severity=r.suggested_severity,
            steps=[StepOut.of(s, r.ticks) for s in r.steps], candidate_changes=[ChangeOut.of(c) for c in r.changes],
            blast_radius=r.blast_radius, requests=[RequestOut.of(q, r.now) for q in r.requests],
            workarounds=[WorkaroundOut.of(w) for w in r.workarounds],
            runbooks=[RunbookOut.of(b, with_text=False) for b in r.runbooks],
        )


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")
    by: str | None = Field(None, max_length=120, description="who acts; default: the API key's role")


class TickIn(_In):
    done: bool = True
    note: str = Field("", max_length=4000)


class TickOut(BaseModel):
    item: str
    done: bool
    by: str
    at: datetime
    note: str


class TypeIn(_In):
    to: IncidentTypeName
    reason: str = Field(min_length=1, max_length=4000)


class ByIn(_In):
    """Only who acts."""


class FallbackOut(BaseModel):
    ok: bool
    result: str
    url: str
    webhook_id: str

    @classmethod
    def of(cls, o: FallbackOutcome) -> FallbackOut:
        return cls(ok=o.ok, result=o.detail, url=o.url, webhook_id=o.message_id)


class RequestIn(_In):
    text: str = Field(min_length=1, max_length=4000)
    due: str | None = Field(None, description="due in, e.g. 30m or 2h")
    due_at: datetime | None = Field(None, description="or an exact due time (ISO 8601 with offset)")


class WorkaroundIn(_In):
    text: str = Field(min_length=1, max_length=4000)
