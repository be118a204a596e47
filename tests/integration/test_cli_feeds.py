"""`onduty drift` as a pipeline step (exit 0 pass, 1 held, 2 bad input), `onduty feeds set-reference`,
and the evidence `onduty incidents show` prints for a held batch."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from onduty.adapters.feeds.reader import read_batch
from onduty.app.feeds import receive_batch
from onduty.bootstrap import build
from onduty.cli import app
from onduty.config import Settings
from tests.integration.test_feeds_http import apply_feed_plan, as_csv, catalog


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("ONDUTY_DATABASE_URL", f"sqlite:///{tmp_path}/cli.db")
    monkeypatch.setenv("COLUMNS", "200")
    return CliRunner()


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    paths = {"ref": tmp_path / "ref.parquet", "clean": tmp_path / "clean.csv", "bad": tmp_path / "bad.csv",
             "shuffled": tmp_path / "shuffled.parquet", "drifted": tmp_path / "drifted.csv"}
    pq.write_table(catalog(1), paths["ref"])
    paths["clean"].write_bytes(as_csv(catalog(2)))
    pq.write_table(catalog(3, shuffle=0.05), paths["shuffled"])
    paths["bad"].write_text("product_id,category\np1,cat1\np2\n")
    table = catalog(4)
    drifted = table.set_column(3, "price", [table.column("price").to_numpy() * 3])
    paths["drifted"].write_bytes(as_csv(drifted))
    return paths


def run(cli: CliRunner, *args: str) -> tuple[int, str, str]:
    result = cli.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_drift_passes_a_clean_batch_with_exit_0(cli: CliRunner, files: dict[str, Path]) -> None:
    code, out, _ = run(cli, "drift", str(files["ref"]), str(files["clean"]), "--key", "product_id")
    assert code == 0, out
    assert "accept" in out and "Per-column drift" in out


def test_drift_fails_a_shuffled_catalog_with_exit_1(cli: CliRunner, files: dict[str, Path]) -> None:
    code, out, _ = run(cli, "drift", str(files["ref"]), str(files["shuffled"]), "--pairs", "category:brand",
                       "--json")
    assert code == 1
    verdict = json.loads(out)
    assert verdict["verdict"] == "quarantine" and verdict["drift"]["drifted_columns"] == []
    assert verdict["pairs"]["category:brand"]["new_pair_share"] > 0.01


def test_drift_fails_a_drifted_column_set_with_exit_1(cli: CliRunner, files: dict[str, Path]) -> None:
    code, out, _ = run(cli, "drift", str(files["ref"]), str(files["drifted"]), "--columns", "price", "--json")
    assert code == 1
    assert json.loads(out)["drift"]["drifted_columns"] == ["price"]


@pytest.mark.parametrize(("args", "message"), [
    (["bad"], "line 3"),
    (["missing"], "no such file"),
    (["clean", "--columns", "nope"], "'nope' is not a column"),
    (["clean", "--key", "sku"], "--key"),
    (["clean", "--pairs", "category"], "not a column pair"),
])
def test_drift_refuses_bad_input_with_exit_2(cli: CliRunner, files: dict[str, Path], tmp_path: Path,
                                             args: list[str], message: str) -> None:
    current = files.get(args[0], tmp_path / "missing.csv")
    code, _, err = run(cli, "drift", str(files["ref"]), str(current), *args[1:])
    assert code == 2
    assert message in err.replace("\n", " ")


def test_set_reference_then_incident_show_prints_the_held_batchs_evidence(
    cli: CliRunner, files: dict[str, Path], tmp_path: Path,
) -> None:
    container = build(Settings(database_url=f"sqlite:///{tmp_path}/cli.db"))
    apply_feed_plan(container, tmp_path)
    code, _, err = run(cli, "feeds", "set-reference", "catalog", str(files["ref"]))
    assert code == 0 and "3000 rows" in err
    for _ in range(3):
        assert receive_batch(container.db, "catalog", read_batch(files["clean"]), container.clock.now()).verdict \
            == "accept"
    held = receive_batch(container.db, "catalog", read_batch(files["shuffled"]), container.clock.now())
    assert held.verdict == "quarantine" and held.incident_id is not None
    code, out, _ = run(cli, "incidents", "show", str(held.incident_id))
    assert code == 0
    assert "Evidence: feed catalog" in out and "changed_key_share" in out and "new_pair_share" in out
    code, out, _ = run(cli, "incidents", "show", str(held.incident_id), "--json")
    assert json.loads(out)["evidence"][0]["verdict"] == "quarantine"
    code, out, _ = run(cli, "feeds", "batches", "catalog")
    assert code == 0 and "quarantine" in out
    container.db.dispose()
