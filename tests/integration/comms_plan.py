"""A small agency plan whose contact methods point at local receivers, for the communications tests."""

from __future__ import annotations

from pathlib import Path

from onduty.adapters.clock import SimulatedClock
from onduty.app.plans import apply_plan
from onduty.bootstrap import Container, build
from onduty.config import Settings
from onduty.plan.load import load_plan

WEBHOOK_SECRET = "whsec_c2VjcmV0LWZvci10ZXN0cw=="
PUBLIC_URL = "http://onduty.test"


def comms_plan_text(http: str, extra: str = "", ana_contacts: str = "", ana_rules: str = "") -> str:
    ana = ana_contacts or (f'      - {{type: slack, address: "{http}/slack/ana"}}\n'
                           "      - {type: email, address: ana@halyard.example}\n")
    return f"""\
version: 1
organization: {{name: Halyard Labs, time_zone: Europe/Lisbon, webhook_allow_networks: [127.0.0.0/8]}}
people:
  - id: ana
    name: Ana Souza
    time_zone: Europe/Lisbon
    contact:
{ana}{ana_rules}  - id: raj
    name: Raj Iyer
    time_zone: Europe/Lisbon
    contact:
      - {{type: webhook, address: "{http}/hooks/raj"}}
  - id: maria
    name: Maria Costa
    time_zone: America/Chicago
    roles: [account_manager]
    contact:
      - {{type: email, address: maria@halyard.example}}
  - id: dev
    name: Dev Patel
    time_zone: Europe/Lisbon
    roles: [delivery_lead]
    contact:
      - {{type: teams, address: "{http}/teams/dev"}}
  - id: hannah
    name: Hannah Weiss
    time_zone: Europe/Lisbon
    roles: [tech_lead]
    contact:
      - {{type: webhook, address: "{http}/hooks/hannah"}}
      - {{type: email, address: hannah@halyard.example}}
clients:
  - id: northwind
    name: Northwind Home
    time_zone: America/Chicago
    coverage: 24x7
    account_manager: maria
    delivery_lead: dev
    tech_lead: hannah
    contacts:
      - {{name: Rachel Kim, email: rachel.kim@northwind.example}}
      - {{name: Front desk, phone: "+1-312-555-0100"}}
  - id: tidewater
    name: Tidewater Freight
    time_zone: Australia/Sydney
    coverage: 24x7
    account_manager: maria
    delivery_lead: dev
    contacts:
      - {{name: Liam Walsh, email: liam.walsh@tidewater.example}}
services:
  - {{id: recs-model, name: Northwind recommendation engine, client: northwind, kind: model,
     escalation_policy: ml}}
  - {{id: eta-model, name: Tidewater delivery-time model, client: tidewater, kind: model, escalation_policy: ml}}
schedules:
  - id: primary
    time_zone: Europe/Lisbon
    layers:
      - {{members: [ana], start: 2026-01-05}}
escalation_policies:
  - id: ml
    levels:
      - {{targets: [{{schedule: primary}}], ack_timeout: 10m}}
      - {{targets: [{{person: raj}}], ack_timeout: 10m}}
{extra}"""


def comms_container(database_url: str, clock: SimulatedClock, smtp_port: int) -> Container:
    settings = Settings(database_url=database_url, smtp_host="127.0.0.1", smtp_port=smtp_port,
                        smtp_starttls=False, smtp_from="incidents@halyard.example", webhook_secret=WEBHOOK_SECRET,
                        public_url=PUBLIC_URL, notify_timeout_seconds=5.0)
    return build(settings, clock=clock)


def apply_text(container: Container, folder: Path, text: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "onduty.yaml"
    path.write_text(text)
    apply_plan(container.db, load_plan(path), str(path), container.clock.now())
