"""The command line as a user runs it: exit codes, what goes to stdout, errors with a next step."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from onduty.cli import app
from tests.conftest import SAMPLE_PLAN

COMMANDS = [["plan", "check"], ["plan", "apply"], ["keys", "create"], ["incidents", "list"],
            ["incidents", "show"], ["incidents", "ack"], ["incidents", "mitigate"], ["incidents", "resolve"],
            ["incidents", "note"], ["serve"], ["worker"], ["oncall"], ["page"], ["demo"],
            ["override", "create"], ["override", "list"], ["override", "delete"], ["swap"],
            ["export", "calendar"], ["export", "contacts"], ["export", "chart"], ["report", "oncall"],
            ["silence", "create"], ["silence", "list"], ["silence", "expire"], ["heartbeat", "key"],
            ["heartbeat", "list"], ["incidents", "playbook"], ["incidents", "tick"], ["incidents", "type"],
            ["incidents", "fallback"], ["incidents", "request"], ["incidents", "request-done"],
            ["incidents", "workaround"], ["exercise", "run"], ["exercise", "list"], ["doctor"],
            ["drift"], ["feeds", "set-reference"], ["feeds", "batches"],
            ["incidents", "severity"], ["incidents", "role"],
            ["users", "set-password"], ["users", "set-role"], ["users", "login-link"], ["portal", "link"],
            ["pir"], ["pir", "1", "show"], ["pir", "1", "edit"], ["pir", "1", "complete"],
            ["pir", "1", "export"], ["pir", "1", "actions", "add"], ["pir", "1", "actions", "update"],
            ["pir", "1", "actions", "list"], ["report", "summary"], ["keys", "list"],
            ["keys", "revoke"], ["audit", "verify"], ["incidents", "comms", "draft"], ["incidents", "comms", "check"],
            ["incidents", "comms", "send"], ["incidents", "security-notified"]]


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("ONDUTY_DATABASE_URL", f"sqlite:///{tmp_path}/cli.db")
    monkeypatch.setenv("COLUMNS", "200")
    return CliRunner()


def run(cli: CliRunner, *args: str) -> tuple[int, str, str]:
    result = cli.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_every_command_has_help_with_an_example(cli: CliRunner, command: list[str]) -> None:
    code, out, _ = run(cli, *command, "--help")
    assert code == 0
    assert "Example" in out


def test_plan_check_accepts_the_sample(cli: CliRunner) -> None:
    code, out, _ = run(cli, "plan", "check", str(SAMPLE_PLAN))
    assert code == 0 and "13 people, 3 clients, 6 services" in out


def test_plan_check_names_file_line_and_field(cli: CliRunner, tmp_path: Path) -> None:
    broken = tmp_path / "onduty.yaml"
    text = SAMPLE_PLAN.read_text().replace("ack_timeout: 10m", "ack_timeout: ten minutes", 1)
    broken.write_text(text.replace("    time_zone: America/Chicago\n    roles: [engineer]",
                                   "    time_zone: America/Chicago\n    role: [engineer]", 1))
    code, _, err = run(cli, "plan", "check", str(broken))
    assert code == 1
    lines = {n + 1 for n, line in enumerate(text.splitlines()) if "ack_timeout: ten minutes" in line}
    assert re.search(rf"onduty.yaml:{lines.pop()}: escalation_policies\[0\]\.levels\[0\]\.ack_timeout: "
                     r"expected a positive duration", err.replace("\n", " ")), err
    assert "people[3].role: unknown key" in err


def test_plan_apply_is_all_or_nothing_and_idempotent(cli: CliRunner, tmp_path: Path) -> None:
    broken = tmp_path / "onduty.yaml"
    broken.write_text(SAMPLE_PLAN.read_text().replace("client: northwind", "client: nowhere", 1))
    code, _, err = run(cli, "plan", "apply", str(broken))
    assert code == 1 and "unknown client 'nowhere'" in err
    assert run(cli, "keys", "create", "--service", "recs-model")[0] == 1  # nothing was applied
    code, out, _ = run(cli, "plan", "apply", str(SAMPLE_PLAN))
    assert code == 0 and "applied" in out
    code, out, _ = run(cli, "plan", "apply", str(SAMPLE_PLAN))
    assert code == 0 and "nothing changed" in out


def test_keys_create_prints_the_key_alone(cli: CliRunner) -> None:
    run(cli, "plan", "apply", str(SAMPLE_PLAN))
    code, out, _ = run(cli, "keys", "create", "--service", "recs-model")
    assert code == 0 and re.fullmatch(r"[0-9a-f]{32}\n", out)
    code, out, _ = run(cli, "keys", "create", "--role", "viewer", "--client", "northwind")
    assert code == 0 and re.fullmatch(r"od_live_[\w-]+\n", out)
    code, _, err = run(cli, "keys", "create", "--role", "root")
    assert code == 2 and "admin, responder or viewer" in err


def test_page_ack_resolve_from_the_cli(cli: CliRunner) -> None:
    run(cli, "plan", "apply", str(SAMPLE_PLAN))
    code, out, _ = run(cli, "page", "--service", "catalog-feed", "--summary", "rows 12% of usual",
                       "--severity", "sev2")
    assert code == 0 and "opened incident 1" in out
    code, out, _ = run(cli, "incidents", "list", "--status", "open", "--json")
    assert [i["severity"] for i in json.loads(out)] == ["Sev2"]
    assert run(cli, "incidents", "ack", "1", "--by", "lucia")[0] == 0
    code, _, err = run(cli, "incidents", "ack", "1")
    assert code == 1 and "already acknowledged" in err and "onduty incidents show 1" in err
    assert run(cli, "incidents", "note", "1", "batch 22:00 truncated")[0] == 0
    assert run(cli, "incidents", "resolve", "1", "--note", "re-exported")[0] == 0
    code, out, _ = run(cli, "incidents", "show", "1", "--json")
    shown = json.loads(out)
    assert shown["status"] == "monitoring" and shown["acknowledged_by"] == "lucia"
    clocks = {c["clock"]: c["state"] for c in shown["clocks"]}
    assert clocks == {"acknowledge": "met", "first_notice": "running", "resolve": "met", "review": "running"}
    assert [e["kind"] for e in shown["timeline"]][-4:] == ["status.acknowledged", "note", "status.resolved",
                                                           "status.monitoring"]


def test_unknown_incident_says_how_to_find_one(cli: CliRunner) -> None:
    run(cli, "plan", "apply", str(SAMPLE_PLAN))
    code, _, err = run(cli, "incidents", "resolve", "99")
    assert code == 1 and "incident 99 not found" in err and "onduty incidents list" in err


def test_oncall_lists_each_level(cli: CliRunner) -> None:
    run(cli, "plan", "apply", str(SAMPLE_PLAN))
    code, out, _ = run(cli, "oncall", "--service", "recs-model", "--at", "2026-11-20T17:40-06:00", "--json")
    levels = json.loads(out)["levels"]
    assert code == 0
    assert [[p["person"] for p in lv["on_call"]] for lv in levels] == [["aiko"], ["lucia"], ["hannah", "dev"]]
    code, _, err = run(cli, "oncall", "--service", "nope")
    assert code == 1 and "known services" in err


def test_demo_replays_the_story_in_seconds(cli: CliRunner) -> None:
    code, out, _ = run(cli, "demo", "--json", "--no-serve")
    assert code == 0
    result = json.loads(out)
    figures = result["figures_seconds"]
    assert result["status"] == "closed"
    assert figures["time_to_detect"] == 120 and figures["time_to_engage"] < 5  # the relevance monitor
    assert figures["time_to_acknowledge"] == 1030 and figures["duration"] < 3600
    pages = result["pages"]
    assert [key.split(":")[5] for key in pages if key.startswith("page:")] == ["aiko", "lucia"]
    assert [key.split(":")[2] for key in pages if key.startswith("allhands:")] == ["hannah", "dev", "maria"]
    assert "channel:1" in pages
    told = [key.split(":", 2)[2] for key in pages if key.startswith("comms:")]  # the initial notice, once each
    assert told == ["client:0:c0", "maria:c0", "dev:c0", "hannah:c0"]


def test_oncall_shows_shifts_and_gaps(cli: CliRunner) -> None:
    run(cli, "plan", "apply", str(SAMPLE_PLAN))
    code, out, _ = run(cli, "oncall", "--schedule", "ml-primary", "--from", "2026-11-16", "--to", "2026-11-23",
                       "--json")
    shifts = json.loads(out)
    assert code == 0 and shifts[0]["person"] == "tomas"  # until the Monday 09:00 handoff
    assert shifts[1]["person"] == "aiko" and shifts[1]["covering_for"] == "priya"
    code, out, _ = run(cli, "oncall", "--gaps", "--days", "30")
    assert code == 0 and "no coverage gaps" in out
    code, _, err = run(cli, "oncall", "--gaps", "--service", "recs-model")
    assert code == 2 and "exactly one of" in err


def test_override_and_swap_from_the_cli(cli: CliRunner) -> None:
    run(cli, "plan", "apply", str(SAMPLE_PLAN))
    code, out, _ = run(cli, "override", "create", "--schedule", "ml-secondary", "--person", "kwame",
                       "--from", "2099-01-01T18:00", "--to", "2099-01-02T09:00", "--by", "dev")
    assert code == 0 and "kwame covers whoever is on call" in out
    code, out, _ = run(cli, "override", "list", "--days", "366", "--json")
    assert code == 0 and json.loads(out) == []  # 2099 is beyond the window
    code, _, err = run(cli, "override", "create", "--schedule", "ml-secondary", "--person", "kwame",
                       "--from", "2020-01-01", "--to", "2020-01-02")
    assert code == 1 and "in the past" in err
    code, _, err = run(cli, "override", "delete", "--schedule", "ml-secondary", "999")
    assert code == 1 and "override 999 not found" in err
    code, _, err = run(cli, "swap", "--schedule", "nope", "--shift-at", "2099-01-01", "--with-shift-at", "2099-01-08")
    assert code == 1 and "not in the applied plan" in err


def test_demo_without_a_terminal_does_not_serve(cli: CliRunner) -> None:
    code, out, _ = run(cli, "demo")
    assert code == 0 and "onduty serve" in out and "console is at" not in out
