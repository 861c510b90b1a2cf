"""Identifiers allocated in PostgreSQL: numbered per base, never reused, never stuck on a clash."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from teleservices.accounts.repository import allocate_identifier
from teleservices.shared.db import Database
from teleservices.shared.settings import DatabaseSettings

MIGRATIONS = Path(__file__).parents[2] / "services" / "accounts" / "migrations"


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    database = Database(DatabaseSettings(url=database_url), schema="accounts")
    await database.migrate([MIGRATIONS])
    await database.open()
    yield database
    await database.close()


async def test_numbers_follow_each_other_within_an_academy(db: Database) -> None:
    async with db.transaction() as conn:
        first = await allocate_identifier(conn, "NANCY-METZ", "philippe.dupont")
        second = await allocate_identifier(conn, "NANCY-METZ", "philippe.dupont")
    assert (first, second) == ("philippe.dupont1", "philippe.dupont2")


async def test_a_clash_with_another_academy_or_base_takes_the_next_free_number(db: Database) -> None:
    async with db.transaction() as conn:
        assert await allocate_identifier(conn, "NANCY-METZ", "philippe.dupont") == "philippe.dupont1"
        assert await allocate_identifier(conn, "LYON", "philippe.dupont") == "philippe.dupont2"
        assert await allocate_identifier(conn, "LYON", "anne.dupont2") == "anne.dupont21"
        assert await allocate_identifier(conn, "LYON", "anne.dupont") == "anne.dupont1"
        for _ in range(19):
            await allocate_identifier(conn, "LYON", "anne.dupont")
        assert await allocate_identifier(conn, "LYON", "anne.dupont") == "anne.dupont22"
