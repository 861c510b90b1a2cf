"""The main journeys with the keyboard alone (RGAA): Tab to each control, type, Enter — never the mouse."""

from __future__ import annotations

from typing import Any

from playwright.async_api import Browser, Page, expect

from tests.support.browser import DESKTOP, PHONE, new_page
from tests.support.gateway import PASSWORD, UAI_A, add_staff, establishment, start_gateway
from tests.support.platform import PlatformUnderTest
from tests.support.portal import U, family_born, start_with_portal
from tests.support.siecle import arrival_events, publish_siecle
from tests.support.waiting import eventually

FOCUSED = """() => {
  const e = document.activeElement;
  if (!e || e === document.body) return "";
  const label = e.id ? document.querySelector(`label[for="${e.id}"]`) : null;
  return [label ? label.innerText : "", e.getAttribute("aria-label") || "", e.innerText || "", e.value || ""].join("|");
}"""


async def tab_to(page: Page, name: str) -> None:
    """Press Tab until the focused control is named `name` (fails if Tab never gets there)."""
    for _ in range(60):
        await page.keyboard.press("Tab")
        if name.lower() in (await page.evaluate(FOCUSED)).lower():
            return
    raise AssertionError(f"« {name} » cannot be reached with the Tab key on {page.url}")


async def _pupil_with_letter(platform: PlatformUnderTest) -> tuple[str, str]:
    async with platform.client("accounts") as api:
        assert (await api.post("/api/v1/establishments", json={
            "uai": U, "name": "Collège Langevin Wallon", "academy": "NANCY-METZ"})).status_code == 201
        assert (await api.post(f"/api/v1/establishments/{U}/activation")).status_code == 204
    await publish_siecle(platform.bootstrap_servers, platform.topic_prefix, U, arrival_events(U, [family_born()]))

    async def pupil() -> dict[str, Any] | None:
        async with platform.client("accounts") as api:
            found = (await api.get(f"/api/v1/establishments/{U}/accounts", params={"population": "eleve"})).json()
        return found["accounts"][0] if found["accounts"] else None

    account = await eventually(pupil)
    async with platform.client("accounts") as api:
        assert (await api.post(f"/api/v1/accounts/{account['id']}/notifications",
                               json={"channel": "paper"})).status_code == 202

    async def password() -> str | None:
        async with platform.client("accounts") as api:
            found = (await api.get(f"/api/v1/accounts/{account['id']}/temporary-password")).json()
        return found["temporary_password"]

    return account["identifiant"], await eventually(password, within_s=90)


async def test_a_pupil_activates_his_account_with_the_keyboard_alone(platform: PlatformUnderTest,
                                                                      browser: Browser) -> None:
    portal = start_with_portal(platform, "notifier")
    identifiant, temporary = await _pupil_with_letter(platform)
    page = await new_page(browser, PHONE)

    async def log_in() -> bool:
        await page.goto(f"{portal}/connexion")
        await tab_to(page, "Identifiant")
        await page.keyboard.type(identifiant)
        await tab_to(page, "Mot de passe")
        await page.keyboard.type(temporary)
        async with page.expect_navigation():
            await page.keyboard.press("Enter")
        return page.url.endswith("/premiere-connexion")

    await eventually(log_in, within_s=60)  # the portal learns the password from the accounts events
    await tab_to(page, "Nouveau mot de passe")
    await page.keyboard.type("Cartable2026")
    await tab_to(page, "Confirmation")
    await page.keyboard.type("Cartable2026")
    await tab_to(page, "Date de naissance")
    await page.keyboard.type("28/02/2011")
    await tab_to(page, "Valider")
    async with page.expect_navigation():
        await page.keyboard.press("Enter")
    await expect(page.get_by_role("heading", level=1)).to_contain_text("Bienvenue")
    await tab_to(page, "Contact")
    async with page.expect_navigation():
        await page.keyboard.press("Enter")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Contact")


async def test_a_head_signs_in_and_closes_a_service_with_the_keyboard_alone(platform: PlatformUnderTest,
                                                                            browser: Browser) -> None:
    url = start_gateway(platform, "accounts")
    await establishment(platform, families=[])
    await add_staff(platform, "chef.a", "chef", (UAI_A,))
    page = await new_page(browser, DESKTOP)
    await page.goto(f"{url}/connexion")
    await tab_to(page, "Identifiant")
    await page.keyboard.type("chef.a")
    await tab_to(page, "Mot de passe")
    await page.keyboard.type(PASSWORD)
    async with page.expect_navigation():
        await page.keyboard.press("Enter")
    await tab_to(page, "Gestion des services")
    async with page.expect_navigation():
        await page.keyboard.press("Enter")
    await expect(page.get_by_role("heading", name="Ouverture / fermeture")).to_be_visible()
