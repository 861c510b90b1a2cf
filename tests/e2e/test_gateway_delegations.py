"""Staff UI in a real browser: délégations by the head (menus applied at once) and the global account search."""

from __future__ import annotations

from playwright.async_api import Browser, expect

from tests.support.browser import assert_accessible, new_page, screenshot
from tests.support.gateway import UAI_A, add_staff, establishment, sign_in, start_gateway
from tests.support.platform import PlatformUnderTest

U = f"/etablissements/{UAI_A}"


async def test_the_head_delegates_menus_and_finds_accounts(platform: PlatformUnderTest, browser: Browser) -> None:
    url = start_gateway(platform, "accounts")
    await establishment(platform)
    await add_staff(platform, "chef.a", "chef", (UAI_A,))
    chef = await new_page(browser)
    await sign_in(chef, url, "chef.a", U)

    await chef.get_by_label("Rechercher un compte (nom ou identifiant)").fill("caron")
    await chef.get_by_role("button", name="Rechercher", exact=True).click()
    await expect(chef.get_by_role("table")).to_contain_text("ines.caron1")
    await expect(chef.get_by_role("table")).to_contain_text("guillaume.caron1")  # the pupil's account too
    await assert_accessible(chef)
    await screenshot(chef, "gateway-recherche")
    await chef.get_by_role("link", name="ines.caron1").click()
    await expect(chef.get_by_role("heading", name="Compte actuel")).to_be_visible()

    await chef.get_by_role("link", name="Délégations").click()
    await chef.get_by_label("Identifiant", exact=True).fill("ent.admin")
    await chef.get_by_label("Nom affiché").fill("Administrateur ENT")
    await chef.get_by_label("Mot de passe provisoire").fill("mot-de-passe-du-personnel-1")
    await chef.locator("#n-acces_responsables").check()
    await chef.get_by_role("button", name="Déléguer").click()
    await expect(chef.get_by_text("La délégation de Administrateur ENT est enregistrée.")).to_be_visible()
    await assert_accessible(chef)
    await screenshot(chef, "gateway-delegations")

    delegate = await new_page(browser)
    await sign_in(delegate, url, "ent.admin", U)
    menus = delegate.get_by_role("navigation", name="Menus")
    await expect(menus.get_by_role("link", name="Accès des responsables")).to_be_visible()
    await expect(menus.get_by_role("link", name="Gestion des services")).to_have_count(0)
    await expect(menus.get_by_role("link", name="Délégations")).to_have_count(0)
    await delegate.goto(f"{url}{U}/services")
    await expect(delegate.get_by_role("heading", name="Accès refusé")).to_be_visible()

    await chef.locator("#m-1-gestion_services").check()
    await chef.get_by_role("button", name="Enregistrer les menus de Administrateur ENT").click()
    await expect(chef.get_by_text("Les menus délégués sont enregistrés.")).to_be_visible()
    await delegate.goto(f"{url}{U}/services")
    await expect(delegate.get_by_role("heading", name="Connexion")).to_be_visible()  # sessions ended at once
    await sign_in(delegate, url, "ent.admin", f"{U}/services")
    await expect(delegate.get_by_role("heading", name="Ouverture / fermeture")).to_be_visible()
