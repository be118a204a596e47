"""`onduty silence` and `onduty heartbeat` as a user runs them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from onduty.cli import app
from tests.conftest import SAMPLE_PLAN
from tests.integration.alerting_plan import alerting_plan_text


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("ONDUTY_DATABASE_URL", f"sqlite:///{tmp_path}/cli.db")
    monkeypatch.setenv("COLUMNS", "200")
    plan = tmp_path / "onduty.yaml"
    plan.write_text(alerting_plan_text())
    (tmp_path / "runbooks").mkdir()
    for runbook in (SAMPLE_PLAN.parent / "runbooks").iterdir():
        (tmp_path / "runbooks" / runbook.name).write_text(runbook.read_text())
    runner = CliRunner()
    assert runner.invoke(app, ["plan", "apply", str(plan)]).exit_code == 0
    return runner


@pytest.mark.parametrize("command", [["silence", "create"], ["silence", "list"], ["silence", "expire"],
                                     ["heartbeat", "key"], ["heartbeat", "list"]], ids=" ".join)
def test_alerting_commands_have_help(cli: CliRunner, command: list[str]) -> None:
    result = cli.invoke(app, [*command, "--help"])
    assert result.exit_code == 0 and "Example" in result.stdout


def test_silence_create_list_expire(cli: CliRunner) -> None:
    made = cli.invoke(app, ["silence", "create", "-m", 'alertname="Drift"', "--service", "recs-model",
                            "--duration", "2h", "--author", "aiko", "--comment", "retraining"])
    assert made.exit_code == 0, made.stderr
    ident = made.stdout.strip()
    assert ident.isdigit()
    listed = json.loads(cli.invoke(app, ["silence", "list", "--json"]).stdout)
    assert [(s["id"], s["state"], s["matchers"]) for s in listed] == [(int(ident), "active", ['alertname="Drift"'])]
    assert cli.invoke(app, ["silence", "expire", ident, "--by", "aiko"]).exit_code == 0
    assert json.loads(cli.invoke(app, ["silence", "list", "--json"]).stdout) == []
    assert len(json.loads(cli.invoke(app, ["silence", "list", "--all", "--json"]).stdout)) == 1
    again = cli.invoke(app, ["silence", "expire", ident])
    assert again.exit_code == 1 and "not found" in again.stderr


@pytest.mark.parametrize(("args", "says"), [
    (["-m", "job=~(", "--author", "a", "--comment", "c"], "regex"),
    (["-m", "x=y", "--author", "", "--comment", "c"], "author"),
    (["-m", "x=y", "--author", "a", "--comment", "c", "--duration", "soon"], "--duration"),
    (["--author", "a", "--comment", "c"], "at least one matcher"),
])
def test_bad_silence_is_refused_saying_why(cli: CliRunner, args: list[str], says: str) -> None:
    result = cli.invoke(app, ["silence", "create", *args])
    assert result.exit_code != 0 and says in result.stderr
    assert json.loads(cli.invoke(app, ["silence", "list", "--json"]).stdout) == []


def test_heartbeat_key_prints_the_key_alone_and_list_shows_the_check(cli: CliRunner) -> None:
    made = cli.invoke(app, ["heartbeat", "key", "catalog-hourly"])
    assert made.exit_code == 0 and made.stdout.strip().startswith("hb_") and len(made.stdout.split()) == 1
    (check,) = json.loads(cli.invoke(app, ["heartbeat", "list", "--json"]).stdout)
    assert check["id"] == "catalog-hourly" and check["status"] == "never"
    unknown = cli.invoke(app, ["heartbeat", "key", "nope"])
    assert unknown.exit_code == 1 and "not in the applied plan" in unknown.stderr
