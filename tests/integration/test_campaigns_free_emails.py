"""« Écrire à plusieurs responsables » over the real servers: one email each, followed and relaunched."""

from __future__ import annotations

from typing import Any

from teleservices.shared.embedded.mailbox import SmtpSink
from teleservices.shared.messages.siecle import PersonneChanged
from tests.support.campaigns import finished
from tests.support.platform import PlatformUnderTest
from tests.support.siecle import family, publish_siecle
from tests.support.waiting import eventually

UAI = "0540001A"
FAMILIES = [family(nom="Arnaud", division="3A", parents=(("Sophie", "sophie.arnaud@exemple.fr"),)),
            family(nom="Blanc", division="3B", parents=(("Luc", "luc.blanc@exemple.fr"),)),
            family(nom="Caron", division="3B", parents=(("Inès", None),))]


async def _representatives(platform: PlatformUnderTest) -> list[dict[str, Any]]:
    async with platform.client("accounts") as api:
        assert (await api.post("/api/v1/establishments", json={
            "uai": UAI, "name": "Collège Langevin Wallon", "academy": "NANCY-METZ"})).status_code == 201
        assert (await api.post(f"/api/v1/establishments/{UAI}/activation")).status_code == 204
    await platform.enrol(UAI, FAMILIES)

    async def listed() -> list[dict[str, Any]] | None:
        async with platform.client("accounts") as api:
            answer = (await api.get(f"/api/v1/establishments/{UAI}/accounts",
                                    params={"population": "responsable"})).json()
        return list(answer["accounts"]) if answer["total"] == 3 else None

    return await eventually(listed)


async def test_each_person_gets_his_own_email_and_the_one_without_address_is_relaunched(
        platform: PlatformUnderTest, smtp_sink: SmtpSink) -> None:
    platform.start("accounts", "notifier")
    representatives = await _representatives(platform)
    by_name = {r["responsable"]["prenom"]: r["id"] for r in representatives}
    async with platform.client("accounts") as api:
        written = await api.post(f"/api/v1/establishments/{UAI}/emails", json={
            "subject": "Réunion parents-professeurs", "body": "Jeudi 18 h, salle polyvalente.",
            "account_ids": list(by_name.values())})
    assert written.status_code == 202, written.text
    assert written.json()["sent"] == 2 and written.json()["without_address"] == [by_name["Inès"]]

    progress = await eventually(lambda: finished(platform, written.json()["campaign_id"]), within_s=90)
    assert progress["kind"] == "courriel_libre" and (progress["total"], progress["done"]) == (3, 3)
    assert {d["division"]: (d["email"], d["failed"]) for d in progress["divisions"]} == {"3A": (1, 0), "3B": (1, 1)}
    assert [(f["account_id"], f["reason"]) for f in progress["failures"]] == [
        (by_name["Inès"], "aucune adresse de messagerie")]
    mails = smtp_sink.store.list()
    assert sorted(m.recipients[0] for m in mails) == ["luc.blanc@exemple.fr", "sophie.arnaud@exemple.fr"]
    assert {m.subject for m in mails} == {"Réunion parents-professeurs"}

    ines = FAMILIES[2].representants[0].model_copy(update={"email": "ines.caron@exemple.fr"})
    await publish_siecle(platform.bootstrap_servers, platform.topic_prefix, UAI,
                         [PersonneChanged(uai=UAI, personne=ines)])

    async def relaunched() -> dict[str, Any] | None:
        async with platform.client("accounts") as api:
            again = await api.post(f"/api/v1/campaigns/{written.json()['campaign_id']}/relaunch")
        assert again.status_code == 202, again.text
        progress = await eventually(lambda: finished(platform, again.json()["id"]), within_s=90)
        return progress if progress["failures"] == [] else None

    assert (await eventually(relaunched, within_s=120))["total"] == 1
    assert sorted(m.recipients[0] for m in smtp_sink.store.list()) == [
        "ines.caron@exemple.fr", "luc.blanc@exemple.fr", "sophie.arnaud@exemple.fr"]


async def test_accounts_of_another_establishment_are_refused_and_nothing_is_sent(
        platform: PlatformUnderTest, smtp_sink: SmtpSink) -> None:
    platform.start("accounts")
    representatives = await _representatives(platform)
    async with platform.client("accounts") as api:
        assert (await api.post("/api/v1/establishments", json={
            "uai": "0540002B", "name": "Collège Jules Ferry", "academy": "NANCY-METZ"})).status_code == 201
        assert (await api.post("/api/v1/establishments/0540002B/activation")).status_code == 204
        refused = await api.post("/api/v1/establishments/0540002B/emails", json={
            "subject": "Objet", "body": "Texte", "account_ids": [representatives[0]["id"]]})
    assert refused.status_code == 404
    async with platform.database("accounts") as db:
        assert await db.fetchval("SELECT count(*) FROM campaigns") == 0
