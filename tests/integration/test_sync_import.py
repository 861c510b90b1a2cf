"""SIECLE/BEE imports over the real servers: dry run, apply, idempotence, refusals that change nothing."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.support.accounts import AccountsUnderTest, chef
from tests.support.sync import SyncUnderTest
from tests.support.waiting import eventually

FIXTURES = Path(__file__).parents[1] / "fixtures" / "siecle"
COLLEGE = FIXTURES / "college_minimal"
UAI = "0990001Z"


async def _known(accounts: AccountsUnderTest, sync: SyncUnderTest) -> None:
    await accounts.establishment(UAI)

    async def sync_knows() -> bool:
        async with sync.app.state.runtime.db.connection() as conn:
            return bool(await conn.fetchval("SELECT true FROM establishments WHERE uai = $1", UAI))

    await eventually(sync_knows)


async def _accounts(accounts: AccountsUnderTest) -> dict[str, list[dict[str, Any]]]:
    return {p: await accounts.accounts(UAI, p) for p in ("eleve", "responsable")}


async def _sync_events(sync: SyncUnderTest) -> int:
    async with sync.app.state.runtime.db.connection() as conn:
        return int(await conn.fetchval("SELECT count(*) FROM outbox WHERE topic = 'sync.events'"))


async def test_a_dry_run_shows_the_difference_and_applies_nothing(accounts: AccountsUnderTest,
                                                                   sync: SyncUnderTest) -> None:
    await _known(accounts, sync)
    response = await sync.upload(COLLEGE, UAI, principal=chef(UAI), dry_run=True)
    report = response.json()
    assert response.status_code == 200 and report["status"] == "simulation", report
    assert report["counts"]["eleves_arrives"] == 6
    assert report["counts"]["liens_ajoutes"] == 11
    assert {c["type"] for c in report["changes"]} >= {"EleveArrived", "PersonneChanged", "LienAdded"}
    assert await _sync_events(sync) == 0


async def test_an_applied_export_creates_the_accounts_and_a_rerun_changes_nothing(accounts: AccountsUnderTest,
                                                                                   sync: SyncUnderTest) -> None:
    await _known(accounts, sync)
    report = (await sync.upload(COLLEGE, UAI, principal=chef(UAI))).json()
    assert report["status"] == "appliqué", report

    async def all_accounts() -> bool:
        held = await _accounts(accounts)
        return len(held["eleve"]) == 6 and len(held["responsable"]) == 10

    await eventually(all_accounts)
    events = await _sync_events(sync)

    again = (await sync.upload(COLLEGE, UAI, principal=chef(UAI))).json()
    assert again["status"] == "aucun changement", again
    assert await _sync_events(sync) == events
    async with sync.client(chef(UAI)) as api:
        runs = (await api.get(f"/api/v1/establishments/{UAI}/imports")).json()
    assert [r["status"] for r in runs] == ["aucun changement", "appliqué"]


@pytest.mark.parametrize(("mutate", "expected"), [
    (lambda xml: xml[: len(xml) // 2], "ElevesAvecAdresses.xml"),
    (lambda xml: re.sub(rb"<DATE_NAISS>[^<]*</DATE_NAISS>", b"<DATE_NAISS>31/02/2010</DATE_NAISS>", xml, count=1),
     "31/02/2010"),
])
async def test_a_broken_export_is_refused_with_its_file_and_changes_nothing(
        accounts: AccountsUnderTest, sync: SyncUnderTest, tmp_path: Path, mutate: Any, expected: str) -> None:
    await _known(accounts, sync)
    broken = tmp_path / "export"
    shutil.copytree(COLLEGE, broken)
    pupils = broken / "ElevesAvecAdresses.xml"
    pupils.write_bytes(mutate(pupils.read_bytes()))
    report = (await sync.upload(broken, UAI, principal=chef(UAI))).json()
    assert report["status"] == "refusé"
    assert expected in str(report["erreurs"])
    assert await _sync_events(sync) == 0
    assert await _accounts(accounts) == {"eleve": [], "responsable": []}


async def test_an_export_of_another_establishment_is_refused(accounts: AccountsUnderTest, sync: SyncUnderTest) -> None:
    await _known(accounts, sync)
    await accounts.establishment("0540001A")
    report = (await sync.upload(COLLEGE, "0540001A", principal=chef("0540001A"))).json()
    assert report["status"] == "refusé"
    assert report["erreurs"][0]["champ"] == "UAJ"


async def test_an_unknown_establishment_is_refused(accounts: AccountsUnderTest, sync: SyncUnderTest) -> None:
    report = (await sync.upload(COLLEGE)).json()
    assert report["status"] == "refusé" and "n'est pas connu" in report["motif"]


async def test_an_older_export_is_refused_unless_forced(accounts: AccountsUnderTest, sync: SyncUnderTest,
                                                        tmp_path: Path) -> None:
    await _known(accounts, sync)
    assert (await sync.upload(COLLEGE, UAI)).json()["status"] == "appliqué"
    older = tmp_path / "older"
    shutil.copytree(COLLEGE, older)
    for xml in older.glob("*.xml"):
        xml.write_bytes(xml.read_bytes().replace(b"15/01/2025 07:42:10", b"14/01/2025 07:42:10"))
    refused = (await sync.upload(older, UAI)).json()
    assert refused["status"] == "refusé" and "plus ancien" in refused["motif"]
    assert (await sync.upload(older, UAI, force=True)).json()["status"] == "aucun changement"


async def test_the_safety_valve_stops_a_run_that_removes_too_many_pupils(accounts: AccountsUnderTest,
                                                                         sync: SyncUnderTest, tmp_path: Path) -> None:
    await _known(accounts, sync)
    assert (await sync.upload(COLLEGE, UAI)).json()["status"] == "appliqué"
    fewer = tmp_path / "fewer"
    shutil.copytree(COLLEGE, fewer)
    pupils = fewer / "ElevesAvecAdresses.xml"
    text = pupils.read_bytes()
    start = text.index(b"<ELEVE ")
    end = text.index(b"</ELEVE>", start)
    first = re.sub(rb"<DATE_SORTIE>[^<]*</DATE_SORTIE>", b"", text[start:end])
    first = first.replace(b"</DATE_NAISS>", b"</DATE_NAISS><DATE_SORTIE>01/09/2025</DATE_SORTIE>", 1)
    pupils.write_bytes(text[:start] + first + text[end:])  # one pupil of six leaves: more than 10 %
    report = (await sync.upload(fewer, UAI)).json()
    assert report["status"] == "refusé" and "arrêt de sécurité" in report["motif"]
    forced = (await sync.upload(fewer, UAI, force=True)).json()
    assert forced["status"] == "appliqué" and forced["counts"]["eleves_partis"] == 1


async def test_a_pupil_moving_between_establishments_keeps_his_account_or_is_reviewed(
        accounts: AccountsUnderTest, sync: SyncUnderTest, tmp_path: Path) -> None:
    other = "0990002A"
    await _known(accounts, sync)
    await accounts.establishment(other)
    assert (await sync.upload(COLLEGE, UAI)).json()["status"] == "appliqué"
    await eventually(lambda: _has_pupils(accounts, UAI, 6))
    pupils = {p["eleve"]["eleve_id"]: p for p in await accounts.accounts(UAI, "eleve")}

    arrival = tmp_path / "arrival"
    shutil.copytree(COLLEGE, arrival)
    for xml in arrival.glob("*.xml"):
        xml.write_bytes(xml.read_bytes().replace(b"0990001Z", other.encode()))
    report = (await sync.upload(arrival, other)).json()
    assert report["status"] == "appliqué", report
    assert report["continuite"] == {"certaines": 6, "a_examiner": 0}  # every fixture pupil has an INE

    async def moved() -> list[dict[str, Any]]:
        return [p for p in await accounts.accounts(other, "eleve") if p["continuity"]]

    async def all_moved() -> list[dict[str, Any]] | None:
        kept = await moved()
        return kept if len(kept) == 6 else None

    kept = await eventually(all_moved)
    assert {p["id"] for p in kept} == {p["id"] for p in pupils.values()}
    assert await accounts.accounts(UAI, "eleve") == []


async def _has_pupils(accounts: AccountsUnderTest, uai: str, count: int) -> bool:
    return len(await accounts.accounts(uai, "eleve")) == count


async def test_a_pupil_without_a_certain_match_goes_to_the_review_list(accounts: AccountsUnderTest,
                                                                       sync: SyncUnderTest, tmp_path: Path) -> None:
    other = "0990002A"
    await _known(accounts, sync)
    await accounts.establishment(other)
    assert (await sync.upload(COLLEGE, UAI)).json()["status"] == "appliqué"
    arrival = tmp_path / "arrival"
    shutil.copytree(COLLEGE, arrival)
    for xml in arrival.glob("*.xml"):
        content = re.sub(rb"<ID_NATIONAL>[^<]*</ID_NATIONAL>", b"", xml.read_bytes())
        xml.write_bytes(content.replace(b"0990001Z", other.encode()))
    report = (await sync.upload(arrival, other)).json()
    assert report["status"] == "appliqué" and report["continuite"] == {"certaines": 0, "a_examiner": 6}
    async with sync.client(chef(other)) as api:
        reviews = (await api.get(f"/api/v1/establishments/{other}/continuity-reviews")).json()
    assert {r["candidate_uai"] for r in reviews} == {UAI} and len(reviews) == 6
    await eventually(lambda: _has_pupils(accounts, other, 6))
    assert not [p for p in await accounts.accounts(other, "eleve") if p["continuity"]]
