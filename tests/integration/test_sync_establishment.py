"""A generated 2,500-pupil establishment imported, then a modified export: exactly the expected differences."""

from __future__ import annotations

from pathlib import Path

from teleservices.sync.demo_export import modify_export, write_demo_export
from tests.support.accounts import AccountsUnderTest
from tests.support.sync import SyncUnderTest
from tests.support.waiting import eventually

UAI = "0540001A"


async def test_an_establishment_then_its_changes_reach_the_accounts(accounts: AccountsUnderTest,
                                                                   sync: SyncUnderTest, tmp_path: Path) -> None:
    await accounts.establishment(UAI)
    first = write_demo_export(tmp_path / "v1", uai=UAI, pupils=2500, seed=7)

    async def known() -> bool:
        async with sync.app.state.runtime.db.connection() as conn:
            return bool(await conn.fetchval("SELECT true FROM establishments WHERE uai = $1", UAI))

    await eventually(known)
    report = (await sync.upload(tmp_path / "v1", UAI)).json()
    assert report["status"] == "appliqué", report
    present = first.pupils - first.departed
    assert report["counts"]["eleves_arrives"] == present

    async def counts() -> dict[str, int]:
        async with accounts.client() as api:
            out = {}
            for population in ("eleve", "responsable"):
                listed = await api.get(f"/api/v1/establishments/{UAI}/accounts", params={"population": population})
                out[population] = listed.json()["total"]
            return out

    async def all_pupils() -> bool:
        return (await counts())["eleve"] == present

    await eventually(all_pupils, within_s=180)

    expected = modify_export(tmp_path / "v1", tmp_path / "v2", seed=8, moves=40, departures=20, arrivals=30,
                             name_changes=10, email_changes=25, links_removed=15, links_added=12)
    second = (await sync.upload(tmp_path / "v2", UAI)).json()
    assert second["status"] == "appliqué", second
    c = second["counts"]
    assert c["eleves_arrives"] == len(expected.arrived)
    assert c["eleves_partis"] == len(expected.departed)
    assert c["eleves_changes_de_division"] == len(expected.moved)
    assert c["liens_supprimes"] == len(expected.links_removed)
    assert c["liens_ajoutes"] == len(expected.links_added)
    assert c["eleves_modifies"] == len(expected.moved) + len(expected.renamed)

    async def settled() -> bool:
        return (await counts())["eleve"] == present - len(expected.departed) + len(expected.arrived)

    await eventually(settled, within_s=120)
    moved_to = {eleve_id: after for eleve_id, (_, after) in expected.moved.items()}
    listed = {a["eleve"]["eleve_id"]: a for a in await accounts.accounts(UAI, "eleve")}
    assert all(listed[eleve_id]["eleve"]["division"] == division for eleve_id, division in moved_to.items())
    assert not set(expected.departed) & set(listed)
