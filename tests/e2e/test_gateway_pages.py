"""Staff UI in a real browser: the top bar (Aide, Impression, Quoi de neuf, Informations académiques, Quitter),
the accessibility statement, French error pages and the academy operator's list of establishments."""

from __future__ import annotations

from playwright.async_api import Browser, expect

from tests.support.browser import assert_accessible, new_page, screenshot
from tests.support.gateway import UAI_A, UAI_B, add_staff, establishment, sign_in, start_gateway
from tests.support.platform import PlatformUnderTest

U = f"/etablissements/{UAI_A}"


async def test_top_bar_pages_and_error_pages(platform: PlatformUnderTest, browser: Browser) -> None:
    url = start_gateway(platform, "accounts")
    await establishment(platform, families=[])
    await establishment(platform, UAI_B, name="Lycée Jacques Callot", families=[])
    async with platform.client("accounts") as api:
        await api.patch("/api/v1/academies/NANCY-METZ", json={"informations": "Réunion des chefs le 3 décembre."})
    await add_staff(platform, "chef.a", "chef", (UAI_A,))
    await add_staff(platform, "op.academie", "operateur_academique", academy="NANCY-METZ")
    page = await new_page(browser)
    await sign_in(page, url, "chef.a", f"{U}/services")

    await expect(page.get_by_role("navigation", name="Menus").get_by_role("link", name="Téléinscription")
                 ).to_have_attribute("href", "https://teleinscription.exemple.fr")
    await page.get_by_role("link", name="Aide").click()
    await expect(page.get_by_text("Ouvrez ou fermez chaque téléservice")).to_be_visible()
    await assert_accessible(page)
    await screenshot(page, "gateway-aide")
    await page.goto(f"{url}{U}/services")
    await page.get_by_role("link", name="Impression").click()
    await expect(page.locator("nav.menus")).to_be_hidden()
    await expect(page.get_by_role("heading", name="Ouverture / fermeture")).to_be_visible()
    await screenshot(page, "gateway-impression")
    await page.goto(f"{url}{U}")
    await page.get_by_role("link", name="Quoi de neuf").first.click()
    await expect(page.get_by_role("heading", name="Quoi de neuf")).to_be_visible()
    await assert_accessible(page)
    await screenshot(page, "gateway-quoi-de-neuf")
    await page.goto(f"{url}{U}")
    await page.get_by_role("link", name="Informations académiques").click()
    await expect(page.get_by_text("Réunion des chefs le 3 décembre.")).to_be_visible()
    await assert_accessible(page)
    await screenshot(page, "gateway-informations-academiques")
    await page.get_by_role("link", name="Accessibilité : partiellement conforme").click()
    await expect(page.get_by_role("heading", name="Déclaration d'accessibilité")).to_be_visible()
    await assert_accessible(page)
    await screenshot(page, "gateway-accessibilite")

    await page.goto(f"{url}/etablissements/{UAI_B}")
    await expect(page.get_by_role("heading", name="Page introuvable")).to_be_visible()
    await assert_accessible(page)
    await screenshot(page, "gateway-erreur-404")

    await page.goto(f"{url}{U}")
    await page.get_by_role("button", name="Quitter").click()
    await expect(page.get_by_role("heading", name="Connexion")).to_be_visible()
    await page.goto(f"{url}{U}")
    await expect(page.get_by_role("heading", name="Connexion")).to_be_visible()

    operator = await new_page(browser)
    await sign_in(operator, url, "op.academie")
    await expect(operator.get_by_role("heading", name="Établissements")).to_be_visible()
    await operator.get_by_label("Rechercher un établissement").fill("Callot")
    await operator.get_by_role("button", name="Rechercher").click()
    await expect(operator.get_by_role("row")).to_have_count(2)
    await assert_accessible(operator)
    await screenshot(operator, "gateway-operateur-etablissements")
    await operator.get_by_role("link", name="Lycée Jacques Callot", exact=True).click()
    await expect(operator.locator(".etablissement")).to_contain_text("Lycée Jacques Callot")

    await operator.goto(f"{url}/academie")
    await operator.get_by_label("Texte affiché aux établissements").fill("Nouvelle campagne de bourses.")
    await operator.get_by_role("button", name="Enregistrer").first.click()
    await expect(operator.get_by_text("Les paramètres de l'académie sont enregistrés.")).to_be_visible()
    await operator.locator("#ent-id").fill("mon-ent")
    await operator.locator("#ent-lib").fill("Mon ENT Lorraine")
    await operator.locator("#ent-url").fill("https://mon-ent.exemple.fr")
    await operator.get_by_role("button", name="ajouter le lien ENT").click()
    await expect(operator.get_by_role("cell", name="Mon ENT Lorraine", exact=True)).to_be_visible()
    await operator.locator("#tipi-num").fill("12345")
    await operator.locator("#tipi-lib").fill("Collège Langevin Wallon — régie")
    await operator.get_by_role("button", name="ajouter au référentiel").click()
    await expect(operator.get_by_role("cell", name="12345", exact=True)).to_be_visible()
    await operator.get_by_label("Paiement en ligne").check()
    await operator.get_by_role("button", name="Enregistrer les services obligatoires").click()
    await expect(operator.get_by_label("Paiement en ligne")).to_be_checked()
    await assert_accessible(operator)
    await screenshot(operator, "gateway-academie")

    await operator.goto(f"{url}/")
    await operator.get_by_role("link", name="Modifier Lycée Jacques Callot").click()
    await operator.get_by_label("Évaluation").check()
    await operator.get_by_label("Bourse de lycée").check()
    await operator.get_by_role("button", name="Enregistrer").click()
    await expect(operator.get_by_text("L'établissement est modifié.")).to_be_visible()
    await expect(operator.get_by_label("Évaluation")).to_be_checked()
    await assert_accessible(operator)
    await screenshot(operator, "gateway-academie-etablissement")
    await operator.goto(f"{url}/academie/etablissements/nouveau")
    await operator.get_by_label("UAI").fill("0540003C")
    await operator.get_by_label("Nom").fill("Collège Jules Ferry")
    await operator.get_by_role("button", name="Enregistrer").click()
    await expect(operator.get_by_text("L'établissement est créé.")).to_be_visible()
    await operator.goto(f"{url}/")
    await expect(operator.get_by_role("link", name="Collège Jules Ferry", exact=True)).to_be_visible()
