"""SQL of the sync service: the last applied snapshot per establishment, departures, runs, reviews."""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import Any

import asyncpg

from teleservices.shared.messages.siecle import EleveData, PersonneData
from teleservices.sync.domain.snapshot import Snapshot


async def known_establishment(conn: asyncpg.Connection, uai: str, for_update: bool = False) -> asyncpg.Record | None:
    """The establishment as the accounts service announced it (None if unknown)."""
    row: asyncpg.Record | None = await conn.fetchrow(
        "SELECT * FROM establishments WHERE uai = $1" + (" FOR UPDATE" if for_update else ""), uai)
    return row


async def remember_establishment(conn: asyncpg.Connection, uai: str, name: str, academy: str) -> None:
    """Record an establishment the import may feed."""
    await conn.execute("INSERT INTO establishments (uai, name, academy) VALUES ($1, $2, $3)"
                       " ON CONFLICT (uai) DO UPDATE SET name = $2, academy = $3", uai, name, academy)


async def load_snapshot(conn: asyncpg.Connection, uai: str) -> Snapshot:
    """What the last applied import left."""
    eleves = {r["eleve_id"]: EleveData.model_validate(r["data"])
              for r in await conn.fetch("SELECT eleve_id, data FROM eleves WHERE uai = $1", uai)}
    personnes = {r["personne_id"]: PersonneData.model_validate(r["data"])
                 for r in await conn.fetch("SELECT personne_id, data FROM personnes WHERE uai = $1", uai)}
    liens = {(r["eleve_id"], r["personne_id"]): r["niveau"]
             for r in await conn.fetch("SELECT eleve_id, personne_id, niveau FROM liens WHERE uai = $1", uai)}
    return Snapshot(eleves, personnes, liens)


async def store_snapshot(conn: asyncpg.Connection, uai: str, snapshot: Snapshot) -> None:
    """Replace the establishment's snapshot (in the import's transaction)."""
    for table in ("eleves", "personnes", "liens"):
        await conn.execute(f"DELETE FROM {table} WHERE uai = $1", uai)
    await conn.copy_records_to_table(
        "eleves", columns=["uai", "eleve_id", "ine", "nom", "prenom", "date_naissance", "data"],
        records=[(uai, e.eleve_id, e.ine, e.nom, e.prenom, e.date_naissance, e.model_dump(mode="json"))
                 for e in snapshot.eleves.values()])
    await conn.copy_records_to_table("personnes", columns=["uai", "personne_id", "data"], records=[
        (uai, p.personne_id, p.model_dump(mode="json")) for p in snapshot.personnes.values()])
    await conn.copy_records_to_table("liens", columns=["uai", "eleve_id", "personne_id", "niveau"], records=[
        (uai, eleve_id, personne_id, niveau) for (eleve_id, personne_id), niveau in snapshot.liens.items()])


async def record_departures(conn: asyncpg.Connection, uai: str, departed: list[EleveData]) -> None:
    """Keep who left, to recognise them when they arrive elsewhere."""
    await conn.executemany(
        "INSERT INTO departures (uai, eleve_id, ine, nom, prenom, date_naissance) VALUES ($1, $2, $3, $4, $5, $6)"
        " ON CONFLICT (uai, eleve_id) DO UPDATE SET left_at = now()",
        [(uai, e.eleve_id, e.ine, e.nom, e.prenom, e.date_naissance) for e in departed])


async def certain_origins(conn: asyncpg.Connection, uai: str, academy: str, ines: list[str]) -> dict[str, str]:
    """INE → the other establishment of the academy the pupil comes from (present there or departed)."""
    rows = await conn.fetch(
        "SELECT x.ine, x.uai FROM (SELECT ine, uai FROM eleves UNION ALL SELECT ine, uai FROM departures) x"
        " JOIN establishments e ON e.uai = x.uai WHERE x.ine = ANY($1) AND x.uai <> $2 AND e.academy = $3",
        ines, uai, academy)
    return {r["ine"]: r["uai"] for r in rows}


async def possible_origins(conn: asyncpg.Connection, uai: str, academy: str,
                           eleves: list[EleveData]) -> list[tuple[str, str, str]]:
    """(pupil, other establishment, its pupil) with the same names and birth date elsewhere in the academy."""
    known = [e for e in eleves if e.date_naissance is not None]
    if not known:
        return []
    rows = await conn.fetch(
        "WITH arriving (eleve_id, nom, prenom, date_naissance) AS ("
        "  SELECT * FROM unnest($3::text[], $4::text[], $5::text[], $6::date[]))"
        " SELECT a.eleve_id, x.uai, x.eleve_id AS candidate FROM arriving a"
        " JOIN (SELECT uai, eleve_id, nom, prenom, date_naissance FROM departures UNION ALL"
        "       SELECT uai, eleve_id, nom, prenom, date_naissance FROM eleves) x"
        "   ON lower(x.nom) = lower(a.nom) AND lower(x.prenom) = lower(a.prenom)"
        "  AND x.date_naissance = a.date_naissance"
        " JOIN establishments e ON e.uai = x.uai WHERE x.uai <> $1 AND e.academy = $2",
        uai, academy, [e.eleve_id for e in known], [e.nom for e in known], [e.prenom for e in known],
        [e.date_naissance for e in known])
    return [(r["eleve_id"], r["uai"], r["candidate"]) for r in rows]


async def add_review(conn: asyncpg.Connection, uai: str, eleve_id: str, candidate_uai: str,
                     candidate_eleve_id: str, reason: str) -> None:
    """Put a suspected continuity on the review list."""
    await conn.execute(
        "INSERT INTO continuity_reviews (uai, eleve_id, candidate_uai, candidate_eleve_id, reason)"
        " VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING", uai, eleve_id, candidate_uai, candidate_eleve_id,
        reason)


async def reviews(conn: asyncpg.Connection, uai: str) -> list[dict[str, Any]]:
    """The establishment's continuity review list."""
    rows = await conn.fetch("SELECT * FROM continuity_reviews WHERE uai = $1 ORDER BY id", uai)
    return [dict(r) for r in rows]


async def save_run(conn: asyncpg.Connection, run_id: uuid.UUID, uai: str | None, status: str, dry_run: bool,
                   forced: bool, annee: int | None, horodatage: datetime | None, report: dict[str, Any], actor: str,
                   started_at: datetime) -> None:
    """Keep a run and its report."""
    await conn.execute(
        "INSERT INTO runs (id, uai, status, dry_run, forced, annee_scolaire, horodatage, report, actor, started_at)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        run_id, uai, status, dry_run, forced, annee, horodatage, json.loads(json.dumps(report, default=str)), actor,
        started_at)


async def mark_applied(conn: asyncpg.Connection, uai: str, annee: int, horodatage: datetime | None,
                       run_id: uuid.UUID) -> None:
    """The establishment now holds this export."""
    await conn.execute("UPDATE establishments SET annee_scolaire = $2, last_horodatage = $3, last_run_id = $4"
                       " WHERE uai = $1", uai, annee, horodatage, run_id)


async def runs(conn: asyncpg.Connection, uai: str, limit: int = 50) -> list[dict[str, Any]]:
    """The establishment's runs, newest first."""
    rows = await conn.fetch("SELECT id, status, dry_run, forced, annee_scolaire, horodatage, actor, started_at,"
                            " finished_at, report->'counts' AS counts FROM runs WHERE uai = $1"
                            " ORDER BY started_at DESC LIMIT $2", uai, limit)
    return [dict(r) for r in rows]


async def run(conn: asyncpg.Connection, run_id: uuid.UUID) -> asyncpg.Record | None:
    """One run with its report."""
    row: asyncpg.Record | None = await conn.fetchrow("SELECT * FROM runs WHERE id = $1", run_id)
    return row
