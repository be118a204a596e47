"""Per-column drift: onduty's feed check against Evidently 0.7's DataDriftPreset, in the same run.

    python bench/drift.py             1,000,000 rows x 20 columns (15 numeric, 5 categorical), some drift
    python bench/drift.py --agree     several seeded datasets, small (KS/chi-squared/z) and large samples

Each side runs in its own subprocess (its peak RSS is measured from the outside); Evidently runs in
its own venv under build/evidently-venv (created here; it is not a dependency of onduty). Prints JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import venv
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / "build" / "drift-bench"
EVIDENTLY_VENV = ROOT / "build" / "evidently-venv"
EVIDENTLY_PINS = ["evidently==0.7.23", "pandas==2.3.3", "pyarrow==26.0.1"]
EVIDENTLY_METHODS = {"K-S p_value": "ks", "chi-square p_value": "chisquare", "Z-test p_value": "z",
                     "Wasserstein distance (normed)": "wasserstein", "Jensen-Shannon distance": "jensenshannon",
                     "PSI": "psi"}


def generate(path_ref: Path, path_cur: Path, rows: int, seed: int, cur_rows: int | None = None) -> dict[str, Any]:
    """15 numeric and 5 categorical columns; a few of each drift in the current batch."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(seed)
    cur_rows = cur_rows or rows
    numeric = [f"n{i}" for i in range(15)]
    categorical = [f"c{i}" for i in range(5)]

    def table(n: int, shifted: bool) -> pa.Table:
        cols: dict[str, Any] = {}
        for i, name in enumerate(numeric):
            shift = 0.3 * (i % 3) if shifted and i < 4 else 0.0
            if i == 12:  # few distinct values: Evidently picks chi-squared / Jensen-Shannon for it
                cols[name] = rng.integers(0, 4, n).astype(np.float64) + (1 if shifted and seed % 2 else 0) * \
                    (rng.random(n) < 0.2)
            elif i == 13:  # binary
                cols[name] = (rng.random(n) < (0.35 if shifted else 0.3)).astype(np.int64)
            else:
                cols[name] = rng.normal(10 * i + shift * (i + 1), 1 + i / 10, n)
        for i, name in enumerate(categorical):
            k = 3 + 4 * i
            p = np.linspace(1, 2, k)
            if shifted and i in (1, 3):
                p[-1] *= 2.5
            labels = np.array([f"{name}_{j}" for j in range(k)])
            cols[name] = labels[rng.choice(k, n, p=p / p.sum())]
        return pa.table(cols)

    pq.write_table(table(rows, False), path_ref)
    pq.write_table(table(cur_rows, True), path_cur)
    return {"numeric": numeric, "categorical": categorical}


def run_onduty(ref: Path, cur: Path) -> dict[str, Any]:
    from onduty.adapters.feeds.reader import read_profiles
    from onduty.detect.drift import dataset_drift

    start = time.perf_counter()
    # One thread: on a busy two-core machine a second bought no time and cost ~100 MB of buffers.
    reference, current = read_profiles(ref, workers=1), read_profiles(cur, workers=1)  # column by column
    read = time.perf_counter()
    drift = dataset_drift(reference, current, workers=1)
    done = time.perf_counter()
    return {"read_s": read - start, "check_s": done - read, "read_and_profile": True, "dataset_drift": drift.drifted,
            "columns": {d.column: {"drifted": d.drifted, "method": d.method, "statistic": d.statistic}
                        for d in drift.columns}}


def run_evidently(ref: Path, cur: Path, kinds: dict[str, list[str]]) -> dict[str, Any]:
    import pandas as pd
    from evidently import DataDefinition, Dataset, Report
    from evidently.presets import DataDriftPreset

    start = time.perf_counter()
    reference, current = pd.read_parquet(ref), pd.read_parquet(cur)
    read = time.perf_counter()
    definition = DataDefinition(numerical_columns=kinds["numeric"], categorical_columns=kinds["categorical"])
    result = Report([DataDriftPreset()], include_tests=True).run(
        Dataset.from_pandas(current, data_definition=definition),
        Dataset.from_pandas(reference, data_definition=definition),
    ).dict()
    done = time.perf_counter()
    columns, dataset = {}, None
    for metric in result["metrics"]:
        config = metric["config"]
        if config["type"].endswith("ValueDrift"):
            columns[config["column"]] = {"method": EVIDENTLY_METHODS.get(config["method"], config["method"]),
                                         "statistic": metric["value"], "threshold": config["threshold"]}
        elif config["type"].endswith("DriftedColumnsCount"):
            dataset = metric["value"]["share"] >= config["drift_share"]
    for test in result["tests"]:
        name = test["name"]
        if name.startswith("Value Drift for column "):
            columns[name.removeprefix("Value Drift for column ")]["drifted"] = test["status"] == "FAIL"
    return {"read_s": read - start, "check_s": done - read, "dataset_drift": dataset, "columns": columns}


def ensure_evidently() -> Path:
    python = EVIDENTLY_VENV / "bin" / "python"
    stamp = EVIDENTLY_VENV / ".pins"
    if not (python.exists() and stamp.exists() and stamp.read_text() == " ".join(EVIDENTLY_PINS)):
        print("installing Evidently into build/evidently-venv (once) …", file=sys.stderr)
        if not python.exists():
            venv.create(EVIDENTLY_VENV, with_pip=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check", *EVIDENTLY_PINS],
                       check=True)
        stamp.write_text(" ".join(EVIDENTLY_PINS))
    return python


def measured(command: list[str]) -> tuple[dict[str, Any], float, float]:
    """(the child's JSON answer, wall seconds, peak RSS in MB) of one subprocess."""
    start = time.perf_counter()
    child = subprocess.Popen(command, stdout=subprocess.PIPE, cwd=ROOT,
                             env={**os.environ, "PYTHONPATH": str(ROOT / "src")})
    assert child.stdout is not None
    output = child.stdout.read()
    _, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    seconds = time.perf_counter() - start
    if child.returncode != 0:
        raise SystemExit(f"{command[0]} failed with exit code {child.returncode}")
    return json.loads(output), seconds, usage.ru_maxrss / 1024


def compare(ref: Path, cur: Path, kinds: dict[str, list[str]], evidently: Path) -> dict[str, Any]:
    me = [sys.executable, __file__, "--side", "onduty", str(ref), str(cur)]
    them = [str(evidently), __file__, "--side", "evidently", str(ref), str(cur), json.dumps(kinds)]
    ours, our_s, our_mb = measured(me)
    theirs, their_s, their_mb = measured(them)
    mismatched = sorted(c for c in theirs["columns"]
                        if ours["columns"].get(c, {}).get("drifted") != theirs["columns"][c].get("drifted"))
    methods = sorted(c for c in theirs["columns"]
                     if ours["columns"].get(c, {}).get("method") != theirs["columns"][c]["method"])
    return {"onduty": {"seconds": round(our_s, 3), "read_s": round(ours["read_s"], 3),
                       "check_s": round(ours["check_s"], 3), "peak_rss_mb": round(our_mb, 1)},
            "evidently": {"seconds": round(their_s, 3), "read_s": round(theirs["read_s"], 3),
                          "check_s": round(theirs["check_s"], 3), "peak_rss_mb": round(their_mb, 1)},
            "speedup": round(their_s / our_s, 1), "memory_ratio": round(our_mb / their_mb, 3),
            "drifted_columns": sorted(c for c, v in ours["columns"].items() if v["drifted"]),
            "dataset_drift": {"onduty": ours["dataset_drift"], "evidently": theirs["dataset_drift"]},
            "verdicts_identical": not mismatched and ours["dataset_drift"] == theirs["dataset_drift"],
            "mismatched_columns": mismatched, "methods_differ": methods,
            "methods": sorted({v["method"] for v in ours["columns"].values()})}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--agree", action="store_true", help="verdict agreement over seeded small and large sets")
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--side", choices=["onduty", "evidently"], help=argparse.SUPPRESS)
    parser.add_argument("paths", nargs="*", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.side == "onduty":
        print(json.dumps(run_onduty(Path(args.paths[0]), Path(args.paths[1]))))
        return
    if args.side == "evidently":
        print(json.dumps(run_evidently(Path(args.paths[0]), Path(args.paths[1]), json.loads(args.paths[2]))))
        return
    evidently = ensure_evidently()
    WORK.mkdir(parents=True, exist_ok=True)
    ref, cur = WORK / "reference.parquet", WORK / "current.parquet"
    if not args.agree:
        kinds = generate(ref, cur, args.rows, seed=7)
        result = compare(ref, cur, kinds, evidently)
        result["rows"] = args.rows
        result["rows_per_s"] = {"onduty": round(2 * args.rows / result["onduty"]["seconds"]),
                                "evidently": round(2 * args.rows / result["evidently"]["seconds"])}
        print(json.dumps(result, indent=2))
        return
    runs = []
    for seed, rows, cur_rows in ((1, 300, 250), (2, 800, 1200), (3, 1000, 500), (4, 1001, 900),
                                 (5, 5000, 4000), (6, 20000, 30000)):
        kinds = generate(ref, cur, rows, seed, cur_rows)
        r = compare(ref, cur, kinds, evidently)
        runs.append({"seed": seed, "rows": [rows, cur_rows], "identical": r["verdicts_identical"],
                     "mismatched": r["mismatched_columns"], "methods": r["methods"],
                     "methods_differ": r["methods_differ"], "drifted": len(r["drifted_columns"])})
    print(json.dumps({"all_identical": all(r["identical"] for r in runs), "runs": runs}, indent=2))


if __name__ == "__main__":
    main()
