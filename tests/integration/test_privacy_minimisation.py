"""Minimisation: an export's place of birth and nationality never reach any table, event or report."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from tests.support.accounts import AccountsUnderTest, chef
from tests.support.privacy import scan_database
from tests.support.sync import SyncUnderTest
from tests.support.waiting import eventually

COLLEGE = Path(__file__).parents[1] / "fixtures" / "siecle" / "college_minimal"
UAI = "0990001Z"
# what the pupils file carries about where each pupil was born, replaced by values found nowhere else
BIRTHPLACE = {b"<VILLE_NAISS>QUIMPER<": b"<VILLE_NAISS>PLOUCANARI<",
              b"<VILLE_NAISS>LORIENT<": b"<VILLE_NAISS>KERCANARI<",
              b"<CODE_COMMUNE_INSEE_NAISS>29232<": b"<CODE_COMMUNE_INSEE_NAISS>2B977<",
              b"<CODE_DEPARTEMENT_NAISS>029<": b"<CODE_DEPARTEMENT_NAISS>9C7<",
              b"<CODE_PAYS_NAT>100<": b"<CODE_PAYS_NAT>9Z8<"}
CANARIES = ("PLOUCANARI", "KERCANARI", "2B977", "9C7", "9Z8")


async def test_place_of_birth_is_never_stored_nor_emitted(accounts: AccountsUnderTest, sync: SyncUnderTest,
                                                          tmp_path: Path) -> None:
    export = tmp_path / "export"
    shutil.copytree(COLLEGE, export)
    pupils = export / "ElevesAvecAdresses.xml"
    content = pupils.read_bytes()
    for original, canary in BIRTHPLACE.items():
        assert original in content
        content = content.replace(original, canary)
    pupils.write_bytes(content)

    await accounts.establishment(UAI)

    async def sync_knows() -> bool:
        async with sync.app.state.runtime.db.connection() as conn:
            return bool(await conn.fetchval("SELECT true FROM establishments WHERE uai = $1", UAI))

    await eventually(sync_knows)
    answer = await sync.upload(export, UAI, principal=chef(UAI))
    report = answer.json()
    assert report["status"] == "appliqué", report

    async def accounts_made() -> bool:
        return len(await accounts.accounts(UAI, "eleve")) == 6

    await eventually(accounts_made)
    assert not [c for c in CANARIES if c in json.dumps(report, ensure_ascii=False)]
    found = await scan_database(accounts.settings.database.url, CANARIES)
    assert found == [], found
    # the pupils themselves are there, with what the platform uses (the scan does look at every table)
    assert await scan_database(accounts.settings.database.url, ["Éloïse"], schemas=["sync"])
    assert await scan_database(accounts.settings.database.url, ["Éloïse"], schemas=["accounts"])
