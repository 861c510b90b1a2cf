"""The breach report (RGPD art. 33): every person and record a staff member or a time window touched."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from typing import Any

from typer.testing import CliRunner

from teleservices.shared.cli.main import app as cli
from tests.support.accounts import AccountsUnderTest, chef, delegue
from tests.support.platform import PlatformUnderTest
from tests.support.siecle import family
from tests.support.waiting import eventually

U, V = "0540001A", "0540002B"


async def _report(accounts: AccountsUnderTest, principal: Any = None, **params: Any) -> dict[str, Any]:
    async with (accounts.client(principal) if principal else accounts.client()) as api:
        answer = await api.get("/api/v1/audit/breach-report", params=params)
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


async def _setup(accounts: AccountsUnderTest) -> dict[str, str]:
    await accounts.establishment(U)
    await accounts.enrol(U, [family(nom="Arnaud", prenom="Hugo", division="3A", parents=(("Paul", "p@exemple.fr"),)),
                             family(nom="Blanc", prenom="Inès", division="3A", parents=()),
                             family(nom="Caron", prenom="Zoé", division="3B", parents=(("Anne", "a@exemple.fr"),))])
    await accounts.establishment(V)
    await accounts.enrol(V, [family(nom="Durand", prenom="Léo", division="3A", parents=(("Luc", "l@exemple.fr"),))])
    ids = {f"{a['eleve']['nom']}": a["id"] for a in await accounts.accounts(U, "eleve")}
    for rep in await accounts.accounts(U, "responsable"):
        ids[rep["identifiant"]] = rep["id"]
    ids["Durand"] = (await accounts.accounts(V, "eleve"))[0]["id"]
    return ids


async def test_what_one_staff_member_touched(accounts: AccountsUnderTest) -> None:
    ids = await _setup(accounts)
    async with accounts.client(chef(U)) as api:
        listed = await api.get(f"/api/v1/establishments/{U}/class-lists", params={"division": "3A"})
        assert listed.status_code == 200
        notified = await api.post(f"/api/v1/accounts/{ids['anne.caron1']}/notifications",
                                  json={"channel": "email", "reset_password": False})
        assert notified.status_code == 202, notified.text
    async with accounts.client(chef(V)) as api:  # someone else, elsewhere
        assert (await api.post(f"/api/v1/accounts/{ids['Durand']}/notifications",
                               json={"channel": "paper", "reset_password": False})).status_code == 202

    report = await _report(accounts, acteur=chef(U).user_id)
    assert report["actions"] == 2 and report["etablissements"] == [U]
    assert report["enregistrements"] == {"editer_liste_eleves": 1, "notifier": 1}
    assert report["acteurs"] == [{"actor_id": chef(U).user_id, "actor_name": chef(U).display_name}]
    people = {(p["nom"], p["prenom"], p["population"]) for p in report["personnes"]}
    assert people == {("Arnaud", "Hugo", "eleve"), ("Blanc", "Inès", "eleve"), ("Caron", "Anne", "responsable")}
    anne = next(p for p in report["personnes"] if p["prenom"] == "Anne")
    assert anne["email"] == "a@exemple.fr" and anne["uai"] == U and anne["identifiant"] == "anne.caron1"
    assert {e["action"] for e in report["entrees"]} == {"editer_liste_eleves", "notifier"}

    # the head of U may ask for his establishment only
    assert (await _report(accounts, chef(U), acteur=chef(U).user_id, uai=U))["actions"] == 2
    async with accounts.client(chef(U)) as api:
        nowhere = await api.get("/api/v1/audit/breach-report", params={"acteur": chef(U).user_id})
        elsewhere = await api.get("/api/v1/audit/breach-report", params={"acteur": "x", "uai": V})
    assert nowhere.status_code == 400 and nowhere.json()["detail"]["field"] == "uai"
    assert elsewhere.status_code == 404
    async with accounts.client(delegue(U)) as api:
        assert (await api.get("/api/v1/audit/breach-report", params={"acteur": "x", "uai": U})).status_code == 403


async def test_what_a_time_window_touched(accounts: AccountsUnderTest) -> None:
    ids = await _setup(accounts)
    await asyncio.sleep(0.01)
    start = datetime.now(UTC)
    async with accounts.client(chef(V)) as api:
        assert (await api.post(f"/api/v1/accounts/{ids['Durand']}/notifications",
                               json={"channel": "paper", "reset_password": False})).status_code == 202
    report = await _report(accounts, depuis=start.isoformat())
    assert report["actions"] == 1 and report["etablissements"] == [V]
    assert [(p["nom"], p["prenom"]) for p in report["personnes"]] == [("Durand", "Léo")]
    before = await _report(accounts, depuis="2020-01-01T00:00:00+00:00", jusqu_a=start.isoformat())
    assert before["enregistrements"] == {"activer_teleservices": 2, "creer_etablissement": 2}
    assert before["personnes"] == []


async def test_bad_criteria_are_refused_naming_the_field(accounts: AccountsUnderTest) -> None:
    async with accounts.client() as api:
        cases = [({}, "acteur"), ({"depuis": "2026-01-01T00:00:00"}, "depuis"),
                 ({"depuis": "2026-02-01T00:00:00Z", "jusqu_a": "2026-01-01T00:00:00Z"}, "jusqu_a")]
        for params, field in cases:
            answer = await api.get("/api/v1/audit/breach-report", params=params)
            assert answer.status_code == 400 and answer.json()["detail"]["field"] == field, answer.text


async def test_downloaded_division_letters_count_across_services(platform: PlatformUnderTest) -> None:
    platform.start("accounts", "notifier")
    async with platform.client("accounts") as api:
        assert (await api.post("/api/v1/establishments", json={
            "uai": U, "name": "Collège Jules Ferry", "academy": "NANCY-METZ"})).status_code == 201
        assert (await api.post(f"/api/v1/establishments/{U}/activation")).status_code == 204
    await platform.enrol(U, [family(nom="Arnaud", division="3A", parents=(("Paul", None),)),
                             family(nom="Blanc", division="3A", parents=(("Rose", None),)),
                             family(nom="Caron", division="3B", parents=(("Anne", None),))])

    async def enrolled() -> bool:
        async with platform.client("accounts") as api:
            listed = await api.get(f"/api/v1/establishments/{U}/accounts", params={"population": "responsable"})
            return bool(listed.json()["total"] == 3)

    await eventually(enrolled)
    async with platform.client("accounts", chef(U)) as api:
        launched = await api.post(f"/api/v1/establishments/{U}/campaigns", json={
            "population": "responsable", "mode": "Courrier papier seul"})
        assert launched.status_code == 202, launched.text
        campaign = launched.json()["id"]

        async def finished() -> bool:
            return bool((await api.get(f"/api/v1/campaigns/{campaign}")).json()["percent"] == 100)

        await eventually(finished, within_s=120)
    before = datetime.now(UTC)
    async with platform.client("notifier", chef(U)) as notifier:
        assert (await notifier.get(f"/api/v1/campaigns/{campaign}/documents/3A.pdf")).status_code == 200

    env = {"TELESERVICES_ACCOUNTS_URL": platform.processes["accounts"].url,
           "TELESERVICES_NOTIFIER_URL": platform.processes["notifier"].url,
           "TELESERVICES_SECRET_STAFF_TOKEN_KEY": platform.staff_key}
    result = await asyncio.to_thread(CliRunner().invoke, cli, [
        "privacy", "breach-report", "--depuis", before.isoformat(), "--json"], env=env)
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["avertissements"] == [] and report["enregistrements"] == {"telecharger_courriers_pdf": 1}
    assert [(d["division"], d["actor_id"]) for d in report["telechargements"]] == [("3A", chef(U).user_id)]
    assert sorted((p["nom"], p["prenom"]) for p in report["personnes"]) == [("Arnaud", "Paul"), ("Blanc", "Rose")]
    assert all(p["courriers_pdf"] == [f"{campaign}/3A"] for p in report["personnes"])

    async with platform.client("notifier", chef(U)) as notifier:  # a head asks for his establishment only
        assert (await notifier.get("/api/v1/privacy/downloads", params={"acteur": "x"})).status_code == 400
        assert (await notifier.get("/api/v1/privacy/downloads",
                                   params={"acteur": "x", "uai": "0540002B"})).status_code == 404
    async with platform.client("accounts") as api:
        bad = await api.get("/api/v1/audit/breach-report", params={"acteur": "x", "courrier": "pas-une-campagne"})
        assert bad.status_code == 400 and bad.json()["detail"]["field"] == "courrier"
