"""The audit half of the Store port: the admin-action log and the seals that chain append-only rows
per client. SqlStore inherits it; the methods run inside the caller's transaction."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, exists, func, insert, select, text
from sqlalchemy.orm import Session

from onduty.adapters.db import tables as t
from onduty.domain.audit import ORGANIZATION_CHAIN, AuditRow, Seal

# Rows can commit out of id order (PostgreSQL hands out ids before commit), so the sealer looks this
# far back below the newest sealed id for rows that committed late.
LATE_COMMIT_WINDOW = 5000
SEAL_LOCK = 7_341_001  # advisory lock id: one sealer at a time on PostgreSQL


class AuditStore:
    session: Session

    def record_admin_action(self, at: datetime, actor: str, action: str, client_id: str | None, subject: str,
                            data: dict[str, Any] | None = None) -> None:
        self.session.execute(insert(t.admin_actions).values(
            at=at, actor=actor, action=action, client_id=client_id, subject=subject, data=data or {}))

    def take_seal_lock(self) -> bool:
        """True when this transaction may seal (PostgreSQL: an advisory lock; SQLite has one writer)."""
        if self.session.get_bind().dialect.name != "postgresql":
            return True
        return bool(self.session.scalar(text("SELECT pg_try_advisory_xact_lock(:k)"), {"k": SEAL_LOCK}))

    def _unsealed(self, source: str, table: Any) -> Any:
        s = t.audit_seals.c
        return ~exists().where(and_(s.source == source, s.row_id == table.c.id))

    def _count(self, query: Any) -> int:
        return int(self.session.scalar(select(func.count()).select_from(query.subquery())) or 0)

    def _unsealed_ids(self, source: str, table: Any, limit: int) -> list[int]:
        """The oldest `limit` ids of `source` with no seal, by index range scans and a set difference here
        (an anti-join's plan hangs on table statistics, and a poor one took seconds a pass). Usually the
        rows and seals in the late-commit window match one for one, and only ids above the newest seal
        are read. On SQLite nothing commits late (one writer at a time takes the next id as it inserts,
        and these tables refuse deletes): the window's two counts, a quarter of a seal transaction that
        holds the write lock, are left out there."""
        s = t.audit_seals.c
        top = self.newest_sealed_id(source)
        floor = max(top - LATE_COMMIT_WINDOW, 0)
        if (self.session.get_bind().dialect.name == "sqlite"  # nothing committed late below the newest seal
                or self._count(select(table.c.id).where(table.c.id > floor, table.c.id <= top))
                == self._count(select(s.row_id).where(s.source == source, s.row_id > floor, s.row_id <= top))):
            return list(self.session.scalars(
                select(table.c.id).where(table.c.id > top).order_by(table.c.id).limit(limit)))
        sealed = set(self.session.scalars(select(s.row_id).where(s.source == source, s.row_id > floor)))
        # Among the first limit + len(sealed) ids above the floor at most len(sealed) are sealed.
        candidates = self.session.scalars(
            select(table.c.id).where(table.c.id > floor).order_by(table.c.id).limit(limit + len(sealed)))
        return [i for i in candidates if i not in sealed][:limit]

    def newest_sealed_id(self, source: str) -> int:
        """The largest row id of `source` with a seal (0 for none): one probe of the (source, row_id) index.
        Written as max(), PostgreSQL read every seal of the source whenever its statistics were taken
        while the table was small (a plan it keeps until the next ANALYZE), once per seal transaction."""
        s = t.audit_seals.c
        return int(self.session.scalar(select(s.row_id).where(s.source == source)
                                       .order_by(s.row_id.desc()).limit(1)) or 0)

    def unsealed_rows(self, limit: int) -> list[AuditRow]:
        """Up to `limit` rows of each source not yet sealed, oldest id first."""
        tl, inc, adm = t.timeline.c, t.incidents.c, t.admin_actions.c
        rows: list[AuditRow] = []
        timeline_ids = self._unsealed_ids("timeline", t.timeline, limit)
        if timeline_ids:
            rows += sorted((timeline_row(r) for r in self.session.execute(
                select(tl.id, tl.incident_id, tl.at, tl.kind, tl.actor, tl.message, tl.data, inc.client_id)
                .join(t.incidents, inc.id == tl.incident_id).where(tl.id.in_(timeline_ids)))),
                key=lambda r: r.row_id)
        admin_ids = self._unsealed_ids("admin", t.admin_actions, limit)
        if admin_ids:
            rows += sorted((admin_row(r) for r in self.session.execute(
                select(t.admin_actions).where(adm.id.in_(admin_ids)))), key=lambda r: r.row_id)
        return rows

    def chain_heads(self, chains: Sequence[str]) -> dict[str, tuple[int, str]]:
        """The newest seal (seq, hash) of each chain: one probe of the (chain, seq) index per chain. A
        GROUP BY over the chains read every seal they had, so a seal transaction slowed as history grew."""
        s = t.audit_seals.c
        heads: dict[str, tuple[int, str]] = {}
        for chain in chains:
            newest = self.session.execute(select(s.seq, s.chain_hash).where(s.chain == chain)
                                          .order_by(s.seq.desc()).limit(1)).first()
            if newest is not None:
                heads[chain] = (newest.seq, newest.chain_hash)
        return heads

    def add_seals(self, seals: Sequence[Seal], now: datetime) -> None:
        if seals:
            self.session.execute(insert(t.audit_seals), [
                {"chain": x.chain, "seq": x.seq, "source": x.source, "row_id": x.row_id,
                 "chain_hash": x.chain_hash, "sealed_at": now} for x in seals])

    def audit_chains(self) -> list[str]:
        return list(self.session.scalars(select(t.audit_seals.c.chain).distinct().order_by(t.audit_seals.c.chain)))

    def seals(self, chain: str) -> list[Seal]:
        s = t.audit_seals.c
        return [Seal(r.chain, r.seq, r.source, r.row_id, r.chain_hash)
                for r in self.session.execute(select(t.audit_seals).where(s.chain == chain).order_by(s.seq))]

    def audit_rows(self, source: str, ids: Sequence[int]) -> list[AuditRow]:
        """The stored rows of `source` with these ids (those that still exist)."""
        if source == "timeline":
            tl, inc = t.timeline.c, t.incidents.c
            query = (select(tl.id, tl.incident_id, tl.at, tl.kind, tl.actor, tl.message, tl.data, inc.client_id)
                     .join(t.incidents, inc.id == tl.incident_id))
            return [timeline_row(r) for chunk in _chunks(ids)
                    for r in self.session.execute(query.where(tl.id.in_(chunk)))]
        adm = t.admin_actions.c
        return [admin_row(r) for chunk in _chunks(ids)
                for r in self.session.execute(select(t.admin_actions).where(adm.id.in_(chunk)))]

    def unsealed_count(self) -> int:
        return sum(int(self.session.scalar(
            select(func.count()).select_from(table).where(self._unsealed(source, table))) or 0)
            for source, table in (("timeline", t.timeline), ("admin", t.admin_actions)))


def _chunks(ids: Sequence[int], size: int = 1000) -> list[Sequence[int]]:
    return [ids[i: i + size] for i in range(0, len(ids), size)]


def timeline_row(r: Any) -> AuditRow:
    return AuditRow("timeline", r.id, r.client_id, {
        "incident_id": r.incident_id, "at": r.at, "kind": r.kind, "actor": r.actor, "message": r.message,
        "data": r.data})


def admin_row(r: Any) -> AuditRow:
    return AuditRow("admin", r.id, r.client_id or ORGANIZATION_CHAIN, {
        "at": r.at, "actor": r.actor, "action": r.action, "client_id": r.client_id, "subject": r.subject,
        "data": r.data})
