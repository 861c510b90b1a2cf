"""Purge after departure: what the sync service holds on the pupils and persons the accounts service deleted
(ENT regulatory act, art. 6) — departures kept for continuity, the last snapshot's rows, continuity reviews.
Import reports keep counts and SIECLE ids only; the SIECLE exports themselves go after a week."""

from __future__ import annotations

from teleservices.shared.kafka.consumer import HandlerContext
from teleservices.shared.messages.catalog import PersonalDataPurged


async def personal_data_purged(event: PersonalDataPurged, ctx: HandlerContext) -> None:
    """Delete the rows about these pupils and persons of the establishment (idempotent)."""
    if not event.eleve_ids and not event.personne_ids:
        return
    conn, uai, eleves, personnes = ctx.conn, event.uai, event.eleve_ids, event.personne_ids
    await conn.execute("SELECT 1 FROM establishments WHERE uai = $1 FOR UPDATE", uai)  # not during an import
    await conn.execute("DELETE FROM departures WHERE uai = $1 AND eleve_id = ANY($2::text[])", uai, eleves)
    await conn.execute("DELETE FROM liens WHERE uai = $1 AND (eleve_id = ANY($2::text[])"
                       " OR personne_id = ANY($3::text[]))", uai, eleves, personnes)
    await conn.execute("DELETE FROM eleves WHERE uai = $1 AND eleve_id = ANY($2::text[])", uai, eleves)
    await conn.execute("DELETE FROM personnes WHERE uai = $1 AND personne_id = ANY($2::text[])", uai, personnes)
    await conn.execute("DELETE FROM continuity_reviews WHERE (uai = $1 AND eleve_id = ANY($2::text[]))"
                       " OR (candidate_uai = $1 AND candidate_eleve_id = ANY($2::text[]))", uai, eleves)


HANDLERS = {PersonalDataPurged: personal_data_purged}
"""Added to the sync service's consumer group on the accounts' events (app.py)."""
