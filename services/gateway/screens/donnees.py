"""« Données personnelles »: what the head, as data controller, needs — the record of processing (art. 30) and the
right-of-access export of one person (art. 15), both also in the command line (`teleservices privacy …`)."""

from __future__ import annotations

import asyncio
from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from fastapi.responses import Response

from teleservices.gateway.backend import BackendError
from teleservices.gateway.web import EstabCtx, PageError, render
from teleservices.shared.privacy.record import record_markdown, record_pdf
from teleservices.shared.security.staff import Role

router = APIRouter()
SiecleId = Annotated[str, Query(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_-]+$",
                                description="Identifiant SIECLE de l'élève ou de la personne")]


def _controller_only(ctx: EstabCtx) -> None:
    if ctx.staff.role is Role.delegue:
        raise PageError(403, "Accès refusé", "Les données personnelles relèvent du chef d'établissement, "
                                             "responsable du traitement, et de l'académie.")


@router.get("/etablissements/{uai}/donnees-personnelles")
async def page(ctx: EstabCtx) -> Response:
    """The record of processing and the right-of-access form."""
    _controller_only(ctx)
    return await render(ctx, ctx.request, "donnees.html", title="Données personnelles")


@router.get("/etablissements/{uai}/donnees-personnelles/registre.{kind}")
async def record(ctx: EstabCtx, kind: Literal["md", "pdf"]) -> Response:
    """The record of processing, its periods read from the settings the purge jobs use."""
    _controller_only(ctx)
    name = f"registre-des-traitements-{date.today():%Y-%m-%d}.{kind}"
    if kind == "pdf":
        content: bytes = await asyncio.to_thread(record_pdf)
        media = "application/pdf"
    else:
        content, media = record_markdown().encode(), "text/markdown; charset=utf-8"
    return Response(content, media_type=media, headers={"content-disposition": f'attachment; filename="{name}"'})


@router.get("/etablissements/{uai}/donnees-personnelles/acces")
async def access_export(ctx: EstabCtx, personne: SiecleId, format: Literal["pdf", "json"] = "pdf") -> Response:
    """Everything the platform holds about one person, gathered by accounts from every service (audited there)."""
    _controller_only(ctx)
    try:
        answer = await ctx.backend.request(ctx.staff, "accounts", "GET",
                                           f"/api/v1/privacy/establishments/{ctx.uai}/persons/{personne}/export",
                                           params={"format": format})
    except BackendError as exc:
        if exc.status == 404:
            raise PageError(404, "Personne inconnue", f"Aucune donnée n'est tenue sur « {personne} » dans cet "
                                                      "établissement.") from exc
        raise
    suffix = "pdf" if format == "pdf" else "json"
    return Response(answer.content, media_type=answer.headers.get("content-type", "application/octet-stream"),
                    headers={"content-disposition": f'attachment; filename="donnees-{personne}.{suffix}"'})
