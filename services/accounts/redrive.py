"""Stuck campaigns are re-driven: their pending letters' jobs are sent again, from what the outbox kept.

A job can be lost after it left PostgreSQL (a broker keeping its log in memory restarted), or its results can
(the notifier's events on such a broker). A campaign with letters still pending and no result for
`campaign_stuck_after_s` has the jobs of those letters sent again as new messages marked `redriven`; the notifier
delivers what it never delivered and reports again what it did, and both sides ignore what they already applied.
A letter sent alone from an account's page is watched the same way.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from dataclasses import dataclass
from datetime import timedelta

import asyncpg

from teleservices.accounts.settings import AccountsSettings
from teleservices.shared.db import Database
from teleservices.shared.kafka.outbox import enqueue, enqueue_many
from teleservices.shared.messages.catalog import NotifyBatch, SendFreeEmail, SendNotification
from teleservices.shared.messages.envelope import Envelope
from teleservices.shared.messages.topics import NOTIFIER_JOBS, NOTIFIER_URGENT
from teleservices.shared.metrics import CAMPAIGN_LETTERS_PENDING, CAMPAIGNS_RUNNING

log = logging.getLogger(__name__)

_STUCK_SQL = """
SELECT c.id, c.uai, c.kind FROM campaigns c
WHERE EXISTS (SELECT 1 FROM campaign_items i WHERE i.campaign_id = c.id AND i.status = 'en_attente')
  AND greatest(c.created_at, c.redriven_at,
               (SELECT max(i.settled_at) FROM campaign_items i WHERE i.campaign_id = c.id)) < now() - $1::interval
FOR UPDATE OF c SKIP LOCKED
"""


@dataclass
class StuckCampaigns:
    """Watches campaigns for lack of progress and re-drives their pending jobs."""

    db: Database
    settings: AccountsSettings

    async def watch(self) -> None:
        """Check every `campaign_watch_every_s` until cancelled."""
        while True:
            await asyncio.sleep(self.settings.campaign_watch_every_s)
            await self.redrive()
            await self.measure()

    async def measure(self) -> None:
        """Campaigns running and letters pending, for the operators' dashboard."""
        async with self.db.connection() as conn:
            row = await conn.fetchrow("SELECT count(DISTINCT campaign_id) AS running, count(*) AS pending"
                                      " FROM campaign_items WHERE status = 'en_attente'")
        CAMPAIGNS_RUNNING.set(row["running"])
        CAMPAIGN_LETTERS_PENDING.set(row["pending"])

    async def redrive(self) -> int:
        """Send again the pending letters' jobs of every stuck campaign; return how many letters were pending."""
        letters = 0
        async with self.db.transaction() as conn:
            for campaign in await conn.fetch(_STUCK_SQL, timedelta(seconds=self.settings.campaign_stuck_after_s)):
                pending = {r["notification_id"] for r in await conn.fetch(
                    "SELECT notification_id FROM campaign_items WHERE campaign_id = $1 AND status = 'en_attente'",
                    campaign["id"])}
                jobs = await self._jobs_again(conn, campaign, pending)
                await enqueue_many(conn, NOTIFIER_JOBS, jobs, spread_from=0)
                await conn.execute("UPDATE campaigns SET redriven_at = now() WHERE id = $1", campaign["id"])
                letters += len(pending)
                log.warning("campaign re-driven", extra={"campaign_id": str(campaign["id"]), "pending": len(pending),
                                                         "jobs": len(jobs)})
            letters += await self._singles_again(conn)
        return letters

    async def _singles_again(self, conn: asyncpg.Connection) -> int:
        """Letters sent one at a time from an account's page, pending for too long: sent again, as sent."""
        stuck = [r["id"] for r in await conn.fetch(
            "SELECT n.id FROM notifications n WHERE n.status = 'pending'"
            " AND NOT EXISTS (SELECT 1 FROM campaign_items i WHERE i.notification_id = n.id)"
            " AND greatest(n.requested_at, n.redriven_at) < now() - $1::interval FOR UPDATE OF n SKIP LOCKED",
            timedelta(seconds=self.settings.campaign_stuck_after_s))]
        if not stuck:
            return 0
        rows = await conn.fetch("SELECT topic, message_key, envelope FROM outbox WHERE topic = ANY($1::text[])"
                                " AND message_key = ANY($2::text[]) ORDER BY id",
                                [NOTIFIER_URGENT.name, NOTIFIER_JOBS.name], [str(n) for n in stuck])
        for row in rows:
            sent = Envelope.model_validate_json(row["envelope"])
            command = sent.open()
            if isinstance(command, NotifyBatch | SendNotification):
                again = command.model_copy(update={"redriven": True})
                await enqueue(conn, NOTIFIER_URGENT, row["message_key"],
                              Envelope.wrap(again, uai=sent.uai, correlation_id=sent.correlation_id))
        await conn.execute("UPDATE notifications SET redriven_at = now() WHERE id = ANY($1::uuid[])", stuck)
        log.warning("single letters re-driven", extra={"letters": len(stuck)})
        return len(stuck)

    async def _jobs_again(self, conn: asyncpg.Connection, campaign: asyncpg.Record,
                          pending: set[uuid.UUID]) -> list[tuple[str, Envelope]]:
        """The campaign's jobs as first sent (kept by the outbox), narrowed to the pending letters."""
        if campaign["kind"] == "courriel_libre":
            rows = await conn.fetch("SELECT message_key, envelope FROM outbox WHERE topic = $1"
                                    " AND message_key = ANY($2::text[]) ORDER BY id", NOTIFIER_JOBS.name,
                                    [str(n) for n in pending])
        else:
            rows = await conn.fetch("SELECT message_key, envelope FROM outbox WHERE topic = $1"
                                    " AND message_key LIKE $2 ORDER BY id", NOTIFIER_JOBS.name, f"{campaign['id']}:%")
        jobs: list[tuple[str, Envelope]] = []
        for row in rows:
            sent = Envelope.model_validate_json(row["envelope"])
            command = sent.open()
            if isinstance(command, NotifyBatch):
                still = tuple(letter for letter in command.letters if letter.notification_id in pending)
                if not still:
                    continue
                again: NotifyBatch | SendFreeEmail = command.model_copy(update={"letters": still, "redriven": True})
            elif isinstance(command, SendFreeEmail):
                again = command.model_copy(update={"redriven": True})
            else:
                continue
            jobs.append((row["message_key"], Envelope.wrap(again, uai=campaign["uai"],
                                                           correlation_id=sent.correlation_id)))
        return jobs
