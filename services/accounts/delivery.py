"""Delivery results from the notifier: only a delivered letter changes an account's state and password."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from teleservices.accounts import events, lifecycle
from teleservices.accounts import repository as repo
from teleservices.accounts.campaigns import settle_item, settle_items
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
        await self.delivered_many([event], ctx)

    async def delivered_many(self, batch: list[NotificationDelivered], ctx: HandlerContext) -> None:
        """A run of deliveries (a campaign's results), with a few statements whatever its length; each delivery
        has the effect it would have alone, in order."""
        conn = ctx.conn
        notifications = {r["id"]: r for r in await conn.fetch(
            "SELECT * FROM notifications WHERE id = ANY($1::uuid[]) ORDER BY id FOR UPDATE",
            sorted({e.notification_id for e in batch}))}
        settling: dict[uuid.UUID, NotificationDelivered] = {}  # each settled once: the first delivery reported
        for event in batch:
            notification = notifications.get(event.notification_id)
            if notification is not None and notification["status"] == "pending":
                settling.setdefault(event.notification_id, event)
        await settle_items(conn, [(e.notification_id, e.channel, None) for e in batch])  # free emails too
        if not settling:
            return  # activation or free emails, or results already applied: no account change follows
        await repo.settle_notifications(conn, [(e.notification_id, e.delivered_at) for e in settling.values()],
                                        "delivered")
        accounts = await repo.load_accounts_for_update(conn, sorted({e.account_id for e in settling.values()}))
        sealed: dict[uuid.UUID, str] = {}
        credentials, delivered_to = [], {}
        for event in settling.values():
            account = accounts[event.account_id]
            if account.closed_at is not None:
                continue
            delivered_to[account.id] = account
            notification = notifications[event.notification_id]
            account.notification_delivered(LetterVariant(notification["variant"]), event.channel, event.delivered_at)
            if notification["sealed_password"]:
                sealed[account.id] = notification["sealed_password"]
                password = unseal(self.settings.secrets.at_rest_key.get_secret_value(),
                                  notification["sealed_password"], str(account.id))
                credentials.append(TemporaryCredentialIssued(
                    account_id=account.id, identifiant=account.identifiant,
                    password_hash=hash_temporary_password(password), issued_at=event.delivered_at))
        await lifecycle.store_many(conn, list(delivered_to.values()), actor="notifier", sealed_temp_passwords=sealed)
        await events.emit_many(conn, [(c, str(c.account_id), accounts[c.account_id].uai) for c in credentials])

    async def failed(self, event: NotificationFailed, ctx: HandlerContext) -> None:
        """A letter could not be delivered: nothing changes for the account."""
        notification = await repo.find_notification(ctx.conn, event.notification_id)
        if notification is None:
            await settle_item(ctx.conn, event.notification_id, event.channel, event.reason)  # a free email to many
        elif notification["status"] == "pending":
            await repo.settle_notification(ctx.conn, event.notification_id, "failed", lifecycle.now(), event.reason)
            await settle_item(ctx.conn, event.notification_id, event.channel, event.reason)
