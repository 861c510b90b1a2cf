"""« Statistiques » (guide §5): the three syntheses with bar charts and « Exporter en Excel »; the academy view."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter
from fastapi.responses import Response

from teleservices.gateway.backend import BackendError
from teleservices.gateway.web import EstabCtx, NotFoundPage, StaffCtx, render
from teleservices.shared.security.staff import Menu

router = APIRouter(include_in_schema=False)
SYNTHESES = {"eleves": "Synthèse comptes élèves", "responsables": "Synthèse comptes responsables",
             "acces": "Synthèse accès téléservices"}
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def display(kind: str, value: object) -> str:
    """A cell as the guide prints it (percentages as "0.71 %")."""
    if value is None:
        return ""
    if kind == "percent" and isinstance(value, int | float):
        return f"{value:.2f}".rstrip("0").rstrip(".") + " %"
    return str(value)


async def _xlsx(ctx: StaffCtx | EstabCtx, path: str) -> Response:
    response = await ctx.backend.request(ctx.staff, "stats", "GET", path)
    return Response(response.content, media_type=XLSX, headers={
        "content-disposition": response.headers.get("content-disposition", "attachment"), "cache-control": "no-store"})


@router.get("/etablissements/{uai}/statistiques/{synthese}.xlsx")
async def synthese_xlsx(ctx: EstabCtx, synthese: str) -> Response:
    """« Exporter en Excel »."""
    ctx.require(Menu.statistiques)
    if synthese not in SYNTHESES:
        raise NotFoundPage()
    return await _xlsx(ctx, f"/api/v1/establishments/{ctx.uai}/stats/{synthese}/xlsx")


@router.get("/etablissements/{uai}/statistiques/{synthese}")
async def synthese(ctx: EstabCtx, synthese: str) -> Response:
    """One synthesis; an empty state while the stats service has no figures."""
    ctx.require(Menu.statistiques)
    if synthese not in SYNTHESES:
        raise NotFoundPage()
    data = None
    try:
        data = await ctx.get("stats", f"/api/v1/establishments/{ctx.uai}/stats/{synthese}")
    except BackendError as exc:
        if exc.status not in (404, 503):
            raise
    return await render(ctx, ctx.request, "statistiques.html", title=SYNTHESES[synthese], breadcrumb="Statistiques",
                        data=data, display=display, excel=ctx.url(f"/statistiques/{synthese}.xlsx"))


@router.get("/academie/statistiques")
async def academie(ctx: StaffCtx) -> Response:
    """The academy view: every establishment's figures (academy operators)."""
    ctx.require_operator()
    if not ctx.staff.academy:
        raise NotFoundPage()
    data = await ctx.get("stats", f"/api/v1/academies/{quote(ctx.staff.academy)}/stats")
    return await render(ctx, ctx.request, "statistiques.html", title=f"Statistiques de l'académie {ctx.staff.academy}",
                        data=data, display=display, excel="/academie/statistiques.xlsx")


@router.get("/academie/statistiques.xlsx")
async def academie_xlsx(ctx: StaffCtx) -> Response:
    ctx.require_operator()
    if not ctx.staff.academy:
        raise NotFoundPage()
    return await _xlsx(ctx, f"/api/v1/academies/{quote(ctx.staff.academy)}/stats/xlsx")
