"""Accounts follow SIECLE and the portal: pre-creation, updates, closing, departure, continuity, activation."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from teleservices.shared.messages.envelope import Message
from teleservices.shared.messages.portal import ActivationConfirmed, FirstConnectionCompleted, LoggedIn
from teleservices.shared.messages.siecle import EleveArrived, EleveChanged, EleveLeft, LienChanged, LienRemoved
from teleservices.shared.messages.topics import PORTAL_EVENTS
from tests.support.accounts import AccountsUnderTest, chef
from tests.support.siecle import family
from tests.support.waiting import eventually

UAI, OTHER_UAI = "0540001A", "0540002B"


async def _one(accounts: AccountsUnderTest, population: str, uai: str = UAI, **filters: Any) -> dict[str, Any]:
    [account] = await accounts.accounts(uai, population, **filters)
    return account


async def test_an_arrival_precreates_the_pupil_and_each_legal_representative(accounts: AccountsUnderTest) -> None:
    await accounts.establishment(UAI)
    f = family(nom="Lefèvre", prenom="Éloïse", parents=(("Hélène", "h@exemple.fr"), ("Loïc", None)))
    await accounts.enrol(UAI, [f])

    pupil = await _one(accounts, "eleve")
    parents = await accounts.accounts(UAI, "responsable")
    assert pupil["identifiant"] == "eloise.lefevre1" and pupil["state"] == "Non notifié"
    assert sorted(p["identifiant"] for p in parents) == ["helene.lefevre1", "loic.lefevre1"]
    postal = "40 rue du Rendez-Vous, 54360 BLAINVILLE-SUR-L'EAU"
    assert {p["adresse_courriel"] for p in parents} == {"h@exemple.fr", postal}


async def test_siecle_changes_update_people_but_never_identifiers(accounts: AccountsUnderTest) -> None:
    await accounts.establishment(UAI)
    f = family(nom="Martin", prenom="Hugo", division="3A")
    await accounts.enrol(UAI, [f])
    moved = f.eleve.model_copy(update={"division": "3B", "nom": "Martin-Durand"})
    await accounts.publish(UAI, [EleveChanged(uai=UAI, eleve=moved)])

    async def in_3b() -> list[dict[str, Any]]:
        return await accounts.accounts(UAI, "eleve", division="3B")

    [pupil] = await eventually(in_3b)
    assert pupil["identifiant"] == "hugo.martin1"
    assert pupil["eleve"]["nom"] == "Martin-Durand"


async def test_a_representative_who_is_no_longer_legal_loses_his_account(accounts: AccountsUnderTest) -> None:
    await accounts.establishment(UAI)
    f = family(parents=(("Sophie", None), ("Philippe", None)))
    await accounts.enrol(UAI, [f])
    sophie, philippe = f.representants
    await accounts.publish(UAI, [
        LienChanged(uai=UAI, eleve_id=f.eleve.eleve_id, personne_id=sophie.personne_id, niveau_responsabilite=2),
        LienRemoved(uai=UAI, eleve_id=f.eleve.eleve_id, personne_id=philippe.personne_id),
    ])

    async def none_left() -> bool:
        return not await accounts.accounts(UAI, "responsable")

    await eventually(none_left)


async def test_a_departed_pupil_and_his_representatives_are_detached(accounts: AccountsUnderTest) -> None:
    await accounts.establishment(UAI)
    leaving, staying = family(nom="Dubois"), family(nom="Girard")
    await accounts.enrol(UAI, [leaving, staying])
    await accounts.publish(UAI, [EleveLeft(uai=UAI, eleve_id=leaving.eleve.eleve_id)])

    async def only_girard() -> bool:
        pupils = await accounts.accounts(UAI, "eleve")
        return [p["eleve"]["nom"] for p in pupils] == ["Girard"]

    await eventually(only_girard)
    assert [p["eleve"]["nom"] for p in await accounts.accounts(UAI, "responsable")] == ["Girard"]


async def test_a_pupil_moving_within_the_academy_keeps_his_account_flagged(accounts: AccountsUnderTest) -> None:
    await accounts.establishment(UAI)
    await accounts.establishment(OTHER_UAI)
    f = family(nom="Moreau", prenom="Zoé")
    await accounts.enrol(UAI, [f])
    before = await _one(accounts, "eleve")
    arrived = f.eleve.model_copy(update={"eleve_id": "9999", "division": "2GT1"})
    await accounts.publish(UAI, [EleveLeft(uai=UAI, eleve_id=f.eleve.eleve_id)])
    await accounts.publish(OTHER_UAI, [EleveArrived(uai=OTHER_UAI, eleve=arrived, continuity_from=UAI)])

    async def arrived_in_other() -> list[dict[str, Any]]:
        return await accounts.accounts(OTHER_UAI, "eleve")

    [after] = await eventually(arrived_in_other)
    assert after["id"] == before["id"] and after["identifiant"] == "zoe.moreau1"
    assert after["continuity"] is True
    assert await accounts.accounts(OTHER_UAI, "eleve", continuite="true")


async def _portal(accounts: AccountsUnderTest, *events: Message) -> None:
    from aiokafka import AIOKafkaProducer

    from teleservices.shared.messages.envelope import Envelope

    kafka = accounts.settings.kafka
    producer = AIOKafkaProducer(bootstrap_servers=kafka.bootstrap_servers)
    await producer.start()
    try:
        for event in events:
            await producer.send_and_wait(PORTAL_EVENTS.full_name(kafka.topic_prefix),
                                         value=Envelope.wrap(event).to_bytes(), key=b"k")
    finally:
        await producer.stop()


async def test_representative_activation_goes_through_en_cours_to_utilise(accounts: AccountsUnderTest) -> None:
    await accounts.establishment(UAI)
    await accounts.enrol(UAI, [family()])
    account_id = uuid.UUID((await _one(accounts, "responsable"))["id"])
    async with accounts.app.state.runtime.db.transaction() as conn:  # as if the letter had been delivered
        await conn.execute("UPDATE accounts SET state = 'Notifié', notified_at = now() WHERE id = $1", account_id)
    at = datetime.now(UTC)

    await _portal(accounts, FirstConnectionCompleted(account_id=account_id, email="nouvelle@exemple.fr", at=at))
    account = await eventually(lambda: _state_is(accounts, account_id, "En cours d'activation"))
    assert account["email"] == "nouvelle@exemple.fr" and account["email_en_attente"] is True

    await _portal(accounts, ActivationConfirmed(account_id=account_id, email="nouvelle@exemple.fr", at=at),
                  LoggedIn(account_id=account_id, at=at))
    account = await eventually(lambda: _state_is(accounts, account_id, "Utilisé"))
    assert account["email_en_attente"] is False
    await eventually(lambda: _last_access(accounts, account_id))
    listed = await _one(accounts, "responsable")
    assert listed["adresse_courriel"] == "nouvelle@exemple.fr"


async def _state_is(accounts: AccountsUnderTest, account_id: uuid.UUID, state: str) -> dict[str, Any] | None:
    async with accounts.client(chef(UAI)) as api:
        account = (await api.get(f"/api/v1/accounts/{account_id}")).json()
    return dict(account) if account["state"] == state else None


async def _last_access(accounts: AccountsUnderTest, account_id: uuid.UUID) -> bool:
    async with accounts.client() as api:
        return (await api.get(f"/api/v1/accounts/{account_id}")).json()["last_access_at"] is not None
