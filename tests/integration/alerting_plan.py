"""The sample agency plan with alert-handling sections added, applied to a test container."""

from __future__ import annotations

import shutil
from pathlib import Path

from onduty.app.plans import apply_plan
from onduty.bootstrap import Container
from onduty.plan.load import load_plan
from tests.conftest import SAMPLE_PLAN

EXTRA = """
routing:
  - name: cluster namespaces
    from_services: [telemetry-pipeline]
    match: ['namespace="northwind"', 'app=~"recs-.*"']
    service: recs-api
classification:
  - name: drift is a model problem
    match: ['alertname=~".*Drift"']
    type: model_degradation
    severity: sev2
  - name: leaked keys are security
    match: ['alertname="CredentialLeak"']
    type: security
    severity: sev1
maintenance_windows:
  - id: sunday-reindex
    clients: [tidewater]
    days: [sunday]
    start: "02:00"
    end: "04:00"
"""
SERVICE_EXTRAS = {
    "catalog-feed": ["    heartbeats:", "      - {id: catalog-hourly, period: 1h, grace: 10m, severity: critical}"],
    "claims-triage": ["    auto_resolve: false", "    group_window: 10m"],
}


def alerting_plan_text() -> str:
    lines = []
    for line in SAMPLE_PLAN.read_text().splitlines():
        lines.append(line)
        for service, extra in SERVICE_EXTRAS.items():
            if line.strip() == f"- id: {service}":
                lines += extra
    return "\n".join(lines) + "\n" + EXTRA


def apply_alerting_plan(container: Container, folder: Path) -> None:
    plan = folder / "onduty.yaml"
    plan.write_text(alerting_plan_text())
    shutil.copytree(SAMPLE_PLAN.parent / "runbooks", folder / "runbooks", dirs_exist_ok=True)
    apply_plan(container.db, load_plan(plan), str(plan), container.clock.now())
