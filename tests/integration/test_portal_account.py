"""A connected family: recovery, home page from the establishment's settings, Mon compte, grouping, simulation."""

from __future__ import annotations

import html
from collections.abc import AsyncIterator

import pytest

from tests.support.accounts import AccountsUnderTest, audit_entries, chef
from tests.support.portal import (
    CHOSEN,
    PortalUnderTest,
    U,
    family_born,
    in_use,
    link_in,
    login,
    notified,
    post,
    ready_family,
    running_portal,
)
from tests.support.waiting import eventually

NEUTRAL = "Si ce compte existe et qu'une adresse de messagerie validée lui est associée"


@pytest.fixture
async def portal(accounts: AccountsUnderTest) -> AsyncIterator[PortalUnderTest]:
    async with running_portal(accounts) as running:
        yield running


async def _view(portal: PortalUnderTest, account_id: str) -> dict:
    async with portal.accounts.client() as api:
        return dict((await api.get(f"/api/v1/accounts/{account_id}")).json())


async def test_a_forgotten_password_is_recovered_by_a_one_time_link(portal: PortalUnderTest) -> None:
    rep = (await ready_family(portal))["responsable"][0]
    await in_use(portal, rep)
    async with portal.browser() as family:
        unknown = await post(family, "/mot-de-passe-oublie", {"identifiant": "personne.inconnue9"})
        known = await post(family, "/mot-de-passe-oublie", {"identifiant": rep["identifiant"]})
    assert NEUTRAL in html.unescape(unknown.text) and NEUTRAL in html.unescape(known.text)
    assert unknown.status_code == known.status_code == 200
    [command] = await portal.commands("notifier.SendFreeEmail")
    assert command["email"] == "parent@exemple.fr" and "60 minutes" in command["body"]
    link = link_in(command["body"], "/reinitialisation")
    async with portal.browser() as family:
        form = await family.get(link)
        assert "Choisir un nouveau mot de passe" in form.text
        token = link.split("jeton=")[1]
        weak = await post(family, "/reinitialisation", {"jeton": token, "mot_de_passe": "court",
                                                        "confirmation": "court"}, page=link)
        assert weak.status_code == 400 and "au moins 10 caractères" in weak.text
        done = await post(family, "/reinitialisation", {"jeton": token, "mot_de_passe": "Nouveau2025x",
                                                        "confirmation": "Nouveau2025x"}, page=link)
        assert "Mot de passe modifié" in done.text
        again = await family.get(link)
        assert again.status_code == 410 and "déjà été utilisé" in again.text
        assert (await login(family, rep["identifiant"], CHOSEN)).status_code == 401
        assert (await login(family, rep["identifiant"], "Nouveau2025x")).status_code == 303
    assert (await _view(portal, rep["id"]))["state"] == "Utilisé"


async def test_no_reset_link_without_a_validated_address(portal: PortalUnderTest) -> None:
    rep = (await ready_family(portal))["responsable"][0]
    temporary = await notified(portal, rep)
    async with portal.browser() as family:
        await login(family, rep["identifiant"], temporary)
        await post(family, "/premiere-connexion", {"mot_de_passe": CHOSEN, "confirmation": CHOSEN,
                                                   "date_naissance": "28/02/2011", "email": "p@exemple.fr"})
    async with portal.browser() as family:  # awaiting activation: the address is not validated yet
        answer = await post(family, "/mot-de-passe-oublie", {"identifiant": rep["identifiant"]})
    assert NEUTRAL in html.unescape(answer.text)
    assert await portal.commands("notifier.SendFreeEmail") == []


async def test_a_forgotten_identifier_is_sent_to_the_validated_address_only(portal: PortalUnderTest) -> None:
    rep = (await ready_family(portal))["responsable"][0]
    await in_use(portal, rep, email="Parent@Exemple.fr")
    async with portal.browser() as family:
        unknown = await post(family, "/identifiant-oublie", {"email": "autre@exemple.fr"})
        known = await post(family, "/identifiant-oublie", {"email": "parent@exemple.fr"})
        invalid = await post(family, "/identifiant-oublie", {"email": "pas une adresse"})
    assert unknown.text.count("vient d") == known.text.count("vient d") == 1
    assert invalid.status_code == 400
    [command] = await portal.commands("notifier.SendFreeEmail")
    assert rep["identifiant"] in command["body"] and command["email"] == "Parent@Exemple.fr"


async def test_home_page_shows_the_establishment_settings_at_once(portal: PortalUnderTest) -> None:
    pupil = (await ready_family(portal))["eleve"][0]
    await in_use(portal, pupil)
    staff = portal.accounts.client(chef(U))
    async with staff as api:
        assert (await api.put(f"/api/v1/establishments/{U}/settings/message_accueil",
                              json={"texte": "Réunion le 12 octobre"})).status_code == 200
        assert (await api.post(f"/api/v1/establishments/{U}/settings/liens_utiles",
                               json={"libelle": "Cantine", "url": "https://cantine.exemple.fr"})).status_code == 200
        services = (await api.get(f"/api/v1/establishments/{U}/services")).json()
    open_labels = [s["label"] for s in services if s["open"]]
    async with portal.browser() as child:
        await login(child, pupil["identifiant"], CHOSEN)
        home = html.unescape((await child.get("/")).text)
        assert "Réunion le 12 octobre" in home and "Dernière connexion le" in home
        for label in open_labels:
            assert label in home
        code = next(s["code"] for s in services if s["open"])
        opened = await child.get(f"/services/{code}")
        assert opened.status_code == 303 and opened.headers["location"].endswith(f"/{code}")
        assert (await child.get("/services/inexistant")).status_code == 404
        assert "Cantine" in (await child.get("/liens-utiles")).text
        contact = html.unescape((await child.get("/contact")).text)
        assert f"Collège {U}" in contact
    [event] = await portal.events("portal.ServiceOpened")
    assert event["service"] == code and event["account_id"] == pupil["id"]


async def test_mon_compte_changes_the_password_and_the_address(portal: PortalUnderTest) -> None:
    rep = (await ready_family(portal))["responsable"][0]
    await in_use(portal, rep)
    async with portal.browser() as family:
        await login(family, rep["identifiant"], CHOSEN)
        page = html.unescape((await family.get("/mon-compte")).text)
        assert rep["identifiant"] in page and "Guillaume" in page and "parent@exemple.fr" in page
        wrong = await post(family, "/mon-compte/mot-de-passe", {"actuel": "faux", "mot_de_passe": "Nouveau2025x",
                                                                "confirmation": "Nouveau2025x"}, page="/mon-compte")
        assert wrong.status_code == 400 and "incorrect" in wrong.text
        changed = await post(family, "/mon-compte/mot-de-passe", {"actuel": CHOSEN, "mot_de_passe": "Nouveau2025x",
                                                                  "confirmation": "Nouveau2025x"}, page="/mon-compte")
        assert changed.headers["location"] == "/mon-compte?ok=mot-de-passe"
        await post(family, "/mon-compte/courriel", {"email": "nouvelle@exemple.fr"}, page="/mon-compte")
    assert (await portal.credential(rep["id"]))["email"] == "parent@exemple.fr"  # until the new one is validated
    [command] = await portal.commands("notifier.SendFreeEmail")
    assert command["email"] == "nouvelle@exemple.fr"
    link = link_in(command["body"], "/validation-courriel")
    async with portal.browser() as click:
        await post(click, "/validation-courriel", {"jeton": link.split("jeton=")[1]}, page=link)
    assert (await portal.credential(rep["id"]))["email"] == "nouvelle@exemple.fr"
    assert await eventually(lambda: _email_is(portal, rep["id"], "nouvelle@exemple.fr"))
    async with portal.browser() as family:
        assert (await login(family, rep["identifiant"], "Nouveau2025x")).status_code == 303


async def _email_is(portal: PortalUnderTest, account_id: str, email: str) -> bool:
    view = await _view(portal, account_id)
    return bool(view["email"] == email and not view["email_en_attente"])


async def test_a_representative_groups_another_childs_account_with_its_credentials(portal: PortalUnderTest) -> None:
    accounts = await ready_family(portal, family_born(), family_born(prenom="Lucie"))
    mine, other = accounts["responsable"]
    await in_use(portal, mine)
    other_password = await notified(portal, other)
    async with portal.browser() as family:
        await login(family, mine["identifiant"], CHOSEN)
        wrong = await post(family, "/mon-compte/regroupement", {"identifiant": other["identifiant"],
                                                                "mot_de_passe_regroupe": "faux"}, page="/mon-compte")
        assert wrong.status_code == 400
        grouped = await post(family, "/mon-compte/regroupement", {"identifiant": other["identifiant"],
                                                                  "mot_de_passe_regroupe": other_password},
                             page="/mon-compte")
        assert grouped.headers["location"] == "/mon-compte?ok=regroupement"

    async def both_children() -> bool:
        view = await _view(portal, mine["id"])
        return len([r for r in view["rattachements"] if r["detached_at"] is None]) == 2

    assert await eventually(both_children)
    assert (await _view(portal, other["id"]))["closed_at"] is not None  # and staff see the grouping
    async with portal.browser() as family:
        assert (await login(family, other["identifiant"], other_password)).status_code == 401
        await login(family, mine["identifiant"], CHOSEN)
        page = (await family.get("/mon-compte")).text
        assert "Guillaume" in page and "Lucie" in page


async def test_grouping_is_unavailable_while_the_academy_switch_is_off(portal: PortalUnderTest) -> None:
    accounts = await ready_family(portal, family_born(), family_born(prenom="Lucie"))
    mine, other = accounts["responsable"]
    await in_use(portal, mine)
    other_password = await notified(portal, other)
    async with portal.accounts.client() as api:
        assert (await api.patch("/api/v1/academies/NANCY-METZ", json={"grouping_enabled": False})).status_code == 200
    async with portal.browser() as family:
        await login(family, mine["identifiant"], CHOSEN)
        assert "pas ouvert dans votre académie" in (await family.get("/mon-compte")).text
        refused = await post(family, "/mon-compte/regroupement", {"identifiant": other["identifiant"],
                                                                  "mot_de_passe_regroupe": other_password},
                             page="/mon-compte")
        assert refused.status_code == 409
    assert await portal.events("portal.AccountsGrouped") == []


async def test_simulated_access_is_read_only_publishes_nothing_and_is_audited(portal: PortalUnderTest) -> None:
    rep = (await ready_family(portal))["responsable"][0]
    await in_use(portal, rep)
    before = await _view(portal, rep["id"])
    logins_before = len(await portal.events("portal.LoggedIn"))
    async with portal.accounts.client(chef(U)) as api:
        url = (await api.post(f"/api/v1/accounts/{rep['id']}/simulation")).json()["url"]
    link = link_in(url, "/simulation")
    async with portal.browser() as staff:
        assert (await staff.get(link)).headers["location"] == "/"
        home = html.unescape((await staff.get("/")).text)
        assert "Simulation d'accès à Scolarité services" in home and "consultation seule" in home
        assert "inactif en simulation" in home and 'href="/services/' not in home
        account_page = (await staff.get("/mon-compte")).text
        assert account_page.count("disabled") >= 4
        for path, form in [("/mon-compte/mot-de-passe", {"actuel": CHOSEN, "mot_de_passe": "Nouveau2025x",
                                                         "confirmation": "Nouveau2025x"}),
                           ("/mon-compte/courriel", {"email": "pirate@exemple.fr"}),
                           ("/mon-compte/regroupement", {"identifiant": "x", "mot_de_passe_regroupe": "y"}),
                           ("/activation/renvoyer", {"email": "pirate@exemple.fr"})]:
            refused = await post(staff, path, form, page="/mon-compte")
            assert refused.status_code == 403 and "consultation seule" in html.unescape(refused.text), path
        assert (await staff.get("/services/notes")).status_code in (403, 404)
    async with portal.browser() as replay:
        again = await replay.get(link)
        assert again.status_code == 410  # single use
    assert len(await portal.events("portal.LoggedIn")) == logins_before
    assert await portal.events("portal.ServiceOpened") == []
    assert await portal.commands("notifier.SendFreeEmail") == []
    after = await _view(portal, rep["id"])
    assert after["last_access_at"] == before["last_access_at"]
    assert (await portal.credential(rep["id"]))["password_hash"] is not None
    assert [e["action"] for e in await audit_entries(portal.accounts, U, compte=rep["id"])].count("simuler_acces") == 1
    assert len(await portal.sql("SELECT * FROM connection_log WHERE kind = 'simulation'")) == 1


async def test_ent_brick_and_contact_address_follow_the_settings(portal: PortalUnderTest) -> None:
    pupil = (await ready_family(portal))["eleve"][0]
    await in_use(portal, pupil)
    async with portal.accounts.client() as api:
        assert (await api.patch(f"/api/v1/establishments/{U}", json={
            "emails": ["ce.0540001a@ac-nancy-metz.fr"], "phone": "03 83 00 00 00"})).status_code == 204
    async with portal.browser() as child:
        await login(child, pupil["identifiant"], CHOSEN)
        assert "Espace numérique de travail" not in (await child.get("/")).text  # « Téléservices » letters
        assert "ce.0540001a@ac-nancy-metz.fr" not in (await child.get("/contact")).text
        async with portal.accounts.client(chef(U)) as api:
            assert (await api.put(f"/api/v1/establishments/{U}/settings/ent_et_courrier", json={
                "type_courrier": "Mixte ENT/Téléservices",
                "lien_ent_specifique": "https://ent.exemple.fr"})).status_code == 200
            assert (await api.put(f"/api/v1/establishments/{U}/settings/contact", json={
                "adresse_contact": "ce.0540001a@ac-nancy-metz.fr", "actif": True})).status_code == 200
        home = (await child.get("/")).text
        assert 'href="https://ent.exemple.fr"' in home and "Espace numérique de travail" in home
        contact = (await child.get("/contact")).text
        assert "mailto:ce.0540001a@ac-nancy-metz.fr" in contact and "03 83 00 00 00" in contact
        async with portal.accounts.client(chef(U)) as api:
            await api.put(f"/api/v1/establishments/{U}/settings/contact", json={
                "adresse_contact": "ce.0540001a@ac-nancy-metz.fr", "actif": False})
        assert "ce.0540001a@ac-nancy-metz.fr" not in (await child.get("/contact")).text
