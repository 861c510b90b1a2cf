"""Accueil (first-connection activation, read-only services), help, release notes, academy information."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from teleservices.gateway.backend import BackendError
from teleservices.gateway.web import EstabCtx, StaffCtx, current_session, redirect, render
from teleservices.shared.security.staff import Menu, Role

router = APIRouter(include_in_schema=False)
HELP = {
    "/services": "Ouvrez ou fermez chaque téléservice. Les services obligatoires restent ouverts ; ceux qui "
                 "demandent un module SIECLE que l'établissement n'utilise pas ne peuvent pas être ouverts (§2.1).",
    "/parametrage": "Le paramétrage du portail « Scolarité services » : message d'accueil, ENT et courrier de "
                    "notification, contact, liens utiles. Effectif le lendemain, sauf le message d'accueil et "
                    "le lien ENT (§2.7 à §2.10).",
    "/responsables/notifier": "Choisissez la population (division, régime), l'état des comptes et le mode de "
                              "transmission, décochez au besoin, puis « Notifier ». La progression s'affiche ; "
                              "les courriers papier se téléchargent en PDF par division (§3.1).",
    "/responsables/comptes": "Recherchez un compte par les premières lettres du nom de l'élève, le MEF, la "
                             "division ou l'état, puis « Gérer le compte » (§3.2).",
    "/eleves": "Notification des élèves (courrier papier), gestion d'un compte élève, listes par division ou "
               "groupe en PDF ou CSV (§4).",
    "/statistiques": "Synthèses des comptes élèves, des comptes responsables et des accès, exportables en "
                     "Excel (§5).",
    "/imports": "Déposez un export SIECLE (fichiers XML ou ExportXML_*.zip) : un essai montre les "
                "différences, « Appliquer » les enregistre ; les rapports restent consultables.",
}
RELEASE_NOTES = Path(__file__).resolve().parents[1] / "templates" / "quoi_de_neuf.txt"


@router.get("/")
async def home(ctx: StaffCtx) -> Response:
    """One establishment: straight to it; several (or the academy): the list."""
    if ctx.staff.role is not Role.operateur_academique and len(ctx.staff.uais) == 1:
        return RedirectResponse(f"/etablissements/{quote(ctx.staff.uais[0])}", status_code=303)
    establishments = await ctx.get("accounts", "/api/v1/establishments")
    query = ctx.request.query_params.get("q", "").strip().lower()
    if query:
        establishments = [e for e in establishments if query in f"{e['uai']} {e['name']} {e['town']}".lower()]
    return await render(ctx, ctx.request, "etablissements.html", title="Établissements", establishments=establishments,
                        q=query)


@router.get("/etablissements/{uai}")
async def accueil(ctx: EstabCtx) -> Response:
    """Accueil: the activation at first connection, then the services read-only (§2.1)."""
    services = await ctx.get("accounts", f"/api/v1/establishments/{ctx.uai}/services")
    expiring: list[object] = []
    try:
        expiring = await ctx.get("accounts", f"/api/v1/establishments/{ctx.uai}/expiring")
    except BackendError:
        expiring = []
    due = {pop: sum(1 for a in expiring if isinstance(a, dict) and a.get("population") == population)
           for pop, population in (("responsables", "responsable"), ("eleves", "eleve"))}
    return await render(ctx, ctx.request, "accueil.html", title="Accueil", services=services, expiring=expiring,
                        due=due, may_activate=ctx.staff.may_use(Menu.gestion_services))


@router.post("/etablissements/{uai}/relance-expiration/{pop}")
async def remind_expiring(ctx: EstabCtx, pop: str) -> Response:
    """One click: a campaign over exactly the accounts due to expire in the next 15 days (the others unticked)."""
    from teleservices.gateway.screens.notifier import population_of

    population, _ = population_of(ctx, pop)
    expiring = await ctx.get("accounts", f"/api/v1/establishments/{ctx.uai}/expiring")
    due = {str(a["id"]) for a in expiring if a["population"] == population}
    listing = await ctx.get("accounts", f"/api/v1/establishments/{ctx.uai}/accounts", params={"population": population})
    excluded = [line["id"] for line in listing["accounts"] if str(line["id"]) not in due]
    mode = "Courrier électronique et courrier papier" if population == "responsable" else "Courrier papier seul"
    launched = await ctx.call("accounts", "POST", f"/api/v1/establishments/{ctx.uai}/campaigns", json={
        "population": population, "mode": mode, "exclus": excluded})
    return redirect(ctx.url(f"/{pop}/campagnes/{quote(str(launched['id']))}"), ctx.request)


@router.post("/etablissements/{uai}/activation")
async def activate(ctx: EstabCtx) -> Response:
    """« Activer les téléservices »."""
    ctx.require(Menu.gestion_services)
    await ctx.call("accounts", "POST", f"/api/v1/establishments/{ctx.uai}/activation")
    await ctx.flash("Les téléservices de l'établissement sont activés.")
    return redirect(ctx.url(), ctx.request)


@router.get("/aide")
async def aide(ctx: StaffCtx, ecran: str = "") -> Response:
    """Aide: the help of the screen the member came from."""
    screen = "/" + ecran.split("/", 3)[3] if ecran.startswith("/etablissements/") and ecran.count("/") >= 3 else ecran
    text = next((t for prefix, t in HELP.items() if screen.startswith(prefix)),
                "Choisissez un menu. Des infobulles précisent chaque action ; « Impression » donne une version "
                "imprimable de la page.")
    return await render(ctx, ctx.request, "texte.html", title="Aide", paragraphs=[text],
                        back=ecran if ecran.startswith("/") and not ecran.startswith("//") else "/")


@router.get("/quoi-de-neuf")
async def quoi_de_neuf(ctx: StaffCtx) -> Response:
    """The project's release notes."""
    return await render(ctx, ctx.request, "texte.html", title="Quoi de neuf",
                        paragraphs=[p for p in RELEASE_NOTES.read_text(encoding="utf-8").split("\n\n") if p.strip()])


@router.get("/informations-academiques")
async def informations(ctx: StaffCtx, uai: str | None = None) -> Response:
    """« Informations académiques »: the text the academy publishes for its establishments."""
    academy = ctx.staff.academy
    if academy is None and uai and ctx.staff.may_act_on(uai):
        academy = (await ctx.get("accounts", f"/api/v1/establishments/{quote(uai)}"))["academy"]
    if academy is None and ctx.staff.uais:
        academy = (await ctx.get("accounts", f"/api/v1/establishments/{quote(ctx.staff.uais[0])}"))["academy"]
    text = ""
    if academy:
        text = (await ctx.get("accounts", f"/api/v1/academies/{quote(academy)}")).get("informations") or ""
    paragraphs = [] if text else ["L'académie n'a publié aucune information."]
    return await render(ctx, ctx.request, "texte.html", title="Informations académiques", paragraphs=paragraphs,
                        html=text)  # sanitised by the accounts service


@router.get("/accessibilite")
async def accessibilite(request: Request) -> Response:
    """The accessibility statement (public)."""
    session = await current_session(request)
    del session
    return await render(None, request, "accessibilite.html", title="Déclaration d'accessibilité")


@router.get("/etablissements/{uai}/journal")
async def journal(ctx: EstabCtx) -> Response:
    """« Journal des actions »: every staff action on the establishment's accounts (the head and the academy)."""
    if ctx.staff.role is Role.delegue:
        from teleservices.gateway.web import PageError

        raise PageError(403, "Accès refusé", "Le journal des actions est réservé au chef d'établissement et à "
                                             "l'académie.")
    entries = await ctx.get("accounts", f"/api/v1/establishments/{ctx.uai}/audit")
    return await render(ctx, ctx.request, "journal.html", title="Journal des actions", entries=entries)
