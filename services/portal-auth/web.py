"""The portal's web plumbing: its dependencies, sessions in cookies, CSRF tokens, security headers, pages."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import secrets
import time
import uuid
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
from fastapi import FastAPI, HTTPException, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from teleservices.portal_auth import store
from teleservices.portal_auth.accounts_client import AccountsClient
from teleservices.portal_auth.domain import PASSWORD_POLICY, ThrottlePolicy
from teleservices.portal_auth.settings import PortalAuthSettings
from teleservices.shared.db import Database
from teleservices.shared.security.passwords import hash_password, needs_rehash, verify_password
from teleservices.shared.security.signing import derive_key

TEMPLATES = Environment(loader=FileSystemLoader(Path(__file__).parent / "templates"), autoescape=select_autoescape())
SECURITY_HEADERS = {
    "content-security-policy": "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self';"
                               " frame-ancestors 'none'; base-uri 'none'",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
    "x-content-type-options": "nosniff",
    "permissions-policy": "camera=(), microphone=(), geolocation=()",
    "cache-control": "no-store",
}
ACCESSIBILITY_STATUS = "partiellement conforme"
PARIS = ZoneInfo("Europe/Paris")


def now() -> datetime:
    """The current time (UTC)."""
    return datetime.now(UTC)


def format_date(value: Any) -> str:
    """jj/mm/aaaa, as French pages write dates."""
    return value.strftime("%d/%m/%Y") if value else ""


def format_datetime(value: Any) -> str:
    """jj/mm/aaaa à hh:mm, in French time."""
    return value.astimezone(PARIS).strftime("%d/%m/%Y à %H:%M") if value else ""


TEMPLATES.filters["date_fr"] = format_date
TEMPLATES.filters["datetime_fr"] = format_datetime


def wait(seconds: float) -> None:
    """Hold a hashing thread for this long (a lighter check's padding)."""
    time.sleep(seconds)


@dataclass
class Portal:
    """What the pages need: database, settings, the accounts API, the hashing threads, the throttling rules."""

    db: Database
    settings: PortalAuthSettings
    accounts: AccountsClient
    policy: ThrottlePolicy
    hashing: ThreadPoolExecutor
    _csrf_key: bytes = field(init=False)
    _dummy_hash: str = field(init=False)
    _full_check_s: float = field(init=False)
    """How long a full-strength check takes now, queue included (followed from the real ones)."""

    def __post_init__(self) -> None:
        self._csrf_key = derive_key(self.settings.secrets.link_key.get_secret_value(), "portal-csrf")
        self._dummy_hash = hash_password(secrets.token_urlsafe(16))
        started = time.perf_counter()
        verify_password(self._dummy_hash, "")
        self._full_check_s = time.perf_counter() - started

    @property
    def link_key(self) -> str:
        """The one-time link secret shared with accounts and notifier."""
        return self.settings.secrets.link_key.get_secret_value()

    async def verify(self, password_hash: str | None, password: str) -> bool:
        """argon2id verification off the event loop. An unknown account, and a temporary password (hashed with
        lighter parameters), take the time of a chosen password's check: timing tells nothing.

        The lighter check is padded by waiting, in the same hashing queue, for the rest of a full check's current
        duration: the answer comes as late, without burning a core on a check nobody needs (during a rush,
        most logins are first logins with a temporary password)."""
        loop = asyncio.get_running_loop()
        started = time.perf_counter()
        ok = await loop.run_in_executor(self.hashing, verify_password, password_hash or self._dummy_hash, password)
        took = time.perf_counter() - started
        if password_hash is not None and needs_rehash(password_hash):
            await loop.run_in_executor(self.hashing, wait, max(self._full_check_s - took, 0.0))
        else:
            self._full_check_s += (took - self._full_check_s) / 8
        return ok and password_hash is not None

    async def hash(self, password: str) -> str:
        """argon2id hash off the event loop."""
        return await asyncio.get_running_loop().run_in_executor(self.hashing, hash_password, password)

    # --- cookies -------------------------------------------------------------------------------------------------

    @property
    def session_cookie(self) -> str:
        """The session cookie's name (__Host- prefixed when secure)."""
        return "__Host-portail_session" if self.settings.cookie_secure else "portail_session"

    @property
    def seed_cookie(self) -> str:
        """The anonymous CSRF seed cookie's name."""
        return "__Host-portail_csrf" if self.settings.cookie_secure else "portail_csrf"

    def set_cookie(self, response: Response, name: str, value: str, max_age: int | None = None) -> None:
        """A Secure (in production), HttpOnly, SameSite=Lax cookie for the whole site."""
        response.set_cookie(name, value, max_age=max_age, path="/", secure=self.settings.cookie_secure,
                            httponly=True, samesite="lax")

    def csrf_token(self, request: Request) -> str:
        """The form token bound to this browser's session (or, before login, to its seed cookie)."""
        bound = request.cookies.get(self.session_cookie) or request.state.csrf_seed
        return hmac.new(self._csrf_key, bound.encode(), hashlib.sha256).hexdigest()

    def check_csrf(self, request: Request, token: str) -> None:
        """Refuse a form whose token does not belong to this browser (403)."""
        if not token or not hmac.compare_digest(token, self.csrf_token(request)):
            raise HTTPException(403, detail="Formulaire expiré ou invalide : rechargez la page et recommencez.")

    # --- sessions ------------------------------------------------------------------------------------------------

    async def current(self, request: Request) -> asyncpg.Record | None:
        """The live session of this request, with its credential (None: anonymous)."""
        token = request.cookies.get(self.session_cookie)
        if not token:
            return None
        async with self.db.transaction() as conn:
            found = await store.session(conn, token, self.settings.session_ttl_s)
            if found is None:
                return None
            return await conn.fetchrow("SELECT s.kind, s.created_at, s.account_id, c.identifiant, c.population,"
                                       " c.uai, c.state, c.email, c.email_validated FROM sessions s JOIN credentials c"
                                       " USING (account_id) WHERE s.token_hash = $1", found["token_hash"])

    async def start_session(self, conn: asyncpg.Connection, request: Request, response: Response,
                            account_id: uuid.UUID, kind: str) -> None:
        """A new session id at every login (the old one, if any, ends): no fixation."""
        old = request.cookies.get(self.session_cookie)
        if old:
            await store.end_session(conn, old)
        ttl = self.settings.simulation_ttl_s if kind == "simulation" else self.settings.session_ttl_s
        token = await store.open_session(conn, account_id, kind, ttl)
        self.set_cookie(response, self.session_cookie, token)

    # --- pages ---------------------------------------------------------------------------------------------------

    def page(self, request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
        """Render a page with what every page shows (session, simulation banner, form token)."""
        html = TEMPLATES.get_template(template).render(
            csrf=self.csrf_token(request), me=getattr(request.state, "me", None),
            accessibility=ACCESSIBILITY_STATUS, password_policy=PASSWORD_POLICY, **context)
        return HTMLResponse(html, status_code=status_code)


def portal_of(request: Request) -> Portal:
    """The portal's dependencies."""
    portal: Portal = request.app.state.portal
    return portal


async def writable_session(request: Request, csrf: str) -> Any:
    """The session behind a form: CSRF checked; a simulated session never writes (403)."""
    portal = portal_of(request)
    portal.check_csrf(request, csrf)
    me = request.state.me = await portal.current(request)
    if me is not None and me["kind"] == "simulation":
        raise HTTPException(403, detail="Simulation : consultation seule, aucune modification n'est effectuée.")
    return me


def redirect(url: str) -> RedirectResponse:
    """After a form: 303 See Other."""
    return RedirectResponse(url, status_code=303)


def client_address(request: Request) -> str:
    """The client's address for throttling."""
    return request.client.host if request.client else "inconnu"


def wait_message(seconds: float) -> str:
    """What to tell someone who tried too often."""
    if seconds == float("inf"):
        return ("Trop d'essais infructueux : la connexion par mot de passe est bloquée pour ce compte. "
                "Utilisez « Mot de passe oublié » pour choisir un nouveau mot de passe, ou contactez l'établissement.")
    minutes = max(1, round(seconds / 60)) if seconds >= 60 else 0
    delay = f"{minutes} minute{'s' if minutes > 1 else ''}" if minutes else f"{max(1, round(seconds))} secondes"
    return f"Trop d'essais infructueux. Réessayez dans {delay}."


def install_security(app: FastAPI, portal: Portal) -> None:
    """Security headers on every answer; a CSRF seed cookie for every browser; `request.state.me` set."""

    @app.middleware("http")
    async def secure(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        seed = request.cookies.get(portal.seed_cookie)
        request.state.csrf_seed = seed or secrets.token_urlsafe(24)
        request.state.me = None
        response = await call_next(request)
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        if portal.settings.cookie_secure:  # served over HTTPS: browsers must keep to it
            response.headers.setdefault("strict-transport-security", "max-age=31536000; includeSubDomains")
        if not seed:
            portal.set_cookie(response, portal.seed_cookie, request.state.csrf_seed)
        return response
