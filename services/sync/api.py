"""Staff API of the sync service: upload an export (dry run or apply), reports, the continuity review list."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, File, HTTPException, Request, UploadFile

from teleservices.shared.security.staff import Menu, Role, StaffPrincipal
from teleservices.shared.web import Staff, require_establishment
from teleservices.sync import repository as repo
from teleservices.sync.importer import Importer, ImportRequest
from teleservices.sync.siecle.reader import InMemoryFile

router = APIRouter(prefix="/api/v1", tags=["imports SIECLE"])
Files = Annotated[list[UploadFile], File(description="Les fichiers de l'export (.xml) ou un ExportXML_*.zip")]


def _allowed(staff: StaffPrincipal, uai: str | None) -> None:
    if uai is not None:
        require_establishment(staff, uai)
    elif staff.role is not Role.operateur_academique:
        raise HTTPException(403, detail={"field": "role", "reason": "réservé aux opérateurs académiques"})
    if not staff.may_use(Menu.imports):
        raise HTTPException(403, detail={"field": "menu", "reason": "menu « Imports » non délégué"})


async def _read(request: Request, files: list[UploadFile]) -> list[InMemoryFile]:
    limit = request.app.state.settings.max_upload_mb * 1024 * 1024
    read = []
    for upload in files:
        content = await upload.read(limit + 1)
        if len(content) > limit:
            reason = f"{upload.filename} dépasse la taille permise"
            raise HTTPException(413, detail={"field": "files", "reason": reason})
        read.append(InMemoryFile(upload.filename or "export.xml", content))
    return read


async def _import(request: Request, staff: StaffPrincipal, files: list[UploadFile], uai: str | None,
                  dry_run: bool, force: bool) -> dict[str, Any]:
    _allowed(staff, uai)
    importer: Importer = request.app.state.importer
    report = await importer.run(ImportRequest(await _read(request, files), actor=staff.user_id, expected_uai=uai,
                                              dry_run=dry_run, force=force))
    if uai is None and report.get("uai") and not staff.may_act_on(report["uai"]):
        raise HTTPException(404, detail="Établissement inconnu.")
    return report


@router.post("/establishments/{uai}/imports")
async def import_for(uai: str, request: Request, staff: Staff, files: Files, dry_run: bool = False,
                     force: bool = False) -> dict[str, Any]:
    """Import an establishment's export: `dry_run` shows the difference without applying it."""
    return await _import(request, staff, files, uai, dry_run, force)


@router.post("/imports")
async def import_any(request: Request, staff: Staff, files: Files, dry_run: bool = False,
                     force: bool = False) -> dict[str, Any]:
    """Import an export for the establishment its UAJ names (academy operators; the command line)."""
    return await _import(request, staff, files, None, dry_run, force)


@router.get("/establishments/{uai}/imports")
async def runs(uai: str, request: Request, staff: Staff) -> list[dict[str, Any]]:
    """The establishment's import runs, newest first."""
    _allowed(staff, uai)
    async with request.app.state.runtime.db.connection() as conn:
        return await repo.runs(conn, uai)


@router.get("/imports/{run_id}")
async def run(run_id: uuid.UUID, request: Request, staff: Staff) -> dict[str, Any]:
    """One run's full report."""
    async with request.app.state.runtime.db.connection() as conn:
        row = await repo.run(conn, run_id)
    if row is None or (row["uai"] and not staff.may_act_on(row["uai"])) or (
            row["uai"] is None and staff.role is not Role.operateur_academique):
        raise HTTPException(404, detail="Import inconnu.")
    return dict(row["report"])


@router.get("/establishments/{uai}/continuity-reviews")
async def continuity_reviews(uai: str, request: Request, staff: Staff) -> list[dict[str, Any]]:
    """Arrivals that may be pupils of another establishment (not merged without a staff decision)."""
    _allowed(staff, uai)
    async with request.app.state.runtime.db.connection() as conn:
        return await repo.reviews(conn, uai)
