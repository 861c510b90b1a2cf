"""Staff UI in a real browser: « Imports » — upload a SIECLE export, dry-run difference, apply, reports."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.async_api import Browser, expect

from teleservices.sync.demo_export import write_demo_export
from tests.support.browser import assert_accessible, new_page, screenshot
from tests.support.gateway import UAI_A, add_staff, establishment, sign_in, start_gateway
from tests.support.platform import PlatformUnderTest
from tests.support.waiting import eventually

U = f"/etablissements/{UAI_A}"


async def test_import_an_export_dry_run_then_apply(platform: PlatformUnderTest, browser: Browser,
                                                   tmp_path: Path) -> None:
    url = start_gateway(platform, "accounts", "sync")
    await establishment(platform, families=[])
    await add_staff(platform, "chef.a", "chef", (UAI_A,))
    folder = tmp_path / "export"
    write_demo_export(folder, uai=UAI_A, pupils=30)
    files = sorted(p for p in folder.iterdir() if p.is_file())

    async def sync_knows_the_establishment() -> bool:  # it learns establishments from the accounts events
        async with platform.client("sync") as api:
            runs = await api.get(f"/api/v1/establishments/{UAI_A}/imports")
        return runs.status_code == 200

    await eventually(sync_knows_the_establishment)
    page = await new_page(browser)
    await sign_in(page, url, "chef.a", f"{U}/imports")
    await expect(page.get_by_text("Aucun import pour cet établissement.")).to_be_visible()
    await assert_accessible(page)
    await screenshot(page, "gateway-imports")

    async def dry_run_shows_the_difference() -> bool:
        await page.get_by_label("Fichiers de l'export SIECLE").set_input_files([str(p) for p in files])
        await page.get_by_role("button", name="Essai (voir les différences)").click()
        return "Essai : différences — simulation" in await page.locator("main").inner_text()

    await eventually(dry_run_shows_the_difference, within_s=60, every_s=1)
    await expect(page.get_by_role("row", name="Élèves arrivés")).to_contain_text(re.compile(r"[1-9][0-9]*"))
    await assert_accessible(page)
    await screenshot(page, "gateway-imports-essai")
    await page.get_by_label("Fichiers de l'export SIECLE").set_input_files([str(p) for p in files])
    await page.get_by_role("button", name="Appliquer").click()
    await expect(page.get_by_role("heading", name="Import — appliqué")).to_be_visible()
    await page.get_by_role("link", name="Rapport").first.click()
    await expect(page.get_by_text("Statut : appliqué")).to_be_visible()
    await assert_accessible(page)
    await screenshot(page, "gateway-imports-rapport")
