"""Expiry with a simulated clock: 3 months after notification, 1 year without login; identifiers retired."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from tests.support.accounts import AccountsUnderTest, chef
from tests.support.siecle import family

UAI = "0540001A"
NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


async def _set(accounts: AccountsUnderTest, account_id: str, state: str, notified_days_ago: int,
               last_access_days_ago: int | None = None) -> None:
    async with accounts.app.state.runtime.db.transaction() as conn:
        await conn.execute(
            "UPDATE accounts SET state = $2, notified_at = $3, last_access_at = $4 WHERE id = $1",
            uuid.UUID(account_id), state, NOW - timedelta(days=notified_days_ago),
            None if last_access_days_ago is None else NOW - timedelta(days=last_access_days_ago))


async def test_accounts_past_their_delay_are_replaced_by_new_non_notifie_ones(accounts: AccountsUnderTest) -> None:
    await accounts.establishment(UAI)
    await accounts.enrol(UAI, [family(prenom="Inès", parents=(("Sophie", "s@exemple.fr"), ("Loïc", None)))])
    [pupil] = await accounts.accounts(UAI, "eleve")
    parents = {a["identifiant"]: a for a in await accounts.accounts(UAI, "responsable")}
    sophie, loic = parents["sophie.dupont1"], parents["loic.dupont1"]
    await _set(accounts, pupil["id"], "Utilisé", notified_days_ago=500, last_access_days_ago=366)
    await _set(accounts, sophie["id"], "En cours d'activation", notified_days_ago=93)
    await _set(accounts, loic["id"], "Notifié", notified_days_ago=80)
    expiry = accounts.app.state.expiry

    preview = await expiry.run(at=NOW, dry_run=True)
    assert sorted(a["identifiant"] for a in preview) == ["ines.dupont1", "sophie.dupont1"]
    assert len(await accounts.accounts(UAI, "responsable", etat="Non notifié")) == 0

    due = await expiry.due(UAI, timedelta(days=15), at=NOW)
    assert [d["identifiant"] for d in due][-1] == "loic.dupont1"

    await expiry.run(at=NOW)
    [new_pupil] = await accounts.accounts(UAI, "eleve")
    assert (new_pupil["identifiant"], new_pupil["state"]) == ("ines.dupont2", "Non notifié")
    states = {a["identifiant"]: a["state"] for a in await accounts.accounts(UAI, "responsable")}
    assert states == {"sophie.dupont2": "Non notifié", "loic.dupont1": "Notifié"}
    async with accounts.client(chef(UAI)) as api:
        old = (await api.get(f"/api/v1/accounts/{sophie['id']}")).json()
    assert old["closed_at"] is not None
    assert old["history"][-1]["cause"] == "compte expiré"
