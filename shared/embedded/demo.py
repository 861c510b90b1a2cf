"""The demo establishment of the embedded default: a collège of about 600 pupils and their representatives.

Until the SIECLE importer exists, the accounts are created through the accounts API; the importer will
take this over with a generated SIECLE export.
"""

from __future__ import annotations

import asyncio
import random
from pathlib import Path
from typing import Any

import httpx

from teleservices.shared.cli.client import operator_token

DEMO_UAI = "0540001A"
DEMO_ESTABLISHMENT = {"uai": DEMO_UAI, "name": "Collège Langevin Wallon", "academy": "NANCY-METZ",
                      "town": "BLAINVILLE-SUR-L'EAU"}
PRENOMS = ["Léa", "Émilien", "Noémie", "Kévin", "Chloé", "Jean-Baptiste", "Inès", "Hugo", "Zoé", "Anaïs",
           "Rémi", "Maëlle", "Théo", "Loïc", "Lucie", "Yanis", "Éloïse", "Mathéo", "Océane", "Gaëtan"]
NOMS = ["Dupont", "Martin", "Lefèvre", "Bernard", "Dubois", "N'Diaye", "Le Gall", "Moreau", "Girard",
        "Boucher-Lamy", "Rousseau", "Fournier", "Œuvray", "Müller", "Da Silva", "Lambert", "Faure", "Mercier"]
PRENOMS_ADULTES = ["Philippe", "Sophie", "Nathalie", "Stéphane", "Céline", "Frédéric", "Valérie", "Hélène"]


def demo_people(pupils: int = 600, seed: int = 2018) -> list[dict[str, Any]]:
    """Pupils with one or two legal representatives each; some siblings share theirs."""
    rng = random.Random(seed)  # noqa: S311 — demo names, not security
    people: list[dict[str, Any]] = []
    for n in range(pupils):
        nom = rng.choice(NOMS)
        pupil = {"population": "eleve", "nom": nom, "prenom": rng.choice(PRENOMS)}
        people.append(pupil)
        for k in range(1 if n % 7 == 0 else 2):
            email = None if rng.random() < 0.2 else f"famille.{n}.{k}@exemple.fr"
            people.append({"population": "responsable", "civilite": "MME" if k == 0 else "M.", "nom": nom,
                           "prenom": rng.choice(PRENOMS_ADULTES), "email": email,
                           "address_lines": [f"{rng.randint(1, 90)} rue des Écoles", "54360 BLAINVILLE-SUR-L'EAU"]})
    return people


def seed_demo(data_dir: Path, accounts_url: str) -> None:
    """Create the demo establishment and its accounts once (a second `up` finds them)."""
    asyncio.run(_seed(data_dir, accounts_url))


async def _seed(data_dir: Path, accounts_url: str) -> None:
    headers = {"authorization": f"Bearer {operator_token(data_dir)}"}
    async with httpx.AsyncClient(base_url=accounts_url, headers=headers, timeout=30) as client:
        created = await client.post("/api/v1/establishments", json=DEMO_ESTABLISHMENT)
        if created.status_code == 409:
            return
        created.raise_for_status()
        (await client.post(f"/api/v1/establishments/{DEMO_UAI}/activation")).raise_for_status()
        limit = asyncio.Semaphore(8)

        async def add(person: dict[str, Any]) -> None:
            async with limit:
                (await client.post(f"/api/v1/establishments/{DEMO_UAI}/accounts", json=person)).raise_for_status()

        people = demo_people()
        print(f"Création de l'établissement de démonstration ({len(people)} comptes)…", flush=True)
        await asyncio.gather(*(add(p) for p in people))
