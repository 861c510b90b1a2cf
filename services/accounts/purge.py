"""Purge after departure (ENT regulatory act of 30 November 2006, art. 6: deleted within three months once an
account is no longer needed): nightly, and `teleservices privacy purge [--dry-run]`.

What goes, once the retention period (shared/privacy/retention.py, `departure_purge_days`) has passed:
- an account with no open attachment whose last attachment was detached, or which was closed, that long ago —
  with its notifications, campaign items, history, attachments and replacements (still open, it is closed first
  through the lifecycle, so its closing is announced like any other);
- a pupil who left that long ago (and is attached to no account any more) — with his links and the detached
  attachments still naming him;
- a person the purge left without any link and without any account.
Identifiers stay (never reused, by design) and so does the hash-chained staff audit trail (append-only).
Every other service deletes what it holds on `accounts.PersonalDataPurged`, emitted through the outbox in the
same transaction.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Any

import asyncpg
from fastapi import APIRouter, Request

from teleservices.accounts import audit, events, lifecycle
from teleservices.accounts.domain.model import NotAllowed
from teleservices.shared.db import Database
from teleservices.shared.kafka.outbox import enqueue_many
from teleservices.shared.logs import correlation_id
from teleservices.shared.messages.catalog import PersonalDataPurged
from teleservices.shared.messages.envelope import Envelope
from teleservices.shared.messages.topics import ACCOUNTS_EVENTS
from teleservices.shared.privacy.retention import RetentionSettings
from teleservices.shared.security.staff import Role, StaffPrincipal
from teleservices.shared.web import Staff

log = logging.getLogger(__name__)
NIGHTLY_AT = time(3, 15)
CAUSE = "données supprimées après le départ (délai de conservation écoulé)"


@dataclass
class Purged:
    """What one run deleted (or would delete) in one establishment."""

    uai: str
    account_ids: list[uuid.UUID] = field(default_factory=list)
    eleve_ids: list[str] = field(default_factory=list)
    personne_ids: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """Ids and counts only (no names: the report may be printed or logged)."""
        return {"uai": self.uai, "comptes": len(self.account_ids), "eleves": len(self.eleve_ids),
                "personnes": len(self.personne_ids), "account_ids": [str(i) for i in self.account_ids],
                "eleve_ids": self.eleve_ids, "personne_ids": self.personne_ids}


class _DryRun(Exception):
    """Rolls the savepoint of a dry run back."""


async def purge_departed(conn: asyncpg.Connection, now: datetime, keep: timedelta,
                         dry_run: bool = False) -> list[Purged]:
    """Delete what is past its retention at `now` (a parameter: the tests move the clock), in the caller's
    transaction; a dry run does the same in a savepoint rolled back, so it lists exactly what a run would delete."""
    if not dry_run:
        return await _purge(conn, now, now - keep)
    found: list[Purged] = []
    try:
        async with conn.transaction():
            found = await _purge(conn, now, now - keep)
            raise _DryRun
    except _DryRun:
        pass
    return found


async def _purge(conn: asyncpg.Connection, now: datetime, cutoff: datetime) -> list[Purged]:
    by_uai: dict[str, Purged] = {}

    def of(uai: str) -> Purged:
        return by_uai.setdefault(uai, Purged(uai))

    # 1. Accounts no longer needed: no open attachment, detached or closed before the cutoff.
    accounts = await conn.fetch(
        "SELECT a.id, a.uai, a.closed_at FROM accounts a"
        " WHERE NOT EXISTS (SELECT 1 FROM rattachements r WHERE r.account_id = a.id AND r.detached_at IS NULL)"
        " AND (a.closed_at < $1 OR coalesce((SELECT max(r.detached_at) FROM rattachements r"
        "                                    WHERE r.account_id = a.id), a.created_at) < $1)"
        " ORDER BY a.id FOR UPDATE OF a", cutoff)
    ids = [r["id"] for r in accounts]
    closed_now = [r for r in accounts if r["closed_at"] is None]
    for row in closed_now:
        await lifecycle.close_account(conn, row["id"], CAUSE, actor="purge", at=now)
    candidates = {(r["uai"], r["personne_id"]) for r in await conn.fetch(
        "SELECT DISTINCT uai, personne_id FROM rattachements WHERE account_id = ANY($1) AND personne_id IS NOT NULL",
        ids)}
    for table in ("campaign_items", "notifications", "account_history", "rattachements"):
        await conn.execute(f"DELETE FROM {table} WHERE account_id = ANY($1)", ids)
    await conn.execute("DELETE FROM replacements WHERE account_id = ANY($1) OR replaced_id = ANY($1)", ids)
    await conn.execute("DELETE FROM accounts WHERE id = ANY($1)", ids)
    for row in accounts:
        of(row["uai"]).account_ids.append(row["id"])

    # 2. Pupils who left before the cutoff (and whom no account gives access to any more).
    eleves = await conn.fetch(
        "DELETE FROM eleves e WHERE e.left_at < $1 AND NOT EXISTS (SELECT 1 FROM rattachements r"
        " WHERE r.uai = e.uai AND r.eleve_id = e.eleve_id AND r.detached_at IS NULL)"
        " RETURNING e.uai, e.eleve_id", cutoff)
    gone_uais, gone_ids = [r["uai"] for r in eleves], [r["eleve_id"] for r in eleves]
    for sql in ("DELETE FROM liens l USING unnest($1::text[], $2::text[]) AS g(uai, eleve_id)"
                " WHERE l.uai = g.uai AND l.eleve_id = g.eleve_id RETURNING l.uai, l.personne_id",
                "DELETE FROM rattachements r USING unnest($1::text[], $2::text[]) AS g(uai, eleve_id)"
                " WHERE r.uai = g.uai AND r.eleve_id = g.eleve_id AND r.detached_at IS NOT NULL"
                " RETURNING r.uai, r.personne_id"):
        candidates |= {(r["uai"], r["personne_id"]) for r in await conn.fetch(sql, gone_uais, gone_ids)
                       if r["personne_id"] is not None}
    for row in eleves:
        of(row["uai"]).eleve_ids.append(row["eleve_id"])

    # 3. Persons this purge left without any link and without any account.
    pairs = sorted(candidates)
    personnes = await conn.fetch(
        "DELETE FROM personnes p USING unnest($1::text[], $2::text[]) AS c(uai, personne_id)"
        " WHERE p.uai = c.uai AND p.personne_id = c.personne_id"
        " AND NOT EXISTS (SELECT 1 FROM liens l WHERE l.uai = p.uai AND l.personne_id = p.personne_id)"
        " AND NOT EXISTS (SELECT 1 FROM rattachements r WHERE r.uai = p.uai AND r.personne_id = p.personne_id)"
        " RETURNING p.uai, p.personne_id", [u for u, _ in pairs], [p for _, p in pairs])
    for row in personnes:
        of(row["uai"]).personne_ids.append(row["personne_id"])

    # 4. Every service deletes what it holds: one event per establishment; each account is also announced alone,
    # keyed by its id, so it follows that account's own events (its closing just now, among others) on their
    # partition: no consumer applies one of them after the deletion and brings a row back.
    purged = [p for _, p in sorted(by_uai.items())]
    for p in purged:
        p.eleve_ids.sort()
        p.personne_ids.sort()
        await events.emit(conn, PersonalDataPurged(uai=p.uai, account_ids=p.account_ids, eleve_ids=p.eleve_ids,
                                                   personne_ids=p.personne_ids, at=now), p.uai, p.uai)
    cid = correlation_id.get()
    await enqueue_many(conn, ACCOUNTS_EVENTS, [
        (str(row["id"]), Envelope.wrap(PersonalDataPurged(uai=row["uai"], account_ids=[row["id"]], eleve_ids=[],
                                                          personne_ids=[], at=now), uai=row["uai"], correlation_id=cid))
        for row in accounts])
    return purged


@dataclass
class DeparturePurge:
    """Runs the purge with the retention period in force."""

    db: Database
    retention: RetentionSettings = field(default_factory=RetentionSettings)

    @property
    def keep(self) -> timedelta:
        """How long data is kept after a departure."""
        return timedelta(days=self.retention.departure_purge_days)

    async def run(self, at: datetime | None = None, dry_run: bool = False,
                  staff: StaffPrincipal | None = None) -> list[Purged]:
        """Purge what is due now (or only list it); a run a staff member asked for is audited (counts only)."""
        at = at or lifecycle.now()
        async with self.db.transaction() as conn:
            purged = await purge_departed(conn, at, self.keep, dry_run=dry_run)
            if staff is not None and not dry_run:
                await audit.record(conn, staff, "purger_donnees_departs", None,
                                   comptes=sum(len(p.account_ids) for p in purged),
                                   eleves=sum(len(p.eleve_ids) for p in purged),
                                   personnes=sum(len(p.personne_ids) for p in purged))
        log.info("departure purge", extra={
            "dry_run": dry_run, "establishments": len(purged), "accounts": sum(len(p.account_ids) for p in purged),
            "eleves": sum(len(p.eleve_ids) for p in purged), "personnes": sum(len(p.personne_ids) for p in purged)})
        return purged

    async def nightly(self) -> None:
        """Run every night at 03:15 (server time) until cancelled."""
        while True:
            now = datetime.now().astimezone()
            next_run = datetime.combine(now.date(), NIGHTLY_AT, tzinfo=now.tzinfo)
            if next_run <= now:
                next_run += timedelta(days=1)
            await asyncio.sleep((next_run - now).total_seconds())
            await self.run()


router = APIRouter(prefix="/api/v1", tags=["protection des données"])


@router.post("/privacy/purge")
async def purge(staff: Staff, request: Request, dry_run: bool = False) -> dict[str, Any]:
    """Run the purge after departure now, or list what it would delete (academy operators only; the clock is
    the server's: retention cannot be shortened from here)."""
    if staff.role is not Role.operateur_academique:
        raise NotAllowed("role", "réservé aux opérateurs académiques")
    runner: DeparturePurge = request.app.state.departure_purge
    purged = await runner.run(dry_run=dry_run, staff=staff)
    return {"dry_run": dry_run, "conservation_jours": runner.retention.departure_purge_days,
            "etablissements": [p.as_dict() for p in purged]}
