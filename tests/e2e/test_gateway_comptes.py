"""Staff UI in a real browser: « Gérer le compte » (responsables) and « Accès des élèves » (mass, account, lists)."""

from __future__ import annotations

import re

from playwright.async_api import Browser, Page, expect

from tests.support.browser import assert_accessible, new_page, screenshot
from tests.support.gateway import UAI_A, add_staff, establishment, sign_in, start_gateway
from tests.support.platform import PlatformUnderTest

U = f"/etablissements/{UAI_A}"


async def _download(page: Page, name: str) -> bytes:
    async with page.expect_download() as info:
        await page.get_by_role("link", name=name).first.click()
    path = await (await info.value).path()
    assert path is not None
    return path.read_bytes()


async def test_manage_one_representative_account(platform: PlatformUnderTest, browser: Browser) -> None:
    url = start_gateway(platform, "accounts", "notifier")
    await establishment(platform)
    await add_staff(platform, "chef.a", "chef", (UAI_A,))
    page = await new_page(browser)
    await sign_in(page, url, "chef.a", f"{U}/responsables/comptes")
    await page.get_by_label("Première(s) lettre(s) du nom de l'élève").fill("Ca")
    await expect(page.locator("#resultats .compteur")).to_have_text("1 compte(s) sélectionné(s) sur 5")
    await assert_accessible(page)
    await screenshot(page, "gateway-responsables-comptes")

    await page.locator("#resultats").get_by_role("link", name="Gérer le compte").click()
    await expect(page.get_by_role("heading", name="Compte actuel")).to_be_visible()
    identifiant = await page.locator("#t-compte + p strong").inner_text()
    assert identifiant.startswith("ines.caron")
    await expect(page.get_by_role("button", name="Simuler l'accès")).to_have_count(0)  # only for Utilisé accounts
    await assert_accessible(page)
    await screenshot(page, "gateway-responsables-compte")

    await page.get_by_role("button", name="Renotifier le compte", exact=True).click()
    await expect(page.get_by_text("La notification est lancée")).to_be_visible()

    await page.locator("form[action$='/reinitialiser']").get_by_label("Courrier papier").check()
    await page.get_by_role("button", name="Renotifier et réinitialiser le mot de passe").click()
    await expect(page.get_by_role("link", name="Télécharger le courrier (PDF)")).to_be_visible(timeout=60_000)
    await assert_accessible(page)
    await screenshot(page, "gateway-responsables-courrier")
    assert (await _download(page, "Télécharger le courrier (PDF)")).startswith(b"%PDF")

    await page.get_by_role("link", name="Revenir au compte").click()
    await page.get_by_role("button", name="Création d'un nouveau compte").click()
    await expect(page.get_by_role("link", name="Télécharger le courrier (PDF)")).to_be_visible(timeout=60_000)
    await page.get_by_role("link", name="Revenir au compte").click()
    new_identifiant = await page.locator("#t-compte + p strong").inner_text()
    assert new_identifiant != identifiant and new_identifiant.startswith("ines.caron")


async def test_pupils_mass_notification_account_and_class_lists(platform: PlatformUnderTest,
                                                                browser: Browser) -> None:
    url = start_gateway(platform, "accounts", "notifier")
    await establishment(platform)
    await add_staff(platform, "chef.a", "chef", (UAI_A,))
    page = await new_page(browser)
    await sign_in(page, url, "chef.a", f"{U}/eleves/notifier")
    await expect(page.locator("[data-compteur]")).to_have_text("5 compte(s) sélectionné(s) sur 5")
    await page.get_by_label("En réinitialisant les mots de passe pour les comptes à l'état 'Utilisé'").check()
    await assert_accessible(page)
    await screenshot(page, "gateway-eleves-notifier")
    await page.get_by_role("button", name="Notifier").click()
    await expect(page.get_by_text("Notification terminée : 100 %")).to_be_visible(timeout=90_000)
    assert (await _download(page, "Division 3A (PDF)")).startswith(b"%PDF")
    await screenshot(page, "gateway-eleves-progression")

    await page.goto(f"{url}{U}/eleves/comptes")
    await page.get_by_label("Première(s) lettre(s) du nom de l'élève").fill("Ev")
    await expect(page.locator("#resultats .compteur")).to_have_text("1 compte(s) sélectionné(s) sur 5")
    await assert_accessible(page)
    await screenshot(page, "gateway-eleves-comptes")
    await page.locator("#resultats").get_by_role("link", name="Gérer le compte").click()
    await expect(page.get_by_label("Courrier papier")).to_have_count(0)  # pupils: paper only, no dialog
    await assert_accessible(page)
    await screenshot(page, "gateway-eleves-compte")
    await page.get_by_role("button", name="Renotifier le compte", exact=True).click()
    await expect(page.get_by_role("link", name="Télécharger le courrier (PDF)")).to_be_visible(timeout=60_000)
    assert (await _download(page, "Télécharger le courrier (PDF)")).startswith(b"%PDF")

    await page.goto(f"{url}{U}/eleves/listes")
    await page.get_by_label("Division").select_option("3A")
    await page.get_by_role("button", name="Afficher").click()
    await expect(page.locator(".compteur")).to_contain_text("2")
    await expect(page.get_by_role("table")).to_contain_text("Arnaud Guillaume")
    await assert_accessible(page)
    await screenshot(page, "gateway-eleves-listes")
    assert (await _download(page, "PDF")).startswith(b"%PDF")
    csv = (await _download(page, "CSV")).decode("utf-8-sig")
    assert "Identifiant du compte" in csv and "ARNAUD" in csv.upper()
    await expect(page.get_by_role("link", name="Imprimer")).to_be_visible()


async def test_account_actions_of_used_and_activating_accounts(platform: PlatformUnderTest, browser: Browser) -> None:
    url = start_gateway(platform, "accounts", "notifier")
    await establishment(platform)
    await add_staff(platform, "chef.a", "chef", (UAI_A,))
    async with platform.database("accounts") as db:  # as the portal's events would have left them
        await db.execute("UPDATE accounts SET state = 'Utilisé', email = 'sophie.arnaud@exemple.fr',"
                         " email_validated = true, notified_at = now(), last_access_at = now()"
                         " WHERE identifiant LIKE 'sophie.arnaud%'")
        await db.execute("UPDATE accounts SET state = 'En cours d''activation', email = 'luc.blanc@ancien.fr',"
                         " email_validated = false, notified_at = now() WHERE identifiant LIKE 'luc.blanc%'")
    page = await new_page(browser)
    await sign_in(page, url, "chef.a", f"{U}/responsables/comptes?nom=Arnaud")
    await page.locator("#resultats").get_by_role("link", name="Gérer le compte").click()
    await page.get_by_role("button", name="Simuler l'accès").click()
    link = page.get_by_role("link", name="Ouvrir la simulation d'accès à « Scolarité services »")
    await expect(link).to_have_attribute("href", re.compile(r"/simulation\?jeton="))
    await page.get_by_label("Objet").fill("Réunion")
    await page.get_by_label("Message").fill("Bonjour, la réunion a lieu jeudi.")
    await page.get_by_role("button", name="Envoyer").click()
    await expect(page.get_by_text("Le courriel est envoyé.")).to_be_visible()
    await assert_accessible(page)
    await screenshot(page, "gateway-responsables-compte-utilise")

    await page.goto(f"{url}{U}/responsables/comptes?nom=Blanc")
    await page.locator("#resultats").get_by_role("link", name="Gérer le compte").click()
    await expect(page.locator(".en-attente").first).to_have_text("luc.blanc@ancien.fr")  # awaiting validation: red
    await page.get_by_label("Adresse de messagerie (corriger si besoin)").fill("luc.blanc@exemple.fr")
    await page.get_by_role("button", name="Renvoyer le courriel d'activation").click()
    await expect(page.get_by_text("Le courriel d'activation est renvoyé.")).to_be_visible()
    await expect(page.locator(".en-attente").first).to_have_text("luc.blanc@exemple.fr")
    await assert_accessible(page)
    await screenshot(page, "gateway-responsables-compte-activation")

    await page.goto(f"{url}{U}")
    await page.get_by_role("link", name="Journal des actions").click()
    await expect(page.get_by_role("table")).to_contain_text("Renvoyer le courriel d'activation")
    await expect(page.get_by_role("table")).to_contain_text("Simuler l'accès")
    await assert_accessible(page)
    await screenshot(page, "gateway-journal")
