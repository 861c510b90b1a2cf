"""Which rows the purge after departure selects in the accounts service (simulated clock): a departed pupil's
accounts and links, a closed representative account and its now link-less person — never a brother who stays,
his representatives or their accounts."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from teleservices.accounts.purge import purge_departed
from teleservices.shared.messages.siecle import EleveArrived, EleveLeft, LienAdded, LienRemoved
from tests.support.accounts import AccountsUnderTest
from tests.support.siecle import family
from tests.support.waiting import eventually

UAI = "0540001A"
KEEP = timedelta(days=90)


async def _rows(accounts: AccountsUnderTest, sql: str, *args: Any) -> list[Any]:
    async with accounts.app.state.runtime.db.connection() as conn:
        return list(await conn.fetch(sql, *args))


async def test_the_purge_selects_what_no_longer_serves_and_keeps_the_rest(accounts: AccountsUnderTest) -> None:
    await accounts.establishment(UAI)
    leaving = family(nom="Bernard", prenom="Léa", parents=(("Anne", "anne@exemple.fr"), ("Marc", None)))
    brother = family(nom="Bernard", prenom="Tom", parents=())
    split = family(nom="Petit", prenom="Jade", parents=(("Julie", None), ("Paul", None)))
    await accounts.enrol(UAI, [leaving, split])
    anne, marc = leaving.representants
    julie, paul = split.representants
    await accounts.publish(UAI, [EleveArrived(uai=UAI, eleve=brother.eleve), *(
        LienAdded(uai=UAI, eleve_id=brother.eleve.eleve_id, personne_id=p.personne_id, niveau_responsabilite=1)
        for p in (anne, marc))])
    await eventually(lambda: _rows(accounts, "SELECT 1 FROM rattachements WHERE eleve_id = $1 AND personne_id = $2",
                                   brother.eleve.eleve_id, marc.personne_id))
    start = datetime.now(UTC)
    await accounts.publish(UAI, [EleveLeft(uai=UAI, eleve_id=leaving.eleve.eleve_id),
                                 LienRemoved(uai=UAI, eleve_id=split.eleve.eleve_id, personne_id=paul.personne_id)])
    await eventually(lambda: _rows(accounts, "SELECT 1 FROM accounts a JOIN rattachements r ON r.account_id = a.id"
                                             " WHERE r.personne_id = $1 AND a.closed_at IS NOT NULL", paul.personne_id))
    await eventually(lambda: _rows(accounts, "SELECT 1 FROM eleves WHERE eleve_id = $1 AND left_at IS NOT NULL",
                                   leaving.eleve.eleve_id))
    gone = {r["account_id"] for r in await _rows(
        accounts, "SELECT account_id FROM rattachements WHERE eleve_id = $1 OR personne_id = $2",
        leaving.eleve.eleve_id, paul.personne_id)}
    assert len(gone) == 4  # Léa's, Anne's and Marc's for Léa, Paul's
    kept = {r["account_id"] for r in await _rows(accounts, "SELECT id AS account_id FROM accounts")} - gone
    assert len(kept) == 5  # Tom's, Anne's and Marc's for Tom, Jade's, Julie's
    db = accounts.app.state.runtime.db

    async with db.transaction() as conn:
        assert await purge_departed(conn, start + timedelta(days=89), KEEP) == []

    async with db.transaction() as conn:
        [purged] = await purge_departed(conn, datetime.now(UTC) + timedelta(days=91), KEEP)
    assert set(purged.account_ids) == gone
    assert purged.eleve_ids == [leaving.eleve.eleve_id] and purged.personne_ids == [paul.personne_id]
    remaining = {r["id"] for r in await _rows(accounts, "SELECT id FROM accounts")}
    assert remaining == kept
    assert not await _rows(accounts, "SELECT 1 FROM rattachements WHERE eleve_id = $1", leaving.eleve.eleve_id)
    assert {r["personne_id"] for r in await _rows(accounts, "SELECT personne_id FROM personnes")} == {
        anne.personne_id, marc.personne_id, julie.personne_id}  # Anne and Marc still have Tom
    assert {r["eleve_id"] for r in await _rows(accounts, "SELECT eleve_id FROM liens")} == {
        brother.eleve.eleve_id, split.eleve.eleve_id}
    assert len(await _rows(accounts, "SELECT 1 FROM identifiers")) == 9  # identifiers are never reused

    announced = [(r["message_key"], json.loads(r["envelope"])["payload"]) for r in await _rows(
        accounts, "SELECT message_key, envelope FROM outbox WHERE envelope::jsonb ->> 'type' = $1 ORDER BY id",
        "accounts.PersonalDataPurged")]
    assert [key for key, _ in announced] == [UAI, *sorted(str(i) for i in gone)]
    assert announced[0][1]["eleve_ids"] == [leaving.eleve.eleve_id]

    async with db.transaction() as conn:  # nothing left to purge; a re-run is harmless
        assert await purge_departed(conn, datetime.now(UTC) + timedelta(days=91), KEEP) == []

