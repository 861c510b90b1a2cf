"""« Notifier en masse » (guide §3.1 and §4.1): filters, table, count, launch, live progress, recap, PDFs."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from teleservices.gateway.backend import BackendError
from teleservices.gateway.screens.common import structure
from teleservices.gateway.web import Ctx, EstabCtx, NotFoundPage, error_reason, redirect, render
from teleservices.shared.security.staff import Menu

router = APIRouter(prefix="/etablissements/{uai}", include_in_schema=False)
POPULATIONS = {"responsables": ("responsable", Menu.acces_responsables, "Accès des responsables"),
               "eleves": ("eleve", Menu.acces_eleves, "Accès des élèves")}
REGIMES = ("Externe", "Demi-pensionnaire", "Interne")
STATES = {"responsable": ("Non notifié", "Notifié", "En cours d'activation", "Utilisé"),
          "eleve": ("Non notifié", "Notifié", "Utilisé")}
MODES = ("Courrier électronique et courrier papier", "Courrier électronique seul", "Courrier papier seul")


def population_of(ctx: Ctx, pop: str) -> tuple[str, str]:
    """The population behind the URL segment, its menu checked."""
    if pop not in POPULATIONS:
        raise NotFoundPage()
    population, menu, label = POPULATIONS[pop]
    ctx.require(menu)
    return population, label


def filters_from(query: Any, population: str) -> dict[str, Any]:
    """The selection filters of the request (divisions empty: all)."""
    return {"division": [d for d in query.getlist("division") if d],
            "regime": [r for r in query.getlist("regime") if r in REGIMES],
            "etat": [s for s in query.getlist("etat") if s in STATES[population]],
            "mode": query.get("mode") if query.get("mode") in MODES else MODES[0 if population == "responsable" else 2],
            "reinitialiser": query.get("reinitialiser") == "oui"}


async def _listing(ctx: Ctx, population: str, f: dict[str, Any]) -> dict[str, Any]:
    params: list[tuple[str, str]] = [("population", population)]
    params += [("division", d) for d in f["division"]] + [("regime", r) for r in f["regime"]]
    params += [("etat", s) for s in f["etat"]]
    listing: dict[str, Any] = await ctx.get("accounts", f"/api/v1/establishments/{ctx.uai}/accounts", params=params)
    return listing


@router.get("/{pop}/notifier")
async def notifier(ctx: EstabCtx, pop: str) -> Response:
    """The selection and the table; filtering swaps only the table (htmx), without htmx the whole page."""
    population, label = population_of(ctx, pop)
    f = filters_from(ctx.request.query_params, population)
    listing = await _listing(ctx, population, f)
    values = {"pop": pop, "population": population, "f": f, "listing": listing, "regimes": REGIMES,
              "states": STATES[population], "modes": MODES}
    if ctx.request.headers.get("hx-target") == "liste":
        from teleservices.gateway.web import templates

        return HTMLResponse(templates.get_template("notifier_liste.html").render(ctx=ctx, csrf=ctx.session.csrf,
                                                                                 **values))
    return await render(ctx, ctx.request, "notifier.html", title="Notifier en masse", breadcrumb=label,
                        structure=await structure(ctx, population), **values)


@router.post("/{pop}/notifier")
async def launch(ctx: EstabCtx, pop: str, request: Request) -> Response:
    """« Notifier »: the campaign over the selection less the unticked rows."""
    population, _ = population_of(ctx, pop)
    form = await request.form()
    f = filters_from(form, population)
    listing = await _listing(ctx, population, f)
    ticked = set(form.getlist("compte"))
    excluded = [line["id"] for line in listing["accounts"] if line["id"] not in ticked]
    body = {"population": population, "mode": f["mode"], "divisions": f["division"] or None,
            "regimes": f["regime"] or None, "etats": f["etat"] or None, "exclus": excluded,
            "reinitialiser_utilises": f["reinitialiser"]}
    if population == "eleve":
        body["mode"] = "Courrier papier seul"
    try:
        launched = await ctx.call("accounts", "POST", f"/api/v1/establishments/{ctx.uai}/campaigns", json=body)
    except BackendError as exc:
        if exc.status >= 500 or exc.status == 404:
            raise
        await ctx.flash(f"Notification refusée — {error_reason(exc)}", "erreur")
        query = urlencode([(k, v) for k, v in form.multi_items() if k not in ("csrf", "compte")])
        return redirect(ctx.url(f"/{pop}/notifier?{query}"), request)
    return redirect(ctx.url(f"/{pop}/campagnes/{quote(str(launched['id']))}"), request)


async def _campaign(ctx: Ctx, campaign_id: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    progress: dict[str, Any] = await ctx.get("accounts", f"/api/v1/campaigns/{quote(campaign_id)}")
    if progress["uai"] != ctx.uai:
        raise NotFoundPage()
    documents: list[dict[str, Any]] = []
    if progress["finished"]:
        try:
            documents = await ctx.get("notifier", f"/api/v1/campaigns/{quote(campaign_id)}/documents")
        except BackendError as exc:
            if exc.status != 404:
                raise
    return progress, documents


@router.get("/{pop}/campagnes/{campaign_id}")
async def campagne(ctx: EstabCtx, pop: str, campaign_id: str) -> Response:
    """Live progress (htmx polls the fragment until 100 %), recap of failures, PDF downloads."""
    _, label = population_of(ctx, pop)
    progress, documents = await _campaign(ctx, campaign_id)
    values = {"pop": pop, "p": progress, "documents": documents}
    if ctx.request.headers.get("hx-request"):
        from teleservices.gateway.web import templates

        return HTMLResponse(templates.get_template("campagne_progression.html").render(ctx=ctx, csrf=ctx.session.csrf,
                                                                                       **values))
    return await render(ctx, ctx.request, "campagne.html", title="Suivi de la notification", breadcrumb=label, **values)


@router.post("/{pop}/campagnes/{campaign_id}/relance")
async def relance(ctx: EstabCtx, pop: str, campaign_id: str) -> Response:
    """Relaunch only the accounts that could not be notified."""
    population_of(ctx, pop)
    await _campaign(ctx, campaign_id)
    launched = await ctx.call("accounts", "POST", f"/api/v1/campaigns/{quote(campaign_id)}/relaunch")
    return redirect(ctx.url(f"/{pop}/campagnes/{quote(str(launched['id']))}"), ctx.request)


@router.get("/{pop}/campagnes/{campaign_id}/documents/{division}.pdf")
async def document(ctx: EstabCtx, pop: str, campaign_id: str, division: str) -> Response:
    """One division's paper letters (the download is recorded by the notifier)."""
    population_of(ctx, pop)
    await _campaign(ctx, campaign_id)
    response = await ctx.backend.request(ctx.staff, "notifier", "GET",
                                         f"/api/v1/campaigns/{quote(campaign_id)}/documents/{quote(division)}.pdf")
    return Response(response.content, media_type="application/pdf", headers={
        "content-disposition": response.headers.get("content-disposition", "attachment"),
        "cache-control": "no-store"})


@router.post("/{pop}/ecrire")
async def ecrire(ctx: EstabCtx, pop: str, request: Request) -> Response:
    """« Écrire à plusieurs responsables »: the ticked accounts; each one with an address gets his own email."""
    population, label = population_of(ctx, pop)
    form = await request.form()
    ids = [str(v) for v in form.getlist("compte")][:5000]
    if "objet" not in form:
        return await render(ctx, request, "ecrire.html", title="Écrire à plusieurs responsables", breadcrumb=label,
                            pop=pop, ids=ids)
    subject, body = str(form.get("objet", "")).strip(), str(form.get("message", "")).strip()
    try:
        sent = await ctx.call("accounts", "POST", f"/api/v1/establishments/{ctx.uai}/emails",
                              json={"account_ids": ids, "subject": subject, "body": body})
    except BackendError as exc:
        if exc.status >= 500 or exc.status == 404:
            raise
        await ctx.flash(f"Courriel refusé — {error_reason(exc)}", "erreur")
        return redirect(ctx.url(f"/{pop}/notifier"), request)
    missing = len(sent.get("without_address") or [])
    await ctx.flash(f"Courriel envoyé à {sent['sent']} {population}(s)"
                    + (f" ; {missing} sans adresse de messagerie." if missing else "."))
    return redirect(ctx.url(f"/{pop}/notifier"), request)
