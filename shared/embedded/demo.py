"""The demo establishment of the embedded default: a collège of about 600 pupils and their representatives.

Until the SIECLE importer exists, the demo's pupils and representatives are published as the importer's
change events on the sync topic, which is exactly what the accounts service consumes from an import.
"""

from __future__ import annotations

import asyncio
import random
from datetime import date
from pathlib import Path

import httpx
from aiokafka import AIOKafkaProducer

from teleservices.shared.cli.client import operator_token
from teleservices.shared.messages.envelope import Envelope, Message
from teleservices.shared.messages.siecle import EleveArrived, EleveData, LienAdded, PersonneChanged, PersonneData
from teleservices.shared.messages.topics import SYNC_EVENTS

DEMO_UAI = "0540001A"
DEMO_ESTABLISHMENT = {"uai": DEMO_UAI, "name": "Collège Langevin Wallon", "academy": "NANCY-METZ",
                      "type": "Collège", "town": "BLAINVILLE-SUR-L'EAU", "address_lines": ["40 rue du Rendez-Vous"],
                      "phone": "03 83 00 00 00", "emails": ["ce.0540001a@ac-nancy-metz.fr"],
                      "chef_civilite": "M.", "chef_nom": "E. Martin", "annee_scolaire": 2026,
                      "modules": ["notes", "vie_scolaire"], "perimetres": ["bourse_college"]}
PRENOMS = ["Léa", "Émilien", "Noémie", "Kévin", "Chloé", "Jean-Baptiste", "Inès", "Hugo", "Zoé", "Anaïs",
           "Rémi", "Maëlle", "Théo", "Loïc", "Lucie", "Yanis", "Éloïse", "Mathéo", "Océane", "Gaëtan"]
NOMS = ["Dupont", "Martin", "Lefèvre", "Bernard", "Dubois", "N'Diaye", "Le Gall", "Moreau", "Girard",
        "Boucher-Lamy", "Rousseau", "Fournier", "Œuvray", "Müller", "Da Silva", "Lambert", "Faure", "Mercier"]
MERES = ["Sophie", "Nathalie", "Céline", "Valérie", "Hélène", "Maïté"]
PERES = ["Philippe", "Stéphane", "Frédéric", "François", "Loïc", "Jérôme"]
LEVELS = [("6EME", "10010012110", "6"), ("5EME", "10110001110", "5"), ("4EME", "10210001110", "4"),
          ("3EME", "10310019110", "3")]
REGIMES = ["0", "2", "2", "2", "21", "3"]


def demo_changes(pupils: int = 600, seed: int = 2018) -> list[Message]:
    """The import's events for the demo: pupils in 24 divisions, one or two representatives each."""
    rng = random.Random(seed)  # noqa: S311 — demo names, not security
    changes: list[Message] = []
    for n in range(pupils):
        libelle, code_mef, level = LEVELS[n % 4]
        nom = rng.choice(NOMS)
        eleve = EleveData(eleve_id=str(100000 + n), ine=f"{70000000 + n:09d}AB", nom=nom, prenom=rng.choice(PRENOMS),
                          date_naissance=date(2015 - int(level) + 3, 1 + n % 12, 1 + n % 28),
                          division=f"{level}{'ABCDEF'[(n // 4) % 6]}", code_mef=code_mef, libelle_mef=libelle,
                          code_regime=rng.choice(REGIMES))
        changes.append(EleveArrived(uai=DEMO_UAI, eleve=eleve))
        for k in range(1 if n % 7 == 0 else 2):
            email = None if rng.random() < 0.2 else f"famille.{n}.{k}@exemple.fr"
            person = PersonneData(personne_id=str(500000 + 2 * n + k), civilite="MME" if k == 0 else "M.", nom=nom,
                                  prenom=rng.choice(MERES if k == 0 else PERES), email=email,
                                  address_lines=(f"{rng.randint(1, 90)} rue des Écoles",
                                                 "54360 BLAINVILLE-SUR-L'EAU"))
            changes += [PersonneChanged(uai=DEMO_UAI, personne=person),
                        LienAdded(uai=DEMO_UAI, eleve_id=eleve.eleve_id, personne_id=person.personne_id,
                                  niveau_responsabilite=1)]
    return changes


def seed_demo(data_dir: Path, accounts_url: str, bootstrap_servers: str) -> None:
    """Create the demo establishment and its people once (a second `up` finds them)."""
    asyncio.run(_seed(data_dir, accounts_url, bootstrap_servers))


async def _seed(data_dir: Path, accounts_url: str, bootstrap_servers: str) -> None:
    headers = {"authorization": f"Bearer {operator_token(data_dir)}"}
    async with httpx.AsyncClient(base_url=accounts_url, headers=headers, timeout=30) as client:
        created = await client.post("/api/v1/establishments", json=DEMO_ESTABLISHMENT)
        if created.status_code == 409:
            return
        created.raise_for_status()
        (await client.post(f"/api/v1/establishments/{DEMO_UAI}/activation")).raise_for_status()
    changes = demo_changes()
    print(f"Établissement de démonstration : {len(changes)} changements SIECLE publiés…", flush=True)
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap_servers, acks="all", linger_ms=20)
    await producer.start()
    try:
        sent = [await producer.send(SYNC_EVENTS.full_name(), value=Envelope.wrap(c, uai=DEMO_UAI).to_bytes(),
                                    key=DEMO_UAI.encode()) for c in changes]
        await asyncio.gather(*sent)
    finally:
        await producer.stop()
