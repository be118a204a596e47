"""The audit chain: each sealed row's hash covers the previous one, so a changed or removed row shows."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

GENESIS = "0" * 64
ORGANIZATION_CHAIN = "*"  # rows that belong to no client (plan applied, organization-wide keys)


@dataclass(frozen=True)
class AuditRow:
    """One append-only row as the chain sees it: where it lives, whose chain, and its fields."""

    source: str  # timeline | admin
    row_id: int
    chain: str
    fields: dict[str, Any]


@dataclass(frozen=True)
class Seal:
    chain: str
    seq: int
    source: str
    row_id: int
    chain_hash: str


@dataclass(frozen=True)
class Finding:
    chain: str
    seq: int | None
    source: str
    row_id: int | None
    problem: str  # changed | deleted | missing-seal | unsealed

    def describe(self) -> str:
        where = f"{self.source} row {self.row_id}" if self.row_id is not None else "a sealed row"
        at = f" (seal {self.seq} of chain {self.chain!r})" if self.seq is not None else f" (chain {self.chain!r})"
        what = {"changed": "was changed after it was sealed", "deleted": "was deleted after it was sealed",
                "missing-seal": "is gone, with its seal", "unsealed": "is not sealed yet"}[self.problem]
        return f"{where}{at} {what}"


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def canonical(row: AuditRow) -> str:
    """The row as one stable string: sorted keys, no spaces, datetimes in ISO 8601."""
    body = {"source": row.source, "id": row.row_id, "chain": row.chain,
            **{k: _plain(v) for k, v in row.fields.items()}}
    return json.dumps(body, sort_keys=True, separators=(",", ":"), default=str, ensure_ascii=False)


def chain_hash(previous: str, row: AuditRow) -> str:
    return hashlib.sha256((previous + canonical(row)).encode()).hexdigest()


def seal_rows(heads: dict[str, tuple[int, str]], rows: list[AuditRow]) -> list[Seal]:
    """Seals for `rows` (already in id order), continuing each chain from its head (seq, hash)."""
    seals: list[Seal] = []
    current = dict(heads)
    for row in rows:
        seq, previous = current.get(row.chain, (0, GENESIS))
        digest = chain_hash(previous, row)
        seals.append(Seal(row.chain, seq + 1, row.source, row.row_id, digest))
        current[row.chain] = (seq + 1, digest)
    return seals


def verify_chain(chain: str, seals: list[Seal], rows: dict[tuple[str, int], AuditRow]) -> list[Finding]:
    """Walk one chain in seq order, recomputing every hash from the stored rows."""
    findings: list[Finding] = []
    previous, expected_seq = GENESIS, 1
    for seal in seals:
        if seal.seq != expected_seq:
            findings.append(Finding(chain, expected_seq, "?", None, "missing-seal"))
        expected_seq = seal.seq + 1
        row = rows.get((seal.source, seal.row_id))
        if row is None:
            findings.append(Finding(chain, seal.seq, seal.source, seal.row_id, "deleted"))
        elif chain_hash(previous, row) != seal.chain_hash:
            findings.append(Finding(chain, seal.seq, seal.source, seal.row_id, "changed"))
        previous = seal.chain_hash
    return findings
