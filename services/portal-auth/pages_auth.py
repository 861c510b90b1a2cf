"""Login, logout, first connection (new password, birth date, email) and the wait for the activation link."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from teleservices.portal_auth import links, store
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
from teleservices.portal_auth.web import client_address, now, portal_of, redirect, wait_message, writable_session
from teleservices.shared.messages.portal import FirstConnectionCompleted, LoggedIn
from teleservices.shared.messages.topics import PORTAL_EVENTS
from teleservices.shared.security.links import LinkPurpose
from teleservices.shared.security.passwords import needs_rehash

router = APIRouter(include_in_schema=False)
Field = Annotated[str, Form(max_length=256)]
LOGIN_FAILED = "Identifiant ou mot de passe incorrect."


@router.get("/connexion")
async def login_form(request: Request) -> Response:
    """The login page."""
    return portal_of(request).page(request, "login.html")


@router.post("/connexion")
async def login(request: Request, csrf: Field = "", identifiant: Field = "", mot_de_passe: Field = "") -> Response:
    """Check the identifier and password (temporary password only while Notifié), then open a new session."""
    portal = portal_of(request)
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
        if access is Access.premiere_connexion:  # failures (birth-date guesses) count until the form succeeds
            await portal.start_session(conn, request, response, row["account_id"], "premiere_connexion")
        else:
            await store.throttle_clear(conn, id_key)
            await portal.start_session(conn, request, response, row["account_id"], "normale")
            await store.log_connection(conn, row["account_id"], "connexion", at)
            await store.publish(conn, PORTAL_EVENTS, str(row["account_id"]),
                                LoggedIn(account_id=row["account_id"], at=at), row["uai"])
    if access is not Access.premiere_connexion and password_hash and needs_rehash(password_hash):
        new_hash = await portal.hash(mot_de_passe)
        async with portal.db.transaction() as conn:
            await conn.execute("UPDATE credentials SET password_hash = $2 WHERE account_id = $1 AND password_hash = $3",
                               row["account_id"], new_hash, password_hash)
    return response


@router.post("/deconnexion")
async def logout(request: Request, csrf: Field = "") -> Response:
    """End the session server-side (a simulated session may end too)."""
    portal = portal_of(request)
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
    portal = portal_of(request)
    me = request.state.me = await portal.current(request)
    if me is None or me["kind"] != "premiere_connexion":
        identifiant = ""
        claims = links.read_link(portal, jeton, LinkPurpose.first_connection) if jeton else "invalid"
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
                           date_naissance: Field = "", email: Field = "") -> Response:
    """New password + birth date (+ email): a representative awaits his link, a pupil is in."""
    portal = portal_of(request)
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
            await links.send_link(portal, conn, row, view, address, LinkPurpose.activation if responsable
                             else LinkPurpose.email_validation)
        await store.end_sessions(conn, row["account_id"])
        await portal.start_session(conn, request, response, row["account_id"], "normale")
        await store.log_connection(conn, row["account_id"], "premiere_connexion", at)
    async with portal.db.transaction() as conn:
        await store.throttle_clear(conn, id_key)
    return response


@router.post("/activation/renvoyer")
async def resend_activation(request: Request, csrf: Field = "", email: Field = "") -> Response:
    """A representative awaiting activation gets a new link (to a corrected address if he typed one)."""
    portal = portal_of(request)
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
        await links.send_link(portal, conn, row, view, address, LinkPurpose.activation)
    return portal.page(request, "awaiting.html", me_email=address,
                       info=f"Un nouveau lien d'activation a été envoyé à {address}.")
