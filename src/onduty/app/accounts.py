"""Who may use the console and the portal: passwords (argon2), one-time login links, sessions, portal links.

Every secret handed out (link, session, portal token) is a long random token; only its SHA-256 is stored.
"""

from __future__ import annotations

import secrets
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol, get_args

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from onduty.app.keys import hash_key
from onduty.app.ports import NotFound, Role
from onduty.domain.model import Directory, Person

LINK_LIFETIME = timedelta(minutes=15)
SESSION_LIFETIME = timedelta(hours=12)
PORTAL_SESSION_LIFETIME = timedelta(days=7)
MIN_PASSWORD = 10
DEFAULT_ROLE: Role = "responder"
ROLES: tuple[str, ...] = get_args(Role)
_hasher = PasswordHasher()


class SignInRefused(Exception):
    """Wrong person, password, link or portal token. One message for all, so nothing leaks."""


@dataclass(frozen=True)
class Account:
    person_id: str
    role: Role
    password_hash: str | None = None


@dataclass(frozen=True)
class WebSession:
    """A signed-in browser: a responder (`person_id`) or a client contact in the portal (`client_id`)."""

    token_hash: str
    csrf_token: str
    created_at: datetime
    expires_at: datetime
    person_id: str | None = None
    client_id: str | None = None


@dataclass(frozen=True)
class Ticket:
    """What a sign-in hands the browser: the session token (the cookie) and the session itself."""

    token: str
    session: WebSession


class AccountStore(Protocol):
    def directory(self) -> Directory: ...
    def account(self, person_id: str) -> Account | None: ...
    def put_account(self, account: Account, now: datetime) -> None: ...
    def add_login_link(self, token_hash: str, person_id: str, now: datetime, expires_at: datetime) -> None: ...
    def login_link_person(self, token_hash: str, now: datetime) -> str | None: ...
    def use_login_link(self, token_hash: str, now: datetime) -> str | None: ...
    def add_session(self, session: WebSession) -> None: ...
    def web_session(self, token_hash: str, now: datetime) -> WebSession | None: ...
    def delete_session(self, token_hash: str) -> None: ...
    def set_portal_link(self, client_id: str, token_hash: str, now: datetime) -> None: ...
    def portal_client(self, token_hash: str) -> str | None: ...


class AccountTransactions(Protocol):
    def __call__(self) -> AbstractContextManager[AccountStore]: ...


def _person(store: AccountStore, person_id: str) -> None:
    people = store.directory().people
    if person_id not in people:
        raise NotFound(f"person {person_id!r} is not in the applied plan; known: {', '.join(sorted(people)) or 'none'}")


def set_password(txs: AccountTransactions, person_id: str, password: str, now: datetime) -> Account:
    """Store an argon2 hash of the person's new password; the account starts as a responder."""
    if len(password) < MIN_PASSWORD:
        raise ValueError(f"a password needs at least {MIN_PASSWORD} characters")
    with txs() as store:
        _person(store, person_id)
        current = store.account(person_id)
        account = Account(person_id, current.role if current else DEFAULT_ROLE, _hasher.hash(password))
        store.put_account(account, now)
    return account


def set_role(txs: AccountTransactions, person_id: str, role: str, now: datetime) -> Account:
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}; got {role!r}")
    with txs() as store:
        _person(store, person_id)
        current = store.account(person_id)
        account = Account(person_id, role, current.password_hash if current else None)  # type: ignore[arg-type]
        store.put_account(account, now)
    return account


def role_of(store: AccountStore, person_id: str) -> Role:
    account = store.account(person_id)
    return account.role if account else DEFAULT_ROLE


def issue_login_link(txs: AccountTransactions, person_id: str, now: datetime) -> str:
    """A token for one sign-in within 15 minutes."""
    token = secrets.token_urlsafe(32)
    with txs() as store:
        _person(store, person_id)
        store.add_login_link(hash_key(token), person_id, now, now + LINK_LIFETIME)
    return token


def _open(store: AccountStore, now: datetime, person_id: str | None = None, client_id: str | None = None,
          lifetime: timedelta = SESSION_LIFETIME) -> Ticket:
    token = secrets.token_urlsafe(32)
    session = WebSession(hash_key(token), secrets.token_urlsafe(32), now, now + lifetime, person_id, client_id)
    store.add_session(session)
    return Ticket(token, session)


def sign_in_with_password(txs: AccountTransactions, person_id: str, password: str, now: datetime) -> Ticket:
    with txs() as store:
        account = store.account(person_id.strip())
        if account is None or account.password_hash is None or person_id not in store.directory().people:
            _hasher.hash(password)  # spend the same time as a real check, so unknown people do not show
            raise SignInRefused("unknown person or wrong password")
        try:
            _hasher.verify(account.password_hash, password)
        except (VerificationError, InvalidHashError):
            raise SignInRefused("unknown person or wrong password") from None
        return _open(store, now, person_id=account.person_id)


LINK_REFUSED = "this sign-in link is unknown, already used or expired; ask for a new one"


def login_link_holder(txs: AccountTransactions, token: str, now: datetime) -> Person:
    """Who a link would sign in, leaving it unused: opening the link only asks, so a mail scanner
    that follows it does not spend it."""
    with txs() as store:
        person_id = store.login_link_person(hash_key(token), now)
        people = store.directory().people
        if person_id is None or person_id not in people:
            raise SignInRefused(LINK_REFUSED)
        return people[person_id]


def sign_in_with_link(txs: AccountTransactions, token: str, now: datetime) -> Ticket:
    with txs() as store:
        person_id = store.use_login_link(hash_key(token), now)
        if person_id is None or person_id not in store.directory().people:
            raise SignInRefused(LINK_REFUSED)
        return _open(store, now, person_id=person_id)


def session_for(txs: AccountTransactions, token: str, now: datetime) -> WebSession | None:
    with txs() as store:
        return store.web_session(hash_key(token), now)


def sign_out(txs: AccountTransactions, token: str) -> None:
    with txs() as store:
        store.delete_session(hash_key(token))


def issue_portal_link(txs: AccountTransactions, client_id: str, now: datetime) -> str:
    """A new secret portal token for the client; the previous one stops working, with its sessions."""
    token = secrets.token_urlsafe(32)
    with txs() as store:
        clients = store.directory().clients
        if client_id not in clients:
            raise NotFound(f"client {client_id!r} is not in the applied plan; known: {', '.join(sorted(clients))}")
        store.set_portal_link(client_id, hash_key(token), now)
    return token


def portal_sign_in(txs: AccountTransactions, token: str, now: datetime) -> Ticket:
    with txs() as store:
        client_id = store.portal_client(hash_key(token))
        if client_id is None or client_id not in store.directory().clients:
            raise SignInRefused("this portal link is unknown or was replaced; ask your account manager for the new one")
        return _open(store, now, client_id=client_id, lifetime=PORTAL_SESSION_LIFETIME)
