"""Apply a validated plan: all or nothing, and applying the same plan twice changes nothing."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import orjson

from onduty.app.ports import Transactions
from onduty.plan.runbooks import read_runbooks
from onduty.plan.schema import Plan


@dataclass(frozen=True)
class ApplyResult:
    changed: bool
    sha256: str
    added: int = 0
    updated: int = 0
    removed: int = 0


def plan_sha(plan: Plan) -> tuple[str, dict[str, object]]:
    document = plan.model_dump(mode="json")
    return hashlib.sha256(orjson.dumps(document, option=orjson.OPT_SORT_KEYS)).hexdigest(), document


def apply_plan(txs: Transactions, plan: Plan, source: str, now: datetime, actor: str = "cli") -> ApplyResult:
    """Store the plan and sync the rows other records point at, in one transaction.

    Entities that left the plan are marked inactive rather than deleted: incidents still name them.
    """
    sha, document = plan_sha(plan)
    runbooks = read_runbooks(plan, Path(source).parent)
    with txs() as store:
        # Runbook texts are stored too, so a server without the plan folder can show them.
        runbooks_changed = store.save_runbook_texts(runbooks, now)
        if store.plan_sha() == sha:
            return ApplyResult(runbooks_changed > 0, sha, updated=runbooks_changed)
        counts = store.sync_entities(
            clients=[{"id": c.id, "name": c.name, "time_zone": c.time_zone} for c in plan.clients],
            services=[
                {"id": s.id, "client_id": s.client, "name": s.name or s.id, "kind": s.kind}
                for s in plan.services
            ],
            people=[{"id": p.id, "name": p.name} for p in plan.people],
        )
        store.save_plan(sha, source, document, now)
        store.record_admin_action(now, actor, "plan.applied", None, sha, {"source": source, **counts})
    return ApplyResult(True, sha, counts["added"], counts["changed"], counts["removed"])
