"""Campaign jobs: a division chunk's letters, emails sent concurrently, paper letters printed in one PDF.

Each letter's result is recorded (with its event) in its own small transaction as soon as it is known, so a job
retried after a crash or an SMTP outage skips what was already delivered: at least once, rarely twice, and never
with a second password (the password travels sealed in the job and does not change on a retry).
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import asyncpg

from teleservices.notifier import letters
from teleservices.notifier.results import report_again, result_event
from teleservices.notifier.service import Notifier, PermanentRefusal
from teleservices.notifier.settings import NotifierSettings
from teleservices.shared.db import Database
from teleservices.shared.kafka.consumer import HandlerContext, TransientError
from teleservices.shared.kafka.outbox import enqueue
from teleservices.shared.messages.catalog import (
    Channel,
    NotifyBatch,
    SendNotification,
)
from teleservices.shared.messages.envelope import Envelope
from teleservices.shared.messages.topics import NOTIFIER_EVENTS
from teleservices.shared.metrics import EMAILS, JOBS_IN_FLIGHT, PDF_LETTERS, PDF_SECONDS
from teleservices.shared.security.sealing import unseal

log = logging.getLogger(__name__)
JOBS_CONSUMER = "jobs"
"""The notifier's consumer of notifier.jobs (its group is the topic prefix + this name)."""
Printer = Callable[[NotifyBatch, list[tuple[SendNotification, str | None]]], Awaitable[bytes]]
"""Renders the paper letters of a job (with their clear passwords) into one PDF."""


@dataclass
class CampaignJobs:
    """Executes NotifyBatch jobs."""

    db: Database
    settings: NotifierSettings
    notifier: Notifier
    printer: Printer
    concurrency: int = 8

    async def notify_batch(self, job: NotifyBatch, ctx: HandlerContext) -> None:
        """Deliver every letter of the job not delivered yet; a temporary SMTP failure retries the job later."""
        with JOBS_IN_FLIGHT.labels(JOBS_CONSUMER).track_inprogress():
            await self._notify_batch(job, ctx)

    async def _notify_batch(self, job: NotifyBatch, ctx: HandlerContext) -> None:
        ids = [letter.notification_id for letter in job.letters]
        done = {r["notification_id"] for r in await ctx.conn.fetch(
            "SELECT notification_id FROM deliveries WHERE notification_id = ANY($1::uuid[])", ids)}
        if job.redriven and done:  # their results may be what was lost: report them again
            await report_again(ctx.conn, list(done))
        pending = [letter for letter in job.letters if letter.notification_id not in done]
        paper = [letter for letter in pending if letter.channel is Channel.paper]
        email = [letter for letter in pending if letter.channel is Channel.email]
        if paper:
            await self._print(job, paper)
        limit = asyncio.Semaphore(self.concurrency)
        outcomes = await asyncio.gather(*(self._email(letter, limit, job.templates) for letter in email),
                                        return_exceptions=True)
        transient = [o for o in outcomes if isinstance(o, TransientError)]
        other = [o for o in outcomes if isinstance(o, BaseException) and not isinstance(o, TransientError)]
        if other:
            raise other[0]
        if transient:
            raise TransientError(f"{len(transient)} courriel(s) à réessayer")
        log.info("job done", extra={"campaign_id": str(job.campaign_id), "division_chunk": job.chunk,
                                    "letters": len(job.letters), "already_done": len(done)})

    def _password(self, letter: SendNotification) -> str | None:
        if not letter.sealed_password:
            return None
        return unseal(self.settings.secrets.transit_key.get_secret_value(), letter.sealed_password,
                      str(letter.notification_id))

    async def _email(self, letter: SendNotification, limit: asyncio.Semaphore, templates: dict[str, str]) -> None:
        try:
            await self._send_one(letter, limit, templates)
        except TransientError:
            raise
        except Exception as exc:  # a bad letter is reported as failed; the job's other letters go on
            log.exception("letter failed", extra={"notification_id": str(letter.notification_id)})
            await self._record(letter, None, f"erreur d'envoi ({type(exc).__name__})")

    async def _send_one(self, letter: SendNotification, limit: asyncio.Semaphore,
                        templates: dict[str, str]) -> None:
        if not letter.recipient.email:
            await self._record(letter, None, "aucune adresse de messagerie")
            return
        message = letters.render_email(letter, self._password(letter), self.settings.sender,
                                       self.settings.message_id_domain, templates=templates)
        async with limit:
            try:
                await self.notifier.smtp_send(message)
            except PermanentRefusal as refusal:
                await self._record(letter, None, refusal.reason)
                return
        await self._record(letter, message["Message-ID"], None)

    async def _print(self, job: NotifyBatch, paper: list[SendNotification]) -> None:
        with PDF_SECONDS.time():
            pdf = await self.printer(job, [(letter, self._password(letter)) for letter in paper])
        PDF_LETTERS.inc(len(paper))
        document_id = uuid.uuid5(job.campaign_id, f"{job.division}:{job.chunk}")
        async with self.db.transaction() as conn:
            await conn.execute(
                "INSERT INTO documents (id, campaign_id, uai, division, chunk, content)"
                " VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (id) DO UPDATE SET content = $6, created_at = now()",
                document_id, job.campaign_id, job.uai, job.division, job.chunk, pdf)
            for letter in paper:
                await self._record_in(conn, letter, f"document:{document_id}", None)

    async def _record(self, letter: SendNotification, message_id: str | None, failure: str | None) -> None:
        async with self.db.transaction() as conn:
            await self._record_in(conn, letter, message_id, failure)

    async def _record_in(self, conn: asyncpg.Connection, letter: SendNotification, message_id: str | None,
                         failure: str | None) -> None:
        now = datetime.now(UTC)
        inserted = await conn.fetchval(
            "INSERT INTO deliveries (notification_id, account_id, uai, channel, status, message_id, reason, settled_at)"
            " VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING RETURNING true",
            letter.notification_id, letter.account_id, letter.uai, letter.channel.value,
            "failed" if failure else "delivered", message_id, failure, now)
        if inserted:
            if letter.channel is Channel.email:
                EMAILS.labels("failed" if failure else "sent").inc()
            await enqueue(conn, NOTIFIER_EVENTS, str(letter.account_id),
                          Envelope.wrap(result_event(letter.notification_id, letter.account_id, letter.channel,
                                                     failure, now), uai=letter.uai))

