"""« Gestion des services » (guide §2.1–§2.6): ouverture / fermeture, Notes, paiement, emploi du temps, bourses."""

from __future__ import annotations

from fastapi import APIRouter, Form
from fastapi.responses import Response

from teleservices.gateway.backend import BackendError
from teleservices.gateway.screens.common import structure, submit
from teleservices.gateway.web import EstabCtx, error_reason, redirect, render
from teleservices.shared.security.staff import Menu

router = APIRouter(prefix="/etablissements/{uai}/services", include_in_schema=False)
TITLE = "Gestion des services"


async def _page(ctx: EstabCtx, template: str, title: str, **values: object) -> Response:
    ctx.require(Menu.gestion_services)
    settings = await ctx.get("accounts", f"/api/v1/establishments/{ctx.uai}/settings")
    services = {s["code"]: s for s in await ctx.get("accounts", f"/api/v1/establishments/{ctx.uai}/services")}
    return await render(ctx, ctx.request, template, title=title, breadcrumb=TITLE, settings=settings,
                        services=services, **values)


@router.get("")
async def ouverture(ctx: EstabCtx) -> Response:
    """Ouverture / fermeture: mandatory and module-less services locked with their reason."""
    ctx.require(Menu.gestion_services)
    services = await ctx.get("accounts", f"/api/v1/establishments/{ctx.uai}/services")
    return await render(ctx, ctx.request, "gestion_ouverture.html", title="Ouverture / fermeture", breadcrumb=TITLE,
                        services=services)


@router.post("/{code}/ouverture")
async def ouvrir(ctx: EstabCtx, code: str, ouvrir: str = Form(pattern="^(oui|non)$")) -> Response:
    """Open or close one service."""
    ctx.require(Menu.gestion_services)
    is_open = ouvrir == "oui"
    await submit(ctx, "accounts", "PUT", f"/api/v1/establishments/{ctx.uai}/services/{code}",
                 f"Le service est {'ouvert' if is_open else 'fermé'}.", json={"open": is_open})
    return redirect(ctx.url("/services"), ctx.request)


@router.get("/notes")
async def notes(ctx: EstabCtx) -> Response:
    """Configuration Notes: au fil de l'eau or dates per MEF and division (§2.2)."""
    return await _page(ctx, "gestion_notes.html", "Configuration Notes", structure=await structure(ctx))


@router.post("/notes/publication")
async def notes_publication(ctx: EstabCtx, publication: str = Form(max_length=40)) -> Response:
    ctx.require(Menu.gestion_services)
    await submit(ctx, "accounts", "PUT", f"/api/v1/establishments/{ctx.uai}/settings/notes/publication",
                 "Le type de publication est enregistré.", json={"publication": publication})
    return redirect(ctx.url("/services/notes"), ctx.request)


@router.post("/notes/dates")
async def notes_date(ctx: EstabCtx, code_mef: str = Form(max_length=11), division: str = Form(max_length=8),
                     date: str = Form(max_length=10), action: str = Form(pattern="^(ajouter|supprimer)$")) -> Response:
    """« + » or « − » a publication date."""
    ctx.require(Menu.gestion_services)
    method = "POST" if action == "ajouter" else "DELETE"
    await submit(ctx, "accounts", method, f"/api/v1/establishments/{ctx.uai}/settings/notes/dates",
                 "La date de publication est ajoutée." if action == "ajouter" else "La date est supprimée.",
                 json={"code_mef": code_mef, "division": division, "date": date})
    return redirect(ctx.url("/services/notes"), ctx.request)


@router.get("/paiement")
async def paiement(ctx: EstabCtx) -> Response:
    """Paiement en ligne des factures (§2.3)."""
    return await _page(ctx, "gestion_paiement.html", "Paiement en ligne des factures", confirm=None, form=None)


@router.post("/paiement")
async def paiement_post(ctx: EstabCtx, numero_tipi: str = Form(max_length=10),
                        montant_minimum: str = Form(max_length=12),
                        adresse_messagerie: str = Form(max_length=200),
                        confirmer: str = Form(default="")) -> Response:
    """First the TIPI number is looked up and shown for confirmation; then the settings are kept."""
    ctx.require(Menu.gestion_services)
    form = {"numero_tipi": numero_tipi, "montant_minimum": montant_minimum, "adresse_messagerie": adresse_messagerie}
    if confirmer != "oui":
        try:
            match = await ctx.get("accounts", f"/api/v1/establishments/{ctx.uai}/settings/paiement/tipi/"
                                  f"{numero_tipi.strip() or '-'}")
        except BackendError as exc:
            if exc.status >= 500:
                raise
            await ctx.flash(f"Numéro TIPI refusé — {error_reason(exc)}", "erreur")
            return redirect(ctx.url("/services/paiement"), ctx.request)
        return await _page(ctx, "gestion_paiement.html", "Paiement en ligne des factures", confirm=match, form=form)
    await submit(ctx, "accounts", "PUT", f"/api/v1/establishments/{ctx.uai}/settings/paiement",
                 "Le paiement en ligne est paramétré (effectif le lendemain).",
                 json={**form, "montant_minimum": montant_minimum.replace(",", ".")})
    return redirect(ctx.url("/services/paiement"), ctx.request)


@router.get("/emploi-du-temps")
async def emploi_du_temps(ctx: EstabCtx) -> Response:
    """Emploi du temps: number of weeks shown (§2.4)."""
    return await _page(ctx, "gestion_edt.html", "Emploi du temps")


@router.post("/emploi-du-temps")
async def emploi_du_temps_post(ctx: EstabCtx, nombre_semaines: int = Form(ge=0, le=60)) -> Response:
    ctx.require(Menu.gestion_services)
    await submit(ctx, "accounts", "PUT", f"/api/v1/establishments/{ctx.uai}/settings/emploi_du_temps",
                 "Le nombre de semaines est enregistré.", json={"nombre_semaines": nombre_semaines})
    return redirect(ctx.url("/services/emploi-du-temps"), ctx.request)


@router.get("/bourse-{niveau}")
async def bourse(ctx: EstabCtx, niveau: str) -> Response:
    """Bourse de collège / Bourse de lycée: the contact address (§2.5–2.6)."""
    if niveau not in ("college", "lycee"):
        from teleservices.gateway.web import NotFoundPage

        raise NotFoundPage()
    title = "Bourse de collège" if niveau == "college" else "Bourse de lycée"
    return await _page(ctx, "gestion_bourse.html", title, niveau=niveau)


@router.post("/bourse-{niveau}")
async def bourse_post(ctx: EstabCtx, niveau: str,
                      adresse_messagerie: str = Form(default="", max_length=200)) -> Response:
    ctx.require(Menu.gestion_services)
    if niveau not in ("college", "lycee"):
        from teleservices.gateway.web import NotFoundPage

        raise NotFoundPage()
    await submit(ctx, "accounts", "PUT", f"/api/v1/establishments/{ctx.uai}/settings/bourse_{niveau}",
                 "L'adresse de messagerie est enregistrée.",
                 json={"adresse_messagerie": adresse_messagerie.strip() or None})
    return redirect(ctx.url(f"/services/bourse-{niveau}"), ctx.request)
