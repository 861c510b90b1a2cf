"""The notifier's handling of its commands: deliver, record, report the result through the outbox."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import Message

from teleservices.notifier import letters
from teleservices.notifier.mailer import SmtpPool
from teleservices.notifier.results import report_again, result_event
from teleservices.notifier.settings import NotifierSettings
from teleservices.shared.kafka.consumer import HandlerContext, TransientError
from teleservices.shared.messages.catalog import (
    Channel,
    SendActivationEmail,
    SendFreeEmail,
    SendNotification,
)
from teleservices.shared.messages.topics import NOTIFIER_EVENTS
from teleservices.shared.metrics import EMAILS
from teleservices.shared.security.sealing import unseal

log = logging.getLogger(__name__)


class PermanentRefusal(Exception):
    """The SMTP server refused the message for good (5xx)."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Delivery:
    """Who a delivery is for, to record and report it."""

    notification_id: uuid.UUID
    account_id: uuid.UUID
    uai: str
    channel: Channel


@dataclass
class Notifier:
    """Delivers letters and emails, and reports each result."""

    settings: NotifierSettings
    pool: SmtpPool

    async def send_notification(self, command: SendNotification, ctx: HandlerContext) -> None:
        """Deliver one notification letter by email."""
        delivery = Delivery(command.notification_id, command.account_id, command.uai, command.channel)
        if await self._already_settled(ctx, delivery):
            if command.redriven:  # its result may be what was lost
                await report_again(ctx.conn, [command.notification_id])
            return
        if command.channel is not Channel.email or not command.recipient.email:
            await self._settle(ctx, delivery, None, "aucune adresse de messagerie" if not command.recipient.email
                               else "canal non pris en charge par ce service")
            return
        password = None
        if command.sealed_password:
            password = unseal(self.settings.secrets.transit_key.get_secret_value(), command.sealed_password,
                              str(command.notification_id))
        await self._deliver(ctx, delivery, letters.render_email(command, password, self.settings.sender,
                                                                self.settings.message_id_domain))

    async def send_activation_email(self, command: SendActivationEmail, ctx: HandlerContext) -> None:
        """Deliver an activation link."""
        delivery = Delivery(command.notification_id, command.account_id, command.uai, Channel.email)
        if not await self._already_settled(ctx, delivery):
            await self._deliver(ctx, delivery, letters.render_activation_email(
                command, self.settings.sender, self.settings.message_id_domain))

    async def send_free_email(self, command: SendFreeEmail, ctx: HandlerContext) -> None:
        """Deliver a free email written by staff."""
        delivery = Delivery(command.notification_id, command.account_id, command.uai, Channel.email)
        if await self._already_settled(ctx, delivery):
            if command.redriven:  # its result may be what was lost
                await report_again(ctx.conn, [command.notification_id])
        else:
            await self._deliver(ctx, delivery, letters.render_free_email(
                command, self.settings.sender, self.settings.message_id_domain))

    async def _already_settled(self, ctx: HandlerContext, delivery: Delivery) -> bool:
        status = await ctx.conn.fetchval("SELECT status FROM deliveries WHERE notification_id = $1",
                                         delivery.notification_id)
        return status is not None

    async def _deliver(self, ctx: HandlerContext, delivery: Delivery, email: Message) -> None:
        try:
            await self.smtp_send(email)
        except PermanentRefusal as refusal:
            await self._settle(ctx, delivery, None, refusal.reason)
            return
        await self._settle(ctx, delivery, email["Message-ID"], None)

    async def smtp_send(self, email: Message) -> None:
        """Hand the email to the SMTP pool; a temporary failure raises TransientError, a permanent one
        PermanentRefusal."""
        outcome = await self.pool.send(email)
        if not outcome.delivered:
            reason = outcome.reason or "refus du serveur de messagerie"
            if outcome.permanent:
                raise PermanentRefusal(reason)
            raise TransientError(reason)

    async def _settle(self, ctx: HandlerContext, delivery: Delivery, message_id: str | None,
                      failure: str | None) -> None:
        now = datetime.now(UTC)
        await ctx.conn.execute(
            "INSERT INTO deliveries (notification_id, account_id, uai, channel, status, message_id, reason, settled_at)"
            " VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            delivery.notification_id, delivery.account_id, delivery.uai, delivery.channel.value,
            "failed" if failure else "delivered", message_id, failure, now)
        EMAILS.labels("failed" if failure else "sent").inc()
        if failure:
            log.warning("notification failed", extra={"notification_id": str(delivery.notification_id),
                                                      "reason": failure})
        else:
            log.info("notification delivered", extra={"notification_id": str(delivery.notification_id),
                                                      "channel": delivery.channel.value})
        await ctx.publish(NOTIFIER_EVENTS, str(delivery.account_id),
                          result_event(delivery.notification_id, delivery.account_id, delivery.channel, failure, now))
