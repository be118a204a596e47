"""The audit trail: record admin actions, seal append-only rows into per-client hash chains, verify them."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from itertools import count

from onduty.app.ports import Transactions
from onduty.domain.audit import ORGANIZATION_CHAIN, Finding, seal_rows, verify_chain

# Rows of each source per seal transaction. On SQLite each transaction holds the one write lock, and
# ingest waits behind it: 500 rows held it for 20-50 ms, 100 for under 10.
SEAL_BATCH = 100


def seal_audit(txs: Transactions, now: datetime, batch: int = SEAL_BATCH, max_batches: int | None = None) -> int:
    """Chain every unsealed row (timeline and admin actions), a batch per transaction, or only the first
    `max_batches` batches; returns how many."""
    sealed = 0
    for _ in range(max_batches) if max_batches is not None else count():
        with txs() as store:
            if not store.take_seal_lock():
                return sealed  # another worker is sealing
            rows = store.unsealed_rows(batch)
            if not rows:
                return sealed
            heads = store.chain_heads(sorted({r.chain for r in rows}))
            store.add_seals(seal_rows(heads, rows), now)
        sealed += len(rows)
        if len(rows) < batch:
            return sealed
    return sealed


def verify_audit(txs: Transactions, client_id: str | None = None) -> tuple[dict[str, int], list[Finding], int]:
    """(sealed rows per chain, findings, rows not sealed yet) for every chain, or one client's."""
    counts: dict[str, int] = {}
    findings: list[Finding] = []
    with txs() as store:
        chains = store.audit_chains()
        if client_id is not None:
            chains = [c for c in chains if c == client_id]
        for chain in chains:
            seals = store.seals(chain)
            wanted: dict[str, list[int]] = defaultdict(list)
            for seal in seals:
                wanted[seal.source].append(seal.row_id)
            rows = {(r.source, r.row_id): r for source, ids in wanted.items()
                    for r in store.audit_rows(source, ids)}
            findings += verify_chain(chain, seals, rows)
            counts[chain] = len(seals)
        unsealed = store.unsealed_count()
    return counts, findings, unsealed


__all__ = ["ORGANIZATION_CHAIN", "seal_audit", "verify_audit"]
