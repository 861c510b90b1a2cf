"""The statistics use cases: one screen's tables for an establishment, or the academy view."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from teleservices.shared.db import Database
from teleservices.stats import figures, followup, queries
from teleservices.stats.domain.tables import Synthesis
from teleservices.stats.settings import StatsSettings


class Synthese(StrEnum):
    """The statistics screens of an establishment: the guide's three (§5), then those beyond the legacy."""

    eleves = "eleves"
    responsables = "responsables"
    acces = "acces"
    activation = "activation"
    expiration = "expiration"
    campagnes = "campagnes"


@dataclass
class Statistics:
    """Reads the figures from the read models, each screen in one consistent snapshot."""

    db: Database
    settings: StatsSettings

    async def establishment(self, uai: str, synthese: Synthese, now: datetime | None = None) -> Synthesis:
        """Every table of one screen of an establishment."""
        now = now or datetime.now(UTC)
        async with self.db.connection() as conn, conn.transaction(isolation="repeatable_read", readonly=True):
            if synthese is Synthese.eleves:
                return await queries.eleves(conn, uai)
            if synthese is Synthese.responsables:
                annee = await conn.fetchval("SELECT annee_scolaire FROM establishments WHERE uai = $1", uai)
                start = queries.school_year_start(annee, self.settings.school_year_start_month, now)
                return await queries.responsables(conn, uai, start)
            if synthese is Synthese.acces:
                return await followup.acces(conn, uai)
            if synthese is Synthese.activation:
                return await followup.activation(conn, uai)
            if synthese is Synthese.expiration:
                return await followup.expiration(
                    conn, uai, now, timedelta(days=self.settings.notified_expiry_days),
                    timedelta(days=self.settings.unused_expiry_days),
                    timedelta(days=self.settings.expiring_within_days))
            return await followup.campagnes(conn, uai)

    async def academy(self, code: str, sort: str, descending: bool) -> Synthesis:
        """Every establishment of an academy with its figures (those changed a moment ago recomputed first)."""
        await figures.refresh(self.db, academy=code)
        async with self.db.connection() as conn, conn.transaction(isolation="repeatable_read", readonly=True):
            return await queries.academy(conn, code, sort, descending)
