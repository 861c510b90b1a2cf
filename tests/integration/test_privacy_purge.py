"""Purge after departure (ENT regulatory act, art. 6): with a simulated clock, nothing goes at departure + 89 days,
and at + 91 days every row about the pupil, his accounts and his now link-less representatives is gone in every
service — accounts, notifier, sync, stats, portal — while the other families stay and the audit trail verifies."""

from __future__ import annotations

import asyncio
import re
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
from typer.testing import CliRunner

from teleservices.accounts.purge import purge_departed
from teleservices.shared.cli.main import app as cli
from teleservices.shared.cli.sync import export_files
from teleservices.shared.embedded.mailbox import SmtpSink
from teleservices.shared.privacy.retention import RetentionSettings
from teleservices.stats.purge import ANONYMOUS
from tests.support.accounts import chef
from tests.support.platform import PlatformUnderTest
from tests.support.portal import login, start_with_portal
from tests.support.waiting import eventually

COLLEGE = Path(__file__).parents[1] / "fixtures" / "siecle" / "college_minimal"
U = "0990001Z"
LEAVING, PARENTS = "4003", ["5003", "5004"]  # a pupil whose two légal representatives have no other child here
STAYING, OTHER_PARENTS = "4001", ["5001", "5002"]  # a family with a brother (4002) who stays


def _departure_export(target: Path) -> Path:
    """The same export a day later, where pupil 4003 left (DATE_SORTIE in the past)."""
    target.mkdir()
    for source in export_files(COLLEGE):
        data = source.read_bytes().replace(b"15/01/2025", b"16/01/2025")
        if source.name.startswith("Eleves"):
            block = re.compile(rb'(<ELEVE ELEVE_ID="4003".*?<DATE_ENTREE>[^<]*</DATE_ENTREE>)', re.S)
            data, count = block.subn(rb"\1\n        <DATE_SORTIE>10/01/2025</DATE_SORTIE>", data)
            assert count == 1
        (target / source.name).write_bytes(data)
    return target


async def _import(platform: PlatformUnderTest, folder: Path) -> None:
    async with platform.client("sync", chef(U)) as api:
        applied = await api.post(f"/api/v1/establishments/{U}/imports",
                                 files=[("files", (f.name, f.read_bytes())) for f in export_files(folder)])
    assert applied.json()["status"] == "appliqué", applied.text


async def _held(platform: PlatformUnderTest, eleve: str, personnes: list[str], ids: list[uuid.UUID]) -> dict[str, int]:
    """How many rows each service holds about a pupil, his persons and their accounts."""
    queries = {
        "accounts": [
            ("eleves", "SELECT count(*) FROM eleves WHERE uai = $1 AND eleve_id = $2"),
            ("personnes", "SELECT count(*) FROM personnes WHERE uai = $1 AND personne_id = ANY($3)"),
            ("liens", "SELECT count(*) FROM liens WHERE uai = $1 AND (eleve_id = $2 OR personne_id = ANY($3))"),
            ("accounts", "SELECT count(*) FROM accounts WHERE id = ANY($4)"),
            ("rattachements", "SELECT count(*) FROM rattachements WHERE account_id = ANY($4)"
                              " OR (uai = $1 AND (eleve_id = $2 OR personne_id = ANY($3)))"),
            ("notifications", "SELECT count(*) FROM notifications WHERE account_id = ANY($4)"),
            ("account_history", "SELECT count(*) FROM account_history WHERE account_id = ANY($4)"),
            ("campaign_items", "SELECT count(*) FROM campaign_items WHERE account_id = ANY($4)"),
            ("replacements", "SELECT count(*) FROM replacements WHERE account_id = ANY($4) OR replaced_id = ANY($4)"),
        ],
        "notifier": [("deliveries", "SELECT count(*) FROM deliveries WHERE account_id = ANY($4)")],
        "sync": [
            ("eleves", "SELECT count(*) FROM eleves WHERE uai = $1 AND eleve_id = $2"),
            ("departures", "SELECT count(*) FROM departures WHERE uai = $1 AND eleve_id = $2"),
            ("personnes", "SELECT count(*) FROM personnes WHERE uai = $1 AND personne_id = ANY($3)"),
            ("liens", "SELECT count(*) FROM liens WHERE uai = $1 AND (eleve_id = $2 OR personne_id = ANY($3))"),
            ("continuity_reviews", "SELECT count(*) FROM continuity_reviews WHERE eleve_id = $2"
                                   " OR candidate_eleve_id = $2"),
        ],
        "stats": [
            ("eleves", "SELECT count(*) FROM eleves WHERE uai = $1 AND eleve_id = $2"),
            ("accounts", "SELECT count(*) FROM accounts WHERE account_id = ANY($4)"),
            ("rattachements", "SELECT count(*) FROM rattachements WHERE account_id = ANY($4)"
                              " OR (uai = $1 AND (eleve_id = $2 OR personne_id = ANY($3)))"),
            ("accesses", "SELECT count(*) FROM accesses WHERE account_id = ANY($4)"),
            ("deliveries", "SELECT count(*) FROM deliveries WHERE account_id = ANY($4)"),
        ],
        "portal-auth": [
            ("credentials", "SELECT count(*) FROM credentials WHERE account_id = ANY($4)"),
            ("sessions", "SELECT count(*) FROM sessions WHERE account_id = ANY($4)"),
            ("connection_log", "SELECT count(*) FROM connection_log WHERE account_id = ANY($4)"),
            ("links", "SELECT count(*) FROM links WHERE account_id = ANY($4)"),
        ],
    }
    values = {"$1": U, "$2": eleve, "$3": personnes, "$4": ids}
    counts = {}
    for service, tables in queries.items():
        async with platform.database(service) as db:
            for table, sql in tables:
                used = sorted(set(re.findall(r"\$\d", sql)))  # only the parameters the query names, renumbered
                for rank, name in enumerate(used, 1):
                    sql = sql.replace(name, f"${{{rank}}}")
                sql = re.sub(r"\$\{(\d)\}", r"$\1", sql)
                counts[f"{service}.{table}"] = int(await db.fetchval(sql, *(values[name] for name in used)))
    return counts


async def _account_ids(platform: PlatformUnderTest, eleve: str) -> list[uuid.UUID]:
    async with platform.database("accounts") as db:
        return [r["account_id"] for r in await db.fetch(
            "SELECT DISTINCT account_id FROM rattachements WHERE uai = $1 AND eleve_id = $2", U, eleve)]


async def test_a_departed_family_is_erased_everywhere_after_the_retention_period_and_not_before(
        platform: PlatformUnderTest, smtp_sink: SmtpSink, tmp_path: Path) -> None:
    platform.env["TELESERVICES_SYNC_MAX_REMOVED_SHARE"] = "0.5"  # one pupil out of six leaves
    portal_url = start_with_portal(platform, "sync", "notifier", "stats")
    async with platform.client("accounts") as api:
        assert (await api.post("/api/v1/establishments", json={
            "uai": U, "name": "Collège Jules Ferry", "academy": "NANCY-METZ"})).status_code == 201
        assert (await api.post(f"/api/v1/establishments/{U}/activation")).status_code == 204

    async def sync_knows() -> bool:
        async with platform.database("sync") as db:
            return bool(await db.fetchval("SELECT true FROM establishments WHERE uai = $1", U))

    await eventually(sync_knows)
    await _import(platform, COLLEGE)

    async def enrolled() -> bool:
        async with platform.client("accounts") as api:
            listed = await api.get(f"/api/v1/establishments/{U}/accounts", params={"population": "responsable"})
            return bool(listed.json()["total"] == 10)

    await eventually(enrolled)
    async with platform.client("accounts", chef(U)) as api:  # letters to every representative
        launched = await api.post(f"/api/v1/establishments/{U}/campaigns", json={
            "population": "responsable", "mode": "Courrier électronique et courrier papier"})
        assert launched.status_code == 202, launched.text

        async def finished() -> bool:
            return bool((await api.get(f"/api/v1/campaigns/{launched.json()['id']}")).json()["percent"] == 100)

        await eventually(finished, within_s=120)

    leaving_ids, staying_ids = await _account_ids(platform, LEAVING), await _account_ids(platform, STAYING)
    assert len(leaving_ids) == 3 and len(staying_ids) == 3  # the pupil's own and his two representatives'
    async with platform.database("accounts") as db:
        parent = await db.fetchrow("SELECT a.id, a.identifiant FROM accounts a JOIN rattachements r"
                                   " ON r.account_id = a.id WHERE r.uai = $1 AND r.personne_id = $2", U, PARENTS[0])
    async with platform.client("accounts", chef(U)) as api:
        password = (await api.get(f"/api/v1/accounts/{parent['id']}/temporary-password")).json()["temporary_password"]

    async def portal_knows() -> bool:
        async with platform.database("portal-auth") as db:
            return bool(await db.fetchval("SELECT temp_password_hash IS NOT NULL FROM credentials"
                                          " WHERE account_id = $1", parent["id"]))

    await eventually(portal_knows)
    async with httpx.AsyncClient(base_url=portal_url, follow_redirects=False, timeout=30) as family:
        assert (await login(family, parent["identifiant"], password)).status_code == 303  # a session, a log line

    async def everywhere(eleve: str, people: list[str], ids: list[uuid.UUID]) -> dict[str, int] | None:
        held = await _held(platform, eleve, people, ids)
        wanted = ("accounts.accounts", "accounts.notifications", "notifier.deliveries", "stats.accounts",
                  "stats.deliveries", "portal-auth.credentials", "sync.personnes")
        return held if all(held[key] for key in wanted) else None

    await eventually(lambda: everywhere(LEAVING, PARENTS, leaving_ids), within_s=60)
    assert (await _held(platform, LEAVING, PARENTS, leaving_ids))["portal-auth.sessions"] >= 1
    others_before = await eventually(lambda: everywhere(STAYING, OTHER_PARENTS, staying_ids))

    # The pupil leaves at the next import: his accounts are detached, nothing is deleted yet.
    await _import(platform, _departure_export(tmp_path / "export"))

    async def departed() -> Any:
        async with platform.database("accounts") as db:
            return await db.fetchval("SELECT left_at FROM eleves WHERE uai = $1 AND eleve_id = $2", U, LEAVING)

    left_at = await eventually(departed)
    async with platform.database("sync") as db:
        assert await db.fetchval("SELECT count(*) FROM departures WHERE uai = $1 AND eleve_id = $2", U, LEAVING) == 1
    before = await _held(platform, LEAVING, PARENTS, leaving_ids)
    keep = timedelta(days=RetentionSettings().departure_purge_days)
    assert keep == timedelta(days=90)

    # Day 89: nothing goes.
    async with platform.database("accounts") as db, db.transaction():
        assert await purge_departed(db, left_at + timedelta(days=89), keep) == []
    assert await _held(platform, LEAVING, PARENTS, leaving_ids) == before

    # The operator's dry run (real clock) lists nothing either, and a head may not run the purge.
    env = {**platform.env, "TELESERVICES_ACCOUNTS_URL": platform.processes["accounts"].url}
    dry = await asyncio.to_thread(CliRunner().invoke, cli, ["privacy", "purge", "--dry-run"], env=env)
    assert dry.exit_code == 0 and "0 compte(s), 0 élève(s), 0 responsable(s) seraient supprimés" in dry.output, \
        dry.output
    async with platform.client("accounts", chef(U)) as api:
        assert (await api.post("/api/v1/privacy/purge")).status_code == 403
    run = await asyncio.to_thread(CliRunner().invoke, cli, ["privacy", "purge"], env=env)
    assert run.exit_code == 0 and "0 responsable(s) supprimés" in run.output, run.output
    async with platform.database("accounts") as db:  # the operator's run is audited (counts only)
        assert await db.fetchval("SELECT details FROM audit_log WHERE action = 'purger_donnees_departs'") == \
            '{"eleves": 0, "comptes": 0, "personnes": 0}'
    assert await _held(platform, LEAVING, PARENTS, leaving_ids) == before

    # Day 91: a dry run lists exactly what goes, then the purge deletes it everywhere.
    day_91 = left_at + timedelta(days=91)
    async with platform.database("accounts") as db, db.transaction():
        [listed] = await purge_departed(db, day_91, keep, dry_run=True)
    assert await _held(platform, LEAVING, PARENTS, leaving_ids) == before
    async with platform.database("accounts") as db, db.transaction():
        [purged] = await purge_departed(db, day_91, keep)
    assert purged == listed
    assert (purged.uai, sorted(purged.account_ids), purged.eleve_ids, purged.personne_ids) == (
        U, sorted(leaving_ids), [LEAVING], PARENTS)

    async def erased() -> dict[str, int] | None:
        held = await _held(platform, LEAVING, PARENTS, leaving_ids)
        return held if not any(held.values()) else None

    try:
        await eventually(erased, within_s=60)
    except AssertionError:
        held = await _held(platform, LEAVING, PARENTS, leaving_ids)
        raise AssertionError({k: v for k, v in held.items() if v}) from None

    # The other families are untouched; the statistics keep anonymous counts; the audit trail verifies.
    assert await _held(platform, STAYING, OTHER_PARENTS, staying_ids) == others_before
    async with platform.database("stats") as db:
        assert await db.fetchval("SELECT count(*) FROM deliveries WHERE account_id = $1",
                                 ANONYMOUS["responsable"]) >= 2  # the two representatives' letters
    async with platform.database("accounts") as db, db.transaction():  # a second run finds nothing more
        assert await purge_departed(db, day_91, keep) == []
    async with platform.client("accounts") as api:
        verified = (await api.get("/api/v1/audit/verification")).json()
    assert verified["intact"], verified
