"""Read the runbook files a plan names, so `plan apply` can store their text beside the plan."""

from __future__ import annotations

import hashlib
from pathlib import Path

from onduty.plan.schema import Plan


def runbook_files(plan: Plan) -> list[str]:
    """Every runbook path the plan names (service runbooks and the `runbooks` section), once each."""
    files = [f for s in plan.services for f in s.runbooks] + [link.file for link in plan.runbooks]
    return list(dict.fromkeys(files))


def read_runbooks(plan: Plan, base: Path) -> dict[str, tuple[str, str]]:
    """file → (markdown, sha256) for each runbook found under `base`; missing files are left out
    (`plan check` already refuses them)."""
    texts: dict[str, tuple[str, str]] = {}
    for file in runbook_files(plan):
        try:
            markdown = (base / file).read_text(encoding="utf-8")
        except OSError:
            continue
        texts[file] = (markdown, hashlib.sha256(markdown.encode()).hexdigest())
    return texts
