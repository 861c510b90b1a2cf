"""Sign-in (local staff accounts, the academy's OpenID Connect provider) and sign-out."""

from __future__ import annotations

import logging
import time

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from teleservices.gateway.oidc import OidcClient, OidcRefused
from teleservices.gateway.sessions import COOKIE, Session
from teleservices.gateway.web import CsrfRefused, current_session, render, settings_of, store_of, with_cookie
from teleservices.shared.security.passwords import hash_password, verify_password
from teleservices.shared.security.staff import StaffPrincipal

log = logging.getLogger(__name__)
router = APIRouter(include_in_schema=False)
_DUMMY_HASH = hash_password("pas-un-vrai-mot-de-passe")
BAD_CREDENTIALS = "Identifiant ou mot de passe incorrect."
TOO_MANY = "Trop d'essais pour cet identifiant : réessayez dans 15 minutes."
MAX_FAILURES, FAILURE_WINDOW_S = 5, 15 * 60


class FailedSignIns:
    """Failed sign-ins per login within a window (this process); a login past the limit is refused for a while."""

    def __init__(self) -> None:
        self._failures: dict[str, list[float]] = {}

    def _recent(self, login: str) -> list[float]:
        now = time.monotonic()
        recent = [t for t in self._failures.get(login, []) if now - t < FAILURE_WINDOW_S]
        if recent:
            self._failures[login] = recent
        else:
            self._failures.pop(login, None)
        return recent

    def blocked(self, login: str) -> bool:
        """Whether the login has failed too often lately."""
        return len(self._recent(login)) >= MAX_FAILURES

    def failed(self, login: str) -> None:
        """Record one failure."""
        self._failures.setdefault(login, []).append(time.monotonic())

    def succeeded(self, login: str) -> None:
        """Forget the failures of a login that signed in."""
        self._failures.pop(login, None)


_failed = FailedSignIns()


def safe_next(target: str | None) -> str:
    """Only a path of this site (never another host) after sign-in."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


async def _pre_login(request: Request) -> Session:
    session = await current_session(request)
    if session is None:
        session = await store_of(request).create()
        request.state.session = session
    return session


async def _login_page(request: Request, error: str | None = None, status: int = 200) -> Response:
    session = await _pre_login(request)
    settings = settings_of(request)
    return await render(None, request, "login.html", status=status, error=error, oidc=settings.oidc,
                        local_login=settings.local_login, suite=safe_next(request.query_params.get("suite")),
                        csrf_value=session.csrf)


async def _signed_in(request: Request, session: Session, principal: StaffPrincipal, target: str) -> Response:
    """Rotation: the pre-login session is deleted and a new id is issued to the signed-in member."""
    fresh = await store_of(request).create(principal, replacing=session)
    log.info("staff signed in", extra={"staff_id": principal.user_id, "role": principal.role.value})
    return with_cookie(RedirectResponse(safe_next(target), status_code=303), request, fresh)


@router.get("/connexion")
async def login_page(request: Request) -> Response:
    """The sign-in page."""
    session = await current_session(request)
    if session is not None and session.principal is not None:
        return RedirectResponse("/", status_code=303)
    return await _login_page(request)


@router.post("/connexion")
async def login(request: Request, identifiant: str = Form(max_length=100), mot_de_passe: str = Form(max_length=200),
                csrf: str = Form(default=""), suite: str = Form(default="/")) -> Response:
    """Local staff account: login and password (argon2id)."""
    settings = settings_of(request)
    session = await current_session(request)
    if session is None or not session.csrf_matches(csrf):
        raise CsrfRefused()
    if not settings.local_login:
        return await _login_page(request, "La connexion par compte local est désactivée.", 403)
    login_name = identifiant.strip().lower()
    if _failed.blocked(login_name):
        log.info("staff sign-in refused: too many failures")
        return await _login_page(request, TOO_MANY, 429)
    async with request.app.state.runtime.db.connection() as conn:
        row = await conn.fetchrow("SELECT * FROM staff_users WHERE login = $1", login_name)
    if not verify_password(row["password_hash"] if row else _DUMMY_HASH, mot_de_passe) or row is None:
        _failed.failed(login_name)
        log.info("staff sign-in refused")
        return await _login_page(request, BAD_CREDENTIALS, 401)
    _failed.succeeded(login_name)
    principal = StaffPrincipal(user_id=f"local:{row['login']}", display_name=row["display_name"],
                               role=row["role"], academy=row["academy"], uais=tuple(row["uais"]),
                               menus=tuple(row["menus"]))
    return await _signed_in(request, session, principal, suite)


@router.post("/connexion/oidc")
async def oidc_start(request: Request, csrf: str = Form(default=""), suite: str = Form(default="/")) -> Response:
    """Go to the academy's provider."""
    session = await current_session(request)
    if session is None or not session.csrf_matches(csrf):
        raise CsrfRefused()
    client: OidcClient | None = request.app.state.oidc
    if client is None:
        return await _login_page(request, "La connexion académique n'est pas configurée.", 404)
    url, kept = await client.start(str(request.url_for("oidc_return")))
    session.data["oidc"] = {**kept, "suite": safe_next(suite)}
    await store_of(request).save_data(session)
    return RedirectResponse(url, status_code=303)


@router.get("/connexion/oidc/retour")
async def oidc_return(request: Request, code: str | None = None, state: str | None = None) -> Response:
    """Back from the provider: the code is exchanged and the ID token checked."""
    session = await current_session(request)
    client: OidcClient | None = request.app.state.oidc
    if session is None or client is None:
        return await _login_page(request, "La connexion a expiré : recommencez.", 400)
    kept = session.data.pop("oidc", {})
    try:
        principal = await client.finish(kept, state, code)
    except OidcRefused as refused:
        log.info("oidc sign-in refused", extra={"reason": str(refused)})
        return await _login_page(request, "La connexion académique a été refusée.", 403)
    return await _signed_in(request, session, principal, kept.get("suite", "/"))


@router.post("/deconnexion")
async def logout(request: Request, csrf: str = Form(default="")) -> Response:
    """« Quitter »: the session is deleted on the server, the cookie cleared."""
    session = await current_session(request)
    if session is None or not session.csrf_matches(csrf):
        raise CsrfRefused()
    await store_of(request).delete(session)
    response = RedirectResponse("/connexion", status_code=303)
    response.delete_cookie(COOKIE, path="/")
    return response
