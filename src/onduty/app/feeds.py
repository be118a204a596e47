"""Receive a feed's batch: check it against the reference profile and the previous accepted snapshot,
record the verdict, and raise a `pipeline_failure` alert with its evidence when the batch is held.

The checks run between two short transactions (they may take seconds on a big batch); the verdict,
the new snapshot and the alert commit together in the second.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from onduty.app.ingest import apply_events
from onduty.app.ports import FeedBatchRecord, NotFound, Transactions
from onduty.detect import feeds as detect
from onduty.detect.profile import Batch, batch_rows
from onduty.domain.alerts import AlertEvent, Decision
from onduty.domain.feeds import FeedSpec

MAX_FINDINGS_IN_SUMMARY = 3


class NoReference(LookupError):
    """The feed takes its reference only from `onduty feeds set-reference`, and none is set yet."""


@dataclass(frozen=True)
class BatchOutcome:
    feed_id: str
    service_id: str
    verdict: str  # accept or quarantine
    rows: int
    findings: list[dict[str, Any]]
    evidence: dict[str, Any]
    batch_id: int
    reference_set: bool = False  # this batch became the reference
    incident_id: int | None = None
    decision: Decision | None = None  # what the quarantine alert did (open, deduplicate…)

    def as_dict(self) -> dict[str, Any]:
        return {"feed": self.feed_id, "service": self.service_id, "verdict": self.verdict, "rows": self.rows,
                "findings": self.findings, "batch_id": self.batch_id, "reference_set": self.reference_set,
                "incident_id": self.incident_id, "evidence": self.evidence}


def feed_config(spec: FeedSpec) -> detect.FeedConfig:
    th = dict(spec.thresholds)
    return detect.FeedConfig(
        key=spec.key, attributes=spec.attributes or None, pairs=spec.pairs, columns=spec.columns or None,
        multivariate=spec.multivariate,
        **{k: v for k, v in th.items() if k in detect.FeedConfig.__dataclass_fields__},  # type: ignore[arg-type]
    )


def feed_spec(txs: Transactions, feed_id: str, service_id: str | None = None) -> FeedSpec:
    """The feed from the applied plan; NotFound when it is not there or not the key's service's."""
    with txs() as store:
        spec = store.directory().feeds.get(feed_id)
    if spec is None or (service_id is not None and spec.service_id != service_id):
        raise NotFound(f"feed {feed_id!r} is not in the applied plan" +
                       ("" if spec is None else " for this integration key's service"))
    return spec


def receive_batch(txs: Transactions, feed_id: str, batch: Batch, now: datetime,
                  service_id: str | None = None) -> BatchOutcome:
    """Check a batch and record the verdict; a held batch raises the feed's alert."""
    spec = feed_spec(txs, feed_id, service_id)
    config = feed_config(spec)
    with txs() as store:
        stored = store.feed_reference(feed_id)
        previous_bytes = store.feed_snapshot(feed_id)
    if stored is None:
        if spec.reference == "explicit":
            raise NoReference(f"feed {feed_id!r} has no reference yet; set one with "
                              f"`onduty feeds set-reference {feed_id} FILE`")
        return _first_batch(txs, spec, config, batch, now)
    previous = detect.Snapshot.from_bytes(previous_bytes) if previous_bytes else None
    verdict = detect.check(detect.Profile.from_bytes(stored.profile), batch, previous, config)
    evidence = {"feed": feed_id, "verdict": verdict.verdict, "reference": {"rows": stored.rows,
                "source": stored.source, "set_at": stored.set_at.isoformat()}, **verdict.as_dict()}
    findings = evidence["findings"]
    with txs() as store:
        incident_id = decision = None
        if verdict.accepted:
            if verdict.snapshot is not None:
                store.save_feed_snapshot(feed_id, verdict.snapshot.to_bytes(), verdict.rows, now)
        else:
            (result,) = apply_events(store, [(spec.service_id, _alert(spec, verdict, evidence))], now)
            incident_id, decision = result.incident_id, result.decision
        batch_id = store.add_feed_batch(FeedBatchRecord(feed_id, now, verdict.rows, verdict.verdict, findings,
                                                        incident_id))
    return BatchOutcome(feed_id, spec.service_id, verdict.verdict, verdict.rows, findings, evidence, batch_id,
                        incident_id=incident_id, decision=decision)


def _first_batch(txs: Transactions, spec: FeedSpec, config: detect.FeedConfig, batch: Batch,
                 now: datetime) -> BatchOutcome:
    profile = detect.reference_profile(batch, config)
    snap = detect.check(profile, batch, None, config).snapshot
    rows = batch_rows(batch)
    with txs() as store:
        if store.feed_reference(spec.id) is None:  # another request may have set it meanwhile
            store.save_feed_reference(spec.id, profile.to_bytes(), rows, "the first accepted batch", now)
            if snap is not None:
                store.save_feed_snapshot(spec.id, snap.to_bytes(), rows, now)
        batch_id = store.add_feed_batch(FeedBatchRecord(spec.id, now, rows, "accept", [], None))
    evidence = {"feed": spec.id, "verdict": "accept", "reference": profile.summary()}
    return BatchOutcome(spec.id, spec.service_id, "accept", rows, [], evidence, batch_id, reference_set=True)


def set_reference(txs: Transactions, feed_id: str, batch: Batch, source: str, now: datetime) -> int:
    """Make `batch` the feed's reference (and, for a keyed feed, its snapshot); returns its rows."""
    spec = feed_spec(txs, feed_id)
    config = feed_config(spec)
    profile = detect.reference_profile(batch, config)
    snap = detect.check(profile, batch, None, config).snapshot
    rows = batch_rows(batch)
    with txs() as store:
        old = store.feed_snapshot(feed_id)
        store.save_feed_reference(feed_id, profile.to_bytes(), rows, source, now)
        if snap is not None:  # keep what was learnt of the feed's normal churn
            history = detect.Snapshot.from_bytes(old).history if old else ()
            store.save_feed_snapshot(feed_id, detect.Snapshot(snap.keys, snap.hashes, history,
                                                              snap.duplicates).to_bytes(), rows, now)
    return rows


def _alert(spec: FeedSpec, verdict: detect.FeedVerdict, evidence: dict[str, Any]) -> AlertEvent:
    blocking = [f for f in verdict.findings if f.blocking]
    shown = "; ".join(f.message for f in blocking[:MAX_FINDINGS_IN_SUMMARY])
    more = f" (+{len(blocking) - MAX_FINDINGS_IN_SUMMARY} more)" if len(blocking) > MAX_FINDINGS_IN_SUMMARY else ""
    return AlertEvent(
        action="trigger", dedup_key=spec.alert_key, source="onduty feed check",
        summary=f"Feed {spec.id}: batch of {verdict.rows} rows quarantined: {shown}{more}"[:1024],
        severity="error", component=spec.id, custom_details={"evidence": evidence},
        labels={"feed": spec.id, "detector": "feed"},
    )
