"""Delivery results from the notifier: only a delivered letter changes an account's state and password."""

from __future__ import annotations

from dataclasses import dataclass

from teleservices.accounts import events, lifecycle
from teleservices.accounts import repository as repo
from teleservices.accounts.campaigns import settle_item
from teleservices.accounts.settings import AccountsSettings
from teleservices.shared.kafka.consumer import HandlerContext
from teleservices.shared.messages.catalog import (
    LetterVariant,
    NotificationDelivered,
    NotificationFailed,
    TemporaryCredentialIssued,
)
from teleservices.shared.security.passwords import hash_temporary_password
from teleservices.shared.security.sealing import unseal


@dataclass
class DeliveryResults:
    """Applies the notifier's results to notifications and accounts."""

    settings: AccountsSettings

    async def delivered(self, event: NotificationDelivered, ctx: HandlerContext) -> None:
        """The drawn password and the new state take effect now; the 3-month clock restarts."""
        conn = ctx.conn
        notification = await repo.find_notification(conn, event.notification_id)
        if notification is None or notification["status"] != "pending":
            await settle_item(conn, event.notification_id, event.channel, None)  # a free email to many
            return  # an activation or free email: no account change follows
        await repo.settle_notification(conn, event.notification_id, "delivered", event.delivered_at)
        await settle_item(conn, event.notification_id, event.channel, None)
        account, _ = await repo.load_account(conn, event.account_id, for_update=True, wait=True)
        if account.closed_at is not None:
            return
        account.notification_delivered(LetterVariant(notification["variant"]), event.channel, event.delivered_at)
        sealed = notification["sealed_password"]
        await lifecycle.store(conn, account, actor="notifier", sealed_temp_password=sealed)
        if sealed:
            password = unseal(self.settings.secrets.at_rest_key.get_secret_value(), sealed, str(account.id))
            await events.emit(conn, TemporaryCredentialIssued(
                account_id=account.id, identifiant=account.identifiant, password_hash=hash_temporary_password(password),
                issued_at=event.delivered_at), str(account.id), account.uai)

    async def failed(self, event: NotificationFailed, ctx: HandlerContext) -> None:
        """A letter could not be delivered: nothing changes for the account."""
        notification = await repo.find_notification(ctx.conn, event.notification_id)
        if notification is None:
            await settle_item(ctx.conn, event.notification_id, event.channel, event.reason)  # a free email to many
        elif notification["status"] == "pending":
            await repo.settle_notification(ctx.conn, event.notification_id, "failed", lifecycle.now(), event.reason)
            await settle_item(ctx.conn, event.notification_id, event.channel, event.reason)
