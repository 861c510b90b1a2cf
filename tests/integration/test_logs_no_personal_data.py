"""No personal data in log lines: a realistic flow's every value about a family is looked for in every log line."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import Any

from teleservices.shared.cli.sync import export_files
from teleservices.shared.embedded.mailbox import SmtpSink
from teleservices.sync.demo_export import write_demo_export
from teleservices.sync.siecle.export import SiecleExport, parse_export
from tests.support.accounts import AccountsUnderTest, chef
from tests.support.platform import PlatformUnderTest
from tests.support.privacy import captured_logs, log_file_lines, scan_log_lines
from tests.support.sync import SyncUnderTest
from tests.support.waiting import eventually

U = "0540001A"
SECRET_SUBJECT, SECRET_BODY = "Convocation disciplinaire Zorglub", "Votre enfant Zorglubette a été exclu"


def personal_values(export: SiecleExport) -> set[str]:
    """Every value of the export about a person: names, emails, INE, birth dates, phones, addresses."""
    values: set[str] = set()
    for eleve in export.eleves:
        values |= {eleve.nom, eleve.nom_usage, eleve.prenom, eleve.ine or "", eleve.email or ""}
        if eleve.date_naissance:
            values |= {eleve.date_naissance.isoformat(), eleve.date_naissance.strftime("%d/%m/%Y")}
        if eleve.adresse:
            values |= set(eleve.adresse.lignes)
    for person in export.personnes:
        values |= {person.nom, person.nom_usage, person.prenom, person.email or "",
                   person.telephones.personnel or "", person.telephones.portable or "",
                   person.telephones.professionnel or ""}
        if person.adresse:
            values |= set(person.adresse.lignes)
    return {v for v in values if len(v) >= 4}  # shorter first names match too much technical text by chance


async def _sync_knows(database: Any, uai: str) -> bool:
    return bool(await database.fetchval("SELECT true FROM establishments WHERE uai = $1", uai))


async def test_import_campaign_and_staff_actions_log_no_personal_data(platform: PlatformUnderTest,
                                                                        smtp_sink: SmtpSink, tmp_path: Path) -> None:
    platform.start("accounts", "sync", "notifier")
    head = chef(U)
    async with platform.client("accounts") as api:
        assert (await api.post("/api/v1/establishments", json={
            "uai": U, "name": "Collège Jules Ferry", "academy": "NANCY-METZ"})).status_code == 201
        assert (await api.post(f"/api/v1/establishments/{U}/activation")).status_code == 204

    async def sync_knows() -> bool:
        async with platform.database("sync") as db:
            return await _sync_knows(db, U)

    await eventually(sync_knows)
    folder = tmp_path / "export"
    write_demo_export(folder, uai=U, pupils=24, seed=11, annee_scolaire=date.today().year)
    export = parse_export(folder, today=date.today())
    async with platform.client("sync", head) as api:
        applied = await api.post(f"/api/v1/establishments/{U}/imports", timeout=120,
                                 files=[("files", (f.name, f.read_bytes())) for f in export_files(folder)])
    assert applied.status_code == 200 and applied.json()["status"] == "appliqué", applied.text

    pupils = len([e for e in export.eleves if not e.parti])

    async def enrolled() -> bool:
        async with platform.client("accounts", head) as api:
            listed = await api.get(f"/api/v1/establishments/{U}/accounts", params={"population": "eleve"})
            return bool(listed.json()["total"] == pupils)

    await eventually(enrolled)
    refused = sorted(p.email for p in export.personnes if p.email)[0]  # a server that echoes the address it refuses
    smtp_sink.refuse_recipient(refused, 550, f"5.1.1 <{refused}>: Recipient address rejected")
    async with platform.client("accounts", head) as api:
        launched = await api.post(f"/api/v1/establishments/{U}/campaigns", json={
            "population": "responsable", "mode": "Courrier électronique et courrier papier"})
        assert launched.status_code == 202, launched.text

    async def finished() -> bool:
        async with platform.client("accounts", head) as api:
            return bool((await api.get(f"/api/v1/campaigns/{launched.json()['id']}")).json()["percent"] == 100)

    await eventually(finished, within_s=120)
    smtp_sink.accept()
    async with platform.client("accounts", head) as api:
        assert (await api.get(f"/api/v1/campaigns/{launched.json()['id']}")).json()["failures"]  # refusal logged
    async with platform.client("accounts", head) as api:
        accounts = (await api.get(f"/api/v1/establishments/{U}/export")).json()
        notified = (await api.get(f"/api/v1/establishments/{U}/accounts", params={
            "population": "responsable", "etat": "Notifié"})).json()["accounts"]
        password = (await api.get(f"/api/v1/accounts/{notified[0]['id']}/temporary-password")).json()
        written = await api.post(f"/api/v1/accounts/{notified[0]['id']}/emails",
                                 json={"subject": SECRET_SUBJECT, "body": SECRET_BODY})
        assert written.status_code in (202, 409), written.text  # 409: this representative has no address
        listed = await api.get(f"/api/v1/establishments/{U}/class-lists",
                               params={"division": export.eleves[0].division})
        assert listed.status_code == 200

    async def written_email_sent() -> bool:
        return written.status_code == 409 or any(m.subject == SECRET_SUBJECT for m in smtp_sink.store.list())

    await eventually(written_email_sent)

    mails = [smtp_sink.store.get(m.id).text or "" for m in smtp_sink.store.list()]
    passwords = {m.group(1) for text in mails for m in re.finditer(r"Mot de passe[^:\n]*: *(\S+)", text)}
    assert len(passwords) >= 3 and password["temporary_password"]
    passwords.add(password["temporary_password"])
    canaries = (personal_values(export) | {a["identifiant"] for a in accounts} | passwords
                | {SECRET_SUBJECT, SECRET_BODY, platform.token(head), platform.token()})
    platform.stop_all()  # every line written and flushed
    lines = list(log_file_lines(platform.workdir / "logs"))
    assert {where.split(":")[0] for where, _ in lines} >= {"accounts.log", "sync.log", "notifier.log"}
    assert scan_log_lines(lines, [U, "import applied"])  # the scan does read the services' lines
    found = scan_log_lines(lines, canaries)
    assert found == [], "\n".join(f"{f.where}: {f.canary!r} in …{f.excerpt}…" for f in found[:20])


async def test_in_process_services_log_no_personal_data(accounts: AccountsUnderTest, sync: SyncUnderTest,
                                                        tmp_path: Path) -> None:
    folder = tmp_path / "export"
    write_demo_export(folder, uai=U, pupils=12, seed=5, annee_scolaire=date.today().year)
    export = parse_export(folder, today=date.today())
    with captured_logs() as lines:
        await accounts.establishment(U)

        async def sync_knows() -> bool:
            async with sync.app.state.runtime.db.connection() as conn:
                return await _sync_knows(conn, U)

        await eventually(sync_knows)
        assert (await sync.upload(folder, U, principal=chef(U))).json()["status"] == "appliqué"
        await eventually(lambda: _enrolled(accounts))
        async with accounts.client(chef(U)) as api:
            rows = (await api.get(f"/api/v1/establishments/{U}/export")).json()
            [first, *_] = await accounts.accounts(U, "responsable")
            refused = await api.post(f"/api/v1/accounts/{first['id']}/emails", json={"subject": "x"})
            assert refused.status_code == 422
            notified = await api.post(f"/api/v1/accounts/{first['id']}/notifications",
                                      json={"channel": "paper", "reset_password": True})
            assert notified.status_code == 202, notified.text
    assert scan_log_lines(lines, ["import applied"]), "the capture does not see the services' lines"
    canaries = personal_values(export) | {r["identifiant"] for r in rows}
    found = scan_log_lines(lines, canaries)
    assert found == [], "\n".join(f"{f.where}: {f.canary!r} in …{f.excerpt}…" for f in found[:20])


async def _enrolled(accounts: AccountsUnderTest) -> bool:
    return len(await accounts.accounts(U, "responsable")) > 0
