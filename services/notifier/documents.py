"""The PDFs of paper letters: one per division and campaign whatever the chunking; downloads audited; purged."""

from __future__ import annotations

import io
import logging
import uuid
from datetime import timedelta
from typing import Any

from fastapi import APIRouter, HTTPException, Request, Response
from pypdf import PdfWriter

from teleservices.shared.db import Database
from teleservices.shared.web import Staff

log = logging.getLogger(__name__)
router = APIRouter(prefix="/api/v1", tags=["documents"])


async def _scoped_chunks(db: Database, staff: Any, campaign_id: uuid.UUID,
                         division: str | None = None) -> list[Any]:
    async with db.connection() as conn:
        rows = await conn.fetch(
            "SELECT uai, division, chunk, content, created_at FROM documents WHERE campaign_id = $1"
            " AND ($2::text IS NULL OR division = $2) ORDER BY division, chunk", campaign_id, division)
    if not rows or not staff.may_act_on(rows[0]["uai"]):
        raise HTTPException(404, detail="Aucun document pour cette campagne.")
    return list(rows)


@router.get("/campaigns/{campaign_id}/documents")
async def documents(campaign_id: uuid.UUID, staff: Staff, request: Request) -> list[dict[str, Any]]:
    """The campaign's paper letters, one PDF per division."""
    rows = await _scoped_chunks(request.app.state.runtime.db, staff, campaign_id)
    divisions: dict[str, dict[str, Any]] = {}
    for row in rows:
        d = divisions.setdefault(row["division"], {"division": row["division"], "parts": 0, "size": 0,
                                                   "created_at": row["created_at"]})
        d["parts"] += 1
        d["size"] += len(row["content"])
    return list(divisions.values())


@router.get("/campaigns/{campaign_id}/documents/{division}.pdf")
async def division_pdf(campaign_id: uuid.UUID, division: str, staff: Staff, request: Request) -> Response:
    """One division's letters as one PDF (the jobs' parts joined in order); the download is recorded."""
    db: Database = request.app.state.runtime.db
    rows = await _scoped_chunks(db, staff, campaign_id, division)
    writer = PdfWriter()
    for row in rows:
        writer.append(io.BytesIO(row["content"]))
    out = io.BytesIO()
    writer.write(out)
    async with db.transaction() as conn:
        await conn.execute("INSERT INTO document_downloads (campaign_id, division, uai, actor_id, actor_name)"
                           " VALUES ($1, $2, $3, $4, $5)", campaign_id, division, rows[0]["uai"], staff.user_id,
                           staff.display_name)
    filename = f"courriers-{division}-{str(campaign_id)[:8]}.pdf"
    return Response(out.getvalue(), media_type="application/pdf",
                    headers={"content-disposition": f'attachment; filename="{filename}"',
                             "cache-control": "no-store"})


async def purge_old_documents(db: Database, retention: timedelta) -> int:
    """Delete the letters' PDFs older than the retention period (they hold temporary passwords)."""
    async with db.transaction() as conn:
        status = await conn.execute("DELETE FROM documents WHERE created_at < now() - $1::interval", retention)
    deleted = int(status.split()[-1])
    if deleted:
        log.info("documents purged", extra={"documents": deleted})
    return deleted
