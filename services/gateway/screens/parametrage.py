"""« Paramétrage » (guide §2.7–§2.10): message d'accueil, ENT et courrier de notification, contact, liens utiles."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Form
from fastapi.responses import HTMLResponse, Response

from teleservices.gateway.backend import BackendError
from teleservices.gateway.screens.common import submit
from teleservices.gateway.web import Ctx, EstabCtx, NotFoundPage, error_reason, redirect, render
from teleservices.shared.security.staff import Menu

router = APIRouter(prefix="/etablissements/{uai}/parametrage", include_in_schema=False)
TITLE = "Paramétrage"
TYPES_COURRIER = ("Téléservices", "Mixte ENT/Téléservices", "ENT seul")
PARTS = {"en_tete": "En-tête", "responsable_nouveau_compte": "Responsable — nouveau compte ou compte non activé",
         "responsable_rappel_identifiant": "Responsable — rappel de l'identifiant (continuité d'accès)",
         "eleve_nouveau_compte": "Élève — nouveau compte ou compte non activé",
         "eleve_rappel_identifiant": "Élève — rappel de l'identifiant (continuité d'accès)"}


async def _settings(ctx: Ctx) -> dict[str, Any]:
    ctx.require(Menu.parametrage)
    settings: dict[str, Any] = await ctx.get("accounts", f"/api/v1/establishments/{ctx.uai}/settings")
    return settings


@router.get("/message-accueil")
async def message_accueil(ctx: EstabCtx) -> Response:
    """Message d'accueil with a live preview (§2.7)."""
    settings = await _settings(ctx)
    message = settings.get("message_accueil") or {}
    return await render(ctx, ctx.request, "param_message.html", title="Message d'accueil", breadcrumb=TITLE,
                        texte=message.get("texte", ""), apercu=message.get("html", ""))


@router.post("/message-accueil/apercu")
async def message_apercu(ctx: EstabCtx, texte: str = Form(default="", max_length=20_000)) -> Response:
    """The sanitised rendering of the text being typed (htmx fragment)."""
    ctx.require(Menu.parametrage)
    try:
        html = (await ctx.call("accounts", "POST", f"/api/v1/establishments/{ctx.uai}/settings/message_accueil/preview",
                               json={"texte": texte}))["html"]
    except BackendError as exc:
        if exc.status >= 500:
            raise
        return HTMLResponse(f'<p class="message erreur">{_escape(error_reason(exc))}</p>')
    return HTMLResponse(html or "<p><em>Aucun message.</em></p>")  # sanitised by the accounts service


def _escape(text: str) -> str:
    from markupsafe import escape

    return str(escape(text))


@router.post("/message-accueil")
async def message_post(ctx: EstabCtx, texte: str = Form(default="", max_length=20_000)) -> Response:
    ctx.require(Menu.parametrage)
    await submit(ctx, "accounts", "PUT", f"/api/v1/establishments/{ctx.uai}/settings/message_accueil",
                 "Le message d'accueil est enregistré (visible immédiatement dans « Scolarité services »).",
                 json={"texte": texte})
    return redirect(ctx.url("/parametrage/message-accueil"), ctx.request)


@router.get("/ent-et-courrier")
async def ent(ctx: EstabCtx) -> Response:
    """ENT et courrier de notification: letter type, ENT link, the letters (§2.8)."""
    settings = await _settings(ctx)
    academy = await ctx.get("accounts", f"/api/v1/academies/{ctx.establishment['academy']}")  # type: ignore[index]
    courriers = await ctx.get("accounts", f"/api/v1/establishments/{ctx.uai}/settings/courriers")
    services = await ctx.get("accounts", f"/api/v1/establishments/{ctx.uai}/services")
    return await render(ctx, ctx.request, "param_ent.html", title="ENT et courrier de notification", breadcrumb=TITLE,
                        ent=settings.get("ent_et_courrier") or {}, types=TYPES_COURRIER,
                        liens=academy.get("ent_links") or [], courriers=courriers, parts=PARTS,
                        services=[s for s in services if s["open"]])


@router.post("/ent-et-courrier")
async def ent_post(ctx: EstabCtx, type_courrier: str = Form(max_length=40),
                   lien_ent_predefini: str = Form(default="", max_length=40),
                   lien_ent_specifique: str = Form(default="", max_length=500)) -> Response:
    ctx.require(Menu.parametrage)
    body = {"type_courrier": type_courrier, "lien_ent_predefini": lien_ent_predefini or None,
            "lien_ent_specifique": lien_ent_specifique.strip() or None}
    if type_courrier == "Téléservices":
        body.update(lien_ent_predefini=None, lien_ent_specifique=None)
    await submit(ctx, "accounts", "PUT", f"/api/v1/establishments/{ctx.uai}/settings/ent_et_courrier",
                 "Le type de courrier et le lien ENT sont enregistrés.", json=body)
    return redirect(ctx.url("/parametrage/ent-et-courrier"), ctx.request)


@router.get("/courriers/{part}")
async def courrier(ctx: EstabCtx, part: str) -> Response:
    """« Modifier en-tête / corps »: the editor with field insertion, preview and reset."""
    if part not in PARTS:
        raise NotFoundPage()
    ctx.require(Menu.parametrage)
    courriers = await ctx.get("accounts", f"/api/v1/establishments/{ctx.uai}/settings/courriers")
    return await render(ctx, ctx.request, "param_courrier.html", title=f"Modifier le courrier : {PARTS[part]}",
                        breadcrumb=f"{TITLE} / ENT et courrier de notification", part=part, courriers=courriers,
                        current=courriers["parts"][part])


@router.post("/courriers/{part}")
async def courrier_post(ctx: EstabCtx, part: str, texte: str = Form(max_length=20_000),
                        action: str = Form(pattern="^(valider|reinitialiser)$")) -> Response:
    """Keep the edited text (required fields and CNIL mention checked by the service) or reset it."""
    if part not in PARTS:
        raise NotFoundPage()
    ctx.require(Menu.parametrage)
    path = f"/api/v1/establishments/{ctx.uai}/settings/courriers/{part}"
    if action == "reinitialiser":
        await submit(ctx, "accounts", "DELETE", path, "Le courrier est revenu à sa version prédéfinie.")
    else:
        await submit(ctx, "accounts", "PUT", path, "Le courrier modifié est enregistré.", json={"texte": texte})
    return redirect(ctx.url(f"/parametrage/courriers/{part}"), ctx.request)


@router.post("/courriers-apercu.pdf")
async def apercu_pdf(ctx: EstabCtx, population: str = Form(pattern="^(responsable|eleve)$"),
                     variant: str = Form(pattern="^(nouveau_compte|rappel_identifiant)$"),
                     part: str = Form(default=""), texte: str = Form(default="", max_length=20_000)) -> Response:
    """« Visualiser le courrier » / « Prévisualiser les modifications »: the letter as PDF, sample data."""
    ctx.require(Menu.parametrage)
    e = ctx.establishment or {}
    settings = await ctx.get("accounts", f"/api/v1/establishments/{ctx.uai}/settings")
    templates = {k: v for k, v in (settings.get("courriers") or {}).items()}
    if part in PARTS and texte:
        templates[part] = texte
    ent = settings.get("ent_et_courrier") or {}
    services_url = ctx.settings.portal_auth_url
    if ent.get("type_courrier") == "ENT seul" and ent.get("lien_ent_specifique"):
        services_url = ent["lien_ent_specifique"]
    body = {"uai": ctx.uai, "population": population, "variant": variant, "templates": templates,
            "services_url": services_url,
            "establishment": {"name": e.get("name"), "academy": e.get("academy"), "town": e.get("town"),
                              "address_lines": e.get("address_lines") or [], "phone": e.get("phone"),
                              "email": (e.get("emails") or [None])[0],
                              "chef": " ".join(filter(None, [e.get("chef_civilite"), e.get("chef_nom")])) or None}}
    try:
        response = await ctx.backend.request(ctx.staff, "notifier", "POST", "/api/v1/letters/preview", json=body)
    except BackendError as exc:
        if exc.status >= 500:
            raise
        from teleservices.gateway.web import PageError

        raise PageError(422, "Aperçu impossible", error_reason(exc)) from exc
    return Response(response.content, media_type="application/pdf",
                    headers={"content-disposition": 'inline; filename="apercu-courrier.pdf"'})


@router.get("/contact")
async def contact(ctx: EstabCtx) -> Response:
    """Contact établissement (§2.9)."""
    settings = await _settings(ctx)
    return await render(ctx, ctx.request, "param_contact.html", title="Contact établissement", breadcrumb=TITLE,
                        contact=settings.get("contact") or {}, adresses=(ctx.establishment or {}).get("emails") or [])


@router.post("/contact")
async def contact_post(ctx: EstabCtx, adresse_contact: str = Form(default="", max_length=200),
                       actif: str = Form(default="non", pattern="^(oui|non)$")) -> Response:
    ctx.require(Menu.parametrage)
    await submit(ctx, "accounts", "PUT", f"/api/v1/establishments/{ctx.uai}/settings/contact",
                 "Le lien de contact est enregistré (effectif le lendemain).",
                 json={"adresse_contact": adresse_contact or None, "actif": actif == "oui"})
    return redirect(ctx.url("/parametrage/contact"), ctx.request)


@router.get("/liens-utiles")
async def liens(ctx: EstabCtx) -> Response:
    """Liens utiles (§2.10)."""
    settings = await _settings(ctx)
    return await render(ctx, ctx.request, "param_liens.html", title="Liens utiles", breadcrumb=TITLE,
                        liens=(settings.get("liens_utiles") or {}).get("liens") or [])


@router.post("/liens-utiles")
async def liens_post(ctx: EstabCtx, libelle: str = Form(default="", max_length=200),
                     url: str = Form(default="", max_length=500), lien_id: str = Form(default="", max_length=40),
                     action: str = Form(pattern="^(ajouter|modifier|supprimer)$")) -> Response:
    """« + » a link, change one or remove one."""
    ctx.require(Menu.parametrage)
    base = f"/api/v1/establishments/{ctx.uai}/settings/liens_utiles"
    if action == "ajouter":
        await submit(ctx, "accounts", "POST", base, "Le lien est ajouté.", json={"libelle": libelle, "url": url})
    elif action == "modifier":
        await submit(ctx, "accounts", "PUT", f"{base}/{lien_id}", "Le lien est modifié.",
                     json={"libelle": libelle, "url": url})
    else:
        await submit(ctx, "accounts", "DELETE", f"{base}/{lien_id}", "Le lien est supprimé.")
    return redirect(ctx.url("/parametrage/liens-utiles"), ctx.request)
