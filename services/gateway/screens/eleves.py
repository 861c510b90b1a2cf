"""« Éditer les listes des comptes élèves » (guide §4.3): per division or group, on screen, PDF, CSV, print."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import Response

from teleservices.gateway.screens.common import structure
from teleservices.gateway.web import EstabCtx, render
from teleservices.shared.security.staff import Menu

router = APIRouter(prefix="/etablissements/{uai}/eleves", include_in_schema=False)
FORMATS = {"pdf": "application/pdf", "csv": "text/csv; charset=utf-8"}


@router.get("/listes")
async def listes(ctx: EstabCtx, division: str = "", groupe: str = "", format: str = "") -> Response:
    """The list on screen; `format=pdf|csv` downloads it (the accounts service records the edition)."""
    ctx.require(Menu.acces_eleves)
    params = {"division": division} if division else {"groupe": groupe} if groupe else None
    result: dict[str, Any] | None = None
    if params and format in FORMATS:
        response = await ctx.backend.request(ctx.staff, "accounts", "GET",
                                             f"/api/v1/establishments/{ctx.uai}/class-lists",
                                             params={**params, "format": format})
        return Response(response.content, media_type=FORMATS[format], headers={
            "content-disposition": response.headers.get("content-disposition", "attachment"),
            "cache-control": "no-store"})
    if params:
        result = await ctx.get("accounts", f"/api/v1/establishments/{ctx.uai}/class-lists", params=params)
    query = f"division={division}" if division else f"groupe={groupe}"
    return await render(ctx, ctx.request, "eleves_listes.html", title="Éditer les listes des comptes élèves",
                        breadcrumb="Accès des élèves", structure=await structure(ctx), division=division,
                        groupe=groupe, result=result, query=query)
