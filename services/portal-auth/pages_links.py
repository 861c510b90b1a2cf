"""The pages one-time links open: activation, email validation (a button confirms), simulated access."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from teleservices.portal_auth import links, store
from teleservices.portal_auth.domain import EN_COURS, UTILISE
from teleservices.portal_auth.web import now, portal_of, redirect, writable_session
from teleservices.shared.messages.portal import ActivationConfirmed, EmailValidated
from teleservices.shared.messages.topics import PORTAL_EVENTS
from teleservices.shared.security.links import LinkPurpose

router = APIRouter(include_in_schema=False)
Field = Annotated[str, Form(max_length=256)]
Jeton = Annotated[str, Form(max_length=1000)]


@router.get("/activation")
async def activation_page(request: Request, jeton: str = "") -> Response:
    """The page an activation link opens: a button confirms (link scanners never activate an account)."""
    portal = portal_of(request)
    _, problem = await links.link_problem(portal, jeton, LinkPurpose.activation)
    if problem:
        return portal.page(request, "link_problem.html", 410 if problem != "invalid" else 400, problem=problem,
                           purpose="activation")
    return portal.page(request, "confirm_link.html", jeton=jeton, action="/activation",
                       title="Activer votre compte", button="Activer mon compte",
                       text="Cliquez sur le bouton pour confirmer votre adresse de messagerie et activer votre compte.")


@router.post("/activation")
async def activate(request: Request, csrf: Field = "", jeton: Jeton = "") -> Response:
    """The representative's account is in use; his address is validated."""
    portal = portal_of(request)
    await writable_session(request, csrf)
    claims, problem = await links.link_problem(portal, jeton, LinkPurpose.activation)
    if problem or claims is None:
        return portal.page(request, "link_problem.html", 410, problem=problem or "invalid", purpose="activation")
    address = await links.link_address(portal, claims)
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


@router.get("/validation-courriel")
async def validation_page(request: Request, jeton: str = "") -> Response:
    """The page an email-validation link opens."""
    portal = portal_of(request)
    _, problem = await links.link_problem(portal, jeton, LinkPurpose.email_validation)
    if problem:
        return portal.page(request, "link_problem.html", 410 if problem != "invalid" else 400, problem=problem,
                           purpose="validation")
    return portal.page(request, "confirm_link.html", jeton=jeton, action="/validation-courriel",
                       title="Valider votre adresse de messagerie", button="Valider mon adresse",
                       text="Cliquez sur le bouton pour valider votre adresse de messagerie.")


@router.post("/validation-courriel")
async def validate_email(request: Request, csrf: Field = "",
                         jeton: Jeton = "") -> Response:
    """The address the link was sent to becomes the account's validated address."""
    portal = portal_of(request)
    await writable_session(request, csrf)
    claims, problem = await links.link_problem(portal, jeton, LinkPurpose.email_validation)
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
    portal = portal_of(request)
    claims, problem = await links.link_problem(portal, jeton, LinkPurpose.simulation)
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
