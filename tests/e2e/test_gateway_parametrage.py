"""Staff UI in a real browser: « Paramétrage » — message, ENT et courrier (letter edit, PDF), contact, liens."""

from __future__ import annotations

import io

from playwright.async_api import Browser, expect
from pypdf import PdfReader

from tests.support.browser import assert_accessible, new_page, screenshot
from tests.support.gateway import UAI_A, add_staff, establishment, sign_in, start_gateway
from tests.support.platform import PlatformUnderTest

U = f"/etablissements/{UAI_A}/parametrage"


async def test_parametrage_screens(platform: PlatformUnderTest, browser: Browser) -> None:
    url = start_gateway(platform, "accounts", "notifier")
    await establishment(platform, families=[])
    await add_staff(platform, "chef.a", "chef", (UAI_A,))
    page = await new_page(browser)
    await sign_in(page, url, "chef.a", f"{U}/message-accueil")

    await page.get_by_label("Message d'accueil").fill("Bienvenue au collège ! [Le site](https://exemple.fr)")
    await expect(page.locator("#apercu")).to_contain_text("Bienvenue au collège !")  # live preview, no reload
    await assert_accessible(page)
    await screenshot(page, "gateway-parametrage-message")
    await page.get_by_role("button", name="Valider").click()
    await expect(page.get_by_text("Le message d'accueil est enregistré")).to_be_visible()

    await page.goto(f"{url}{U}/ent-et-courrier")
    await page.get_by_label("Mixte ENT/Téléservices").check()
    await page.get_by_label("Lien ENT spécifique à l'établissement").fill("https://ent.exemple.fr")
    await page.get_by_role("button", name="Valider").click()
    await expect(page.get_by_text("Le type de courrier et le lien ENT sont enregistrés.")).to_be_visible()
    await expect(page.get_by_role("link", name="Aperçu du lien")).to_have_attribute("href", "https://ent.exemple.fr")
    await assert_accessible(page)
    await screenshot(page, "gateway-parametrage-ent")

    csrf = await page.locator("input[name=csrf]").first.input_value()
    letter = await page.request.post(f"{url}{U}/courriers-apercu.pdf", form={
        "csrf": csrf, "population": "responsable", "variant": "nouveau_compte"})
    assert letter.ok and letter.headers["content-type"] == "application/pdf"
    assert "Langevin" in PdfReader(io.BytesIO(await letter.body())).pages[0].extract_text()

    await page.get_by_role("link", name="Modifier Responsable — nouveau compte").click()
    editor = page.get_by_label("Texte")
    default = await editor.input_value()
    await editor.fill(default + "\nRappel, voici vos accès : ")
    await page.get_by_role("button", name="Identifiant", exact=True).click()  # field insertion at the cursor
    await expect(editor).to_have_value(default + "\nRappel, voici vos accès : [Identifiant]")
    await assert_accessible(page)
    await screenshot(page, "gateway-parametrage-courrier")
    csrf = await page.locator("input[name=csrf]").first.input_value()
    preview = await page.request.post(f"{url}{U}/courriers-apercu.pdf", form={
        "csrf": csrf, "population": "responsable", "variant": "nouveau_compte",
        "part": "responsable_nouveau_compte", "texte": await editor.input_value()})
    assert preview.ok
    assert "voici vos accès" in PdfReader(io.BytesIO(await preview.body())).pages[0].extract_text()
    await page.get_by_role("button", name="Valider").click()
    await expect(page.locator(".message").first).to_be_visible()
    await screenshot(page, "gateway-parametrage-courrier-valide")
    await page.get_by_role("button", name="Réinitialiser").click()
    await expect(page.get_by_text("Le courrier est revenu à sa version prédéfinie.")).to_be_visible()
    await expect(page.get_by_label("Texte")).to_contain_text("met à votre disposition")

    await page.goto(f"{url}{U}/contact")
    await page.get_by_label("Actif", exact=True).check()
    await page.get_by_role("button", name="Valider").click()
    await expect(page.get_by_text("Le lien de contact est enregistré")).to_be_visible()
    await assert_accessible(page)
    await screenshot(page, "gateway-parametrage-contact")

    await page.goto(f"{url}{U}/liens-utiles")
    await page.get_by_label("Libellé").fill("Le site de l'académie")
    await page.get_by_label("Adresse").fill("https://www.ac-nancy-metz.fr")
    await page.get_by_role("button", name="ajouter le lien").click()
    await expect(page.get_by_text("Le lien est ajouté.")).to_be_visible()
    await expect(page.get_by_role("link", name="Ouvrir Le site de l'académie")).to_be_visible()
    await assert_accessible(page)
    await screenshot(page, "gateway-parametrage-liens")
