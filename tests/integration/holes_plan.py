"""A small plan with planted holes, for the exercise and `doctor` tests: nobody on call at night for a
24x7 client, a rotation held by one person, an on-call person on vacation with nobody behind them,
and a client without a contact."""

HOLES_PLAN = """
version: 1
organization: {name: Planted Holes Ltd, time_zone: UTC, reviewed: 2026-10-01}
people:
  - {id: ana, name: Ana Day, time_zone: UTC, contact: [{type: webhook, address: "https://hooks.example/ana"}]}
  - {id: bo, name: Bo Night, time_zone: UTC, contact: [{type: webhook, address: "https://hooks.example/bo"}],
     time_off: [{start: 2026-11-16, end: 2026-11-29, reason: vacation}]}
  - {id: cy, name: Cy Lead, time_zone: UTC, roles: [delivery_lead],
     contact: [{type: webhook, address: "https://hooks.example/cy"}]}
clients:
  - {id: acme, name: Acme Retail, time_zone: UTC, coverage: 24x7, account_manager: cy, delivery_lead: cy}
services:
  - {id: ranker, name: Acme ranker, client: acme, kind: model, escalation_policy: solo}
schedules:
  - id: days
    time_zone: UTC
    layers:
      - name: days
        members: [ana]
        start: 2026-01-05
        restrictions: [{start: "08:00", end: "20:00"}]
  - id: nights
    time_zone: UTC
    layers:
      - {name: nights, members: [bo], start: 2026-01-05, restrictions: [{start: "20:00", end: "08:00"}]}
escalation_policies:
  - id: solo
    levels:
      - targets: [{schedule: days}, {schedule: nights}]
"""

NIGHT_DRILL = """
name: Ranker down at night
start: 2026-11-20T23:00
time_zone: UTC
duration: 1h
steps:
  - at: 5m
    alert: {service: ranker, summary: Ranker returns empty lists, severity: critical, dedup_key: ranker/empty}
expect:
  first_page_within: 5m
"""
