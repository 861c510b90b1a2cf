"""The establishments the import may feed, as the accounts service announces them."""

from __future__ import annotations

from teleservices.shared.kafka.consumer import HandlerContext
from teleservices.shared.messages.catalog import EstablishmentCreated
from teleservices.sync import repository as repo


async def establishment_created(event: EstablishmentCreated, ctx: HandlerContext) -> None:
    """Remember a new establishment."""
    await repo.remember_establishment(ctx.conn, event.uai, event.name, event.academy)
