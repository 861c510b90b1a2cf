"""« Imports »: upload a SIECLE export, see the dry-run difference, apply, reports, continuity review list."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.datastructures import UploadFile

from teleservices.gateway.backend import BackendError
from teleservices.gateway.web import EstabCtx, NotFoundPage, error_reason, render
from teleservices.shared.security.staff import Menu

router = APIRouter(prefix="/etablissements/{uai}/imports", include_in_schema=False)
MAX_FILES = 20
COUNT_LABELS = {"eleves_arrives": "Élèves arrivés", "eleves_modifies": "Élèves modifiés",
                "eleves_partis": "Élèves partis",
                "personnes_nouvelles_ou_modifiees": "Responsables nouveaux ou modifiés",
                "liens_ajoutes": "Liens élève-responsable ajoutés", "liens_modifies": "Liens modifiés",
                "liens_supprimes": "Liens supprimés", "eleves_changes_de_division": "Élèves changés de division"}


async def _page(ctx: EstabCtx, report: dict[str, Any] | None = None, error: str | None = None,
                kept: str | None = None) -> Response:
    runs = await ctx.get("sync", f"/api/v1/establishments/{ctx.uai}/imports")
    reviews = await ctx.get("sync", f"/api/v1/establishments/{ctx.uai}/continuity-reviews")
    return await render(ctx, ctx.request, "imports.html", title="Imports", breadcrumb="Imports", runs=runs,
                        reviews=reviews, report=report, error=error, kept=kept, labels=COUNT_LABELS)


@router.get("")
async def imports(ctx: EstabCtx) -> Response:
    """The upload form, the runs and the continuity review list."""
    ctx.require(Menu.imports)
    return await _page(ctx)


@router.post("")
async def upload(ctx: EstabCtx, request: Request) -> Response:
    """« Essai » (dry run: the difference only) or « Appliquer »; the files are kept in the session between both."""
    ctx.require(Menu.imports)
    form = await request.form()
    uploads = [f for f in form.getlist("fichiers") if isinstance(f, UploadFile) and f.filename][:MAX_FILES]
    dry_run = form.get("action") != "appliquer"
    files = [("files", (f.filename, await f.read())) for f in uploads]
    if not files:
        return await _page(ctx, error="Choisissez les fichiers de l'export (XML ou ExportXML_*.zip).")
    params = {"dry_run": str(dry_run).lower(), "force": str(form.get("forcer") == "oui").lower()}
    try:
        report = await ctx.call("sync", "POST", f"/api/v1/establishments/{ctx.uai}/imports", params=params,
                                files=files)
    except BackendError as exc:
        if exc.status >= 500 and exc.status != 503:
            raise
        return await _page(ctx, error=f"Import refusé — {error_reason(exc)}")
    return await _page(ctx, report=report)


@router.get("/{run_id}")
async def rapport(ctx: EstabCtx, run_id: str) -> Response:
    """One run's full report."""
    ctx.require(Menu.imports)
    try:
        report = await ctx.get("sync", f"/api/v1/imports/{run_id}")
    except BackendError as exc:
        if exc.status in (404, 422):
            raise NotFoundPage() from exc
        raise
    if report.get("uai") not in (None, ctx.uai):
        raise NotFoundPage()
    return await render(ctx, ctx.request, "import_rapport.html", title="Rapport d'import", breadcrumb="Imports",
                        report=report, labels=COUNT_LABELS)
