"""The plan's `services[].detectors`: defaults by kind, and errors that name file, line and field."""

from __future__ import annotations

from pathlib import Path

import pytest

from onduty.plan.convert import to_directory
from onduty.plan.load import load_plan
from tests.unit.test_plan_load import edited, line_of, only_error, write

KIND_LINE = "    escalation_policy: standard\nschedules:"


def with_detectors(*lines: str) -> str:
    return edited(KIND_LINE, "    escalation_policy: standard\n    detectors:\n" +
                  "".join(f"      {line}\n" for line in lines) + "schedules:")


def test_detectors_get_their_kinds_defaults(tmp_path: Path) -> None:
    text = with_detectors("- {id: relevance, kind: relevance, successes: recs.hit, trials: recs.shown}",
                          "- {id: uptime, kind: slo, bad: errors, total: requests, target: 0.995}")
    specs = to_directory(load_plan(write(tmp_path, text))).detectors["recs"]
    relevance, uptime = specs
    assert (relevance.severity, relevance.incident_type) == ("critical", "model_degradation")
    assert relevance.metrics == {"successes": "recs.hit", "trials": "recs.shown"}
    assert uptime.params["target"] == 0.995 and uptime.incident_type == "api_availability"
    assert uptime.dedup_key("page") == "detector/uptime/page"


@pytest.mark.parametrize(("line", "message"), [
    ("- {id: conv, kind: kpi, successes: orders}", "needs trials"),
    ("- {id: conv, kind: kpi, successes: orders, trials: sessions, bad: errors}", "does not read bad"),
    ("- {id: conv, kind: kpi, successes: orders, trials: sessions, drop: 1.5}", "less than 1"),
    ("- {id: conv, kind: cusum, successes: orders, trials: sessions}", "kpi"),
    ("- {id: conv, kind: kpi, successes: orders, trials: sessions, step: soon}", "duration"),
])
def test_bad_detector_names_line_and_field(tmp_path: Path, line: str, message: str) -> None:
    text = with_detectors(line)
    error = only_error(tmp_path, text)
    assert error.line == line_of(text, line.split(",")[0])
    assert error.field.startswith("services[0].detectors[0]") and message in error.message


def test_detector_ids_are_unique_within_a_service(tmp_path: Path) -> None:
    line = "- {id: conv, kind: kpi, successes: orders, trials: sessions}"
    error = only_error(tmp_path, with_detectors(line, line.replace("orders", "sales")))
    assert "used twice" in error.message and error.field == "services[0].detectors[1].id"
