"""Families on the portal: login, representative and pupil first connection, activation and validation links."""

from __future__ import annotations

import html
import json
import time
import uuid
from collections.abc import AsyncIterator

import pytest

from teleservices.shared.security.links import LinkPurpose, issue_link_token
from tests.support.accounts import AccountsUnderTest
from tests.support.portal import (
    PortalUnderTest,
    csrf,
    family_born,
    link_in,
    login,
    notified,
    post,
    ready_family,
    running_portal,
)
from tests.support.waiting import eventually

NEW = "Cartable2024"


@pytest.fixture
async def portal(accounts: AccountsUnderTest) -> AsyncIterator[PortalUnderTest]:
    async with running_portal(accounts) as running:
        yield running


async def _state(portal: PortalUnderTest, account_id: str) -> str:
    async with portal.accounts.client() as api:
        return str((await api.get(f"/api/v1/accounts/{account_id}")).json()["state"])


async def test_representative_goes_from_the_letter_to_utilise_through_the_activation_link(
        portal: PortalUnderTest) -> None:
    rep = (await ready_family(portal))["responsable"][0]
    temporary = await notified(portal, rep)
    async with portal.browser() as family:
        assert (await login(family, rep["identifiant"], "mauvais")).status_code == 401
        answer = await login(family, rep["identifiant"], temporary)
        assert answer.status_code == 303
        assert (await family.get("/")).headers["location"] == "/premiere-connexion"
        form = (await family.get("/premiere-connexion")).text
        assert "date de naissance de l'enfant concerné" in form and "Au moins 10 caractères" in form
        without_email = await post(family, "/premiere-connexion", {
            "mot_de_passe": NEW, "confirmation": NEW, "date_naissance": "28/02/2011", "email": ""})
        assert without_email.status_code == 400 and "obligatoire" in without_email.text
        wrong_date = await post(family, "/premiere-connexion", {
            "mot_de_passe": NEW, "confirmation": NEW, "date_naissance": "01/01/2011", "email": "parent@exemple.fr"})
        assert wrong_date.status_code == 400 and "ne correspond pas" in wrong_date.text
        done = await post(family, "/premiere-connexion", {
            "mot_de_passe": NEW, "confirmation": NEW, "date_naissance": "28/02/2011", "email": "parent@exemple.fr"})
        assert done.status_code == 303
        waiting = await family.get("/")
        assert "en cours d'activation" in waiting.text and "Renvoyer le lien d'activation" in waiting.text
    assert await eventually(lambda: _is(portal, rep["id"], "En cours d'activation"))
    async with portal.browser() as again:
        assert (await login(again, rep["identifiant"], temporary)).status_code == 401  # the temporary one is dead
    [command] = await portal.commands("notifier.SendActivationEmail")
    assert command["email"] == "parent@exemple.fr" and command["account_id"] == rep["id"]
    link = link_in(command["activation_url"], "/activation")
    async with portal.browser() as mailbox_click:
        confirm = await mailbox_click.get(link)
        assert confirm.status_code == 200 and "Activer mon compte" in confirm.text
        assert await _is(portal, rep["id"], "En cours d'activation")  # opening the link alone changes nothing
        form = {"jeton": link.split("jeton=")[1], "csrf": await csrf(mailbox_click, link)}
        activated = await mailbox_click.post("/activation", data=form)
        assert "Votre compte est activé" in activated.text
        again = await mailbox_click.post("/activation", data=form)
        assert again.status_code == 410 and "déjà été utilisé" in again.text
    assert await eventually(lambda: _is(portal, rep["id"], "Utilisé"))
    async with portal.accounts.client() as api:
        view = (await api.get(f"/api/v1/accounts/{rep['id']}")).json()
    assert view["email"] == "parent@exemple.fr" and not view["email_en_attente"]
    async with portal.browser() as family:
        assert (await login(family, rep["identifiant"], NEW)).status_code == 303
        home = await family.get("/")
        assert home.status_code == 200 and "Bienvenue" in home.text
    assert len(await portal.events("portal.LoggedIn")) == 1
    assert await eventually(lambda: _last_access_set(portal, rep["id"]))


async def _is(portal: PortalUnderTest, account_id: str, state: str) -> bool:
    return await _state(portal, account_id) == state


async def _last_access_set(portal: PortalUnderTest, account_id: str) -> bool:
    async with portal.accounts.client() as api:
        return (await api.get(f"/api/v1/accounts/{account_id}")).json()["last_access_at"] is not None


async def test_pupil_activates_with_his_birth_date_and_validates_an_optional_email(portal: PortalUnderTest) -> None:
    pupil = (await ready_family(portal))["eleve"][0]
    temporary = await notified(portal, pupil)
    async with portal.browser() as child:
        await login(child, pupil["identifiant"], temporary)
        form = (await child.get("/premiere-connexion")).text
        assert "Votre date de naissance" in form and "facultative" in form
        same = await post(child, "/premiere-connexion", {
            "mot_de_passe": "abc", "confirmation": "abd", "date_naissance": "28/02/2011", "email": ""})
        assert same.status_code == 400 and "différents" in same.text
        done = await post(child, "/premiere-connexion", {
            "mot_de_passe": NEW, "confirmation": NEW, "date_naissance": "2011-02-28", "email": "eleve@exemple.fr"})
        assert done.status_code == 303
        assert "Bienvenue" in (await child.get("/")).text  # a pupil is in at once
    assert await eventually(lambda: _is(portal, pupil["id"], "Utilisé"))
    [command] = await portal.commands("notifier.SendFreeEmail")
    assert command["email"] == "eleve@exemple.fr"
    link = link_in(command["body"], "/validation-courriel")
    async with portal.browser() as click:
        validated = await post(click, "/validation-courriel", {"jeton": link.split("jeton=")[1]}, page=link)
        assert "Adresse de messagerie validée" in validated.text

    async def email_validated() -> bool:
        async with portal.accounts.client() as api:
            view = (await api.get(f"/api/v1/accounts/{pupil['id']}")).json()
        return view["email"] == "eleve@exemple.fr" and not view["email_en_attente"]

    assert await eventually(email_validated)


async def test_a_pupil_without_email_is_in_use_at_once(portal: PortalUnderTest) -> None:
    pupil = (await ready_family(portal))["eleve"][0]
    temporary = await notified(portal, pupil)
    async with portal.browser() as child:
        await login(child, pupil["identifiant"], temporary)
        await post(child, "/premiere-connexion", {
            "mot_de_passe": NEW, "confirmation": NEW, "date_naissance": "28/02/2011", "email": ""})
    assert await eventually(lambda: _is(portal, pupil["id"], "Utilisé"))
    assert await portal.commands("notifier.SendFreeEmail") == []


async def test_the_representative_awaiting_activation_gets_a_new_link_to_a_corrected_address(
        portal: PortalUnderTest) -> None:
    rep = (await ready_family(portal))["responsable"][0]
    temporary = await notified(portal, rep)
    async with portal.browser() as family:
        await login(family, rep["identifiant"], temporary)
        await post(family, "/premiere-connexion", {
            "mot_de_passe": NEW, "confirmation": NEW, "date_naissance": "28/02/2011", "email": "faute@exemple.fr"})
        resent = await post(family, "/activation/renvoyer", {"email": "parent@exemple.fr"}, page="/")
        assert "Un nouveau lien d'activation a été envoyé à parent@exemple.fr" in html.unescape(resent.text)
    first, second = await portal.commands("notifier.SendActivationEmail")
    assert (first["email"], second["email"]) == ("faute@exemple.fr", "parent@exemple.fr")
    async with portal.browser() as click:
        old = await click.get(link_in(first["activation_url"], "/activation"))
        assert old.status_code == 410 and "remplacé par un lien plus récent" in html.unescape(old.text)
        link = link_in(second["activation_url"], "/activation")
        await post(click, "/activation", {"jeton": link.split("jeton=")[1]}, page=link)
    assert await eventually(lambda: _is(portal, rep["id"], "Utilisé"))
    assert (await portal.credential(rep["id"]))["email"] == "parent@exemple.fr"


async def test_an_expired_or_forged_link_says_so_and_offers_the_next_step(portal: PortalUnderTest) -> None:
    key = portal.settings.secrets.link_key.get_secret_value()
    account = uuid.uuid4()
    expired = issue_link_token(key, account, LinkPurpose.activation, ttl_s=60, now=time.time() - 3600)
    async with portal.browser() as click:
        page = await click.get(f"/activation?jeton={expired}")
        assert page.status_code == 410 and "Ce lien a expiré" in page.text and 'href="/connexion"' in page.text
        forged = await click.get(f"/activation?jeton={expired[:-4]}AAAA")
        assert forged.status_code == 400 and "n'est pas valide" in forged.text
        other_purpose = issue_link_token(key, account, LinkPurpose.simulation, ttl_s=60)
        assert (await click.get(f"/activation?jeton={other_purpose}")).status_code == 400
        reset = issue_link_token(key, account, LinkPurpose.password_reset, ttl_s=60, now=time.time() - 7200)
        page = await click.get(f"/reinitialisation?jeton={reset}")
        assert "Ce lien a expiré" in page.text and "Demander un nouveau lien" in page.text


async def test_the_letter_qr_code_opens_the_login_page_with_the_identifier_filled_in(portal: PortalUnderTest) -> None:
    rep = (await ready_family(portal))["responsable"][0]
    await notified(portal, rep)
    key = portal.settings.secrets.link_key.get_secret_value()
    qr = issue_link_token(key, uuid.UUID(rep["id"]), LinkPurpose.first_connection, ttl_s=3600)
    async with portal.browser() as phone:
        page = await phone.get(f"/premiere-connexion?jeton={qr}")
        assert page.status_code == 200 and "mot de passe provisoire" in page.text
        assert f'value="{rep["identifiant"]}"' in page.text
        forged = await phone.get("/premiere-connexion?jeton=abc")
        assert forged.status_code == 200 and rep["identifiant"] not in forged.text


async def test_a_second_child_of_another_family_cannot_be_used_for_the_birth_date(portal: PortalUnderTest) -> None:
    from datetime import date
    accounts = await ready_family(portal, family_born(), family_born(date(2009, 5, 1), nom="Martin",
                                                                     parents=(("Anne", None),)))
    rep = next(a for a in accounts["responsable"] if a["identifiant"].startswith("philippe"))
    temporary = await notified(portal, rep)
    async with portal.browser() as family:
        await login(family, rep["identifiant"], temporary)
        answer = await post(family, "/premiere-connexion", {
            "mot_de_passe": NEW, "confirmation": NEW, "date_naissance": "01/05/2009", "email": "p@exemple.fr"})
        assert answer.status_code == 400 and "ne correspond pas" in answer.text


async def test_an_activation_link_resent_by_staff_to_a_corrected_address_activates(portal: PortalUnderTest) -> None:
    rep = (await ready_family(portal))["responsable"][0]
    temporary = await notified(portal, rep)
    async with portal.browser() as family:
        await login(family, rep["identifiant"], temporary)
        await post(family, "/premiere-connexion", {
            "mot_de_passe": NEW, "confirmation": NEW, "date_naissance": "28/02/2011", "email": "faute@exemple.fr"})
    await eventually(lambda: _is(portal, rep["id"], "En cours d'activation"))
    async with portal.accounts.client() as api:
        resent = await api.post(f"/api/v1/accounts/{rep['id']}/activation-email", json={"email": "bon@exemple.fr"})
        assert resent.status_code == 202, resent.text
    async with portal.accounts.app.state.runtime.db.connection() as conn:
        envelopes = [json.loads(r["envelope"]) for r in await conn.fetch(
            "SELECT envelope FROM outbox WHERE topic IN ('notifier.jobs', 'notifier.urgent')")]
    [command] = [e["payload"] for e in envelopes if e["type"] == "notifier.SendActivationEmail"]
    link = link_in(command["activation_url"], "/activation")
    async with portal.browser() as click:
        await post(click, "/activation", {"jeton": link.split("jeton=")[1]}, page=link)
    assert await eventually(lambda: _is(portal, rep["id"], "Utilisé"))
    assert (await portal.credential(rep["id"]))["email"] == "bon@exemple.fr"
    async with portal.accounts.client() as api:
        assert (await api.get(f"/api/v1/accounts/{rep['id']}")).json()["email"] == "bon@exemple.fr"


async def test_an_over_long_field_is_refused_naming_it(portal: PortalUnderTest) -> None:
    async with portal.browser() as family:
        answer = await post(family, "/connexion", {"identifiant": "x" * 300, "mot_de_passe": "y"})
    assert answer.status_code == 400 and "identifiant" in answer.text
