"""Self-service recovery from the login page: forgotten identifier, forgotten password (one-time reset link)."""

from __future__ import annotations

from typing import Annotated

import asyncpg
from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from teleservices.portal_auth import links, mails, store
from teleservices.portal_auth.accounts_client import AccountsUnavailable
from teleservices.portal_auth.domain import UTILISE, ThrottlePolicy, normalise_email, password_problem
from teleservices.portal_auth.web import Portal, client_address, now, portal_of, wait_message, writable_session
from teleservices.shared.security.links import LinkPurpose

router = APIRouter(include_in_schema=False)
PER_TARGET = ThrottlePolicy(address_failures=5, address_window_s=3600)
"""At most 5 recovery emails an hour per identifier or address, whatever the client address."""
Field = Annotated[str, Form(max_length=256)]
NEUTRAL_RESET = ("Si ce compte existe et qu'une adresse de messagerie validée lui est associée, un courriel "
                 "contenant un lien pour choisir un nouveau mot de passe vient d'y être envoyé.")
NEUTRAL_IDENTIFIER = ("Si cette adresse de messagerie est validée pour un compte, un courriel rappelant "
                      "l'identifiant vient d'y être envoyé.")


async def _establishment_name(portal: Portal, account_id: object) -> str:
    try:
        return str((await portal.accounts.view(account_id))["etablissement"]["name"])  # type: ignore[arg-type]
    except AccountsUnavailable:
        return "votre établissement"


async def _recovery_wait(conn: asyncpg.Connection, portal: Portal, target_key: str, ip_key: str) -> float | None:
    """Every recovery request counts, per target (5 an hour) and per client address; it never locks for good."""
    at = now()
    waits = [await store.throttle_wait(conn, PER_TARGET, None, target_key, at),
             await store.throttle_wait(conn, portal.policy, None, ip_key, at)]
    found = [w for w in waits if w is not None]
    if found:
        return max(found)
    await store.throttle_failure(conn, PER_TARGET, None, target_key, at)
    await store.throttle_failure(conn, portal.policy, None, ip_key, at)
    return None


@router.get("/mot-de-passe-oublie")
async def forgotten_password_form(request: Request) -> Response:
    """Ask for a reset link by identifier."""
    return portal_of(request).page(request, "forgotten_password.html")


@router.post("/mot-de-passe-oublie")
async def forgotten_password(request: Request, csrf: Field = "", identifiant: Field = "") -> Response:
    """Email a one-time reset link to the validated address; the answer never says whether it exists."""
    portal = portal_of(request)
    await writable_session(request, csrf)
    ident = identifiant.strip().lower()
    id_key, ip_key = f"rec:{ident}", f"rec-ip:{client_address(request)}"
    async with portal.db.transaction() as conn:
        wait = await _recovery_wait(conn, portal, id_key, ip_key)
        if wait is not None:
            return portal.page(request, "forgotten_password.html", 429, error=wait_message(wait))
        row = await store.by_identifiant(conn, ident)
        recent = row is not None and await conn.fetchval(
            "SELECT true FROM links WHERE account_id = $1 AND purpose = 'password_reset'"
            " AND issued_at > now() - interval '1 minute'", row["account_id"])
    if row is not None and row["state"] == UTILISE and row["email_validated"] and row["email"] and not recent:
        name = await _establishment_name(portal, row["account_id"])
        settings = portal.settings
        async with portal.db.transaction() as conn:
            url = await mails.issue_link(conn, portal.link_key, settings.public_url, "/reinitialisation",
                                         row["account_id"], LinkPurpose.password_reset, settings.reset_link_ttl_s,
                                         row["email"])
            subject, body = mails.reset_body(row["identifiant"], url, settings.reset_link_ttl_s // 60)
            await mails.send_text(conn, row["account_id"], row["uai"], name, row["email"], subject, body)
    return portal.page(request, "forgotten_password.html", info=NEUTRAL_RESET)


@router.get("/identifiant-oublie")
async def forgotten_identifier_form(request: Request) -> Response:
    """Ask for one's identifier by email."""
    return portal_of(request).page(request, "forgotten_identifier.html")


@router.post("/identifiant-oublie")
async def forgotten_identifier(request: Request, csrf: Field = "", email: Field = "") -> Response:
    """Email the identifiers whose validated address this is; the answer is the same either way."""
    portal = portal_of(request)
    await writable_session(request, csrf)
    address = normalise_email(email)
    if address is None:
        return portal.page(request, "forgotten_identifier.html", 400,
                           error="Saisissez une adresse de messagerie valide, par exemple nom@exemple.fr.")
    id_key, ip_key = f"rec:{address.lower()}", f"rec-ip:{client_address(request)}"
    async with portal.db.transaction() as conn:
        wait = await _recovery_wait(conn, portal, id_key, ip_key)
        if wait is not None:
            return portal.page(request, "forgotten_identifier.html", 429, error=wait_message(wait))
        rows = await store.by_validated_email(conn, address)
    if rows:
        name = await _establishment_name(portal, rows[0]["account_id"])
        subject, body = mails.identifiers_body([r["identifiant"] for r in rows], portal.settings.public_url)
        async with portal.db.transaction() as conn:
            await mails.send_text(conn, rows[0]["account_id"], rows[0]["uai"], name, rows[0]["email"], subject, body)
    return portal.page(request, "forgotten_identifier.html", info=NEUTRAL_IDENTIFIER)


@router.get("/reinitialisation")
async def reset_form(request: Request, jeton: str = "") -> Response:
    """The page a reset link opens: choose a new password."""
    portal = portal_of(request)
    _, problem = await links.link_problem(portal, jeton, LinkPurpose.password_reset)
    if problem:
        return portal.page(request, "link_problem.html", 410 if problem != "invalid" else 400, problem=problem,
                           purpose="reinitialisation")
    return portal.page(request, "reset.html", jeton=jeton)


@router.post("/reinitialisation")
async def reset(request: Request, csrf: Field = "", jeton: Annotated[str, Form(max_length=1000)] = "",
                mot_de_passe: Field = "", confirmation: Field = "") -> Response:
    """The new password takes effect; the account stays Utilisé; other sessions end; the throttle forgets."""
    portal = portal_of(request)
    await writable_session(request, csrf)
    claims, problem = await links.link_problem(portal, jeton, LinkPurpose.password_reset)
    if problem or claims is None:
        return portal.page(request, "link_problem.html", 410, problem=problem or "invalid",
                           purpose="reinitialisation")
    async with portal.db.connection() as conn:
        row = await store.by_account(conn, claims.account_id)
        recorded = await store.issued_link(conn, claims.link_id)
    if row is None or recorded is None or row["state"] != UTILISE:
        return portal.page(request, "link_problem.html", 410, problem="invalid", purpose="reinitialisation")
    if error := password_problem(mot_de_passe, confirmation, row["identifiant"]):
        return portal.page(request, "reset.html", 400, jeton=jeton, error=error)
    new_hash = await portal.hash(mot_de_passe)
    async with portal.db.transaction() as conn:
        if not await store.use_link(conn, claims.link_id, claims.account_id, "password_reset"):
            return portal.page(request, "link_problem.html", 410, problem="used", purpose="reinitialisation")
        await store.set_password(conn, row["account_id"], new_hash)
        await store.end_sessions(conn, row["account_id"])
        await store.throttle_clear(conn, f"id:{row['identifiant']}")
    return portal.page(request, "done.html", title="Mot de passe modifié",
                       text="Votre nouveau mot de passe est enregistré. Connectez-vous avec votre identifiant et "
                            "ce nouveau mot de passe.")
