"""« Gérer le compte » (guide §3.2, §4.2): search, then one account with every action allowed in its state."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Form
from fastapi.responses import HTMLResponse, Response

from teleservices.gateway.backend import BackendError
from teleservices.gateway.screens.common import structure, submit
from teleservices.gateway.screens.notifier import STATES, population_of
from teleservices.gateway.web import Ctx, EstabCtx, NotFoundPage, error_reason, redirect, render, templates

router = APIRouter(prefix="/etablissements/{uai}", include_in_schema=False)


@router.get("/{pop}/comptes")
async def recherche(ctx: EstabCtx, pop: str) -> Response:
    """Search by first letters of the pupil's name, MEF, division, state; the table swaps without a reload."""
    population, label = population_of(ctx, pop)
    q = ctx.request.query_params
    f = {"nom": q.get("nom", "").strip()[:50], "mef": q.get("mef", ""), "division": q.get("division", ""),
         "etat": [s for s in q.getlist("etat") if s in STATES[population]]}
    params: list[tuple[str, str]] = [("population", population)]
    if f["nom"]:
        params.append(("nom", f["nom"]))
    if f["mef"]:
        params.append(("mef", f["mef"]))
    if f["division"]:
        params.append(("division", f["division"]))
    params += [("etat", s) for s in f["etat"]]
    listing = await ctx.get("accounts", f"/api/v1/establishments/{ctx.uai}/accounts", params=params)
    values = {"pop": pop, "population": population, "f": f, "listing": listing, "states": STATES[population]}
    if ctx.request.headers.get("hx-target") == "resultats":
        return HTMLResponse(templates.get_template("comptes_resultats.html").render(ctx=ctx, **values))
    title = "Gérer le compte" if population == "responsable" else "Gérer le compte élève"
    return await render(ctx, ctx.request, "comptes.html", title=title, breadcrumb=label,
                        structure=await structure(ctx, population), **values)


async def _account(ctx: Ctx, pop: str, account_id: str) -> tuple[str, dict[str, Any]]:
    population, _ = population_of(ctx, pop)
    try:
        account: dict[str, Any] = await ctx.get("accounts", f"/api/v1/accounts/{quote(account_id)}")
    except BackendError as exc:
        if exc.status in (404, 422):
            raise NotFoundPage() from exc
        raise
    if account["population"] != population or not any(r.get("uai") == ctx.uai for r in account["rattachements"]):
        raise NotFoundPage()
    return population, account


@router.get("/{pop}/comptes/{account_id}")
async def compte(ctx: EstabCtx, pop: str, account_id: str) -> Response:
    """The account: state, email (awaiting validation in red), actions of its state, history, audit."""
    population, account = await _account(ctx, pop, account_id)
    simulation = ctx.session.data.get("simulation", {}).get(account_id)
    listing = await ctx.get("accounts", f"/api/v1/establishments/{ctx.uai}/accounts", params={"population": population})
    lines = [line for line in listing["accounts"] if line["id"] == account["id"]]
    _, label = population_of(ctx, pop)
    return await render(ctx, ctx.request, "compte.html", title="Gestion du compte", breadcrumb=label, pop=pop,
                        population=population, a=account, lines=lines, simulation=simulation)


@router.post("/{pop}/comptes/{account_id}/{action}")
async def action(ctx: EstabCtx, pop: str, account_id: str, action: str, canal: str = Form(default="paper"),
                 courriel: str = Form(default="", max_length=200), objet: str = Form(default="", max_length=200),
                 message: str = Form(default="", max_length=20_000)) -> Response:
    """Renotify (mode dialog), reset and notify, new account, resend activation, simulate, write an email."""
    population, _ = await _account(ctx, pop, account_id)
    channel = "paper" if population == "eleve" or canal not in ("email", "paper") else canal
    base = f"/api/v1/accounts/{quote(account_id)}"
    back = ctx.url(f"/{pop}/comptes/{quote(account_id)}")
    if action in ("notifier", "reinitialiser"):
        launched = await submit(ctx, "accounts", "POST", f"{base}/notifications",
                                "La notification est lancée ; l'état du compte change quand le courrier est remis.",
                                json={"channel": channel, "reset_password": action == "reinitialiser"})
        if channel == "paper" and isinstance(launched, dict):
            return redirect(ctx.url(f"/{pop}/comptes/{quote(account_id)}/courriers/{launched['notification_id']}"),
                            ctx.request)
    elif action == "nouveau-compte":
        created = await submit(ctx, "accounts", "POST", f"{base}/new-account",
                               "Un nouveau compte est créé et notifié ; l'ancien est fermé.", json={"channel": channel})
        if isinstance(created, dict) and created.get("id"):
            back = ctx.url(f"/{pop}/comptes/{quote(str(created['id']))}")
            if created.get("notification_id"):
                back += f"/courriers/{created['notification_id']}"
    elif action == "activation":
        await submit(ctx, "accounts", "POST", f"{base}/activation-email", "Le courriel d'activation est renvoyé.",
                     json={"email": courriel.strip() or None})
    elif action == "simulation":
        try:
            link = await ctx.call("accounts", "POST", f"{base}/simulation")
        except BackendError as exc:
            if exc.status >= 500:
                raise
            await ctx.flash(f"Simulation impossible — {error_reason(exc)}", "erreur")
        else:
            ctx.session.data.setdefault("simulation", {})[account_id] = link["url"]
            await ctx.flash("Le lien de simulation (consultation seule) est prêt.")
    elif action == "courriel":
        await submit(ctx, "accounts", "POST", f"{base}/emails", "Le courriel est envoyé.",
                     json={"subject": objet, "body": message})
    else:
        raise NotFoundPage()
    return redirect(back, ctx.request)


@router.get("/{pop}/comptes/{account_id}/courriers/{notification_id}")
async def courrier(ctx: EstabCtx, pop: str, account_id: str, notification_id: str) -> Response:
    """The paper letter of one notification, offered as soon as it is printed (htmx polls until then)."""
    await _account(ctx, pop, account_id)
    documents: list[dict[str, Any]] = []
    try:
        documents = await ctx.get("notifier", f"/api/v1/campaigns/{quote(notification_id)}/documents")
    except BackendError as exc:
        if exc.status != 404:
            raise
    values = {"pop": pop, "account_id": account_id, "notification_id": notification_id, "documents": documents}
    if ctx.request.headers.get("hx-request"):
        return HTMLResponse(templates.get_template("courrier_pret.html").render(ctx=ctx, **values))
    return await render(ctx, ctx.request, "courrier.html", title="Courrier de notification",
                        breadcrumb=population_of(ctx, pop)[1], **values)


@router.get("/{pop}/comptes/{account_id}/courriers/{notification_id}/{division}.pdf")
async def courrier_pdf(ctx: EstabCtx, pop: str, account_id: str, notification_id: str, division: str) -> Response:
    """The letter as PDF (the download is recorded by the notifier)."""
    await _account(ctx, pop, account_id)
    response = await ctx.backend.request(ctx.staff, "notifier", "GET", f"/api/v1/campaigns/{quote(notification_id)}"
                                         f"/documents/{quote(division)}.pdf")
    return Response(response.content, media_type="application/pdf", headers={
        "content-disposition": response.headers.get("content-disposition", "attachment"), "cache-control": "no-store"})
