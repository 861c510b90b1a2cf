"""The academy operators' lists: informations, grouping switch, predefined ENT links, TIPI reference, services."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import Response

from teleservices.gateway.screens.common import submit
from teleservices.gateway.web import Ctx, NotFoundPage, StaffCtx, redirect, render

router = APIRouter(prefix="/academie", include_in_schema=False)
NATIONAL_SERVICES = (("notes", "Notes"), ("evaluation", "Évaluation"), ("vie_scolaire", "Vie scolaire"),
                     ("fiche_renseignements", "Fiche de renseignements"),
                     ("livret_scolaire", "Livret scolaire (CP - 3e)"),
                     ("livret_scolaire_lycee", "Livret scolaire du lycée"),
                     ("inscription_lycee", "Inscription en ligne au lycée"), ("paiement", "Paiement en ligne"),
                     ("bourse_college", "Bourse de collège"), ("bourse_lycee", "Bourse de lycée"),
                     ("emploi_du_temps", "Emploi du temps"))


def _academy(ctx: Ctx) -> str:
    ctx.require_operator()
    if not ctx.staff.academy:
        raise NotFoundPage()
    return ctx.staff.academy


@router.get("")
async def academie(ctx: StaffCtx) -> Response:
    """Every academy list on one page."""
    code = _academy(ctx)
    academy = await ctx.get("accounts", f"/api/v1/academies/{quote(code)}")
    return await render(ctx, ctx.request, "academie.html", title=f"Académie {code}", a=academy,
                        national=NATIONAL_SERVICES)


@router.post("")
async def change(ctx: StaffCtx, request: Request) -> Response:
    """One change of a list or switch, sent as the whole new list."""
    code = _academy(ctx)
    academy: dict[str, Any] = await ctx.get("accounts", f"/api/v1/academies/{quote(code)}")
    form = await request.form()
    action = str(form.get("action", ""))
    field = lambda name: str(form.get(name, "")).strip()  # noqa: E731
    body: dict[str, Any]
    if action == "informations":
        body = {"informations": field("informations")}
    elif action == "obligatoires":
        body = {"mandatory_services": [c for c, _ in NATIONAL_SERVICES if c in form.getlist("obligatoires")]}
    elif action == "regroupement":
        body = {"grouping_enabled": form.get("regroupement") == "oui"}
    elif action == "ajouter_ent":
        body = {"ent_links": [*academy["ent_links"], {"id": field("id"), "libelle": field("libelle"),
                                                      "url": field("url")}]}
    elif action == "retirer_ent":
        body = {"ent_links": [link for link in academy["ent_links"] if link["id"] != field("id")]}
    elif action == "ajouter_tipi":
        body = {"tipi_reference": {**academy["tipi_reference"], field("numero"): field("libelle")}}
    elif action == "retirer_tipi":
        body = {"tipi_reference": {k: v for k, v in academy["tipi_reference"].items() if k != field("numero")}}
    elif action == "ajouter_service":
        service = {"code": field("code"), "label": field("libelle"), "url": field("url"),
                   "experimental": form.get("experimental") == "oui",
                   "establishments": field("etablissements").upper().split()}
        body = {"academy_services": [*academy["academy_services"], service]}
    elif action == "retirer_service":
        body = {"academy_services": [s for s in academy["academy_services"] if s["code"] != field("code")]}
    else:
        raise NotFoundPage()
    await submit(ctx, "accounts", "PATCH", f"/api/v1/academies/{quote(code)}", "Les paramètres de l'académie sont "
                 "enregistrés.", json=body)
    return redirect("/academie", request)


MODULES = (("notes", "Notes"), ("evaluation", "Évaluation"), ("vie_scolaire", "Vie scolaire"),
           ("emploi_du_temps", "Emploi du temps"))
PERIMETRES = (("bourse_college", "Bourse de collège"), ("bourse_lycee", "Bourse de lycée"),
              ("emploi_du_temps", "Emploi du temps"))


def _fields(form: Any) -> dict[str, Any]:
    text = lambda name: str(form.get(name, "")).strip()  # noqa: E731
    return {"name": text("name"), "type": text("type") or None, "town": text("town") or None,
            "emails": text("emails").split() or None,
            "modules": [m for m, _ in MODULES if m in form.getlist("modules")],
            "perimetres": [p for p, _ in PERIMETRES if p in form.getlist("perimetres")]}


@router.get("/etablissements/{uai}")
async def etablissement(ctx: StaffCtx, uai: str) -> Response:
    """An establishment's description, SIECLE modules and perimeters ("nouveau": a new one)."""
    _academy(ctx)
    current: dict[str, Any] = {}
    if uai != "nouveau":
        current = await ctx.get("accounts", f"/api/v1/establishments/{quote(uai)}")
    return await render(ctx, ctx.request, "academie_etablissement.html",
                        title=current.get("name", "Nouvel établissement"), e=current, modules=MODULES,
                        perimetres=PERIMETRES)


@router.post("/etablissements/{uai}")
async def etablissement_post(ctx: StaffCtx, uai: str, request: Request) -> Response:
    """Create or change an establishment (the academy's operators)."""
    code = _academy(ctx)
    form = await request.form()
    fields = _fields(form)
    if uai == "nouveau":
        new_uai = str(form.get("uai", "")).strip().upper()
        created = await submit(ctx, "accounts", "POST", "/api/v1/establishments", "L'établissement est créé.",
                               json={**{k: v for k, v in fields.items() if v is not None}, "uai": new_uai,
                                     "academy": code})
        return redirect(f"/academie/etablissements/{quote(new_uai)}" if created else "/academie/etablissements/nouveau",
                        request)
    await submit(ctx, "accounts", "PATCH", f"/api/v1/establishments/{quote(uai)}", "L'établissement est modifié.",
                 json=fields)
    return redirect(f"/academie/etablissements/{quote(uai)}", request)
