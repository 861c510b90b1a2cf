"""What the portal learns from accounts.events: identifiers, states, temporary password hashes."""

from __future__ import annotations

from dataclasses import dataclass

from teleservices.portal_auth import store
from teleservices.shared.kafka.consumer import HandlerContext
from teleservices.shared.messages.catalog import (
    AccountCreated,
    AccountStateChanged,
    IdentifierChanged,
    TemporaryCredentialIssued,
)


@dataclass
class AccountsFeed:
    """Keeps the portal's credentials in step with the accounts service."""

    async def account_created(self, event: AccountCreated, ctx: HandlerContext) -> None:
        """A pre-created account."""
        await store.account_created(ctx.conn, event.account_id, event.identifiant, event.population.value, event.uai)

    async def accounts_created(self, batch: list[AccountCreated], ctx: HandlerContext) -> None:
        """An import's thousands of new accounts in one statement."""
        await ctx.conn.executemany(
            "INSERT INTO credentials (account_id, identifiant, population, uai) VALUES ($1, $2, $3, $4)"
            " ON CONFLICT (account_id) DO UPDATE SET identifiant = $2, population = $3, uai = $4",
            [(e.account_id, e.identifiant, e.population.value, e.uai) for e in batch])

    async def state_changed(self, event: AccountStateChanged, ctx: HandlerContext) -> None:
        """A state change made by the accounts service (notification delivered, closing, expiry…)."""
        await store.state_changed(ctx.conn, event.account_id, event.population.value, event.uai, event.state,
                                  event.changed_at)

    async def identifier_changed(self, event: IdentifierChanged, ctx: HandlerContext) -> None:
        """A new account replacing another."""
        await store.identifier_changed(ctx.conn, event.account_id, event.identifiant, event.uai)

    async def temporary_password_issued(self, event: TemporaryCredentialIssued, ctx: HandlerContext) -> None:
        """The hash of the temporary password in force (never the password); staff's new letter lifts any lock."""
        await store.temporary_password_issued(ctx.conn, event.account_id, event.identifiant, event.password_hash)
        await store.throttle_clear(ctx.conn, f"id:{event.identifiant}")
