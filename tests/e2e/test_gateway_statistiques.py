"""Staff UI in a real browser: « Statistiques » — the three syntheses, charts, « Exporter en Excel », academy view."""

from __future__ import annotations

from playwright.async_api import Browser, Page, expect

from tests.support.browser import assert_accessible, new_page, screenshot
from tests.support.gateway import UAI_A, add_staff, establishment, sign_in, start_gateway
from tests.support.platform import PlatformUnderTest
from tests.support.waiting import eventually

U = f"/etablissements/{UAI_A}"


async def test_statistics_screens_and_excel_export(platform: PlatformUnderTest, browser: Browser) -> None:
    url = start_gateway(platform, "accounts", "stats")
    await establishment(platform)
    await add_staff(platform, "chef.a", "chef", (UAI_A,))
    await add_staff(platform, "op.academie", "operateur_academique", academy="NANCY-METZ")
    page = await new_page(browser)
    await sign_in(page, url, "chef.a", f"{U}/statistiques/eleves")

    async def five_pupils_counted() -> bool:
        await page.goto(f"{url}{U}/statistiques/eleves")
        return "Exporter en Excel" in await page.locator("main").inner_text() and (
            await page.locator("main table").first.get_by_role("cell", name="5", exact=True).count() > 0)

    await eventually(five_pupils_counted, within_s=60, every_s=1)
    await assert_accessible(page)
    await screenshot(page, "gateway-statistiques-eleves")
    assert (await _excel(page)).startswith(b"PK")

    for synthese in ("responsables", "acces"):
        await page.goto(f"{url}{U}/statistiques/{synthese}")
        await expect(page.get_by_role("heading", level=1)).to_contain_text("Synthèse")
        await assert_accessible(page)
        await screenshot(page, f"gateway-statistiques-{synthese}")

    operator = await new_page(browser)
    await sign_in(operator, url, "op.academie", "/academie/statistiques")
    await expect(operator.get_by_role("heading", level=1)).to_have_text("Statistiques de l'académie NANCY-METZ")
    await assert_accessible(operator)
    await screenshot(operator, "gateway-statistiques-academie")
    assert (await _excel(operator)).startswith(b"PK")


async def _excel(page: Page) -> bytes:
    async with page.expect_download() as info:
        await page.get_by_role("link", name="Exporter en Excel").click()
    path = await (await info.value).path()
    assert path is not None
    return path.read_bytes()
