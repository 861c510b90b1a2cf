"""Two staff actions on one account at once: exactly one wins, the other gets 409 at once, no impossible state."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
import httpx

from teleservices.accounts.domain.model import AccountState
from teleservices.shared.messages.siecle import PersonneData
from tests.support.accounts import AccountsUnderTest, audit_entries, chef, lenient_client
from tests.support.siecle import Family, family
from tests.support.waiting import eventually

U = "0540001A"
CHEF = chef(U)
NOTIFY = {"channel": "email"}
RESET = {"channel": "email", "reset_password": True}


@asynccontextmanager
async def _database(database_url: str) -> AsyncIterator[asyncpg.Connection]:
    conn = await asyncpg.connect(database_url)
    try:
        yield conn
    finally:
        await conn.close()


async def _blocked_on_notifications(watcher: asyncpg.Connection) -> bool:
    """Whether a service transaction waits for a lock on accounts.notifications (request 1 at the barrier)."""
    return bool(await watcher.fetchval(
        "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid"
        " WHERE NOT l.granted AND l.relation = 'accounts.notifications'::regclass"
        " AND a.application_name = 'accounts' AND a.wait_event_type = 'Lock'"))


async def _notifications(watcher: asyncpg.Connection, account_id: str) -> int:
    return int(await watcher.fetchval("SELECT count(*) FROM accounts.notifications WHERE account_id = $1::uuid",
                                      account_id))


async def _audited(accounts: AccountsUnderTest, account_id: str) -> list[str]:
    return [e["action"] for e in await audit_entries(accounts, U, compte=account_id)]


async def _valid_state(accounts: AccountsUnderTest, watcher: asyncpg.Connection, account_id: str) -> None:
    row = await watcher.fetchrow("SELECT state, closed_at FROM accounts.accounts WHERE id = $1::uuid", account_id)
    assert AccountState(row["state"]) is AccountState.non_notifie and row["closed_at"] is None
    async with lenient_client(accounts, CHEF) as api:
        view = (await api.get(f"/api/v1/accounts/{account_id}")).json()
    assert view["state"] == row["state"] and view["closed_at"] is None


def _is_busy(answer: httpx.Response) -> bool:
    return answer.status_code == 409 and answer.json()["detail"]["field"] == "compte"


async def test_two_actions_at_a_barrier_one_wins_the_other_is_refused_at_once(accounts: AccountsUnderTest,
                                                                              database_url: str) -> None:
    await accounts.establishment(U)
    await accounts.enrol(U, [family()])
    [rep] = await accounts.accounts(U, "responsable")
    path = f"/api/v1/accounts/{rep['id']}/notifications"
    async with (_database(database_url) as barrier, _database(database_url) as watcher,
                lenient_client(accounts, CHEF) as api):
        held = barrier.transaction()
        await held.start()
        try:
            await barrier.execute("LOCK TABLE accounts.notifications IN EXCLUSIVE MODE")
            first = asyncio.create_task(api.post(path, json=NOTIFY))
            await eventually(lambda: _blocked_on_notifications(watcher), within_s=30, every_s=0.02)
            assert not first.done()
            for body in (NOTIFY, RESET):  # the account's row is locked: refused now, not after a wait
                second = await asyncio.wait_for(api.post(path, json=body), timeout=5)
                assert _is_busy(second), second.text
            renewed = await asyncio.wait_for(api.post(f"/api/v1/accounts/{rep['id']}/new-account",
                                                      json={"channel": "paper"}), timeout=5)
            assert _is_busy(renewed), renewed.text
            assert not first.done()
        finally:
            await held.rollback()
        winner = await asyncio.wait_for(first, timeout=30)
        assert winner.status_code == 202, winner.text
        assert await _notifications(watcher, rep["id"]) == 1
        assert await _audited(accounts, rep["id"]) == ["notifier"]
        assert [a["id"] for a in await accounts.accounts(U, "responsable")] == [rep["id"]]
        await _valid_state(accounts, watcher, rep["id"])


async def test_racing_notifications_are_serialised_or_refused_never_broken(accounts: AccountsUnderTest,
                                                                           database_url: str) -> None:
    await accounts.establishment(U)
    await accounts.enrol(U, [family()])
    [rep] = await accounts.accounts(U, "responsable")
    path = f"/api/v1/accounts/{rep['id']}/notifications"
    accepted = 0
    async with _database(database_url) as watcher, lenient_client(accounts, CHEF) as api:
        for _ in range(5):
            answers = await asyncio.gather(api.post(path, json=NOTIFY), api.post(path, json=RESET))
            statuses = sorted(a.status_code for a in answers)
            assert statuses in ([202, 409], [202, 202]), [a.text for a in answers]
            assert all(_is_busy(a) for a in answers if a.status_code == 409)
            accepted += statuses.count(202)
            await _valid_state(accounts, watcher, rep["id"])
        assert await _notifications(watcher, rep["id"]) == accepted
    actions = await _audited(accounts, rep["id"])
    assert len(actions) == accepted and set(actions) <= {"notifier", "reinitialiser_et_notifier"}


async def test_racing_new_accounts_give_exactly_one_new_account(accounts: AccountsUnderTest,
                                                                database_url: str) -> None:
    await accounts.establishment(U)
    await accounts.enrol(U, [family()])
    async with _database(database_url) as watcher, lenient_client(accounts, CHEF) as api:
        for round_ in range(5):
            [current] = await accounts.accounts(U, "eleve")
            assert current["identifiant"] == f"guillaume.dupont{round_ + 1}"
            path = f"/api/v1/accounts/{current['id']}/new-account"
            answers = await asyncio.gather(*(api.post(path, json={"channel": "paper"}) for _ in range(2)))
            assert sorted(a.status_code for a in answers) == [201, 409], [a.text for a in answers]
            [won] = [a.json() for a in answers if a.status_code == 201]
            [listed] = await accounts.accounts(U, "eleve")
            assert (listed["id"], listed["identifiant"]) == (won["id"], f"guillaume.dupont{round_ + 2}")
            assert AccountState(listed["state"]) is AccountState.non_notifie
        counts = await watcher.fetchrow(
            "SELECT count(*) FILTER (WHERE closed_at IS NULL) AS open, count(*) FILTER (WHERE closed_at IS NOT NULL)"
            " AS closed FROM accounts.accounts WHERE population = 'eleve'")
        assert (counts["open"], counts["closed"]) == (1, 5)
        assert await watcher.fetchval("SELECT count(*) FROM accounts.notifications") == 5
    assert [e["action"] for e in await audit_entries(accounts, U)].count("nouveau_compte") == 5


def _sibling_pairs(count: int) -> list[Family]:
    pairs: list[Family] = []
    for i in range(count):
        mother = PersonneData(personne_id=f"P-{i}", civilite="Mme", nom=f"Mère{chr(65 + i)}", prenom="Claire",
                              email=f"claire{i}@exemple.fr", address_lines=("1 rue de la Paix",))
        for prenom in ("Aîné", "Cadet"):
            pairs.append(Family(family(nom=f"Enfant{chr(65 + i)}", prenom=prenom, parents=()).eleve, [mother]))
    return pairs


async def test_grouping_racing_a_notification_leaves_each_child_one_account(accounts: AccountsUnderTest,
                                                                             database_url: str) -> None:
    await accounts.establishment(U)
    pairs = _sibling_pairs(5)
    await accounts.enrol(U, pairs)
    async with _database(database_url) as watcher, lenient_client(accounts, CHEF) as api:
        for i in range(5):
            kept, grouped = await accounts.accounts(U, "responsable", nom=f"Enfant{chr(65 + i)}")
            answers = await asyncio.gather(
                api.post(f"/api/v1/accounts/{kept['id']}/grouping", json={"grouped_account_id": grouped["id"]}),
                api.post(f"/api/v1/accounts/{grouped['id']}/notifications", json=NOTIFY))
            grouping, notification = (a.status_code for a in answers)
            assert grouping in (204, 409) and notification in (202, 409), [a.text for a in answers]
            assert 500 not in (grouping, notification)
            lines = await accounts.accounts(U, "responsable", nom=f"Enfant{chr(65 + i)}")
            assert len(lines) == 2  # each child keeps exactly one open representative account
            closed = await watcher.fetchval("SELECT closed_at IS NOT NULL FROM accounts.accounts WHERE id = $1::uuid",
                                            grouped["id"])
            if grouping == 204:
                assert {line["id"] for line in lines} == {kept["id"]} and closed
            else:
                assert _is_busy(answers[0]) and {line["id"] for line in lines} == {kept["id"], grouped["id"]}
                assert not closed
            for line in lines:
                assert AccountState(line["state"]) is AccountState.non_notifie
