"""Staff UI in a real browser: « Notifier en masse » — filters without reload, ticks, launch, progress, PDF."""

from __future__ import annotations

from playwright.async_api import Browser, expect

from tests.support.browser import assert_accessible, new_page, screenshot
from tests.support.gateway import UAI_A, add_staff, establishment, sign_in, start_gateway
from tests.support.platform import PlatformUnderTest
from tests.support.waiting import eventually

U = f"/etablissements/{UAI_A}"


async def test_notify_every_division_by_email_and_paper(platform: PlatformUnderTest, browser: Browser) -> None:
    url = start_gateway(platform, "accounts", "notifier")
    await establishment(platform)
    await add_staff(platform, "chef.a", "chef", (UAI_A,))
    page = await new_page(browser)
    await sign_in(page, url, "chef.a", f"{U}/responsables/notifier")
    counter = page.locator("[data-compteur]")
    await expect(counter).to_have_text("5 compte(s) sélectionné(s) sur 5")
    await expect(page.locator("tr.continuite")).to_have_count(0)
    await assert_accessible(page)
    await screenshot(page, "gateway-responsables-notifier")

    await page.evaluate("window.notReloaded = true")
    await page.get_by_label("Division").select_option(["3A"])
    await expect(counter).to_have_text("2 compte(s) sélectionné(s) sur 5")
    await page.get_by_label("Externe").check()
    await expect(counter).to_have_text("1 compte(s) sélectionné(s) sur 5")
    await page.get_by_label("Externe").uncheck()
    await page.get_by_label("Division").select_option([])
    await expect(counter).to_have_text("5 compte(s) sélectionné(s) sur 5")
    assert await page.evaluate("window.notReloaded") is True  # filtered in place (htmx)

    await page.get_by_label("— Paul Dubois").uncheck()
    await expect(counter).to_have_text("4 compte(s) sélectionné(s) sur 5")
    await page.get_by_label("Informer par : Courrier électronique et courrier papier").check()
    await page.get_by_role("button", name="Notifier").click()

    await expect(page.get_by_text("Notification terminée : 100 %")).to_be_visible(timeout=90_000)
    await expect(page.locator("progress")).to_have_attribute("value", "100")
    await assert_accessible(page)
    await screenshot(page, "gateway-responsables-progression")
    link = page.get_by_role("link", name="Division 3C (PDF)")
    async with page.expect_download() as download_info:
        await link.click()
    download = await download_info.value
    path = await download.path()
    assert path is not None and path.read_bytes().startswith(b"%PDF")
    await expect(page.get_by_role("link", name="Division 3B (PDF)")).to_have_count(0)  # Dubois was unticked

    await page.goto(f"{url}{U}/responsables/notifier")

    await page.get_by_role("button", name="Écrire à plusieurs responsables").click()
    await expect(page.get_by_text("5 compte(s) sélectionné(s).")).to_be_visible()
    await page.get_by_label("Objet").fill("Réunion parents-professeurs")
    await page.get_by_label("Message").fill("La réunion a lieu jeudi à 18 h.")
    await assert_accessible(page)
    await screenshot(page, "gateway-responsables-ecrire")
    await page.get_by_role("button", name="Envoyer").click()
    await expect(page.get_by_text("Courriel envoyé à 3 responsable(s) ; 2 sans adresse de messagerie.")).to_be_visible()

    async def four_notified() -> bool:
        async with platform.client("accounts") as api:
            listed = await api.get(f"/api/v1/establishments/{UAI_A}/accounts",
                                   params={"population": "responsable", "etat": "Notifié"})
        return bool(listed.json()["selected"] == 4)

    await eventually(four_notified)
    async with platform.database("accounts") as db:  # as if notified 80 days ago: deleted within 15 days
        await db.execute("UPDATE accounts SET notified_at = now() - interval '80 days' WHERE state = 'Notifié'")
    await page.goto(f"{url}{U}")
    await expect(page.get_by_role("heading", name="Comptes bientôt supprimés")).to_be_visible()
    await assert_accessible(page)
    await screenshot(page, "gateway-accueil-expiration")
    await page.get_by_role("button", name="Relancer les 4 compte(s) responsables").click()
    await expect(page.get_by_text("Notification terminée : 100 %")).to_be_visible(timeout=90_000)
    await expect(page.get_by_text("Progression : 4 / 4 (100 %)")).to_be_visible()


async def test_failure_recap_and_relaunch(platform: PlatformUnderTest, browser: Browser) -> None:
    url = start_gateway(platform, "accounts", "notifier")
    await establishment(platform)
    await add_staff(platform, "chef.a", "chef", (UAI_A,))
    page = await new_page(browser)
    await sign_in(page, url, "chef.a", f"{U}/responsables/notifier")
    await page.get_by_label("Informer par : Courrier électronique seul").check()
    await page.get_by_role("button", name="Notifier").click()
    await expect(page.get_by_text("Notification terminée : 100 %")).to_be_visible(timeout=90_000)
    recap = page.get_by_role("heading", name="Récapitulatif des personnes n'ayant pu être notifiées")
    await expect(recap).to_be_visible()
    await expect(page.locator("table").last.locator("tbody tr")).to_have_count(2)  # Dubois and Evrard: no address
    await assert_accessible(page)
    await screenshot(page, "gateway-responsables-recapitulatif")
    first = page.url
    await page.get_by_role("button", name="Relancer la notification").click()
    await expect(page.get_by_text("Notification terminée : 100 %")).to_be_visible(timeout=90_000)
    assert page.url != first
    await expect(page.get_by_text("Progression : 2 / 2 (100 %)")).to_be_visible()
