"""Right of access (RGPD art. 15): what the sync service holds about one pupil or person, by SIECLE id."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Request

from teleservices.shared.db import Database
from teleservices.shared.security.staff import Role
from teleservices.shared.web import Staff, require_establishment

router = APIRouter(prefix="/api/v1/privacy", tags=["protection des données"])


@router.get("/establishments/{uai}/persons/{siecle_id}")
async def person_data(uai: str, siecle_id: str, staff: Staff, request: Request) -> dict[str, Any]:
    """The pupil or person as the last applied import left him, his links, departure and continuity reviews."""
    require_establishment(staff, uai)
    if staff.role is Role.delegue:
        raise HTTPException(403, detail={"field": "role", "reason": "réservé au chef d'établissement et à l'académie"})
    db: Database = request.app.state.runtime.db
    async with db.connection() as conn:
        found = {
            "eleve": await conn.fetchrow("SELECT * FROM eleves WHERE uai = $1 AND eleve_id = $2", uai, siecle_id),
            "personne": await conn.fetchrow("SELECT * FROM personnes WHERE uai = $1 AND personne_id = $2", uai,
                                            siecle_id),
            "liens": await conn.fetch("SELECT * FROM liens WHERE uai = $1 AND (eleve_id = $2 OR personne_id = $2)",
                                      uai, siecle_id),
            "depart": await conn.fetchrow("SELECT * FROM departures WHERE uai = $1 AND eleve_id = $2", uai,
                                          siecle_id),
            "examens_de_continuite": await conn.fetch(
                "SELECT * FROM continuity_reviews WHERE (uai = $1 AND eleve_id = $2)"
                " OR (candidate_uai = $1 AND candidate_eleve_id = $2)", uai, siecle_id),
        }
    if not any(found.values()):
        raise HTTPException(404, detail="Aucune donnée pour cette personne dans cet établissement.")
    return {k: ([dict(r) for r in v] if isinstance(v, list) else dict(v) if v else None) for k, v in found.items()}
