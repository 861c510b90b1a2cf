"""« Statistiques » (guide §5): the syntheses of the stats service, with « Exporter en Excel »."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response

from teleservices.gateway.backend import BackendError
from teleservices.gateway.web import EstabCtx, NotFoundPage, render
from teleservices.shared.security.staff import Menu

router = APIRouter(prefix="/etablissements/{uai}/statistiques", include_in_schema=False)
SYNTHESES = {"eleves": "Synthèse comptes élèves", "responsables": "Synthèse comptes responsables",
             "acces": "Synthèse accès téléservices"}


@router.get("/{synthese}")
async def synthese(ctx: EstabCtx, synthese: str) -> Response:
    """One synthesis; an empty state while the stats service has no figures for it."""
    ctx.require(Menu.statistiques)
    if synthese not in SYNTHESES:
        raise NotFoundPage()
    data = None
    try:
        data = await ctx.get("stats", f"/api/v1/establishments/{ctx.uai}/syntheses/{synthese}")
    except BackendError as exc:
        if exc.status not in (404, 405, 503):
            raise
    return await render(ctx, ctx.request, "statistiques.html", title=SYNTHESES[synthese], breadcrumb="Statistiques",
                        data=data, synthese=synthese)
