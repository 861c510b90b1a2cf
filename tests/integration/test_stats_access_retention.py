"""Access statistics keep per-account rows for the connection-log period only (CNIL 2021-122); older months keep
their anonymous counts (simulated clock)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from teleservices.shared.messages.portal import ServiceOpened
from teleservices.stats.purge import ANONYMOUS, anonymise_old_accesses
from tests.support.infrastructure import BrokerServer, session_timeout_ms
from tests.support.stats import account, pupil, running_stats, stats_settings

UAI = "0540001A"


async def test_accesses_older_than_a_year_lose_their_account_not_their_count(
        database_url: str, broker: BrokerServer, topic_prefix: str) -> None:
    opened_at = datetime(2025, 9, 10, 8, 0, tzinfo=UTC)
    settings = stats_settings(database_url, broker.bootstrap_servers, topic_prefix, broker.name == "kafka",
                              session_timeout_ms())
    account_id, created = account(UAI, "1", "responsable", opened_at)
    async with running_stats(settings) as stats:
        await stats.publish([pupil(UAI, "1", "3A", "10310019110", "3EME"), *created,
                             *(ServiceOpened(account_id=account_id, uai=UAI, service="notes", at=opened_at)
                               for _ in range(3))])
        db = stats.app.state.runtime.db

        async def rows() -> list[tuple[object, int]]:
            async with db.connection() as conn:
                return [(r["account_id"], r["count"]) for r in await conn.fetch(
                    "SELECT account_id, count FROM accesses WHERE uai = $1", UAI)]

        assert await rows() == [(account_id, 3)]
        for day, expected in ((360, [(account_id, 3)]), (400, [(ANONYMOUS["responsable"], 3)])):
            async with db.transaction() as conn:
                await anonymise_old_accesses(conn, opened_at + timedelta(days=day), keep_days=365)
            assert await rows() == expected, f"day {day}"
