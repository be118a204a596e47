"""The web console (server-rendered pages for responders) and the client portal, mounted on the app."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from onduty.web.ui import (
    alerting,
    command,
    console,
    messages,
    people,
    playbook,
    portal,
    portal_reviews,
    reports,
    reviews,
    schedules,
    signin,
)
from onduty.web.ui.render import HERE, page
from onduty.web.ui.session import LoginThrottle, PageError, SignedOut, login_url


def mount_ui(app: FastAPI) -> None:
    """Add the console's pages, its static files and the HTML error pages (the JSON API is untouched)."""
    app.state.login_throttle = LoginThrottle()
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")
    for module in (signin, console, command, messages, playbook, reviews, reports, schedules, alerting,
                   people, portal_reviews, portal):
        app.include_router(module.router)

    @app.exception_handler(SignedOut)
    async def _signed_out(_: Request, exc: SignedOut) -> Response:
        return RedirectResponse(login_url(exc.next_url), 303)

    @app.exception_handler(PageError)
    async def _page_error(request: Request, exc: PageError) -> Response:
        portal_page = request.url.path.startswith("/portal")
        return page(request, "error.html", {"status": exc.status, "message": exc.message, "portal": portal_page},
                    exc.status)
