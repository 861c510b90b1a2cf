"""The read models rebuilt from the topics give the same figures; they follow the real accounts service."""

from __future__ import annotations

from typing import Any

import asyncpg

from teleservices.shared.messages.siecle import EleveLeft, LienRemoved
from tests.integration.test_stats_syntheses import UAI, college
from tests.support.accounts import AccountsUnderTest
from tests.support.infrastructure import BrokerServer, session_timeout_ms
from tests.support.siecle import family
from tests.support.stats import running_stats, stats_settings
from tests.support.waiting import eventually


async def test_a_rebuild_from_scratch_gives_the_same_figures(database_url: str, broker: BrokerServer,
                                                             topic_prefix: str) -> None:
    settings = stats_settings(database_url, broker.bootstrap_servers, topic_prefix, broker.name == "kafka",
                              session_timeout_ms())
    events, _ = college()
    async with running_stats(settings) as stats:
        await stats.publish(events)
        before = {name: await stats.synthesis(UAI, name) for name in ("eleves", "responsables", "activation")}

    connection = await asyncpg.connect(database_url)
    try:
        await connection.execute("DROP SCHEMA stats CASCADE")
    finally:
        await connection.close()

    async with running_stats(settings) as rebuilt:
        async def same_figures() -> bool:
            return all([await rebuilt.synthesis(UAI, name) == figures for name, figures in before.items()])

        await eventually(same_figures, within_s=90)


async def _direct_count(accounts: AccountsUnderTest, uai: str) -> dict[str, int]:
    """The establishment's line counted straight in the accounts service's tables."""
    async with accounts.app.state.runtime.db.connection() as conn:
        row = await conn.fetchrow(
            "WITH p AS (SELECT eleve_id FROM eleves WHERE uai = $1 AND left_at IS NULL),"
            " l AS (SELECT p.eleve_id, r.population, a.id, a.state FROM p JOIN rattachements r ON r.uai = $1"
            "  AND r.eleve_id = p.eleve_id AND r.detached_at IS NULL JOIN accounts a ON a.id = r.account_id"
            "  AND a.closed_at IS NULL)"
            " SELECT (SELECT count(*) FROM p) AS eleves,"
            " count(DISTINCT id) FILTER (WHERE population = 'eleve' AND state = 'Non notifié') AS non_notifies,"
            " count(DISTINCT id) FILTER (WHERE population = 'responsable') AS comptes,"
            " count(DISTINCT id) FILTER (WHERE population = 'responsable' AND state = 'Non notifié') AS r_nn"
            " FROM l", uai)
    return dict(row)


async def test_figures_equal_a_direct_count_over_the_accounts_service(accounts: AccountsUnderTest,
                                                                      topic_prefix: str, database_url: str,
                                                                      broker: BrokerServer) -> None:
    settings = stats_settings(database_url, broker.bootstrap_servers, topic_prefix, broker.name == "kafka",
                              session_timeout_ms())
    await accounts.establishment(UAI)
    twins = family(nom="Durand", prenom="Léa", division="6A", parents=(("Anne", None), ("Marc", None)))
    others = [family(nom=f"Nom{i}", division=("6A", "6B", "5A")[i % 3]) for i in range(6)]
    await accounts.enrol(UAI, [twins, *others])
    leaving = others[0]
    await accounts.publish(UAI, [
        EleveLeft(uai=UAI, eleve_id=leaving.eleve.eleve_id),
        LienRemoved(uai=UAI, eleve_id=twins.eleve.eleve_id, personne_id=twins.representants[1].personne_id),
    ])

    async with running_stats(settings) as stats:
        async def agrees() -> dict[str, Any] | None:
            expected = await _direct_count(accounts, UAI)
            pupils = (await stats.synthesis(UAI, "eleves"))["tables"][0]["rows"][0]
            representatives = (await stats.synthesis(UAI, "responsables"))["tables"][0]["rows"][0]
            seen = {"eleves": pupils["eleves"], "non_notifies": pupils["non_notifies"],
                    "comptes": representatives["comptes"], "r_nn": representatives["non_notifies"]}
            return expected if seen == expected and expected["eleves"] == 6 and expected["comptes"] == 6 else None

        await eventually(agrees, within_s=90)
