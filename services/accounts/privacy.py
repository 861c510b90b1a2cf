"""Data protection routes of the accounts service: audit trail verification and the art. 33 breach report."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query

from teleservices.accounts import audit
from teleservices.accounts.api.deps import UAI_PATTERN, Db, scoped
from teleservices.accounts.domain.model import NotAllowed
from teleservices.shared.security.staff import Role
from teleservices.shared.web import Staff

router = APIRouter(prefix="/api/v1", tags=["protection des données"])


def _bad(field: str, reason: str) -> HTTPException:
    return HTTPException(422, detail={"field": field, "reason": reason})


@router.get("/audit/verification")
async def verify_audit(staff: Staff, db: Db,
                       uai: Annotated[str | None, Query(pattern=r"^([0-9]{7}[A-Z]|\*)$")] = None) -> dict[str, Any]:
    """Recompute the hash chains of the audit trail (academy operators): intact, or each break and its place."""
    if staff.role is not Role.operateur_academique:
        raise NotAllowed("role", "réservé aux opérateurs académiques")
    async with db.connection() as conn:
        return (await audit.verify(conn, uai)).as_dict()


@router.get("/audit/breach-report")
async def breach_report(staff: Staff, db: Db, acteur: str | None = None, depuis: datetime | None = None,
                        jusqu_a: datetime | None = None,
                        uai: Annotated[str | None, Query(pattern=UAI_PATTERN)] = None) -> dict[str, Any]:
    """People and records touched by a staff member and/or in a time window (RGPD art. 33 notification).

    Academy operators see every establishment; a head sees his own establishment (`uai` required).
    """
    if acteur is None and depuis is None:
        raise _bad("acteur", "indiquez un membre du personnel (acteur) ou le début de la période (depuis)")
    for name, value in (("depuis", depuis), ("jusqu_a", jusqu_a)):
        if value is not None and value.tzinfo is None:
            raise _bad(name, "indiquez le fuseau horaire (ex. 2026-11-23T08:00:00+01:00)")
    if depuis is not None and jusqu_a is not None and jusqu_a < depuis:
        raise _bad("jusqu_a", "la fin de la période précède son début")
    uais: tuple[str, ...] | None = None
    if staff.role is not Role.operateur_academique:
        if uai is None:
            raise _bad("uai", "indiquez votre établissement")
        scoped(staff, uai)
        if staff.role is not Role.chef:
            raise NotAllowed("role", "réservé au chef d'établissement et à l'académie")
    if uai is not None:
        uais = (uai,)
    async with db.connection() as conn:
        return await audit.breach_report(conn, actor_id=acteur, since=depuis, until=jusqu_a, uais=uais)
