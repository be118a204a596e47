#!/usr/bin/env python3
"""Set up onduty in .venv (once, and again when pyproject.toml changes), then run the demo or the tests.

    python3 run.py demo          replay the founding story on a throwaway SQLite database
    python3 run.py test [ARGS]   run the whole test suite (ARGS go to pytest)
    python3 run.py check         ruff, mypy and the import contracts
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
STAMP = VENV / ".onduty-installed"


def ensure_installed() -> None:
    wanted = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if STAMP.exists() and STAMP.read_text() == wanted:
        return
    if sys.version_info[:2] != (3, 11):
        sys.exit(f"onduty needs Python 3.11; this is {sys.version.split()[0]}. Run it with python3.11.")
    if not (BIN / "python").exists():
        print("creating .venv …", file=sys.stderr)
        venv.create(VENV, with_pip=True)
    print("installing onduty and its pinned dependencies into .venv …", file=sys.stderr)
    pip = [str(BIN / "python"), "-m", "pip", "install", "--disable-pip-version-check", "-q"]
    subprocess.run([*pip, "-e", f"{ROOT}[test]"], check=True)
    STAMP.write_text(wanted)


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in ("demo", "test", "check"):
        print(__doc__, file=sys.stderr)
        return 2
    ensure_installed()
    command, rest = argv[0], argv[1:]
    if command == "demo":
        return subprocess.call([str(BIN / "onduty"), "demo", *rest], cwd=ROOT)
    if command == "test":
        return subprocess.call([str(BIN / "python"), "-m", "pytest", *rest], cwd=ROOT)
    steps = [[str(BIN / "ruff"), "check", "src", "tests", "bench", "run.py"],
             [str(BIN / "mypy")], [str(BIN / "lint-imports")]]
    return max(subprocess.call(step, cwd=ROOT) for step in steps)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
