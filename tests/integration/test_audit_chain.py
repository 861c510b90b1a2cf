"""The staff audit trail is hash-chained per establishment: verification finds any change or deletion."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from typer.testing import CliRunner

from teleservices.accounts import audit
from teleservices.shared.cli.main import app as cli
from teleservices.shared.db import Database
from teleservices.shared.security.staff import Role, StaffPrincipal
from teleservices.shared.settings import DatabaseSettings
from tests.support.accounts import AccountsUnderTest, chef, delegue
from tests.support.platform import PlatformUnderTest
from tests.support.siecle import family

U, V = "0540001A", "0540002B"


async def _verification(accounts: AccountsUnderTest, **params: Any) -> dict[str, Any]:
    async with accounts.client() as api:
        answer = await api.get("/api/v1/audit/verification", params=params)
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


async def _list_classes(accounts: AccountsUnderTest, uai: str, times: int) -> None:
    """Audited staff reads (« Éditer les listes »), all at once."""
    async with accounts.client(chef(uai)) as api:
        answers = await asyncio.gather(*(api.get(f"/api/v1/establishments/{uai}/class-lists",
                                                 params={"division": "3A"}) for _ in range(times)))
    assert {a.status_code for a in answers} == {200}


async def _tamper(accounts: AccountsUnderTest, sql: str, *args: Any) -> None:
    """What someone with the database owner's rights could do: lift the guard, change the trail, restore it."""
    async with accounts.app.state.runtime.db.transaction() as conn:
        await conn.execute("ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only")
        await conn.execute(sql, *args)
        await conn.execute("ALTER TABLE audit_log ENABLE TRIGGER audit_log_append_only")


async def test_parallel_writers_build_one_unbroken_chain_per_establishment(accounts: AccountsUnderTest) -> None:
    for uai in (U, V):
        await accounts.establishment(uai)
        await accounts.enrol(uai, [family(division="3A")])
    await asyncio.gather(_list_classes(accounts, U, 12), _list_classes(accounts, V, 12))

    async def bulk(uai: str) -> None:  # many entries in one transaction, the way a bulk path writes them
        async with accounts.app.state.runtime.db.transaction() as conn:
            for _ in range(20):
                await audit.record(conn, chef(uai), "editer_liste_eleves", uai, division="3A")

    await asyncio.gather(*(bulk(uai) for uai in (U, V, U, V)))

    result = await _verification(accounts)
    assert result["intact"], result["problems"]
    heads = {head["chain"]: head["seq"] for head in result["heads"]}
    # each establishment: creation + activation by the operator, 12 lists, 2 × 20 bulk entries
    assert heads == {U: 54, V: 54} and result["entries"] == 108
    async with accounts.app.state.runtime.db.connection() as conn:
        for uai in (U, V):
            seqs = [r["seq"] for r in await conn.fetch("SELECT seq FROM audit_log WHERE uai = $1 ORDER BY seq", uai)]
            assert seqs == list(range(1, 55))
    assert (await _verification(accounts, uai=U))["entries"] == 54


async def test_the_application_cannot_change_or_delete_an_entry(accounts: AccountsUnderTest) -> None:
    await accounts.establishment(U)
    async with accounts.app.state.runtime.db.connection() as conn:
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await conn.execute("UPDATE audit_log SET actor_id = 'quelqu-un'")
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await conn.execute("DELETE FROM audit_log")
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await conn.execute("TRUNCATE audit_log")
    assert (await _verification(accounts))["intact"]


async def test_verification_finds_a_changed_entry(accounts: AccountsUnderTest) -> None:
    await accounts.establishment(U)
    await accounts.enrol(U, [family(division="3A")])
    await _list_classes(accounts, U, 3)
    await _tamper(accounts, "UPDATE audit_log SET details = details || '{\"pupils\": 0}' WHERE uai = $1 AND seq = 4",
                  U)
    result = await _verification(accounts)
    assert not result["intact"]
    assert [(p["chain"], p["seq"], p["kind"]) for p in result["problems"]] == [(U, 4, "modifiee")]

    # rewriting the entry's own hash does not help: the next entry no longer points to it
    async with accounts.app.state.runtime.db.connection() as conn:
        row = await conn.fetchrow("SELECT id, at, actor_id, actor_name, actor_role, uai, action,"
                                  " account_id::text AS account_id, details::text AS details, chain, seq, prev_hash"
                                  " FROM audit_log WHERE uai = $1 AND seq = 4", U)
    await _tamper(accounts, "UPDATE audit_log SET hash = $2 WHERE id = $1", row["id"], audit.entry_hash(dict(row)))
    result = await _verification(accounts)
    assert [(p["seq"], p["kind"]) for p in result["problems"]] == [(5, "chainage_rompu")]


async def test_verification_finds_deleted_entries_in_the_middle_and_at_the_end(accounts: AccountsUnderTest) -> None:
    for uai in (U, V):
        await accounts.establishment(uai)
        await accounts.enrol(uai, [family(division="3A")])
    await _list_classes(accounts, U, 4)
    await _list_classes(accounts, V, 4)
    await _tamper(accounts, "DELETE FROM audit_log WHERE uai = $1 AND seq = 3", U)
    await _tamper(accounts, "DELETE FROM audit_log WHERE uai = $1 AND seq = 6", V)  # the last one of V
    result = await _verification(accounts)
    assert sorted((p["chain"], p["seq"], p["kind"]) for p in result["problems"]) == [
        (U, 3, "supprimee"), (V, 6, "supprimee")]
    only_u = await _verification(accounts, uai=U)
    assert [p["chain"] for p in only_u["problems"]] == [U]


async def test_only_academy_operators_verify(accounts: AccountsUnderTest) -> None:
    await accounts.establishment(U)
    for principal in (chef(U), delegue(U)):
        async with accounts.client(principal) as api:
            answer = await api.get("/api/v1/audit/verification")
        assert answer.status_code == 403 and answer.json()["detail"]["field"] == "role"
    async with accounts.client() as api:
        assert (await api.get("/api/v1/audit/verification", params={"uai": "nope"})).status_code == 422


async def test_verify_audit_command_on_a_running_platform(platform: PlatformUnderTest) -> None:
    platform.start("accounts")
    async with platform.client("accounts") as api:
        body = {"uai": U, "name": "Collège Jules Ferry", "academy": "NANCY-METZ"}
        assert (await api.post("/api/v1/establishments", json=body)).status_code == 201
        assert (await api.post(f"/api/v1/establishments/{U}/activation")).status_code == 204
    env = {"TELESERVICES_ACCOUNTS_URL": platform.processes["accounts"].url,
           "TELESERVICES_SECRET_STAFF_TOKEN_KEY": platform.staff_key}
    runner = CliRunner()
    intact = await asyncio.to_thread(runner.invoke, cli, ["privacy", "verify-audit"], env=env)
    assert intact.exit_code == 0, intact.output
    assert "Journal intact : 2 entrée(s) dans 1 chaîne(s)." in intact.output

    async with platform.database("accounts") as conn, conn.transaction():
        await conn.execute("ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only")
        await conn.execute("UPDATE audit_log SET actor_name = 'Personne' WHERE seq = 1")
        await conn.execute("ALTER TABLE audit_log ENABLE TRIGGER audit_log_append_only")
    altered = await asyncio.to_thread(runner.invoke, cli, ["privacy", "verify-audit"], env=env)
    assert altered.exit_code == 1, altered.output
    assert "Journal ALTÉRÉ : 1 anomalie(s)" in altered.output and "modifiee" in altered.output
    breach = await asyncio.to_thread(runner.invoke, cli, ["privacy", "breach-report", "--acteur", "op-test"], env=env)
    assert breach.exit_code == 0, breach.output
    assert "2 action(s) dans 1 établissement(s) ; 0 compte(s) touché(s)." in breach.output
    refused = await asyncio.to_thread(runner.invoke, cli, ["privacy", "breach-report"], env=env)
    assert refused.exit_code == 1 and "acteur" in refused.output


async def test_staff_of_the_academy_without_establishment_have_their_own_chain(accounts: AccountsUnderTest) -> None:
    operator = StaffPrincipal(user_id="op2", display_name="Opératrice", role=Role.operateur_academique)
    async with accounts.app.state.runtime.db.transaction() as conn:
        await audit.record(conn, operator, "modifier_academie", None, fields=["informations"])
    result = await _verification(accounts)
    assert result["intact"] and [h["chain"] for h in result["heads"]] == ["*"]


async def test_entries_written_before_the_chain_join_it_in_their_order(database_url: str, tmp_path: Path) -> None:
    migrations = Path(audit.__file__).parent / "migrations"
    earlier = tmp_path / "accounts" / "migrations"  # the same migration names, without 004
    earlier.mkdir(parents=True)
    for path in sorted(migrations.glob("*.sql")):
        if path.name < "004":
            shutil.copy(path, earlier / path.name)
    db = Database(DatabaseSettings(url=database_url), "accounts")
    await db.migrate([earlier])
    conn = await asyncpg.connect(database_url, server_settings={"search_path": "accounts"})
    try:
        for uai in (U, V, U, None, U):
            await conn.execute("INSERT INTO audit_log (actor_id, actor_name, actor_role, uai, action, details)"
                               " VALUES ('chef', 'Chef', 'chef', $1, 'parametrer_contact', '{\"n\": 1}')", uai)
    finally:
        await conn.close()
    assert await db.migrate([migrations]) == ["accounts/004_audit_chain.sql"]
    await db.open()
    try:
        async with db.connection() as conn:
            check = await audit.verify(conn)
            order = [r["seq"] for r in await conn.fetch("SELECT seq FROM audit_log WHERE uai = $1 ORDER BY id", U)]
    finally:
        await db.close()
    assert check.intact, check.problems
    assert {h["chain"]: h["seq"] for h in check.heads} == {U: 3, V: 1, "*": 1} and order == [1, 2, 3]


async def test_any_text_seals_and_verifies_the_same_in_sql_and_python(accounts: AccountsUnderTest) -> None:
    odd = StaffPrincipal(user_id='x"\\y', display_name="Zoé « l'Œil » \t\n\x01\x7f 🙂 \u2028 O'Brien",
                         role=Role.chef, uais=(U,))
    async with accounts.app.state.runtime.db.transaction() as conn:
        await audit.record(conn, odd, "parametrer_contact", U, motif='"guillemets" \\ et \x1f', n=1.5, big=10**20,
                           liste=["é", None, True], vide={})
    result = await _verification(accounts)
    assert result["intact"], result["problems"]
