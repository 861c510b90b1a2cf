"""Login, logout, first connection, activation and email-validation links, simulated access."""

from __future__ import annotations

from typing import Annotated, Any

import asyncpg
from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from teleservices.portal_auth import mails, store
from teleservices.portal_auth.accounts_client import AccountsUnavailable
from teleservices.portal_auth.domain import (
    EN_COURS,
    UTILISE,
    Access,
    Credential,
    normalise_email,
    parse_birth_date,
    password_problem,
)
from teleservices.portal_auth.web import Portal, client_address, now, redirect, wait_message
from teleservices.shared.messages.portal import ActivationConfirmed, EmailValidated, FirstConnectionCompleted, LoggedIn
from teleservices.shared.messages.topics import PORTAL_EVENTS
from teleservices.shared.security.links import LinkClaims, LinkPurpose, LinkRejected, read_link_token

router = APIRouter(include_in_schema=False)
Field = Annotated[str, Form(max_length=256)]
OptionalField = Annotated[str, Form(max_length=256)]
LOGIN_FAILED = "Identifiant ou mot de passe incorrect."


def _portal(request: Request) -> Portal:
    portal: Portal = request.app.state.portal
    return portal


async def writable_session(request: Request, csrf: str) -> Any:
    """The session behind a form: CSRF checked; a simulated session never writes (403)."""
    portal = _portal(request)
    portal.check_csrf(request, csrf)
    me = request.state.me = await portal.current(request)
    if me is not None and me["kind"] == "simulation":
        raise _read_only()
    return me


def _read_only() -> Exception:
    from fastapi import HTTPException
    return HTTPException(403, detail="Simulation : consultation seule, aucune modification n'est effectuée.")


@router.get("/connexion")
async def login_form(request: Request) -> Response:
    """The login page."""
    return _portal(request).page(request, "login.html")


@router.post("/connexion")
async def login(request: Request, csrf: Field = "", identifiant: Field = "", mot_de_passe: Field = "") -> Response:
    """Check the identifier and password (temporary password only while Notifié), then open a new session."""
    portal = _portal(request)
    portal.check_csrf(request, csrf)
    ident = identifiant.strip().lower()
    id_key, ip_key = f"id:{ident}", f"ip:{client_address(request)}"
    async with portal.db.connection() as conn:
        wait = await store.throttle_wait(conn, portal.policy, id_key, ip_key, now())
        row = None if wait is not None else await store.by_identifiant(conn, ident)
    if wait is not None:
        return portal.page(request, "login.html", 429, error=wait_message(wait), identifiant=ident)
    credential = Credential(row["state"], row["population"], row["temp_password_hash"], row["password_hash"]) \
        if row else None
    password_hash, access = credential.hash_to_check() if credential else (None, None)
    if not await portal.verify(password_hash, mot_de_passe) or row is None or access is None:
        async with portal.db.transaction() as conn:
            await store.throttle_failure(conn, portal.policy, id_key, ip_key, now())
        return portal.page(request, "login.html", 401, error=LOGIN_FAILED, identifiant=ident)
    at = now()
    response = redirect("/")
    async with portal.db.transaction() as conn:
        await store.throttle_clear(conn, id_key)
        if access is Access.premiere_connexion:
            await portal.start_session(conn, request, response, row["account_id"], "premiere_connexion")
        else:
            await portal.start_session(conn, request, response, row["account_id"], "normale")
            await store.log_connection(conn, row["account_id"], "connexion", at)
            await store.publish(conn, PORTAL_EVENTS, str(row["account_id"]),
                                LoggedIn(account_id=row["account_id"], at=at), row["uai"])
    if access is not Access.premiere_connexion and password_hash and _needs_rehash(password_hash):
        new_hash = await portal.hash(mot_de_passe)
        async with portal.db.transaction() as conn:
            await conn.execute("UPDATE credentials SET password_hash = $2 WHERE account_id = $1 AND password_hash = $3",
                               row["account_id"], new_hash, password_hash)
    return response


def _needs_rehash(password_hash: str) -> bool:
    from teleservices.shared.security.passwords import needs_rehash
    return needs_rehash(password_hash)


@router.post("/deconnexion")
async def logout(request: Request, csrf: Field = "") -> Response:
    """End the session server-side (a simulated session may end too)."""
    portal = _portal(request)
    portal.check_csrf(request, csrf)
    token = request.cookies.get(portal.session_cookie)
    if token:
        async with portal.db.transaction() as conn:
            await store.end_session(conn, token)
    response = redirect("/connexion?deconnecte=1")
    response.delete_cookie(portal.session_cookie, path="/", secure=portal.settings.cookie_secure, httponly=True,
                           samesite="lax")
    return response


@router.get("/premiere-connexion")
async def first_connection_form(request: Request, jeton: str = "") -> Response:
    """The first-connection form (after a login with the temporary password); from the letter's QR code, login."""
    portal = _portal(request)
    me = request.state.me = await portal.current(request)
    if me is None or me["kind"] != "premiere_connexion":
        identifiant = ""
        claims = _read_link(portal, jeton, LinkPurpose.first_connection) if jeton else "invalid"
        if not isinstance(claims, str):  # the letter's QR code: the identifier is filled in, nothing more
            async with portal.db.connection() as conn:
                row = await store.by_account(conn, claims.account_id)
            identifiant = row["identifiant"] if row is not None and row["state"] == "Notifié" else ""
        return portal.page(request, "login.html", identifiant=identifiant,
                           info="Connectez-vous avec l'identifiant et le mot de passe provisoire indiqués sur "
                                "votre courrier.")
    return portal.page(request, "first_connection.html", values={})


@router.post("/premiere-connexion")
async def first_connection(request: Request, csrf: Field = "", mot_de_passe: Field = "", confirmation: Field = "",
                           date_naissance: Field = "", email: OptionalField = "") -> Response:
    """New password + birth date (+ email): a representative awaits his link, a pupil is in."""
    portal = _portal(request)
    me = await writable_session(request, csrf)
    if me is None or me["kind"] != "premiere_connexion":
        return redirect("/connexion")
    values = {"date_naissance": date_naissance, "email": email}
    errors: dict[str, str] = {}
    responsable = me["population"] == "responsable"
    if problem := password_problem(mot_de_passe, confirmation, me["identifiant"]):
        errors["mot_de_passe"] = problem
    born = parse_birth_date(date_naissance)
    if born is None:
        errors["date_naissance"] = "Saisissez une date de naissance au format jj/mm/aaaa."
    address = normalise_email(email) if email.strip() else None
    if email.strip() and address is None:
        errors["email"] = "Saisissez une adresse de messagerie valide, par exemple nom@exemple.fr."
    elif responsable and address is None:
        errors["email"] = "L'adresse de messagerie est obligatoire."
    if errors:
        return portal.page(request, "first_connection.html", 400, errors=errors, values=values)
    try:
        view = await portal.accounts.view(me["account_id"])
    except AccountsUnavailable:
        return portal.page(request, "unavailable.html", 503)
    id_key, ip_key = f"id:{me['identifiant']}", f"ip:{client_address(request)}"
    if born not in {e["date_naissance"] for e in view["eleves"]}:
        async with portal.db.transaction() as conn:
            await store.throttle_failure(conn, portal.policy, id_key, ip_key, now())
            wait = await store.throttle_wait(conn, portal.policy, id_key, ip_key, now())
            if wait is not None:  # too many guesses: back to the login page
                await store.end_sessions(conn, me["account_id"])
        if wait is not None:
            return portal.page(request, "login.html", 429, error=wait_message(wait))
        concerned = "de l'enfant concerné par ce compte" if responsable else "que vous avez saisie"
        errors["date_naissance"] = f"La date de naissance {concerned} ne correspond pas."
        return portal.page(request, "first_connection.html", 400, errors=errors, values=values)
    async with portal.db.connection() as conn:
        temp_hash = await conn.fetchval("SELECT temp_password_hash FROM credentials WHERE account_id = $1",
                                        me["account_id"])
    if temp_hash and await portal.verify(temp_hash, mot_de_passe):
        errors["mot_de_passe"] = "Le nouveau mot de passe doit être différent du mot de passe provisoire."
        return portal.page(request, "first_connection.html", 400, errors=errors, values=values)
    new_hash = await portal.hash(mot_de_passe)
    at = now()
    response = redirect("/")
    async with portal.db.transaction() as conn:
        row = await store.by_account(conn, me["account_id"], lock=True)
        if row is None or row["state"] != "Notifié":
            return redirect("/connexion")
        await store.set_password(conn, row["account_id"], new_hash)
        await store.set_state(conn, row["account_id"], EN_COURS if responsable else UTILISE, at)
        await store.set_email(conn, row["account_id"], address, False)
        await store.publish(conn, PORTAL_EVENTS, str(row["account_id"]), FirstConnectionCompleted(
            account_id=row["account_id"], email=address, at=at), row["uai"])
        if address:
            await _send_link(portal, conn, row, view, address, LinkPurpose.activation if responsable
                             else LinkPurpose.email_validation)
        await store.end_sessions(conn, row["account_id"])
        await portal.start_session(conn, request, response, row["account_id"], "normale")
        await store.log_connection(conn, row["account_id"], "premiere_connexion", at)
    throttle_key = id_key
    async with portal.db.transaction() as conn:
        await store.throttle_clear(conn, throttle_key)
    return response


async def _send_link(portal: Portal, conn: asyncpg.Connection, row: Any, view: dict[str, Any], address: str,
                     purpose: LinkPurpose) -> None:
    """Email an activation (representative) or validation (other address) link."""
    settings = portal.settings
    name = view["etablissement"]["name"]
    if purpose is LinkPurpose.activation:
        url = await mails.issue_link(conn, portal.link_key, settings.public_url, "/activation", row["account_id"],
                                     purpose, settings.activation_link_ttl_s, address)
        await mails.send_activation(conn, row["account_id"], row["uai"], row["identifiant"], name, address, url)
    else:
        url = await mails.issue_link(conn, portal.link_key, settings.public_url, "/validation-courriel",
                                     row["account_id"], purpose, settings.email_validation_link_ttl_s, address)
        subject, body = mails.validation_body(row["identifiant"], url, settings.email_validation_link_ttl_s // 3600)
        await mails.send_text(conn, row["account_id"], row["uai"], name, address, subject, body)


@router.post("/activation/renvoyer")
async def resend_activation(request: Request, csrf: Field = "", email: OptionalField = "") -> Response:
    """A representative awaiting activation gets a new link (to a corrected address if he typed one)."""
    portal = _portal(request)
    me = await writable_session(request, csrf)
    if me is None or me["state"] != EN_COURS:
        return redirect("/")
    address = normalise_email(email) if email.strip() else me["email"]
    if address is None:
        return portal.page(request, "awaiting.html", 400, me_email=me["email"],
                           error="Saisissez une adresse de messagerie valide, par exemple nom@exemple.fr.")
    async with portal.db.connection() as conn:
        recent = await conn.fetchval("SELECT true FROM links WHERE account_id = $1 AND purpose = 'activation'"
                                     " AND issued_at > now() - interval '1 minute' AND email = $2", me["account_id"],
                                     address)
    if recent:
        return portal.page(request, "awaiting.html", me_email=address,
                           info="Un courriel vient de vous être envoyé : patientez une minute avant de redemander.")
    try:
        view = await portal.accounts.view(me["account_id"])
    except AccountsUnavailable:
        return portal.page(request, "unavailable.html", 503)
    async with portal.db.transaction() as conn:
        row = await store.by_account(conn, me["account_id"], lock=True)
        await store.set_email(conn, me["account_id"], address, False)
        await _send_link(portal, conn, row, view, address, LinkPurpose.activation)
    return portal.page(request, "awaiting.html", me_email=address,
                       info=f"Un nouveau lien d'activation a été envoyé à {address}.")


def _read_link(portal: Portal, token: str, purpose: LinkPurpose) -> LinkClaims | str:
    try:
        return read_link_token(portal.link_key, token, purpose)
    except LinkRejected as rejected:
        return rejected.reason


async def _link_problem(portal: Portal, token: str, purpose: LinkPurpose) -> tuple[LinkClaims | None, str | None]:
    """The link's claims, or why it cannot be used ('invalid', 'expired', 'used')."""
    claims = _read_link(portal, token, purpose)
    if isinstance(claims, str):
        return None, claims
    async with portal.db.connection() as conn:
        recorded = await store.issued_link(conn, claims.link_id)
    if recorded is not None and recorded["used_at"] is not None:
        return claims, "used"
    return claims, None


@router.get("/activation")
async def activation_page(request: Request, jeton: str = "") -> Response:
    """The page an activation link opens: a button confirms (link scanners never activate an account)."""
    portal = _portal(request)
    _, problem = await _link_problem(portal, jeton, LinkPurpose.activation)
    if problem:
        return portal.page(request, "link_problem.html", 410 if problem != "invalid" else 400, problem=problem,
                           purpose="activation")
    return portal.page(request, "confirm_link.html", jeton=jeton, action="/activation",
                       title="Activer votre compte", button="Activer mon compte",
                       text="Cliquez sur le bouton pour confirmer votre adresse de messagerie et activer votre compte.")


@router.post("/activation")
async def activate(request: Request, csrf: Field = "", jeton: Annotated[str, Form(max_length=1000)] = "") -> Response:
    """The representative's account is in use; his address is validated."""
    portal = _portal(request)
    await writable_session(request, csrf)
    claims, problem = await _link_problem(portal, jeton, LinkPurpose.activation)
    if problem or claims is None:
        return portal.page(request, "link_problem.html", 410, problem=problem or "invalid", purpose="activation")
    address = await _link_address(portal, claims)
    at = now()
    async with portal.db.transaction() as conn:
        row = await store.by_account(conn, claims.account_id, lock=True)
        if row is None or row["state"] not in (EN_COURS, UTILISE) or address is None:
            return portal.page(request, "link_problem.html", 410, problem="invalid", purpose="activation")
        if not await store.use_link(conn, claims.link_id, claims.account_id, "activation"):
            return portal.page(request, "link_problem.html", 410, problem="used", purpose="activation")
        if row["state"] == EN_COURS:
            await store.set_state(conn, row["account_id"], UTILISE, at)
            await store.set_email(conn, row["account_id"], address, True)
            await store.publish(conn, PORTAL_EVENTS, str(row["account_id"]), ActivationConfirmed(
                account_id=row["account_id"], email=address, at=at), row["uai"])
    return portal.page(request, "done.html", title="Votre compte est activé",
                       text="Votre adresse de messagerie est validée et votre compte est activé. Connectez-vous "
                            "avec votre identifiant et le mot de passe que vous avez choisi.")


async def _link_address(portal: Portal, claims: LinkClaims) -> str | None:
    """The address a link validates: as the portal recorded it, else (a link staff sent) as accounts holds it."""
    async with portal.db.connection() as conn:
        recorded = await store.issued_link(conn, claims.link_id)
    if recorded is not None and recorded["email"]:
        return str(recorded["email"])
    try:
        email = (await portal.accounts.view(claims.account_id)).get("email")
    except AccountsUnavailable:
        return None
    return str(email) if email else None


@router.get("/validation-courriel")
async def validation_page(request: Request, jeton: str = "") -> Response:
    """The page an email-validation link opens."""
    portal = _portal(request)
    _, problem = await _link_problem(portal, jeton, LinkPurpose.email_validation)
    if problem:
        return portal.page(request, "link_problem.html", 410 if problem != "invalid" else 400, problem=problem,
                           purpose="validation")
    return portal.page(request, "confirm_link.html", jeton=jeton, action="/validation-courriel",
                       title="Valider votre adresse de messagerie", button="Valider mon adresse",
                       text="Cliquez sur le bouton pour valider votre adresse de messagerie.")


@router.post("/validation-courriel")
async def validate_email(request: Request, csrf: Field = "",
                         jeton: Annotated[str, Form(max_length=1000)] = "") -> Response:
    """The address the link was sent to becomes the account's validated address."""
    portal = _portal(request)
    await writable_session(request, csrf)
    claims, problem = await _link_problem(portal, jeton, LinkPurpose.email_validation)
    if problem or claims is None:
        return portal.page(request, "link_problem.html", 410, problem=problem or "invalid", purpose="validation")
    at = now()
    async with portal.db.transaction() as conn:
        recorded = await store.issued_link(conn, claims.link_id)
        row = await store.by_account(conn, claims.account_id, lock=True)
        if recorded is None or not recorded["email"] or row is None or row["state"] != UTILISE:
            return portal.page(request, "link_problem.html", 410, problem="invalid", purpose="validation")
        if not await store.use_link(conn, claims.link_id, claims.account_id, "email_validation"):
            return portal.page(request, "link_problem.html", 410, problem="used", purpose="validation")
        await store.set_email(conn, row["account_id"], recorded["email"], True)
        await store.publish(conn, PORTAL_EVENTS, str(row["account_id"]), EmailValidated(
            account_id=row["account_id"], email=recorded["email"], at=at), row["uai"])
    return portal.page(request, "done.html", title="Adresse de messagerie validée",
                       text="Votre adresse de messagerie est validée.")


@router.get("/simulation")
async def simulation(request: Request, jeton: str = "") -> Response:
    """Staff open the portal as an account in use, read-only; nothing is published, no date changes."""
    portal = _portal(request)
    claims, problem = await _link_problem(portal, jeton, LinkPurpose.simulation)
    if problem or claims is None:
        return portal.page(request, "link_problem.html", 410 if problem != "invalid" else 400,
                           problem=problem or "invalid", purpose="simulation")
    response = redirect("/")
    async with portal.db.transaction() as conn:
        row = await store.by_account(conn, claims.account_id)
        if row is None or row["state"] != UTILISE:
            return portal.page(request, "link_problem.html", 409, problem="state", purpose="simulation")
        if not await store.use_link(conn, claims.link_id, claims.account_id, "simulation"):
            return portal.page(request, "link_problem.html", 410, problem="used", purpose="simulation")
        await portal.start_session(conn, request, response, claims.account_id, "simulation")
        await store.log_connection(conn, claims.account_id, "simulation", now())
    return response
