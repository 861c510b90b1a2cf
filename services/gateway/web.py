"""What every staff page shares: the session, CSRF, scoping, the menus, rendering and French error pages."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape

from teleservices.gateway.backend import Backend, BackendError
from teleservices.gateway.sessions import COOKIE, Session, SessionStore
from teleservices.gateway.settings import GatewaySettings
from teleservices.shared.security.staff import Menu, Role, StaffPrincipal

templates = Environment(loader=FileSystemLoader(Path(__file__).parent / "templates"), autoescape=select_autoescape(),
                        trim_blocks=True, lstrip_blocks=True)
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
STATE_COLOURS = {"Non notifié": "non-notifie", "Notifié": "notifie", "En cours d'activation": "en-cours",
                 "Utilisé": "utilise"}


def french_date(value: str | None) -> str:
    """2026-11-23T… → 23/11/2026 (empty for none)."""
    if not value:
        return ""
    text = str(value)[:10]
    year, month, day = text.split("-")
    return f"{day}/{month}/{year}"


templates.filters["date_fr"] = french_date
templates.globals["STATE_COLOURS"] = STATE_COLOURS
templates.globals["ACTIONS"] = {
    "notifier": "Renotifier le compte", "reinitialiser_et_notifier": "Renotifier et réinitialiser le mot de passe",
    "nouveau_compte": "Création d'un nouveau compte",
    "renvoyer_courriel_activation": "Renvoyer le courriel d'activation",
    "simuler_acces": "Simuler l'accès", "ecrire_courriel": "Écrire un courriel",
    "consulter_mot_de_passe_provisoire": "Consultation du mot de passe provisoire",
    "regrouper": "Regroupement", "degrouper": "Dégroupement"}


class PageError(Exception):
    """Shown as a French error page with this status."""

    def __init__(self, status: int, title: str, message: str):
        super().__init__(title)
        self.status = status
        self.title = title
        self.message = message


class NotFoundPage(PageError):
    def __init__(self) -> None:
        super().__init__(404, "Page introuvable", "Cette page n'existe pas ou vous n'y avez pas accès.")


class LoginRequired(Exception):
    """No signed-in session: go to the sign-in page, then come back."""

    def __init__(self, next_url: str):
        super().__init__(next_url)
        self.next_url = next_url


class CsrfRefused(PageError):
    def __init__(self) -> None:
        super().__init__(403, "Formulaire expiré",
                         "Le formulaire n'a pas pu être vérifié (jeton de sécurité absent ou périmé). "
                         "Rechargez la page puis recommencez.")


def school_year(start: int | None = None) -> str:
    """« Année 2026/2027 »: the establishment's year, else the current one (changing on 1 August)."""
    if start is None:
        today = date.today()
        start = today.year if today.month >= 8 else today.year - 1
    return f"Année {start}/{start + 1}"


def settings_of(request: Request) -> GatewaySettings:
    settings: GatewaySettings = request.app.state.settings
    return settings


def store_of(request: Request) -> SessionStore:
    store: SessionStore = request.app.state.sessions
    return store


async def current_session(request: Request) -> Session | None:
    """The request's live session (signed in or not), or None."""
    if "session" not in request.state._state:
        request.state.session = await store_of(request).load(request.cookies.get(COOKIE))
    session: Session | None = request.state.session
    return session


async def check_csrf(request: Request, session: Session | None) -> None:
    """Every state-changing request carries the session's CSRF token (form field or X-CSRF-Token header)."""
    if request.method in SAFE_METHODS:
        return
    submitted = request.headers.get("x-csrf-token")
    if not submitted and request.headers.get("content-type", "").startswith(
            ("application/x-www-form-urlencoded", "multipart/form-data")):
        form = await request.form()
        value = form.get("csrf")
        submitted = value if isinstance(value, str) else None
    if session is None or not session.csrf_matches(submitted):
        raise CsrfRefused()


@dataclass
class Ctx:
    """A signed-in staff member's request."""

    request: Request
    session: Session
    staff: StaffPrincipal
    backend: Backend
    settings: GatewaySettings
    establishment: dict[str, Any] | None = None
    screen: str = ""

    @property
    def uai(self) -> str:
        if self.establishment is None:
            raise NotFoundPage()
        return str(self.establishment["uai"])

    def require(self, menu: Menu) -> None:
        """A delegate without this menu gets a 403 page (the services refuse it as well)."""
        if not self.staff.may_use(menu):
            raise PageError(403, "Accès refusé",
                            f"Le chef d'établissement ne vous a pas délégué le menu « {menu.label} ».")

    def require_operator(self) -> None:
        if self.staff.role is not Role.operateur_academique:
            raise PageError(403, "Accès refusé", "Cette page est réservée aux opérateurs académiques.")

    async def flash(self, text: str, kind: str = "succes") -> None:
        """A message shown on the next page."""
        self.session.data.setdefault("flash", []).append({"text": text, "kind": kind})
        await store_of(self.request).save_data(self.session)

    async def get(self, service: str, path: str, **kwargs: Any) -> Any:
        return await self.backend.get(self.staff, service, path, **kwargs)

    async def call(self, service: str, method: str, path: str, **kwargs: Any) -> Any:
        return await self.backend.json(self.staff, service, method, path, **kwargs)

    def url(self, suffix: str = "") -> str:
        """A URL inside the current establishment."""
        return f"/etablissements/{quote(self.uai)}{suffix}"


async def staff_ctx(request: Request) -> Ctx:
    """The signed-in member (else a redirect to the sign-in page); CSRF checked on every change."""
    session = await current_session(request)
    if session is None or session.principal is None:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise LoginRequired(target if request.method == "GET" else "/")
    await check_csrf(request, session)
    return Ctx(request, session, session.principal, request.app.state.backend, settings_of(request))


async def establishment_ctx(uai: str, ctx: Annotated[Ctx, Depends(staff_ctx)]) -> Ctx:
    """The member acting on one of his establishments: any other is a 404, whatever exists."""
    if not ctx.staff.may_act_on(uai):
        raise NotFoundPage()
    try:
        ctx.establishment = await ctx.get("accounts", f"/api/v1/establishments/{quote(uai)}")
    except BackendError as exc:
        if exc.status in (403, 404, 422):
            raise NotFoundPage() from exc
        raise
    return ctx


StaffCtx = Annotated[Ctx, Depends(staff_ctx)]
EstabCtx = Annotated[Ctx, Depends(establishment_ctx)]


def menus_for(ctx: Ctx) -> list[dict[str, Any]]:
    """The menu bar of an establishment, delegated menus only."""
    if ctx.establishment is None:
        return []
    base = ctx.url()
    entries = [
        (Menu.gestion_services, "Gestion des services", [
            ("Ouverture / fermeture", "/services"), ("Configuration Notes", "/services/notes"),
            ("Paiement en ligne des factures", "/services/paiement"), ("Emploi du temps", "/services/emploi-du-temps"),
            ("Bourse de collège", "/services/bourse-college"), ("Bourse de lycée", "/services/bourse-lycee")]),
        (Menu.parametrage, "Paramétrage", [
            ("Message d'accueil", "/parametrage/message-accueil"),
            ("ENT et courrier de notification", "/parametrage/ent-et-courrier"),
            ("Contact établissement", "/parametrage/contact"), ("Liens utiles", "/parametrage/liens-utiles")]),
        (Menu.acces_responsables, "Accès des responsables", [
            ("Notifier en masse", "/responsables/notifier"), ("Gérer le compte", "/responsables/comptes")]),
        (Menu.acces_eleves, "Accès des élèves", [
            ("Notifier en masse", "/eleves/notifier"), ("Gérer le compte élève", "/eleves/comptes"),
            ("Éditer les listes des comptes élèves", "/eleves/listes")]),
        (Menu.statistiques, "Statistiques", [
            ("Synthèse comptes élèves", "/statistiques/eleves"),
            ("Synthèse comptes responsables", "/statistiques/responsables"),
            ("Synthèse accès téléservices", "/statistiques/acces")]),
        (Menu.imports, "Imports", [("Importer un export SIECLE", "/imports")]),
    ]
    path = ctx.request.url.path
    menus = []
    for menu, label, items in entries:
        if not ctx.staff.may_use(menu):
            continue
        prefix = base + "/" + items[0][1].split("/")[1]
        menus.append({"menu": menu.value, "label": label, "active": path.startswith(prefix),
                      "items": [{"label": t, "href": base + s} for t, s in items]})
    return menus


def with_cookie(response: Response, request: Request, session: Session | None) -> Response:
    """Set the session cookie when this request created the session."""
    if session is not None and session.fresh:
        settings = settings_of(request)
        response.set_cookie(COOKIE, session.id, httponly=True, samesite="lax", secure=settings.secure_cookies,
                            path="/", max_age=settings.session_max_hours * 3600)
    return response


async def render(ctx: Ctx | None, request: Request, template: str, status: int = 200, **values: Any) -> HTMLResponse:
    """A full page (or, for an htmx request naming a fragment, the fragment only)."""
    session = ctx.session if ctx else await current_session(request)
    flashes: list[dict[str, str]] = []
    if session is not None and session.data.get("flash"):
        flashes = session.data.pop("flash")
        await store_of(request).save_data(session)
    establishment = ctx.establishment if ctx else None
    staff = ctx.staff if ctx else session.principal if session else None
    html = templates.get_template(template).render(
        request=request, ctx=ctx, staff=staff, establishment=establishment,
        menus=menus_for(ctx) if ctx else [], csrf=session.csrf if session else "", flashes=flashes,
        year=school_year(establishment.get("annee_scolaire") if establishment else None),
        printing=request.query_params.get("impression") == "1", path=request.url.path,
        teleinscription_url=settings_of(request).teleinscription_url, **values)
    return with_cookie(HTMLResponse(html, status_code=status), request, session)  # type: ignore[return-value]


def redirect(url: str, request: Request) -> Response:
    """After a change: back to a page (htmx follows HX-Redirect, browsers the 303)."""
    if request.headers.get("hx-request"):
        return Response(status_code=204, headers={"HX-Redirect": url})
    return RedirectResponse(url, status_code=303)


def error_reason(exc: BackendError) -> str:
    """A service's refusal as one French sentence."""
    return f"{exc.field} : {exc.reason}" if exc.field else exc.reason
