"""After the demo: the same database, its clock running on from where the story ended, with a console sign-in
and a portal link. On the wall clock every clock of a story set on a past evening would read as missed."""

from __future__ import annotations

import socket
from dataclasses import dataclass
from datetime import datetime

from onduty.adapters.clock import ResumedClock
from onduty.app.accounts import issue_login_link, issue_portal_link, set_role
from onduty.bootstrap import Container, build
from onduty.config import Settings

DEMO_PERSON = "lucia"  # the engineer who acknowledged in the story
DEMO_CLIENT = "northwind"


@dataclass(frozen=True)
class DemoConsole:
    container: Container
    url: str
    login_url: str
    portal_url: str


def free_port(preferred: int) -> int:
    """`preferred` if nothing listens there on loopback, else any free port."""
    for port in (preferred, 0):
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return int(s.getsockname()[1])
    raise OSError("no free port on 127.0.0.1")


def demo_console(database_url: str, port: int, resume_at: datetime) -> DemoConsole:
    """The demo's database with time running on from `resume_at`; Lucía as admin with a one-time link;
    Northwind's portal link."""
    url = f"http://127.0.0.1:{port}"
    container = build(Settings(database_url=database_url, public_url=url), clock=ResumedClock(resume_at))
    now = container.clock.now()
    set_role(container.db, DEMO_PERSON, "admin", now)
    login = f"{url}/login/link/{issue_login_link(container.db, DEMO_PERSON, now)}"
    portal = f"{url}/portal/enter/{issue_portal_link(container.db, DEMO_CLIENT, now)}"
    return DemoConsole(container, url, login, portal)
