"""Use cases of the accounts service: each runs in one transaction and emits its events through the outbox."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import asyncpg

from teleservices.accounts import repository as repo
from teleservices.accounts.domain.identifiers import identifier_base
from teleservices.accounts.domain.model import Account, ActionRefused
from teleservices.accounts.settings import AccountsSettings
from teleservices.shared.db import Database
from teleservices.shared.kafka.consumer import HandlerContext
from teleservices.shared.kafka.outbox import enqueue
from teleservices.shared.logs import correlation_id
from teleservices.shared.messages.catalog import (
    AccountCreated,
    AccountStateChanged,
    Channel,
    LetterVariant,
    NotificationDelivered,
    NotificationFailed,
    Population,
    Recipient,
    SendNotification,
    TemporaryCredentialIssued,
)
from teleservices.shared.messages.envelope import Envelope, Message
from teleservices.shared.messages.topics import ACCOUNTS_EVENTS, NOTIFIER_JOBS, Topic
from teleservices.shared.security.passwords import hash_password, new_temporary_password
from teleservices.shared.security.sealing import seal, unseal


def _now() -> datetime:
    return datetime.now(UTC)


async def _emit(conn: asyncpg.Connection, topic: Topic, key: str, payload: Message, uai: str) -> None:
    await enqueue(conn, topic, key, Envelope.wrap(payload, uai=uai, correlation_id=correlation_id.get()))


@dataclass
class AccountsService:
    """The accounts use cases, bound to the service's database and keys."""

    db: Database
    settings: AccountsSettings

    @property
    def _at_rest_key(self) -> str:
        return self.settings.secrets.at_rest_key.get_secret_value()

    @property
    def _transit_key(self) -> str:
        return self.settings.secrets.transit_key.get_secret_value()

    async def add_establishment(self, uai: str, name: str, academy: str, town: str | None) -> None:
        """Create an establishment (academy operators)."""
        async with self.db.transaction() as conn:
            await repo.add_establishment(conn, uai, name, academy, town)

    async def activate_teleservices(self, uai: str) -> None:
        """The head activates téléservices for the establishment (guide §2.1)."""
        async with self.db.transaction() as conn:
            await repo.get_establishment(conn, uai, for_update=True)
            await repo.activate_establishment(conn, uai, _now())

    async def create_account(self, uai: str, population: Population, person: dict[str, Any]) -> Account:
        """Pre-create an account in state Non notifié with a new identifier."""
        async with self.db.transaction() as conn:
            establishment = await repo.get_establishment(conn, uai)
            base = identifier_base(person["prenom"], person["nom"])
            ident = await repo.allocate_identifier(conn, establishment["academy"], base)
            account = Account(id=uuid.uuid4(), uai=uai, population=population, identifiant=ident)
            await repo.insert_account(conn, account, person)
            await _emit(conn, ACCOUNTS_EVENTS, str(account.id),
                        AccountCreated(account_id=account.id, uai=uai, population=population, identifiant=ident), uai)
        return account

    async def launch_notification(self, account_id: uuid.UUID, channel: Channel, reset_password: bool,
                                  actor: str) -> uuid.UUID:
        """Draw what the binding table says and send the letter; the state moves only on delivery."""
        async with self.db.transaction() as conn:
            account, row = await repo.load_account(conn, account_id, for_update=True)
            establishment = await repo.get_establishment(conn, account.uai)
            if establishment["activated_at"] is None:
                raise ActionRefused("uai", "les téléservices ne sont pas activés pour cet établissement")
            if channel is Channel.email and not row["email"]:
                raise ActionRefused("mode", "aucune adresse de messagerie n'est connue pour ce compte")
            plan = account.plan_notification(channel, reset_password)
            password: str | None = None
            if plan.new_password:
                password = new_temporary_password()
            elif plan.keeps_current_password and row["sealed_temp_password"]:
                password = unseal(self._at_rest_key, row["sealed_temp_password"], str(account.id))
            at_rest = seal(self._at_rest_key, password, str(account.id)) if plan.new_password and password else None
            await repo.insert_notification(conn, plan.notification_id, account.id, channel, plan.variant.value, at_rest)
            command = SendNotification(
                notification_id=plan.notification_id, account_id=account.id, uai=account.uai,
                population=account.population, channel=channel, variant=plan.variant,
                identifiant=account.identifiant, establishment_name=establishment["name"],
                services_url=self.settings.portal_url,
                recipient=Recipient(civilite=row["civilite"], nom=row["nom"], prenom=row["prenom"],
                                    email=row["email"], address_lines=tuple(row["address_lines"])),
                sealed_password=seal(self._transit_key, password, str(plan.notification_id)) if password else None,
            )
            await _emit(conn, NOTIFIER_JOBS, str(plan.notification_id), command, account.uai)
        return plan.notification_id

    async def notification_delivered(self, event: NotificationDelivered, ctx: HandlerContext) -> None:
        """A letter arrived: the drawn password and the new state take effect now."""
        conn = ctx.conn
        notification = await repo.load_notification(conn, event.notification_id)
        if notification["status"] != "pending":
            return
        account, _ = await repo.load_account(conn, event.account_id, for_update=True)
        previous = account.state
        account.notification_delivered(LetterVariant(notification["variant"]), event.channel, event.delivered_at)
        await repo.settle_notification(conn, event.notification_id, "delivered", event.delivered_at)
        sealed = notification["sealed_password"]
        await repo.save_account(conn, account, actor="notifier", sealed_temp_password=sealed)
        if sealed:
            password = unseal(self._at_rest_key, sealed, str(account.id))
            await _emit(conn, ACCOUNTS_EVENTS, str(account.id), TemporaryCredentialIssued(
                account_id=account.id, identifiant=account.identifiant, password_hash=hash_password(password),
                issued_at=event.delivered_at), account.uai)
        if account.state is not previous:
            await _emit(conn, ACCOUNTS_EVENTS, str(account.id), AccountStateChanged(
                account_id=account.id, uai=account.uai, population=account.population,
                previous_state=previous.value, state=account.state.value, cause="notification délivrée",
                changed_at=event.delivered_at), account.uai)

    async def notification_failed(self, event: NotificationFailed, ctx: HandlerContext) -> None:
        """A letter could not be delivered: nothing changes for the account."""
        notification = await repo.load_notification(ctx.conn, event.notification_id)
        if notification["status"] == "pending":
            await repo.settle_notification(ctx.conn, event.notification_id, "failed", _now(), event.reason)

    async def account_view(self, account_id: uuid.UUID) -> dict[str, Any]:
        """An account as staff see it, with its history."""
        async with self.db.connection() as conn:
            account, _ = await repo.load_account(conn, account_id)
            history = await repo.account_history(conn, account_id)
        return {
            "id": account.id, "uai": account.uai, "population": account.population, "identifiant": account.identifiant,
            "state": account.state, "notified_at": account.notified_at,
            "notification_channel": account.notification_channel,
            "history": [dict(h) for h in history],
        }

    async def account_uai(self, account_id: uuid.UUID) -> str:
        """The establishment an account belongs to (for scoping)."""
        async with self.db.connection() as conn:
            account, _ = await repo.load_account(conn, account_id)
        return account.uai


