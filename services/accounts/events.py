"""Emitting the accounts service's events through the outbox."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import asyncpg

from teleservices.accounts.domain.model import Account, StateChange
from teleservices.shared.kafka.outbox import enqueue, enqueue_many
from teleservices.shared.logs import correlation_id
from teleservices.shared.messages.catalog import (
    AccountAttached,
    AccountCreated,
    AccountDetached,
    AccountStateChanged,
    Population,
)
from teleservices.shared.messages.envelope import Envelope, Message
from teleservices.shared.messages.topics import ACCOUNTS_EVENTS, Topic


async def emit(conn: asyncpg.Connection, payload: Message, key: str, uai: str | None,
               topic: Topic = ACCOUNTS_EVENTS) -> None:
    """Write an event (or command) to the outbox in the caller's transaction."""
    await enqueue(conn, topic, key, Envelope.wrap(payload, uai=uai, correlation_id=correlation_id.get()))


async def account_created(conn: asyncpg.Connection, account: Account) -> None:
    """Announce a new account."""
    await emit(conn, AccountCreated(account_id=account.id, uai=account.uai, population=account.population,
                                    identifiant=account.identifiant), str(account.id), account.uai)


async def accounts_created(conn: asyncpg.Connection, accounts: list[Account]) -> None:
    """Announce many new accounts at once."""
    cid = correlation_id.get()
    await enqueue_many(conn, ACCOUNTS_EVENTS, [
        (str(a.id), Envelope.wrap(AccountCreated(account_id=a.id, uai=a.uai, population=a.population,
                                                 identifiant=a.identifiant), uai=a.uai, correlation_id=cid))
        for a in accounts])


async def state_changes(conn: asyncpg.Connection, account: Account, changes: list[StateChange]) -> None:
    """Announce each state change the account recorded."""
    await state_changes_many(conn, [(account, changes)])


async def state_changes_many(conn: asyncpg.Connection, changes: list[tuple[Account, list[StateChange]]]) -> None:
    """Announce each state change accounts recorded: (account, its changes) each."""
    await emit_many(conn, [(AccountStateChanged(
        account_id=account.id, uai=account.uai, population=account.population, previous_state=change.previous.value,
        state=change.state.value, cause=change.cause, changed_at=change.at), str(account.id), account.uai)
        for account, recorded in changes for change in recorded])


async def emit_many(conn: asyncpg.Connection, messages: list[tuple[Message, str, str | None]],
                    topic: Topic = ACCOUNTS_EVENTS) -> None:
    """Write events to the outbox in the caller's transaction, in order: (payload, key, UAI) each."""
    cid = correlation_id.get()
    await enqueue_many(conn, topic, [(key, Envelope.wrap(payload, uai=uai, correlation_id=cid))
                                     for payload, key, uai in messages])


async def attached(conn: asyncpg.Connection, rows: list[tuple[uuid.UUID, str, str, str | None, Population]],
                   at: datetime | None = None) -> None:
    """Announce that accounts now give access to pupils: (account, UAI, pupil, person, population) each."""
    at, cid = at or datetime.now(UTC), correlation_id.get()
    await enqueue_many(conn, ACCOUNTS_EVENTS, [
        (str(account_id), Envelope.wrap(AccountAttached(account_id=account_id, uai=uai, eleve_id=eleve_id,
                                                        personne_id=personne_id, population=population, at=at),
                                        uai=uai, correlation_id=cid))
        for account_id, uai, eleve_id, personne_id, population in rows])


async def detached(conn: asyncpg.Connection, account_id: uuid.UUID, uai: str, eleve_id: str,
                   population: Population, at: datetime) -> None:
    """Announce that an account no longer gives access to a pupil."""
    await emit(conn, AccountDetached(account_id=account_id, uai=uai, eleve_id=eleve_id, population=population,
                                     at=at), str(account_id), uai)
