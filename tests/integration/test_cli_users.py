"""`onduty users …` and `onduty portal link` as a user runs them."""

from __future__ import annotations

from pathlib import Path

import pytest
from argon2 import PasswordHasher
from typer.testing import CliRunner

from onduty.bootstrap import build
from onduty.cli import app
from onduty.config import Settings
from tests.conftest import SAMPLE_PLAN


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("ONDUTY_DATABASE_URL", f"sqlite:///{tmp_path}/cli.db")
    monkeypatch.setenv("ONDUTY_PUBLIC_URL", "https://onduty.example")
    monkeypatch.setenv("COLUMNS", "200")
    runner = CliRunner()
    assert runner.invoke(app, ["plan", "apply", str(SAMPLE_PLAN)]).exit_code == 0
    return runner


def test_set_password_reads_stdin_and_refuses_a_short_one(cli: CliRunner) -> None:
    done = cli.invoke(app, ["users", "set-password", "lucia", "--password-stdin"], input="correct horse battery\n")
    assert done.exit_code == 0 and "password set for lucia (role responder)" in done.stderr
    short = cli.invoke(app, ["users", "set-password", "lucia", "--password-stdin"], input="short\n")
    assert short.exit_code == 1 and "at least 10 characters" in short.stderr


def test_passwords_are_stored_at_the_product_argon2_costs_and_sign_in(
    cli: CliRunner, tmp_path: Path, product_password_hasher: PasswordHasher,
) -> None:
    from onduty.app.accounts import SignInRefused, sign_in_with_password

    done = cli.invoke(app, ["users", "set-password", "lucia", "--password-stdin"], input="correct horse battery\n")
    assert done.exit_code == 0
    container = build(Settings(database_url=f"sqlite:///{tmp_path}/cli.db"))
    with container.db.transaction() as store:
        account = store.account("lucia")
    assert account is not None and account.password_hash is not None
    assert account.password_hash.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    now = container.clock.now()
    assert sign_in_with_password(container.db, "lucia", "correct horse battery", now).session.person_id == "lucia"
    with pytest.raises(SignInRefused):
        sign_in_with_password(container.db, "lucia", "wrong horse battery", now)
    container.db.dispose()


def test_set_password_for_someone_not_in_the_plan_names_the_people(cli: CliRunner) -> None:
    done = cli.invoke(app, ["users", "set-password", "nobody", "--password-stdin"], input="correct horse battery\n")
    assert done.exit_code == 1 and "'nobody' is not in the applied plan" in done.stderr and "lucia" in done.stderr


def test_set_role_accepts_the_three_roles_only(cli: CliRunner) -> None:
    assert cli.invoke(app, ["users", "set-role", "hannah", "viewer"]).exit_code == 0
    bad = cli.invoke(app, ["users", "set-role", "hannah", "boss"])
    assert bad.exit_code == 1 and "admin, responder, viewer" in bad.stderr


def test_login_link_prints_only_the_url_on_stdout(cli: CliRunner) -> None:
    done = cli.invoke(app, ["users", "login-link", "lucia"])
    assert done.exit_code == 0
    assert done.stdout.startswith("https://onduty.example/login/link/") and done.stdout.count("\n") == 1
    assert "15 minutes" in done.stderr


def test_portal_link_prints_a_new_url_each_time(cli: CliRunner) -> None:
    first = cli.invoke(app, ["portal", "link", "northwind"]).stdout.strip()
    second = cli.invoke(app, ["portal", "link", "northwind", "--json"]).stdout
    assert first.startswith("https://onduty.example/portal/enter/") and first not in second
    unknown = cli.invoke(app, ["portal", "link", "acme"])
    assert unknown.exit_code == 1 and "northwind" in unknown.stderr
