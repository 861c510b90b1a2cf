"""SQL of the accounts service: plain parameterised queries, database errors turned into domain errors."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import asyncpg

from teleservices.accounts.domain.identifiers import identifier
from teleservices.accounts.domain.model import Account, AccountState
from teleservices.shared.messages.catalog import Channel, Population


class NotFound(LookupError):
    """No such row."""


class AlreadyExists(ValueError):
    """A row with that key exists."""


async def add_establishment(conn: asyncpg.Connection, uai: str, name: str, academy: str, town: str | None) -> None:
    """Create an establishment."""
    try:
        await conn.execute("INSERT INTO establishments (uai, name, academy, town) VALUES ($1, $2, $3, $4)",
                           uai, name, academy, town)
    except asyncpg.UniqueViolationError as exc:
        raise AlreadyExists(uai) from exc


async def get_establishment(conn: asyncpg.Connection, uai: str, for_update: bool = False) -> asyncpg.Record:
    """One establishment."""
    row = await conn.fetchrow(
        "SELECT * FROM establishments WHERE uai = $1" + (" FOR UPDATE" if for_update else ""), uai)
    if row is None:
        raise NotFound(uai)
    return row


async def activate_establishment(conn: asyncpg.Connection, uai: str, at: datetime) -> None:
    """Record that the establishment activated téléservices (first time only)."""
    await conn.execute("UPDATE establishments SET activated_at = coalesce(activated_at, $2) WHERE uai = $1", uai, at)


async def allocate_identifier(conn: asyncpg.Connection, academy: str, base: str) -> str:
    """Reserve the smallest number above those used for this base in the academy; never reuse one."""
    number = await conn.fetchval(
        "SELECT coalesce(max(number), 0) + 1 FROM identifiers WHERE academy = $1 AND base = $2", academy, base)
    while True:
        # Taken elsewhere (another academy, or "anne.dupont2"+"1" = "anne.dupont"+"21"): try the next number.
        candidate = identifier(base, number)
        inserted = await conn.fetchval(
            "INSERT INTO identifiers (identifiant, academy, base, number) VALUES ($1, $2, $3, $4)"
            " ON CONFLICT DO NOTHING RETURNING identifiant", candidate, academy, base, number)
        if inserted:
            return str(inserted)
        number += 1


async def insert_account(conn: asyncpg.Connection, account: Account, person: dict[str, Any]) -> None:
    """Store a new account with the person it belongs to."""
    await conn.execute(
        "INSERT INTO accounts (id, uai, population, identifiant, state, civilite, nom, prenom, email, address_lines)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        account.id, account.uai, account.population.value, account.identifiant, account.state.value,
        person.get("civilite"), person["nom"], person["prenom"], person.get("email"),
        list(person.get("address_lines") or []),
    )


def _account(row: asyncpg.Record) -> Account:
    return Account(
        id=row["id"], uai=row["uai"], population=Population(row["population"]), identifiant=row["identifiant"],
        state=AccountState(row["state"]), notified_at=row["notified_at"],
        notification_channel=Channel(row["notification_channel"]) if row["notification_channel"] else None,
    )


async def load_account(conn: asyncpg.Connection, account_id: uuid.UUID,
                       for_update: bool = False) -> tuple[Account, asyncpg.Record]:
    """An account and its row (person fields, sealed password)."""
    row = await conn.fetchrow(
        "SELECT * FROM accounts WHERE id = $1" + (" FOR UPDATE" if for_update else ""), account_id)
    if row is None:
        raise NotFound(str(account_id))
    return _account(row), row


async def save_account(conn: asyncpg.Connection, account: Account, actor: str,
                       sealed_temp_password: str | None = None) -> None:
    """Write the account's state and the history of the changes it recorded."""
    await conn.execute(
        "UPDATE accounts SET state = $2, notified_at = $3, notification_channel = $4, version = version + 1,"
        " sealed_temp_password = coalesce($5, sealed_temp_password) WHERE id = $1",
        account.id, account.state.value, account.notified_at,
        account.notification_channel.value if account.notification_channel else None, sealed_temp_password,
    )
    for change in account.changes:
        await conn.execute(
            "INSERT INTO account_history (account_id, previous_state, state, cause, actor, at)"
            " VALUES ($1, $2, $3, $4, $5, $6)",
            account.id, change.previous.value, change.state.value, change.cause, actor, change.at)


async def insert_notification(conn: asyncpg.Connection, notification_id: uuid.UUID, account_id: uuid.UUID,
                              channel: Channel, variant: str, sealed_password: str | None) -> None:
    """Record a launched notification, pending its delivery result."""
    await conn.execute(
        "INSERT INTO notifications (id, account_id, channel, variant, sealed_password) VALUES ($1, $2, $3, $4, $5)",
        notification_id, account_id, channel.value, variant, sealed_password)


async def load_notification(conn: asyncpg.Connection, notification_id: uuid.UUID) -> asyncpg.Record:
    """One notification, locked for its settlement."""
    row = await conn.fetchrow("SELECT * FROM notifications WHERE id = $1 FOR UPDATE", notification_id)
    if row is None:
        raise NotFound(str(notification_id))
    return row


async def settle_notification(conn: asyncpg.Connection, notification_id: uuid.UUID, status: str,
                              at: datetime, reason: str | None = None) -> None:
    """Close a pending notification with its result."""
    await conn.execute(
        "UPDATE notifications SET status = $2, settled_at = $3, reason = $4 WHERE id = $1",
        notification_id, status, at, reason)


async def account_history(conn: asyncpg.Connection, account_id: uuid.UUID) -> list[asyncpg.Record]:
    """The account's state changes, oldest first."""
    return list(await conn.fetch(
        "SELECT previous_state, state, cause, actor, at FROM account_history WHERE account_id = $1 ORDER BY id",
        account_id))
