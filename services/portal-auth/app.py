"""Composition root of the family portal (Scolarité services)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from teleservices.portal_auth import pages_auth, pages_home, pages_links, pages_recovery, purge, store
from teleservices.portal_auth.accounts_client import AccountsClient
from teleservices.portal_auth.domain import ThrottlePolicy
from teleservices.portal_auth.feed import AccountsFeed
from teleservices.portal_auth.settings import PortalAuthSettings
from teleservices.portal_auth.web import Portal, install_security
from teleservices.shared.messages.catalog import (
    AccountCreated,
    AccountStateChanged,
    IdentifierChanged,
    TemporaryCredentialIssued,
)
from teleservices.shared.messages.topics import ACCOUNTS_EVENTS
from teleservices.shared.privacy.retention import RetentionSettings
from teleservices.shared.runtime import ServiceRuntime
from teleservices.shared.web import create_service_app

STATIC = Path(__file__).parent / "static"


def create_app(settings: PortalAuthSettings, accounts_transport: httpx.AsyncBaseTransport | None = None) -> FastAPI:
    """Wire the portal: credentials fed by accounts.events, pages, the accounts read API."""
    runtime = ServiceRuntime("portal-auth", settings, migrations=Path(__file__).parent / "migrations")
    feed = AccountsFeed()
    runtime.consume("accounts-feed", [ACCOUNTS_EVENTS], {
        AccountCreated: feed.account_created, AccountStateChanged: feed.state_changed,
        IdentifierChanged: feed.identifier_changed, TemporaryCredentialIssued: feed.temporary_password_issued,
        **purge.HANDLERS,  # purge after departure (services/portal-auth/purge.py)
    }, batch=True, batch_handlers={AccountCreated: feed.accounts_created})
    accounts = AccountsClient(settings.accounts_url, settings.secrets.link_key.get_secret_value(), accounts_transport)
    hashing = ThreadPoolExecutor(max_workers=settings.hash_workers, thread_name_prefix="argon2")

    async def stop_hashing() -> None:
        hashing.shutdown(wait=False)

    runtime.resource(accounts.start, accounts.stop)
    runtime.resource(_nothing, stop_hashing)
    runtime.every("housekeeping", _housekeeping(runtime))
    app = create_service_app(runtime, title="Scolarité services")
    policy = ThrottlePolicy(settings.throttle_free_failures, settings.throttle_max_delay_s,
                            settings.throttle_lock_every, settings.throttle_lock_s, settings.throttle_hard_limit,
                            settings.throttle_address_failures, settings.throttle_address_window_s)
    app.state.portal = portal = Portal(runtime.db, settings, accounts, policy, hashing)
    install_security(app, portal)
    app.include_router(pages_auth.router)
    app.include_router(pages_links.router)
    app.include_router(pages_recovery.router)
    app.include_router(pages_home.router)

    @app.get("/static/portail.css", include_in_schema=False)
    async def stylesheet() -> FileResponse:
        return FileResponse(STATIC / "portail.css", media_type="text/css")

    @app.exception_handler(RequestValidationError)
    async def bad_form(request: Request, exc: RequestValidationError) -> Response:
        fields = sorted({str(e["loc"][-1]) for e in exc.errors() if e.get("loc")})
        return portal.page(request, "done.html", 400, title="Formulaire incorrect",
                           text=f"Champ trop long ou invalide : {', '.join(fields)}.")

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if request.url.path.startswith("/admin") or (exc.status_code in (401, 405) and "html" not in \
                request.headers.get("accept", "")):
            return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers)
        titles = {403: "Action refusée", 404: "Page introuvable"}
        return portal.page(request, "done.html", exc.status_code, title=titles.get(exc.status_code, "Erreur"),
                           text=str(exc.detail) if exc.status_code != 404 else "Cette page n'existe pas.")

    return app


async def _nothing() -> None:
    return None


def _housekeeping(runtime: ServiceRuntime) -> Callable[[], Awaitable[None]]:
    """Every ten minutes: expired sessions, stale throttling counters, old link records and connections past
    their retention period go."""

    async def loop() -> None:
        while True:
            async with runtime.db.transaction() as conn:
                await store.purge(conn, connection_log_days=RetentionSettings().connection_log_days)
            await asyncio.sleep(600)

    return loop
