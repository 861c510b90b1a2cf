"""Campaign jobs: a division chunk's letters, emails sent concurrently, paper letters printed in one PDF.

Results are recorded (with their events) as they come, in small groups — a transaction per RESULTS_GROUP emails
or RESULTS_WAIT_S, then what is left when the job ends, failed or not, before its offset is committed — so a job
retried after a crash or an SMTP outage skips what was already delivered: at least once (a crash resends at most
the group not yet recorded, with the same Message-ID), and never with a second password (the password travels
sealed in the job and does not change on a retry). Grouping spares PostgreSQL a commit per email, which was the
busiest thing it did during a rush.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from teleservices.notifier import letters
from teleservices.notifier.results import Settled, record_results, report_again
from teleservices.notifier.service import Notifier, PermanentRefusal
from teleservices.notifier.settings import NotifierSettings
from teleservices.shared.db import Database
from teleservices.shared.kafka.consumer import HandlerContext, TransientError
from teleservices.shared.messages.catalog import (
    Channel,
    NotifyBatch,
    SendNotification,
)
from teleservices.shared.metrics import JOBS_IN_FLIGHT, PDF_LETTERS
from teleservices.shared.security.sealing import unseal

log = logging.getLogger(__name__)
JOBS_CONSUMER = "jobs"
"""The notifier's consumer of notifier.jobs (its group is the topic prefix + this name)."""
Printer = Callable[[NotifyBatch, list[tuple[SendNotification, str | None]]], Awaitable[bytes]]
"""Renders the paper letters of a job (with their clear passwords) into one PDF."""
RESULTS_GROUP = 25
"""Email results recorded together, in one transaction."""
RESULTS_WAIT_S = 0.25
"""A result waits at most about this long for its group (checked as the next ones come)."""


@dataclass
class _Results:
    """A job's email results not recorded yet."""

    db: Database
    waiting: list[Settled] = field(default_factory=list)
    since: float = 0.0

    async def add(self, result: Settled) -> None:
        if not self.waiting:
            self.since = time.monotonic()
        self.waiting.append(result)
        if len(self.waiting) >= RESULTS_GROUP or time.monotonic() - self.since >= RESULTS_WAIT_S:
            await self.flush()

    async def flush(self) -> None:
        group, self.waiting = self.waiting, []
        if group:
            async with self.db.transaction() as conn:
                await record_results(conn, group)


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
        results = _Results(self.db)
        try:
            outcomes = await asyncio.gather(*(self._email(letter, limit, job.templates, results) for letter in email),
                                            return_exceptions=True)
        finally:  # what was sent is recorded even when the job fails, or its retry would send it again
            await results.flush()
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

    async def _email(self, letter: SendNotification, limit: asyncio.Semaphore, templates: dict[str, str],
                     results: _Results) -> None:
        try:
            message_id, failure = await self._send_one(letter, limit, templates)
        except TransientError:
            raise
        except Exception as exc:  # a bad letter is reported as failed; the job's other letters go on
            log.exception("letter failed", extra={"notification_id": str(letter.notification_id)})
            message_id, failure = None, f"erreur d'envoi ({type(exc).__name__})"
        await results.add(Settled(letter, message_id, failure, datetime.now(UTC)))

    async def _send_one(self, letter: SendNotification, limit: asyncio.Semaphore,
                        templates: dict[str, str]) -> tuple[str | None, str | None]:
        """The email's Message-ID once sent, or why it was not."""
        if not letter.recipient.email:
            return None, "aucune adresse de messagerie"
        message = letters.render_email(letter, self._password(letter), self.settings.sender,
                                       self.settings.message_id_domain, templates=templates)
        async with limit:
            try:
                await self.notifier.smtp_send(message)
            except PermanentRefusal as refusal:
                return None, refusal.reason
        return message["Message-ID"], None

    async def _print(self, job: NotifyBatch, paper: list[SendNotification]) -> None:
        pdf = await self.printer(job, [(letter, self._password(letter)) for letter in paper])
        PDF_LETTERS.inc(len(paper))
        document_id = uuid.uuid5(job.campaign_id, f"{job.division}:{job.chunk}")
        async with self.db.transaction() as conn:
            await conn.execute(
                "INSERT INTO documents (id, campaign_id, uai, division, chunk, content)"
                " VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (id) DO UPDATE SET content = $6, created_at = now()",
                document_id, job.campaign_id, job.uai, job.division, job.chunk, pdf)
            at = datetime.now(UTC)
            await record_results(conn, [Settled(letter, f"document:{document_id}", None, at) for letter in paper])
