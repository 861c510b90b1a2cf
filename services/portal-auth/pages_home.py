"""The pages of a connected family: home (services, ENT), Mon compte, contact, useful links; accessibility."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from teleservices.portal_auth import links, store
from teleservices.portal_auth.accounts_client import AccountsUnavailable
from teleservices.portal_auth.domain import EN_COURS, UTILISE, Credential, normalise_email, password_problem
from teleservices.portal_auth.web import client_address, now, portal_of, redirect, wait_message, writable_session
from teleservices.shared.messages.portal import AccountsGrouped, ServiceOpened
from teleservices.shared.messages.topics import PORTAL_EVENTS
from teleservices.shared.security.links import LinkPurpose

REGULATORY_ACT_URL = ("https://www.legifrance.gouv.fr/search/all?query=arr%C3%AAt%C3%A9+du+30+novembre+2006+"
                      "espaces+num%C3%A9riques+de+travail")
"""The ENT regulatory act (arrêté of 30 November 2006, as amended) on Légifrance."""
router = APIRouter(include_in_schema=False)
Field = Annotated[str, Form(max_length=256)]


async def _connected(request: Request) -> Any:
    """The session of a connected family member in use (None: send him to the login page)."""
    me = request.state.me = await portal_of(request).current(request)
    return me


async def _view(request: Request, me: Any) -> dict[str, Any] | Response:
    portal = portal_of(request)
    try:
        return await portal.accounts.view(me["account_id"])
    except AccountsUnavailable:
        return portal.page(request, "unavailable.html", 503)


@router.get("/")
async def home(request: Request) -> Response:
    """The welcome page: message, open services as tiles, ENT, last connection; or what is still awaited."""
    portal = portal_of(request)
    me = await _connected(request)
    if me is None:
        return portal.page(request, "login.html", info="Vous êtes déconnecté."
                           if request.query_params.get("deconnecte") else None)
    if me["kind"] == "premiere_connexion":
        return redirect("/premiere-connexion")
    if me["state"] == EN_COURS:
        return portal.page(request, "awaiting.html", me_email=me["email"])
    if me["state"] != UTILISE:
        return redirect("/connexion")
    view = await _view(request, me)
    if isinstance(view, Response):
        return view
    async with portal.db.connection() as conn:
        last = await store.previous_login(conn, me["account_id"], current_is_real=me["kind"] != "simulation")
    return portal.page(request, "home.html", view=view, last=last)


@router.get("/services/{code}")
async def open_service(code: str, request: Request) -> Response:
    """A tile opens its service (published for the access statistics; never in a simulation)."""
    portal = portal_of(request)
    me = await _connected(request)
    if me is None or me["state"] != UTILISE or me["kind"] == "premiere_connexion":
        return redirect("/")
    view = await _view(request, me)
    if isinstance(view, Response):
        return view
    service = next((s for s in view["etablissement"]["services"] if s["code"] == code), None)
    if service is None:
        return portal.page(request, "done.html", 404, title="Service indisponible",
                           text="Ce service n'est pas ouvert dans votre établissement.")
    if me["kind"] == "simulation":
        return portal.page(request, "done.html", 403, title="Simulation",
                           text="En simulation, les services ne s'ouvrent pas.")
    async with portal.db.transaction() as conn:
        await store.publish(conn, PORTAL_EVENTS, str(me["account_id"]), ServiceOpened(
            account_id=me["account_id"], uai=me["uai"], service=code, at=now()), me["uai"])
    target = service["url"] or f"{portal.settings.services_url}/{code}"
    return RedirectResponse(target, status_code=303)


@router.get("/mon-compte")
async def my_account(request: Request) -> Response:
    """Identifier, address, children; forms to change the password and address, and to group accounts."""
    portal = portal_of(request)
    me = await _connected(request)
    if me is None or me["state"] != UTILISE or me["kind"] == "premiere_connexion":
        return redirect("/")
    view = await _view(request, me)
    if isinstance(view, Response):
        return view
    return portal.page(request, "account.html", view=view, info=request.query_params.get("ok"))


MESSAGES = {"mot-de-passe": "Votre mot de passe est modifié.",
            "courriel": "Un lien de validation a été envoyé à la nouvelle adresse ; elle remplacera l'actuelle "
                        "quand vous aurez cliqué sur ce lien.",
            "regroupement": "Les deux comptes sont regroupés : l'autre compte est fermé et ses enfants apparaissent "
                            "sur ce compte dans quelques instants."}


async def _account_form(request: Request, csrf: str) -> tuple[Any, dict[str, Any] | Response]:
    me = await writable_session(request, csrf)
    if me is None or me["state"] != UTILISE or me["kind"] != "normale":
        return None, redirect("/")
    return me, await _view(request, me)


@router.post("/mon-compte/mot-de-passe")
async def change_password(request: Request, csrf: Field = "", actuel: Field = "", mot_de_passe: Field = "",
                          confirmation: Field = "") -> Response:
    """The current password, then the new one twice; other sessions end."""
    portal = portal_of(request)
    me, view = await _account_form(request, csrf)
    if isinstance(view, Response):
        return view
    id_key, ip_key = f"id:{me['identifiant']}", f"ip:{client_address(request)}"
    async with portal.db.connection() as conn:
        wait = await store.throttle_wait(conn, portal.policy, id_key, ip_key, now())
        row = await store.by_account(conn, me["account_id"])
    if wait is not None:
        return portal.page(request, "account.html", 429, view=view, errors={"actuel": wait_message(wait)})
    if row is None or not await portal.verify(row["password_hash"], actuel):
        async with portal.db.transaction() as conn:
            await store.throttle_failure(conn, portal.policy, id_key, ip_key, now())
        return portal.page(request, "account.html", 400, view=view,
                           errors={"actuel": "Le mot de passe actuel est incorrect."})
    if problem := password_problem(mot_de_passe, confirmation, me["identifiant"]):
        return portal.page(request, "account.html", 400, view=view, errors={"mot_de_passe": problem})
    new_hash = await portal.hash(mot_de_passe)
    async with portal.db.transaction() as conn:
        await store.set_password(conn, me["account_id"], new_hash)
        await store.end_sessions(conn, me["account_id"], keep=request.cookies.get(portal.session_cookie))
    return redirect("/mon-compte?ok=mot-de-passe")


@router.post("/mon-compte/courriel")
async def change_email(request: Request, csrf: Field = "", email: Field = "") -> Response:
    """A new address gets a validation link; the validated one stays until then."""
    portal = portal_of(request)
    me, view = await _account_form(request, csrf)
    if isinstance(view, Response):
        return view
    address = normalise_email(email)
    if address is None:
        return portal.page(request, "account.html", 400, view=view,
                           errors={"email": "Saisissez une adresse de messagerie valide, par exemple nom@exemple.fr."})
    async with portal.db.transaction() as conn:
        row = await store.by_account(conn, me["account_id"], lock=True)
        await links.send_link(portal, conn, row, view, address, LinkPurpose.email_validation)
    return redirect("/mon-compte?ok=courriel")


@router.post("/mon-compte/regroupement")
async def group_accounts(request: Request, csrf: Field = "", identifiant: Field = "",
                         mot_de_passe_regroupe: Field = "") -> Response:
    """Another child's representative account joins this one, proven by its credentials; it is closed."""
    portal = portal_of(request)
    me, view = await _account_form(request, csrf)
    if isinstance(view, Response):
        return view

    def refused(message: str, status: int = 400) -> Response:
        return portal.page(request, "account.html", status, view=view, errors={"regroupement": message})

    if me["population"] != "responsable":
        return refused("Seuls les comptes des représentants légaux se regroupent.")
    if not view["etablissement"]["grouping_enabled"]:
        return refused("Le regroupement des comptes n'est pas ouvert dans votre académie.", 409)
    ident = identifiant.strip().lower()
    id_key, ip_key = f"id:{ident}", f"ip:{client_address(request)}"
    async with portal.db.connection() as conn:
        wait = await store.throttle_wait(conn, portal.policy, id_key, ip_key, now())
        other = await store.by_identifiant(conn, ident)
    if wait is not None:
        return refused(wait_message(wait), 429)
    password_hash, access = (Credential(other["state"], other["population"], other["temp_password_hash"],
                                        other["password_hash"]).hash_to_check() if other else (None, None))
    if not await portal.verify(password_hash, mot_de_passe_regroupe) or other is None or access is None:
        async with portal.db.transaction() as conn:
            await store.throttle_failure(conn, portal.policy, id_key, ip_key, now())
        return refused("Identifiant ou mot de passe du compte à regrouper incorrect.")
    if other["account_id"] == me["account_id"]:
        return refused("Saisissez l'identifiant d'un autre compte que celui-ci.")
    if other["population"] != "responsable":
        return refused("Seuls les comptes des représentants légaux se regroupent.")
    at = now()
    async with portal.db.transaction() as conn:
        await store.throttle_clear(conn, id_key)
        await store.set_state(conn, other["account_id"], "Non notifié", at)
        await conn.execute("UPDATE credentials SET password_hash = NULL, temp_password_hash = NULL"
                           " WHERE account_id = $1", other["account_id"])
        await store.end_sessions(conn, other["account_id"])
        await store.publish(conn, PORTAL_EVENTS, str(me["account_id"]), AccountsGrouped(
            account_id=me["account_id"], grouped_account_id=other["account_id"], at=at), me["uai"])
    return redirect("/mon-compte?ok=regroupement")


async def _establishment_page(request: Request, template: str) -> Response:
    """A page about the establishment, for an account in use (its settings read at once from accounts)."""
    me = await _connected(request)
    if me is None or me["state"] != UTILISE or me["kind"] == "premiere_connexion":
        return redirect("/")
    view = await _view(request, me)
    if isinstance(view, Response):
        return view
    return portal_of(request).page(request, template, view=view)


@router.get("/contact")
async def contact(request: Request) -> Response:
    """The establishment's address, telephone, and contact email when the establishment activated it."""
    return await _establishment_page(request, "contact.html")


@router.get("/liens-utiles")
async def useful_links(request: Request) -> Response:
    """The establishment's useful links."""
    return await _establishment_page(request, "links.html")


@router.get("/donnees-personnelles")
async def privacy(request: Request) -> Response:
    """The information notice (RGPD art. 13, ENT act art. 5 and 8): controller, purposes, data, periods, rights."""
    from teleservices.shared.privacy.retention import current_retention

    request.state.me = await portal_of(request).current(request)
    return portal_of(request).page(request, "privacy.html", r=current_retention(), act_url=REGULATORY_ACT_URL)


@router.get("/accessibilite")
async def accessibility(request: Request) -> Response:
    """The accessibility statement (RGAA): status, what was checked, contact, Défenseur des droits."""
    request.state.me = await portal_of(request).current(request)
    return portal_of(request).page(request, "accessibility.html")
