"""Console accounts, login links, web sessions and portal links on SQLAlchemy (mixed into SqlStore)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, insert, select, update
from sqlalchemy.orm import Session

from onduty.adapters.db import tables as t
from onduty.app.accounts import Account, WebSession


class AccountStore:
    session: Session

    def account(self, person_id: str) -> Account | None:
        row = self.session.execute(select(t.user_accounts).where(t.user_accounts.c.person_id == person_id)).first()
        return Account(row.person_id, row.role, row.password_hash) if row else None

    def put_account(self, account: Account, now: datetime) -> None:
        values = {"password_hash": account.password_hash, "role": account.role, "updated_at": now}
        done = self.session.execute(
            update(t.user_accounts).where(t.user_accounts.c.person_id == account.person_id).values(**values))
        if done.rowcount == 0:  # type: ignore[attr-defined]
            self.session.execute(insert(t.user_accounts).values(person_id=account.person_id, **values))

    def add_login_link(self, token_hash: str, person_id: str, now: datetime, expires_at: datetime) -> None:
        """Store a new link; links past their expiry are of no use to anyone and go at the same time."""
        self.session.execute(delete(t.login_links).where(t.login_links.c.expires_at <= now))
        self.session.execute(insert(t.login_links).values(
            token_hash=token_hash, person_id=person_id, created_at=now, expires_at=expires_at))

    def login_link_person(self, token_hash: str, now: datetime) -> str | None:
        """Whose unused, unexpired link this is, without using it up."""
        links = t.login_links
        person: str | None = self.session.scalar(select(links.c.person_id).where(
            links.c.token_hash == token_hash, links.c.used_at.is_(None), links.c.expires_at > now))
        return person

    def use_login_link(self, token_hash: str, now: datetime) -> str | None:
        """Mark the link used, once: the guarded UPDATE lets only one of two racing sign-ins through."""
        links = t.login_links
        done = self.session.execute(update(links).where(
            links.c.token_hash == token_hash, links.c.used_at.is_(None), links.c.expires_at > now,
        ).values(used_at=now))
        if done.rowcount != 1:  # type: ignore[attr-defined]
            return None
        person: str | None = self.session.scalar(select(links.c.person_id).where(links.c.token_hash == token_hash))
        return person

    def add_session(self, session: WebSession) -> None:
        """Store a new session, and clear the expired ones while here."""
        self.session.execute(delete(t.web_sessions).where(t.web_sessions.c.expires_at <= session.created_at))
        self.session.execute(insert(t.web_sessions).values(
            token_hash=session.token_hash, person_id=session.person_id, client_id=session.client_id,
            csrf_token=session.csrf_token, created_at=session.created_at, expires_at=session.expires_at))

    def web_session(self, token_hash: str, now: datetime) -> WebSession | None:
        s = t.web_sessions
        row = self.session.execute(select(s).where(s.c.token_hash == token_hash, s.c.expires_at > now)).first()
        if row is None:
            return None
        return WebSession(row.token_hash, row.csrf_token, row.created_at, row.expires_at, row.person_id,
                          row.client_id)

    def delete_session(self, token_hash: str) -> None:
        self.session.execute(delete(t.web_sessions).where(t.web_sessions.c.token_hash == token_hash))

    def set_portal_link(self, client_id: str, token_hash: str, now: datetime) -> None:
        """Replace the client's portal token; portal sessions opened with the old one end too."""
        self.session.execute(delete(t.portal_links).where(t.portal_links.c.client_id == client_id))
        self.session.execute(delete(t.web_sessions).where(t.web_sessions.c.client_id == client_id))
        self.session.execute(insert(t.portal_links).values(client_id=client_id, token_hash=token_hash,
                                                          created_at=now))

    def portal_client(self, token_hash: str) -> str | None:
        found: str | None = self.session.scalar(
            select(t.portal_links.c.client_id).where(t.portal_links.c.token_hash == token_hash))
        return found
