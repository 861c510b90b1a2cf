"""The notifier's handling of notification commands: deliver, record, report the result."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime

import aiosmtplib

from teleservices.notifier import letters
from teleservices.notifier.settings import NotifierSettings
from teleservices.shared.kafka.consumer import HandlerContext, TransientError
from teleservices.shared.messages.catalog import (
    Channel,
    NotificationDelivered,
    NotificationFailed,
    SendNotification,
)
from teleservices.shared.messages.topics import NOTIFIER_EVENTS
from teleservices.shared.security.sealing import unseal

log = logging.getLogger(__name__)


@dataclass
class Notifier:
    """Delivers notification letters and reports each result through the outbox."""

    settings: NotifierSettings

    async def send_notification(self, command: SendNotification, ctx: HandlerContext) -> None:
        """Deliver one letter; a temporary SMTP failure is retried, a permanent one is reported."""
        done = await ctx.conn.fetchval("SELECT status FROM deliveries WHERE notification_id = $1",
                                       command.notification_id)
        if done is not None:
            return
        password = None
        if command.sealed_password:
            password = unseal(self.settings.secrets.transit_key.get_secret_value(), command.sealed_password,
                              str(command.notification_id))
        if command.channel is not Channel.email or not command.recipient.email:
            await self._failed(command, ctx, "canal non pris en charge par ce service" if command.recipient.email
                               else "aucune adresse de messagerie", permanent=True)
            return
        email = letters.render_email(command, password, self.settings.sender, self.settings.message_id_domain)
        try:
            await aiosmtplib.send(
                email, hostname=self.settings.smtp_host, port=self.settings.smtp_port,
                start_tls=self.settings.smtp_starttls, username=self.settings.smtp_username,
                password=self.settings.smtp_password.get_secret_value() if self.settings.smtp_password else None,
                timeout=self.settings.smtp_timeout_s,
            )
        except aiosmtplib.SMTPResponseException as exc:
            if 400 <= exc.code < 500:
                raise TransientError(f"SMTP {exc.code}") from exc
            await self._failed(command, ctx, f"refus du serveur de messagerie ({exc.code})", permanent=True)
            return
        except (aiosmtplib.SMTPException, OSError) as exc:
            raise TransientError(f"SMTP unavailable: {type(exc).__name__}") from exc
        now = datetime.now(UTC)
        await ctx.conn.execute(
            "INSERT INTO deliveries (notification_id, account_id, uai, channel, status, message_id, settled_at)"
            " VALUES ($1, $2, $3, $4, 'delivered', $5, $6)",
            command.notification_id, command.account_id, command.uai, command.channel.value, email["Message-ID"], now)
        await ctx.publish(NOTIFIER_EVENTS, str(command.account_id), NotificationDelivered(
            notification_id=command.notification_id, account_id=command.account_id, channel=command.channel,
            delivered_at=now))
        log.info("notification delivered", extra={"notification_id": str(command.notification_id),
                                                  "channel": command.channel.value})

    async def _failed(self, command: SendNotification, ctx: HandlerContext, reason: str, permanent: bool) -> None:
        await ctx.conn.execute(
            "INSERT INTO deliveries (notification_id, account_id, uai, channel, status, reason)"
            " VALUES ($1, $2, $3, $4, 'failed', $5)",
            command.notification_id, command.account_id, command.uai, command.channel.value, reason)
        await ctx.publish(NOTIFIER_EVENTS, str(command.account_id), NotificationFailed(
            notification_id=command.notification_id, account_id=command.account_id, channel=command.channel,
            reason=reason, permanent=permanent))
        log.warning("notification failed", extra={"notification_id": str(command.notification_id), "reason": reason})
