"""Feeding SIECLE changes to the platform the way the sync service does: events on the sync topic."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

from aiokafka import AIOKafkaProducer

from teleservices.shared.messages.envelope import Envelope, Message
from teleservices.shared.messages.siecle import EleveArrived, EleveData, LienAdded, PersonneChanged, PersonneData
from teleservices.shared.messages.topics import SYNC_EVENTS

_ids = itertools.count(1000)
CANARIES: set[str] = set()
"""Every family name (5 letters or more), INE and email the tests gave a family: none may reach a service log."""


@dataclass
class Family:
    """A pupil and his légal representatives, as SIECLE would describe them."""

    eleve: EleveData
    representants: list[PersonneData] = field(default_factory=list)


def family(nom: str = "Dupont", prenom: str = "Guillaume", division: str = "3A",
           parents: tuple[tuple[str, str | None], ...] = (("Philippe", "parent@exemple.fr"),),
           code_regime: str = "2", code_mef: str = "10310019110") -> Family:
    """A pupil of `division` with parents given as (prénom, email)."""
    eleve = EleveData(eleve_id=str(next(_ids)), ine=f"{next(_ids):09d}AB", nom=nom, prenom=prenom,
                      division=division, code_mef=code_mef, libelle_mef="3EME", code_regime=code_regime)
    people = [PersonneData(personne_id=str(next(_ids)), civilite="M.", nom=nom, prenom=p, email=email,
                           address_lines=("40 rue du Rendez-Vous", "54360 BLAINVILLE-SUR-L'EAU"))
              for p, email in parents]
    CANARIES.update(value for value in (nom, eleve.ine, *(e for _, e in parents if e)) if value and len(value) >= 5)
    return Family(eleve, people)


def arrival_events(uai: str, families: list[Family]) -> list[Message]:
    """The events an import emits for newly enrolled families, in order."""
    out: list[Message] = []
    for f in families:
        out.append(EleveArrived(uai=uai, eleve=f.eleve))
        for person in f.representants:
            out.append(PersonneChanged(uai=uai, personne=person))
            out.append(LienAdded(uai=uai, eleve_id=f.eleve.eleve_id, personne_id=person.personne_id,
                                 niveau_responsabilite=1))
    return out


async def publish_siecle(bootstrap_servers: str, topic_prefix: str, uai: str, messages: list[Message]) -> None:
    """Publish sync events for one establishment, keyed by its UAI (so they stay in order)."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap_servers, acks="all")
    await producer.start()
    try:
        for payload in messages:
            await producer.send_and_wait(SYNC_EVENTS.full_name(topic_prefix),
                                         value=Envelope.wrap(payload, uai=uai).to_bytes(), key=uai.encode())
    finally:
        await producer.stop()
