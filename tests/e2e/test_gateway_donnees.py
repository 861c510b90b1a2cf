"""« Données personnelles » in a real browser: the head downloads the record of processing and a family's
right-of-access export; a delegate is refused."""

from __future__ import annotations

from playwright.async_api import Browser, expect

from tests.support.browser import assert_accessible, new_page, screenshot
from tests.support.gateway import UAI_A, add_staff, establishment, five_families, sign_in, start_gateway
from tests.support.platform import PlatformUnderTest

U = f"/etablissements/{UAI_A}"


async def test_the_head_downloads_the_record_and_a_persons_export(platform: PlatformUnderTest,
                                                                   browser: Browser) -> None:
    platform.start("sync", "notifier")  # accounts gathers a person's data from them
    platform.env.update({"TELESERVICES_SYNC_URL": platform.processes["sync"].url,
                         "TELESERVICES_NOTIFIER_URL": platform.processes["notifier"].url})
    url = start_gateway(platform, "accounts", "sync", "notifier")
    families = five_families()
    await establishment(platform, families=families)
    await add_staff(platform, "chef.a", "chef", (UAI_A,))
    await add_staff(platform, "delegue.a", "delegue", (UAI_A,), menus=("acces_responsables",))

    page = await new_page(browser, accept_downloads=True)
    await sign_in(page, url, "chef.a", U)
    await page.get_by_role("link", name="Données personnelles").click()
    await expect(page.get_by_role("heading", name="Registre des activités de traitement")).to_be_visible()
    await assert_accessible(page)
    await screenshot(page, "gateway-donnees-personnelles")

    async with page.expect_download() as record:
        await page.get_by_role("link", name="Télécharger le registre (PDF)").click()
    assert (await (await record.value).path()).read_bytes().startswith(b"%PDF")

    pupil = families[0].eleve
    await page.get_by_label("Identifiant SIECLE de l'élève ou de la personne").fill(pupil.eleve_id)
    await page.get_by_label("JSON").check()
    async with page.expect_download() as export:
        await page.get_by_role("button", name="Exporter les données").click()
    content = (await (await export.value).path()).read_text()
    assert pupil.nom in content and pupil.prenom in content

    delegate = await new_page(browser)
    await sign_in(delegate, url, "delegue.a", U)
    await delegate.goto(f"{url}{U}/donnees-personnelles")
    await expect(delegate.get_by_role("heading", name="Accès refusé")).to_be_visible()
