"""The playbook commands as a user runs them: playbook, tick, type, request, workaround, show --runbook."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.conftest import SAMPLE_PLAN
from tests.integration.test_cli import run


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("ONDUTY_DATABASE_URL", f"sqlite:///{tmp_path}/cli.db")
    monkeypatch.setenv("COLUMNS", "200")
    runner = CliRunner()
    run(runner, "plan", "apply", str(SAMPLE_PLAN))
    paged = run(runner, "page", "--service", "catalog-feed", "--summary", "rows 12% of usual", "--severity", "sev1")
    assert paged[0] == 0
    return runner


def test_playbook_shows_steps_and_ticks_from_the_cli(cli: CliRunner) -> None:
    code, out, _ = run(cli, "incidents", "playbook", "1")
    assert code == 0
    assert "Step 1 · Acknowledge and assess · 0-15 min" in out and "Step 5 · Communicate resolution" in out
    assert "resolve.blast-radius" in out and "recs-model, recs-api" in out
    assert run(cli, "incidents", "tick", "1", "assess.system", "--note", "feed only", "--by", "lucia")[0] == 0
    code, _, err = run(cli, "incidents", "tick", "1", "assess.system")
    assert code == 1 and "already ticked" in err
    assert run(cli, "incidents", "tick", "1", "assess.system", "--undo", "--by", "lucia")[0] == 0
    code, _, err = run(cli, "incidents", "tick", "1", "nothing.here")
    assert code == 1 and "assess.system" in err
    code, out, _ = run(cli, "incidents", "show", "1", "--json")
    kinds = [e["kind"] for e in json.loads(out)["timeline"]]
    assert kinds[-2:] == ["playbook.ticked", "playbook.unticked"]


def test_type_request_and_workaround_from_the_cli(cli: CliRunner) -> None:
    code, _, err = run(cli, "incidents", "type", "1", "--to", "outage", "--reason", "x")
    assert code == 2 and "security" in err
    code, out, _ = run(cli, "incidents", "type", "1", "--to", "security", "--reason", "credentials in the feed")
    assert code == 0 and "security" in out
    code, out, _ = run(cli, "incidents", "request", "1", "--text", "Re-export from the PIM", "--due", "30m", "--json")
    assert code == 0 and json.loads(out)["state"] == "running"
    code, _, err = run(cli, "incidents", "request", "1", "--text", "x", "--due", "soon")
    assert code == 2 and "30m" in err
    assert run(cli, "incidents", "request-done", "1", "1")[0] == 0
    assert run(cli, "incidents", "workaround", "1", "consumers pinned to batch 2210")[0] == 0
    code, out, _ = run(cli, "incidents", "playbook", "1", "--json")
    playbook = json.loads(out)
    ids = {i["id"] for s in playbook["steps"] for i in s["items"]}
    assert {"resolve.contain", "resolve.revoke", "resolve.isolate", "verify.workaround.1"} <= ids
    assert [r["state"] for r in playbook["requests"]] == ["met"]


def test_show_lists_runbooks_and_prints_one(cli: CliRunner) -> None:
    code, out, _ = run(cli, "incidents", "show", "1")
    assert code == 0 and "runbooks/catalog-feed.md" in out and "Northwind product-catalog feed" in out
    code, out, _ = run(cli, "incidents", "show", "1", "--runbook", "catalog-feed.md")
    assert code == 0 and "make -C pipelines/northwind publish" in out
    code, _, err = run(cli, "incidents", "show", "1", "--runbook", "nope.md")
    assert code == 1 and "linked: runbooks/catalog-feed.md" in err
