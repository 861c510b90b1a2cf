"""The demo establishment of the embedded default: a collège of 600 pupils imported like any SIECLE export.

`teleservices up` creates the establishment through the accounts API, writes a generated SIECLE export
(`teleservices demo-export`) and sends it to the sync service's importer, which feeds the accounts.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import time
from pathlib import Path

import httpx

from teleservices.shared.cli.client import operator_token

DEMO_UAI = "0540001A"
DEMO_PUPILS = 600
DEMO_ESTABLISHMENT = {"uai": DEMO_UAI, "name": "Collège Langevin Wallon", "academy": "NANCY-METZ",
                      "type": "Collège", "town": "BLAINVILLE-SUR-L'EAU", "address_lines": ["40 rue du Rendez-Vous"],
                      "phone": "03 83 00 00 00", "emails": ["ce.0540001a@ac-nancy-metz.fr"],
                      "chef_civilite": "M.", "chef_nom": "E. Martin", "annee_scolaire": 2026,
                      "modules": ["notes", "vie_scolaire"], "perimetres": ["bourse_college"]}


DEMO_STAFF = (
    {"login": "chef.demo", "display_name": "M. E. Martin (principal, démonstration)", "role": "chef",
     "uais": [DEMO_UAI]},
    {"login": "operateur.demo", "display_name": "Opérateur académique (démonstration)",
     "role": "operateur_academique", "academy": "NANCY-METZ"},
)


def seed_demo(data_dir: Path, accounts_url: str, sync_url: str, gateway_url: str) -> None:
    """Create the demo establishment, import its export and create the demo staff accounts, once each."""
    asyncio.run(_seed(data_dir, accounts_url, sync_url))
    asyncio.run(_staff(data_dir, gateway_url))


def staff_credentials_file(data_dir: Path) -> Path:
    """Where the demo staff logins and their generated passwords are kept (mode 0600)."""
    return data_dir / "demo-staff.txt"


async def _staff(data_dir: Path, gateway_url: str) -> None:
    path = staff_credentials_file(data_dir)
    if path.exists():
        return
    headers = {"authorization": f"Bearer {operator_token(data_dir)}"}
    lines = []
    async with httpx.AsyncClient(base_url=gateway_url, headers=headers, timeout=30) as gateway:
        for account in DEMO_STAFF:
            password = secrets.token_urlsafe(12)
            answer = await gateway.post("/api/v1/staff", json={**account, "password": password})
            if answer.status_code == 201:
                lines.append(f"{account['login']} {password}")
            elif answer.status_code != 409:
                answer.raise_for_status()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write("".join(f"{line}\n" for line in lines))


async def _seed(data_dir: Path, accounts_url: str, sync_url: str) -> None:
    from teleservices.sync.demo_export import write_demo_export

    headers = {"authorization": f"Bearer {operator_token(data_dir)}"}
    async with httpx.AsyncClient(base_url=accounts_url, headers=headers, timeout=30) as accounts:
        created = await accounts.post("/api/v1/establishments", json=DEMO_ESTABLISHMENT)
        if created.status_code == 409:
            return
        created.raise_for_status()
        (await accounts.post(f"/api/v1/establishments/{DEMO_UAI}/activation")).raise_for_status()
    folder = data_dir / "demo-export" / DEMO_UAI
    summary = await asyncio.to_thread(write_demo_export, folder, uai=DEMO_UAI, pupils=DEMO_PUPILS)
    print(f"Établissement de démonstration : import de l'export SIECLE fictif ({summary.pupils} élèves)…",
          flush=True)
    files = [("files", (p.name, p.read_bytes())) for p in sorted(folder.iterdir()) if p.is_file()]
    async with httpx.AsyncClient(base_url=sync_url, headers=headers, timeout=120) as sync:
        deadline = time.monotonic() + 60
        while True:  # the sync service learns the new establishment from the accounts events
            report = (await sync.post("/api/v1/imports", files=files)).json()
            if report["status"] != "refusé" or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.5)
    print(f"Import {report['status']} : {report.get('counts') or report.get('motif')}", flush=True)
