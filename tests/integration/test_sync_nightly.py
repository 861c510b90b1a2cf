"""The nightly run imports each establishment folder of the drop folder and archives what it applied."""

from __future__ import annotations

import shutil
from pathlib import Path

from teleservices.sync.nightly import import_drop_folder
from tests.support.accounts import AccountsUnderTest
from tests.support.sync import SyncUnderTest
from tests.support.waiting import eventually

COLLEGE = Path(__file__).parents[1] / "fixtures" / "siecle" / "college_minimal"
UAI = "0990001Z"


async def test_the_drop_folder_is_imported_and_archived(accounts: AccountsUnderTest, sync: SyncUnderTest,
                                                        tmp_path: Path) -> None:
    await accounts.establishment(UAI)

    async def known() -> bool:
        async with sync.app.state.runtime.db.connection() as conn:
            return bool(await conn.fetchval("SELECT true FROM establishments WHERE uai = $1", UAI))

    await eventually(known)
    drop = tmp_path / "siecle"
    shutil.copytree(COLLEGE, drop / UAI)
    shutil.copytree(COLLEGE, drop / "0540001A")  # an establishment the platform does not know: refused, kept

    reports = await import_drop_folder(sync.app.state.importer, drop)

    assert sorted(r["status"] for r in reports) == ["appliqué", "refusé"]
    assert not list((drop / UAI).glob("*.xml"))
    assert len(list((drop / UAI / "traites").glob("*/*.xml"))) == 4
    assert len(list((drop / "0540001A").glob("*.xml"))) == 4

    async def accounts_there() -> bool:
        return len(await accounts.accounts(UAI, "eleve")) == 6

    await eventually(accounts_there)
