"""The families' portal in a real headless Chromium over the running platform (accounts, notifier, portal, SMTP)."""

from __future__ import annotations

import re
from typing import Any

from playwright.async_api import Browser, Page, expect

from teleservices.shared.embedded.mailbox import SmtpSink
from tests.support.browser import DESKTOP, PHONE, assert_accessible, new_page, screenshot
from tests.support.platform import PlatformUnderTest
from tests.support.portal import U, family_born, start_with_portal
from tests.support.siecle import arrival_events, publish_siecle
from tests.support.waiting import eventually

CHOSEN = "Cartable2024"


async def _establishment(platform: PlatformUnderTest) -> dict[str, list[dict[str, Any]]]:
    async with platform.client("accounts") as api:
        body = {"uai": U, "name": "Collège Langevin Wallon", "academy": "NANCY-METZ",
                "address_lines": ["40 rue du Rendez-Vous"], "town": "BLAINVILLE-SUR-L'EAU", "phone": "03 83 00 00 00"}
        assert (await api.post("/api/v1/establishments", json=body)).status_code == 201
        assert (await api.post(f"/api/v1/establishments/{U}/activation")).status_code == 204
    await publish_siecle(platform.bootstrap_servers, platform.topic_prefix, U, arrival_events(U, [family_born()]))

    async def enrolled() -> dict[str, list[dict[str, Any]]] | None:
        async with platform.client("accounts") as api:
            found = {p: (await api.get(f"/api/v1/establishments/{U}/accounts", params={"population": p})).json()
                     ["accounts"] for p in ("responsable", "eleve")}
        return found if all(found.values()) else None

    return await eventually(enrolled)


async def _mail(smtp_sink: SmtpSink, count: int) -> str:
    """The text of the newest email to the parent, once `count` have arrived."""
    found = await smtp_sink.store.wait_for(to="parent@exemple.fr", count=count, timeout=90)
    return smtp_sink.store.get(found[0].id).text or ""


async def _state(platform: PlatformUnderTest, account_id: str) -> str:
    async with platform.client("accounts") as api:
        return str((await api.get(f"/api/v1/accounts/{account_id}")).json()["state"])


async def _checked(page: Page, name: str) -> None:
    await assert_accessible(page)
    await screenshot(page, name)


async def _login(page: Page, portal: str, identifiant: str, password: str) -> None:
    await page.goto(f"{portal}/connexion")
    await page.get_by_label("Identifiant").fill(identifiant)
    await page.get_by_label("Mot de passe", exact=True).fill(password)
    await page.get_by_role("button", name="Se connecter").click()


async def test_a_representative_activates_recovers_his_password_and_is_simulated(
        browser: Browser, platform: PlatformUnderTest, smtp_sink: SmtpSink) -> None:
    portal = start_with_portal(platform, "notifier")
    rep = (await _establishment(platform))["responsable"][0]
    async with platform.client("accounts") as api:
        sent = await api.post(f"/api/v1/accounts/{rep['id']}/notifications", json={"channel": "email"})
        assert sent.status_code == 202, sent.text
    letter = await _mail(smtp_sink, 1)
    identifiant = re.search(r"Identifiant : (\S+)", letter).group(1)  # type: ignore[union-attr]
    temporary = re.search(r"Mot de passe : (\S+)", letter).group(1)  # type: ignore[union-attr]
    await eventually(lambda: _is(platform, rep["id"], "Notifié"))

    page = await new_page(browser, PHONE)
    await page.goto(f"{portal}/connexion")
    await _checked(page, "portal-login-phone")
    await _login(page, portal, identifiant, "mauvais-essai")
    await expect(page.get_by_role("alert")).to_contain_text("Identifiant ou mot de passe incorrect")
    await _checked(page, "portal-login-error-phone")
    await eventually(lambda: _portal_knows(page, portal, identifiant, temporary))
    await expect(page).to_have_url(f"{portal}/premiere-connexion")
    await _checked(page, "portal-first-connection-representative-phone")
    await page.get_by_label("Nouveau mot de passe", exact=True).fill(CHOSEN)
    await page.get_by_label("Confirmation du nouveau mot de passe").fill(CHOSEN)
    await page.get_by_label("Date de naissance de l'enfant concerné").fill("01/01/2011")
    await page.get_by_label("Adresse de messagerie").fill("parent@exemple.fr")
    await page.get_by_role("button", name="Valider").click()
    await expect(page.locator("#date_naissance-error")).to_contain_text("ne correspond pas")
    await _checked(page, "portal-first-connection-error-phone")
    await page.get_by_label("Nouveau mot de passe", exact=True).fill(CHOSEN)
    await page.get_by_label("Confirmation du nouveau mot de passe").fill(CHOSEN)
    await page.get_by_label("Date de naissance de l'enfant concerné").fill("28/02/2011")
    await page.get_by_role("button", name="Valider").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Votre compte est en cours d'activation")
    await _checked(page, "portal-awaiting-activation-phone")
    await eventually(lambda: _is(platform, rep["id"], "En cours d'activation"))

    activation = re.search(r"https?://\S+/activation\?jeton=\S+", await _mail(smtp_sink, 2)).group(0)  # type: ignore[union-attr]
    assert activation.startswith(portal)
    clicked = await new_page(browser, PHONE)
    await clicked.goto(activation)
    await _checked(clicked, "portal-activation-confirm-phone")
    await clicked.get_by_role("button", name="Activer mon compte").click()
    await expect(clicked.get_by_role("heading", level=1)).to_have_text("Votre compte est activé")
    await _checked(clicked, "portal-activated-phone")
    await eventually(lambda: _is(platform, rep["id"], "Utilisé"))
    await clicked.goto(activation)
    await expect(clicked.get_by_role("heading", level=1)).to_have_text("Ce lien a déjà été utilisé")
    await _checked(clicked, "portal-link-used-phone")

    for viewport, name in ((PHONE, "phone"), (DESKTOP, "desktop")):
        home = await new_page(browser, viewport)
        await _login(home, portal, identifiant, CHOSEN)
        await expect(home.get_by_role("heading", level=1)).to_contain_text("Bienvenue")
        await _checked(home, f"portal-home-{name}")
        for path, title in (("/mon-compte", "Mon compte"), ("/contact", "Contact"),
                            ("/liens-utiles", "Liens utiles"), ("/accessibilite", "Déclaration d'accessibilité"),
                            ("/donnees-personnelles", "Vos données personnelles")):
            await home.goto(f"{portal}{path}")
            await expect(home.get_by_role("heading", level=1)).to_have_text(title)
            await _checked(home, f"portal{path.replace('/', '-')}-{name}")
        await home.get_by_role("button", name="Se déconnecter").click()
        await expect(home.get_by_role("heading", level=1)).to_have_text("Connexion à Scolarité services")

    forgot = await new_page(browser, PHONE)
    await forgot.goto(f"{portal}/connexion")
    await forgot.get_by_role("link", name="Mot de passe oublié").click()
    await _checked(forgot, "portal-forgotten-password-phone")
    await forgot.get_by_label("Identifiant").fill(identifiant)
    await forgot.get_by_role("button", name="Recevoir un lien").click()
    await expect(forgot.get_by_role("status")).to_contain_text("un courriel")
    reset = re.search(r"https?://\S+/reinitialisation\?jeton=\S+", await _mail(smtp_sink, 3)).group(0)  # type: ignore[union-attr]
    await forgot.goto(reset)
    await _checked(forgot, "portal-reset-phone")
    await forgot.get_by_label("Nouveau mot de passe", exact=True).fill("Nouveau2025x")
    await forgot.get_by_label("Confirmation du nouveau mot de passe").fill("Nouveau2025x")
    await forgot.get_by_role("button", name="Enregistrer").click()
    await expect(forgot.get_by_role("heading", level=1)).to_have_text("Mot de passe modifié")
    await _login(forgot, portal, identifiant, "Nouveau2025x")
    await expect(forgot.get_by_role("heading", level=1)).to_contain_text("Bienvenue")
    assert await _state(platform, rep["id"]) == "Utilisé"

    async with platform.client("accounts") as api:
        simulation = (await api.post(f"/api/v1/accounts/{rep['id']}/simulation")).json()["url"]
    staff = await new_page(browser, DESKTOP)
    await staff.goto(simulation)
    await expect(staff.locator(".simulation")).to_contain_text("consultation seule")
    await _checked(staff, "portal-simulation-home-desktop")
    await staff.goto(f"{portal}/mon-compte")
    await expect(staff.get_by_role("button", name="Changer le mot de passe")).to_be_disabled()
    await _checked(staff, "portal-simulation-account-desktop")
    token = await staff.locator("input[name=csrf]").first.get_attribute("value")
    attempt = await staff.request.post(f"{portal}/mon-compte/courriel",
                                       form={"csrf": token or "", "email": "pirate@exemple.fr"})
    assert attempt.status == 403


async def _is(platform: PlatformUnderTest, account_id: str, state: str) -> bool:
    return await _state(platform, account_id) == state


async def _portal_knows(page: Page, portal: str, identifiant: str, password: str) -> bool:
    """Log in until the portal has the temporary password's hash (it travels as an event)."""
    await _login(page, portal, identifiant, password)
    await page.wait_for_load_state()
    return page.url.endswith("/premiere-connexion")


async def test_a_pupil_activates_on_a_desktop(browser: Browser, platform: PlatformUnderTest) -> None:
    portal = start_with_portal(platform, "notifier")
    pupil = (await _establishment(platform))["eleve"][0]
    async with platform.client("accounts") as api:
        assert (await api.post(f"/api/v1/accounts/{pupil['id']}/notifications",
                               json={"channel": "paper"})).status_code == 202
        await eventually(lambda: _is(platform, pupil["id"], "Notifié"), within_s=90)
        temporary = (await api.get(f"/api/v1/accounts/{pupil['id']}/temporary-password")).json()[
            "temporary_password"]
    page = await new_page(browser, DESKTOP)
    await eventually(lambda: _portal_knows(page, portal, pupil["identifiant"], temporary))
    await _checked(page, "portal-first-connection-pupil-desktop")
    await page.get_by_label("Nouveau mot de passe", exact=True).fill(CHOSEN)
    await page.get_by_label("Confirmation du nouveau mot de passe").fill(CHOSEN)
    await page.get_by_label("Votre date de naissance").fill("28/02/2011")
    await page.get_by_role("button", name="Valider").click()
    await expect(page.get_by_role("heading", level=1)).to_contain_text("Bienvenue")
    await _checked(page, "portal-home-pupil-desktop")
    await eventually(lambda: _is(platform, pupil["id"], "Utilisé"))
    phone = await new_page(browser, PHONE)
    await phone.goto(f"{portal}/identifiant-oublie")
    await _checked(phone, "portal-forgotten-identifier-phone")
