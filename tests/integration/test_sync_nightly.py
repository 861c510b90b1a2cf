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


def test_applied_exports_are_kept_a_week_then_deleted(tmp_path: Path) -> None:
    from datetime import datetime, timedelta

    from teleservices.sync.nightly import purge_archives

    now = datetime(2026, 9, 15, 2, 0)
    for name in ("2026-09-01_013000", "2026-09-07_013000", "2026-09-14_013000", "notes"):
        (tmp_path / UAI / "traites" / name).mkdir(parents=True)
        (tmp_path / UAI / "traites" / name / "ElevesAvecAdresses.xml").write_text("<BEE_ELEVES/>")
    assert purge_archives(tmp_path, timedelta(days=7), now) == 2
    assert sorted(p.name for p in (tmp_path / UAI / "traites").iterdir()) == ["2026-09-14_013000", "notes"]
