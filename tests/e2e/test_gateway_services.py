"""Staff UI in a real browser: Accueil with the first-connection activation and « Gestion des services »."""

from __future__ import annotations

from playwright.async_api import Browser, expect

from tests.support.browser import assert_accessible, new_page, screenshot
from tests.support.gateway import UAI_A, add_staff, establishment, sign_in, start_gateway
from tests.support.platform import PlatformUnderTest

U = f"/etablissements/{UAI_A}"


async def test_activation_then_opening_and_closing_services(platform: PlatformUnderTest, browser: Browser) -> None:
    url = start_gateway(platform, "accounts")
    await establishment(platform, activate=False)
    await add_staff(platform, "chef.a", "chef", (UAI_A,))
    page = await new_page(browser)
    await page.goto(f"{url}/connexion")
    await assert_accessible(page)
    await screenshot(page, "gateway-connexion")
    await sign_in(page, url, "chef.a")

    await expect(page.get_by_role("heading", name="Activation des téléservices")).to_be_visible()
    await expect(page.locator(".annee")).to_have_text("(Année 2026/2027)")
    await assert_accessible(page)
    await screenshot(page, "gateway-accueil-activation")
    await page.get_by_role("button", name="Activer les téléservices").click()
    await expect(page.get_by_text("Les téléservices de l'établissement sont activés.")).to_be_visible()
    await expect(page.get_by_role("table")).to_contain_text("Fiche de renseignements")
    await assert_accessible(page)
    await screenshot(page, "gateway-accueil")

    await page.get_by_role("link", name="Gestion des services").first.click()
    await expect(page.get_by_role("heading", name="Ouverture / fermeture")).to_be_visible()
    mandatory = page.get_by_role("row", name="Fiche de renseignements")
    await expect(mandatory.get_by_role("button")).to_be_disabled()
    await expect(page.get_by_role("row", name="Évaluation").get_by_role("button")).to_be_disabled()
    await page.get_by_role("button", name="Ouvrir Paiement en ligne").click()
    await expect(page.get_by_text("Le service est ouvert.")).to_be_visible()
    await expect(page.get_by_role("row", name="Paiement en ligne").get_by_text("Ouvert")).to_be_visible()
    await assert_accessible(page)
    await screenshot(page, "gateway-services-ouverture")

    await page.goto(f"{url}{U}/services/notes")
    await page.get_by_label("Publication à échéance").check()
    await page.get_by_role("button", name="Valider").click()
    await expect(page.get_by_text("Le type de publication est enregistré.")).to_be_visible()
    await assert_accessible(page)
    await screenshot(page, "gateway-services-notes")

    await page.get_by_label("Mef", exact=True).select_option(label="3EME")
    await page.get_by_label("Division", exact=True).select_option("3A")
    await page.get_by_label("Date", exact=True).fill("2026-12-12")
    await page.get_by_role("button", name="ajouter la date").click()
    await expect(page.get_by_text("La date de publication est ajoutée.")).to_be_visible()
    await expect(page.get_by_role("row", name="3A 12/12/2026")).to_be_visible()
    await page.get_by_role("button", name="supprimer la date 12/12/2026 de 3A").click()
    await expect(page.get_by_text("La date est supprimée.")).to_be_visible()
    await expect(page.get_by_text("Aucune date de publication.")).to_be_visible()

    async with platform.client("accounts") as api:
        await api.patch("/api/v1/academies/NANCY-METZ", json={"tipi_reference": {"12345": "Collège Langevin Wallon"}})
    await page.goto(f"{url}{U}/services/paiement")
    await page.get_by_label("Numéro du client TIPI").fill("12345")
    await page.get_by_label("Montant minimum").fill("15")
    await page.get_by_label("Adresse de messagerie pour communiquer").fill("intendance@exemple.fr")
    await page.get_by_role("button", name="Valider").click()
    await expect(page.get_by_role("alert")).to_contain_text("correspond à : Collège Langevin Wallon")
    await page.get_by_role("button", name="Confirmer").click()
    await expect(page.get_by_text("Le paiement en ligne est paramétré")).to_be_visible()
    await expect(page.get_by_label("Numéro du client TIPI")).to_have_value("12345")
    await assert_accessible(page)
    await screenshot(page, "gateway-services-paiement")

    for path, name in (("/services/emploi-du-temps", "edt"), ("/services/bourse-college", "bourse-college"),
                       ("/services/bourse-lycee", "bourse-lycee")):
        await page.goto(f"{url}{U}{path}")
        await assert_accessible(page)
        await screenshot(page, f"gateway-services-{name}")
    await page.get_by_label("Adresse de messagerie de contact").fill("bourses@exemple.fr")
    await page.get_by_role("button", name="Valider").click()
    await expect(page.get_by_text("L'adresse de messagerie est enregistrée.")).to_be_visible()
