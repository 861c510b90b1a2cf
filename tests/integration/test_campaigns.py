"""Mass notification over the real servers: a campaign over 3 divisions with mixed modes, its recap and relaunch."""

from __future__ import annotations

from typing import Any

from teleservices.shared.embedded.mailbox import SmtpSink
from tests.support.platform import PlatformUnderTest
from tests.support.siecle import family
from tests.support.waiting import eventually

UAI = "0540001A"


async def _establishment(platform: PlatformUnderTest) -> None:
    async with platform.client("accounts") as api:
        assert (await api.post("/api/v1/establishments", json={
            "uai": UAI, "name": "Collège Langevin Wallon", "academy": "NANCY-METZ", "town": "BLAINVILLE",
            "address_lines": ["40 rue du Rendez-Vous"], "chef_civilite": "M.", "chef_nom": "E. Martin"})
                ).status_code == 201
        assert (await api.post(f"/api/v1/establishments/{UAI}/activation")).status_code == 204
    await platform.enrol(UAI, [
        family(nom="Arnaud", division="3A", parents=(("Sophie", "sophie.arnaud@exemple.fr"),)),
        family(nom="Blanc", division="3A", parents=(("Luc", "luc.blanc@exemple.fr"),)),
        family(nom="Caron", division="3B", parents=(("Inès", "ines.caron@exemple.fr"),)),
        family(nom="Dubois", division="3B", parents=(("Paul", None),)),
        family(nom="Evrard", division="3C", parents=(("Léa", None),)),
    ])

    async def all_there() -> bool:
        async with platform.client("accounts") as api:
            listed = await api.get(f"/api/v1/establishments/{UAI}/accounts", params={"population": "responsable"})
            return bool(listed.json()["total"] == 5)

    await eventually(all_there)


async def _finished(platform: PlatformUnderTest, campaign_id: str) -> dict[str, Any] | None:
    async with platform.client("accounts") as api:
        progress = (await api.get(f"/api/v1/campaigns/{campaign_id}")).json()
    return progress if progress["finished"] else None


async def test_a_campaign_notifies_every_division_by_email_and_paper(platform: PlatformUnderTest,
                                                                     smtp_sink: SmtpSink) -> None:
    platform.start("accounts", "notifier")
    await _establishment(platform)
    selection = {"population": "responsable", "mode": "Courrier électronique et courrier papier"}
    async with platform.client("accounts") as api:
        preview = (await api.post(f"/api/v1/establishments/{UAI}/campaigns/preview", json=selection)).json()
        assert preview == {"selected": 5, "total": 5, "summary": "5 compte(s) sélectionné(s) sur 5",
                           "par_courriel": 3, "par_courrier": 2, "sans_moyen": 0}
        launched = await api.post(f"/api/v1/establishments/{UAI}/campaigns", json=selection)
        assert launched.status_code == 202, launched.text

    progress = await eventually(lambda: _finished(platform, launched.json()["id"]), within_s=90)
    assert progress["percent"] == 100 and progress["failures"] == []
    assert {d["division"]: (d["email"], d["paper"]) for d in progress["divisions"]} == {
        "3A": (2, 0), "3B": (1, 1), "3C": (0, 1)}
    assert sorted(m.recipients[0] for m in smtp_sink.store.list()) == [
        "ines.caron@exemple.fr", "luc.blanc@exemple.fr", "sophie.arnaud@exemple.fr"]

    async def all_notifie() -> bool:
        async with platform.client("accounts") as api:
            listed = await api.get(f"/api/v1/establishments/{UAI}/accounts",
                                   params={"population": "responsable", "etat": "Notifié"})
            return bool(listed.json()["selected"] == 5)

    await eventually(all_notifie)


async def test_email_only_reports_who_has_no_address_and_relaunches_them(platform: PlatformUnderTest,
                                                                        smtp_sink: SmtpSink) -> None:
    platform.start("accounts", "notifier")
    await _establishment(platform)
    async with platform.client("accounts") as api:
        launched = await api.post(f"/api/v1/establishments/{UAI}/campaigns", json={
            "population": "responsable", "mode": "Courrier électronique seul", "divisions": ["3B", "3C"]})
    progress = await eventually(lambda: _finished(platform, launched.json()["id"]), within_s=90)
    assert sorted(f["division"] for f in progress["failures"]) == ["3B", "3C"]
    assert all("aucune adresse" in f["reason"] for f in progress["failures"])
    assert len(smtp_sink.store.list()) == 1
    async with platform.client("accounts") as api:
        again = await api.post(f"/api/v1/campaigns/{launched.json()['id']}/relaunch")
        assert again.status_code == 202
    relaunched = await eventually(lambda: _finished(platform, again.json()["id"]), within_s=90)
    assert relaunched["total"] == 2
