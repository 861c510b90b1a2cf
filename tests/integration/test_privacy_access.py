"""Right of access (art. 15): `teleservices privacy export` gathers every value each service holds on a person."""

from __future__ import annotations

import asyncio
import io
import json
import uuid
from datetime import date, datetime
from pathlib import Path
from typing import Any

from pypdf import PdfReader
from typer.testing import CliRunner

from teleservices.shared.cli.main import app as cli
from teleservices.shared.cli.sync import export_files
from teleservices.shared.embedded.mailbox import SmtpSink
from tests.support.accounts import chef, delegue
from tests.support.platform import PlatformUnderTest
from tests.support.waiting import eventually

COLLEGE = Path(__file__).parents[1] / "fixtures" / "siecle" / "college_minimal"
U = "0990001Z"
SECRET_FIELDS = {"sealed_temp_password", "sealed_password"}


def _values(value: Any, key: str = "") -> set[str]:
    """Every text-like value of a row, as the JSON export writes it (numbers and booleans are too common)."""
    if key in SECRET_FIELDS or value is None or isinstance(value, bool | int | float):
        return set()
    if isinstance(value, dict):
        return set().union(*(_values(v, k) for k, v in value.items())) if value else set()
    if isinstance(value, list | tuple):
        return set().union(*(_values(v, key) for v in value)) if value else set()
    if isinstance(value, datetime):
        return {value.isoformat().replace("+00:00", "Z")}  # as the services' JSON writes UTC times
    if isinstance(value, date):
        return {value.isoformat()}
    if isinstance(value, str) and value.startswith(("{", "[")):
        return _values(json.loads(value), key)
    return {str(value)} if str(value) else set()


async def _held(platform: PlatformUnderTest, person: str) -> tuple[set[str], list[uuid.UUID]]:
    """What the three services hold on the person, read straight from their tables."""
    values: set[str] = set()
    async with platform.database("accounts") as db:
        ids = [r["account_id"] for r in await db.fetch(
            "SELECT account_id FROM rattachements WHERE uai = $1 AND (personne_id = $2 OR"
            " (population = 'eleve' AND eleve_id = $2))", U, person)]
        for sql in ("SELECT * FROM personnes WHERE uai = $1 AND personne_id = $2",
                    "SELECT * FROM eleves WHERE uai = $1 AND eleve_id = $2",
                    "SELECT * FROM liens WHERE uai = $1 AND (personne_id = $2 OR eleve_id = $2)"):
            values |= {v for r in await db.fetch(sql, U, person) for v in _values(dict(r))}
        for sql in ("SELECT * FROM accounts WHERE id = ANY($1)",
                    "SELECT * FROM rattachements WHERE account_id = ANY($1)",
                    "SELECT * FROM account_history WHERE account_id = ANY($1)",
                    "SELECT * FROM notifications WHERE account_id = ANY($1)",
                    "SELECT * FROM campaign_items WHERE account_id = ANY($1)",
                    "SELECT at, actor_id, actor_name, action, details FROM audit_log WHERE account_id = ANY($1)"):
            values |= {v for r in await db.fetch(sql, ids) for v in _values(dict(r))}
    async with platform.database("sync") as db:
        for sql in ("SELECT data, nom, prenom FROM eleves WHERE uai = $1 AND eleve_id = $2",
                    "SELECT data FROM personnes WHERE uai = $1 AND personne_id = $2",
                    "SELECT * FROM liens WHERE uai = $1 AND (personne_id = $2 OR eleve_id = $2)"):
            values |= {v for r in await db.fetch(sql, U, person) for v in _values(dict(r))}
    async with platform.database("notifier") as db:
        values |= {v for r in await db.fetch("SELECT * FROM deliveries WHERE account_id = ANY($1)", ids)
                   for v in _values(dict(r))}
    return values, ids


async def test_the_export_holds_every_value_every_service_keeps(platform: PlatformUnderTest, smtp_sink: SmtpSink,
                                                               tmp_path: Path) -> None:
    platform.start("sync", "notifier")  # accounts gathers the staff export from them
    platform.env.update({"TELESERVICES_SYNC_URL": platform.processes["sync"].url,
                         "TELESERVICES_NOTIFIER_URL": platform.processes["notifier"].url})
    platform.start("accounts")
    async with platform.client("accounts") as api:
        assert (await api.post("/api/v1/establishments", json={
            "uai": U, "name": "Collège Jules Ferry", "academy": "NANCY-METZ"})).status_code == 201
        assert (await api.post(f"/api/v1/establishments/{U}/activation")).status_code == 204

    async def sync_knows() -> bool:
        async with platform.database("sync") as db:
            return bool(await db.fetchval("SELECT true FROM establishments WHERE uai = $1", U))

    await eventually(sync_knows)
    async with platform.client("sync", chef(U)) as api:
        applied = await api.post(f"/api/v1/establishments/{U}/imports",
                                 files=[("files", (f.name, f.read_bytes())) for f in export_files(COLLEGE)])
    assert applied.json()["status"] == "appliqué", applied.text

    async def enrolled() -> bool:
        async with platform.client("accounts") as api:
            listed = await api.get(f"/api/v1/establishments/{U}/accounts", params={"population": "responsable"})
            return bool(listed.json()["total"] == 10)

    await eventually(enrolled)
    async with platform.client("accounts", chef(U)) as api:
        launched = await api.post(f"/api/v1/establishments/{U}/campaigns", json={
            "population": "responsable", "mode": "Courrier électronique et courrier papier"})
        assert launched.status_code == 202, launched.text

        async def finished() -> bool:
            return bool((await api.get(f"/api/v1/campaigns/{launched.json()['id']}")).json()["percent"] == 100)

        await eventually(finished, within_s=120)
    async with platform.database("accounts") as db:
        person = await db.fetchval("SELECT r.personne_id FROM rattachements r JOIN personnes p ON p.uai = r.uai"
                                   " AND p.personne_id = r.personne_id WHERE r.uai = $1 AND p.email IS NOT NULL"
                                   " ORDER BY r.personne_id LIMIT 1", U)
        account_id = await db.fetchval("SELECT account_id FROM rattachements WHERE personne_id = $1", person)
    async with platform.client("accounts", chef(U)) as api:  # an audited staff action on the person
        assert (await api.get(f"/api/v1/accounts/{account_id}/temporary-password")).status_code == 200

    env = {**platform.env, "TELESERVICES_ACCOUNTS_URL": platform.processes["accounts"].url,
           "TELESERVICES_SYNC_URL": platform.processes["sync"].url,
           "TELESERVICES_NOTIFIER_URL": platform.processes["notifier"].url}
    out, pdf = tmp_path / "export.json", tmp_path / "export.pdf"
    result = await asyncio.to_thread(CliRunner().invoke, cli, [
        "privacy", "export", "--uai", U, "--person", person, "--out", str(out), "--pdf", str(pdf)], env=env)
    assert result.exit_code == 0, result.output
    exported = out.read_text(encoding="utf-8")
    document = json.loads(exported)

    held, ids = await _held(platform, person)
    assert len(held) > 30 and len(ids) >= 1
    missing = sorted(v for v in held if v not in exported)
    assert missing == [], missing
    assert document["donnees"]["notifications"]["envois"], "the letters sent to the person"
    assert "SIECLE" in document["vos_droits"]["rectification"] and "90 jours" in document["vos_droits"]["effacement"]
    assert "sealed" not in exported and "mot_de_passe_provisoire" in exported

    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.read_bytes())).pages)
    personne = document["donnees"]["comptes"]["personne"]
    identifiant = document["donnees"]["comptes"]["comptes"][0]["identifiant"]
    for value in (personne["nom"], personne["prenom"], personne["email"], identifiant, "Vos droits"):
        assert value in text, value

    unknown = await asyncio.to_thread(CliRunner().invoke, cli, [
        "privacy", "export", "--uai", U, "--person", "999999"], env=env)
    assert unknown.exit_code == 1 and "aucune donnée" in unknown.output

    # the staff action: the same document from the accounts API, JSON or PDF; each consultation is audited
    async with platform.client("accounts", chef(U)) as api:
        staff_json = await api.get(f"/api/v1/privacy/establishments/{U}/persons/{person}/export")
    assert staff_json.status_code == 200, staff_json.text
    assert staff_json.json()["donnees"]["imports_siecle"] == document["donnees"]["imports_siecle"]
    assert staff_json.json()["donnees"]["notifications"] == document["donnees"]["notifications"]
    held, _ = await _held(platform, person)  # now with the consultations, which the export lists as well
    assert sorted(v for v in held if v not in json.dumps(staff_json.json(), ensure_ascii=False)) == []
    assert [e["action"] for e in staff_json.json()["donnees"]["comptes"]["journal"]].count(
        "exporter_donnees_personne") == 2  # the CLI's and this one
    async with platform.client("accounts", chef(U)) as api:
        staff_pdf = await api.get(f"/api/v1/privacy/establishments/{U}/persons/{person}/export",
                                  params={"format": "pdf"})
    assert staff_pdf.headers["content-type"] == "application/pdf" and staff_pdf.content.startswith(b"%PDF")


async def test_a_delegate_or_another_establishment_gets_nothing(platform: PlatformUnderTest) -> None:
    platform.start("accounts")
    async with platform.client("accounts") as api:
        assert (await api.post("/api/v1/establishments", json={
            "uai": U, "name": "Collège", "academy": "NANCY-METZ"})).status_code == 201
    async with platform.client("accounts", chef("0540002B")) as api:
        assert (await api.get(f"/api/v1/privacy/establishments/{U}/persons/1")).status_code == 404
    async with platform.client("accounts", chef(U)) as api:
        assert (await api.get(f"/api/v1/privacy/establishments/{U}/persons/1")).status_code == 404
    async with platform.client("accounts", delegue(U)) as api:
        assert (await api.get(f"/api/v1/privacy/establishments/{U}/persons/1")).status_code == 403
        assert (await api.get(f"/api/v1/privacy/establishments/{U}/persons/1/export")).status_code == 403
    async with platform.client("accounts", chef(U)) as api:  # without the other services' addresses: said, not hidden
        partial = await api.get(f"/api/v1/privacy/establishments/{U}/persons/1/export")
    assert partial.status_code == 503 and partial.json()["detail"]["field"] == "sync"
