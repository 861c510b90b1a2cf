"""Right of access (RGPD art. 15): what the notifier holds about a person's accounts (deliveries, letters)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request

from teleservices.shared.db import Database
from teleservices.shared.security.staff import Role
from teleservices.shared.web import Staff, require_establishment

router = APIRouter(prefix="/api/v1/privacy", tags=["protection des données"])


@router.get("/establishments/{uai}/accounts")
async def accounts_data(uai: str, staff: Staff, request: Request,
                        compte: Annotated[list[uuid.UUID], Query(max_length=200)],
                        campagne: Annotated[list[uuid.UUID] | None, Query(max_length=200)] = None) -> dict[str, Any]:
    """Each delivery to these accounts, and the letters' PDFs still kept for their campaigns (not their content)."""
    require_establishment(staff, uai)
    if staff.role is Role.delegue:
        raise HTTPException(403, detail={"field": "role", "reason": "réservé au chef d'établissement et à l'académie"})
    db: Database = request.app.state.runtime.db
    async with db.connection() as conn:
        deliveries = await conn.fetch(
            "SELECT notification_id, account_id, channel, status, message_id, reason, settled_at FROM deliveries"
            " WHERE uai = $1 AND account_id = ANY($2) ORDER BY settled_at", uai, compte)
        documents = await conn.fetch(
            "SELECT id, campaign_id, division, chunk, created_at FROM documents WHERE uai = $1"
            " AND campaign_id = ANY($2) ORDER BY created_at", uai, campagne or [])
    return {"envois": [dict(r) for r in deliveries], "courriers_pdf": [dict(r) for r in documents]}


@router.get("/downloads")
async def downloads(staff: Staff, request: Request, acteur: str | None = None, depuis: datetime | None = None,
                    jusqu_a: datetime | None = None, uai: str | None = None) -> list[dict[str, Any]]:
    """Downloads of division letters (they hold temporary passwords) by a staff member or in a time window (art. 33).

    Academy operators see every establishment; a head sees his own (`uai` required).
    """
    if acteur is None and depuis is None:
        raise HTTPException(400, detail={"field": "acteur", "reason": "indiquez un membre du personnel (acteur) ou "
                                                                      "le début de la période (depuis)"})
    if staff.role is not Role.operateur_academique:
        if uai is None:
            raise HTTPException(400, detail={"field": "uai", "reason": "indiquez votre établissement"})
        require_establishment(staff, uai)
        if staff.role is not Role.chef:
            raise HTTPException(403, detail={"field": "role",
                                             "reason": "réservé au chef d'établissement et à l'académie"})
    db: Database = request.app.state.runtime.db
    async with db.connection() as conn:
        rows = await conn.fetch(
            "SELECT campaign_id, division, uai, actor_id, actor_name, at FROM document_downloads"
            " WHERE ($1::text IS NULL OR actor_id = $1) AND ($2::timestamptz IS NULL OR at >= $2)"
            " AND ($3::timestamptz IS NULL OR at <= $3) AND ($4::text IS NULL OR uai = $4) ORDER BY at",
            acteur, depuis, jusqu_a, uai)
    return [dict(r) for r in rows]
