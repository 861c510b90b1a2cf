"""Data protection routes of the accounts service: audit trail verification and the art. 33 breach report."""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

import httpx
from fastapi import APIRouter, HTTPException, Query, Request, Response
from pydantic_core import to_jsonable_python

from teleservices.accounts import audit
from teleservices.accounts.api.deps import UAI_PATTERN, Db, scoped
from teleservices.accounts.domain.model import NotAllowed
from teleservices.shared.privacy.access import PeerUrls, ServiceRefused, access_pdf, assemble, gather
from teleservices.shared.privacy.retention import current_retention
from teleservices.shared.security.staff import Role, StaffPrincipal
from teleservices.shared.web import Staff

router = APIRouter(prefix="/api/v1", tags=["protection des données"])
NOTHING = "Aucune donnée pour cette personne dans cet établissement."


def _bad(field: str, reason: str) -> HTTPException:
    return HTTPException(400, detail={"field": field, "reason": reason})  # 422 is FastAPI's own shape


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
                        uai: Annotated[str | None, Query(pattern=UAI_PATTERN)] = None,
                        courrier: Annotated[list[str] | None, Query(max_length=1000)] = None) -> dict[str, Any]:
    """People and records touched by a staff member and/or in a time window (RGPD art. 33 notification).

    Academy operators see every establishment; a head sees his own establishment (`uai` required). `courrier`
    (CAMPAGNE/DIVISION, repeatable): division letters downloaded meanwhile, as the notifier lists them.
    """
    letters = tuple(_letter(value) for value in courrier or ())
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
        return await audit.breach_report(conn, actor_id=acteur, since=depuis, until=jusqu_a, uais=uais,
                                         letters=letters)


def _letter(value: str) -> tuple[uuid.UUID, str]:
    campaign, _, division = value.partition("/")
    try:
        if division:
            return uuid.UUID(campaign), division
    except ValueError:
        pass
    raise _bad("courrier", "attendu : identifiant de campagne/division")


# Right of access (art. 15): what this service holds about one person, by SIECLE id (ELEVE_ID or PERSONNE_ID).
def _access_scope(staff: StaffPrincipal, uai: str) -> None:
    scoped(staff, uai)
    if staff.role is Role.delegue:
        raise NotAllowed("role", "réservé au chef d'établissement et à l'académie")


@router.get("/privacy/establishments/{uai}/persons/{siecle_id}")
async def person_data(uai: str, siecle_id: str, staff: Staff, db: Db) -> dict[str, Any]:
    """Everything the accounts service holds about a pupil or a person of an establishment (secrets excepted)."""
    _access_scope(staff, uai)
    found = await _person_data(db, staff, uai, siecle_id)
    if found is None:
        raise HTTPException(404, detail=NOTHING)
    return found


@router.get("/privacy/establishments/{uai}/persons/{siecle_id}/export", response_model=None)
async def person_export(uai: str, siecle_id: str, staff: Staff, db: Db, request: Request,
                        format: Literal["json", "pdf"] = "json") -> dict[str, Any] | Response:
    """The right-of-access export (art. 15) across accounts, sync and notifier, as JSON or a readable PDF."""
    _access_scope(staff, uai)
    peers = PeerUrls()
    async with httpx.AsyncClient(timeout=30, headers={"authorization": request.headers["authorization"]}) as client:
        async def fetch(service: str, path: str, params: dict[str, Any]) -> tuple[int, Any]:
            if service == "accounts":
                found = await _person_data(db, staff, uai, siecle_id)
                return (200, to_jsonable_python(found)) if found is not None else (404, {"detail": NOTHING})
            url = peers.url(service)
            if url is None:
                raise HTTPException(503, detail={"field": service, "reason": f"adresse du service {service} inconnue"
                                                 f" (TELESERVICES_{service.upper()}_URL)"})
            try:
                answer = await client.get(f"{url}{path}", params=params)
            except httpx.TransportError as exc:
                raise HTTPException(503, detail={"field": service, "reason": "service injoignable"}) from exc
            return answer.status_code, answer.json()

        try:
            parts = await gather(fetch, uai, siecle_id)
        except ServiceRefused as exc:
            raise HTTPException(502, detail={"field": exc.service, "reason": str(exc.detail)}) from exc
    if parts is None:
        raise HTTPException(404, detail=NOTHING)
    document = assemble(uai, siecle_id, parts, current_retention())
    if format == "json":
        return document
    pdf = await asyncio.to_thread(access_pdf, document)
    return Response(pdf, media_type="application/pdf", headers={
        "content-disposition": f'attachment; filename="acces-{uai}-{siecle_id}.pdf"', "cache-control": "no-store"})


async def _person_data(db: Any, staff: StaffPrincipal, uai: str, siecle_id: str) -> dict[str, Any] | None:
    """What this service holds on the person; the consultation itself is audited first (so it is listed too)."""
    async with db.transaction() as conn:
        eleve = await conn.fetchrow("SELECT * FROM eleves WHERE uai = $1 AND eleve_id = $2", uai, siecle_id)
        personne = await conn.fetchrow("SELECT * FROM personnes WHERE uai = $1 AND personne_id = $2", uai, siecle_id)
        ids = [r["account_id"] for r in await conn.fetch(
            "SELECT DISTINCT account_id FROM rattachements WHERE uai = $1 AND ((population = 'eleve' AND eleve_id = $2)"
            " OR (population = 'responsable' AND personne_id = $2)) ORDER BY account_id", uai, siecle_id)]
        if eleve is None and personne is None and not ids:
            return None
        await audit.record(conn, staff, "exporter_donnees_personne", uai, ids[0] if ids else None,
                           comptes=[str(i) for i in ids])
        accounts = [_without_secrets(dict(r)) for r in await conn.fetch(
            "SELECT * FROM accounts WHERE id = ANY($1) ORDER BY created_at", ids)]
        return {
            "eleve": dict(eleve) if eleve else None,
            "personne": dict(personne) if personne else None,
            "liens": [dict(r) for r in await conn.fetch(
                "SELECT * FROM liens WHERE uai = $1 AND (eleve_id = $2 OR personne_id = $2)", uai, siecle_id)],
            "comptes": accounts,
            "rattachements": await _rows(conn, "SELECT * FROM rattachements WHERE account_id = ANY($1)", ids),
            "historique": await _rows(conn, "SELECT account_id, previous_state, state, cause, actor, at"
                                             " FROM account_history WHERE account_id = ANY($1) ORDER BY at", ids),
            "notifications": await _rows(conn, "SELECT id, account_id, channel, variant, status, reason,"
                                                " requested_at, settled_at FROM notifications"
                                                " WHERE account_id = ANY($1) ORDER BY requested_at", ids),
            "campagnes": await _rows(conn, "SELECT campaign_id, account_id, notification_id, division, channel,"
                                            " status, reason, settled_at FROM campaign_items"
                                            " WHERE account_id = ANY($1)", ids),
            "remplacements": await _rows(conn, "SELECT * FROM replacements WHERE account_id = ANY($1)"
                                                " OR replaced_id = ANY($1)", ids),
            "journal": [dict(r) for r in await conn.fetch(
                "SELECT at, actor_id, actor_name, actor_role, uai, action, account_id, details FROM audit_log"
                " WHERE account_id = ANY($1) OR details -> 'comptes' ?| $2 ORDER BY at, id",
                ids, [str(i) for i in ids])] if ids else [],
        }


def _without_secrets(account: dict[str, Any]) -> dict[str, Any]:
    """The sealed temporary password is not exported: the export says whether one is held."""
    sealed = account.pop("sealed_temp_password", None)
    account["mot_de_passe_provisoire"] = "détenu, chiffré (non exporté)" if sealed else "aucun"
    return account


async def _rows(conn: Any, sql: str, ids: list[Any]) -> list[dict[str, Any]]:
    return [dict(r) for r in await conn.fetch(sql, ids)] if ids else []
