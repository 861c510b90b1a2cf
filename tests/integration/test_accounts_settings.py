"""« Gestion des services » and « Paramétrage » through the API: defaults, locks, refusals naming the field."""

from __future__ import annotations

from typing import Any

import httpx

from tests.support.accounts import AccountsUnderTest, chef

UAI = "0540001A"


async def _college(accounts: AccountsUnderTest, **fields: Any) -> httpx.AsyncClient:
    await accounts.establishment(UAI, modules=["notes"], perimetres=["bourse_college"], **fields)
    return accounts.client(chef(UAI))


def _refused(response: httpx.Response, field: str) -> None:
    assert 400 <= response.status_code < 500, response.text
    assert response.json()["detail"]["field"] == field, response.text


async def test_activation_opens_the_default_services_and_locks_the_mandatory_ones(accounts: AccountsUnderTest) -> None:
    async with await _college(accounts) as api:
        services = {s["code"]: s for s in (await api.get(f"/api/v1/establishments/{UAI}/services")).json()}
        assert services["notes"]["open"] and services["fiche_renseignements"]["open"]
        assert services["fiche_renseignements"]["mandatory"] and not services["fiche_renseignements"]["can_close"]
        assert not services["paiement"]["open"] and services["paiement"]["can_open"]
        assert not services["evaluation"]["can_open"] and services["evaluation"]["reason"]
        assert "bourse_lycee" not in services  # outside the perimeter: not shown at all

        _refused(await api.put(f"/api/v1/establishments/{UAI}/services/fiche_renseignements",
                               json={"open": False}), "service")
        _refused(await api.put(f"/api/v1/establishments/{UAI}/services/evaluation", json={"open": True}), "service")
        opened = await api.put(f"/api/v1/establishments/{UAI}/services/paiement", json={"open": True})
        assert opened.status_code == 200 and "paiement" in opened.json()["open"]


async def test_the_welcome_message_is_limited_and_sanitised(accounts: AccountsUnderTest) -> None:
    async with await _college(accounts) as api:
        _refused(await api.put(f"/api/v1/establishments/{UAI}/settings/message_accueil",
                               json={"texte": "x" * 2001}), "message")
        saved = await api.put(f"/api/v1/establishments/{UAI}/settings/message_accueil", json={
            "texte": 'Bienvenue ! <a href="https://www.ac-nancy-metz.fr">Académie</a><script>alert(1)</script>'})
        assert saved.status_code == 200
        assert '<a href="https://www.ac-nancy-metz.fr"' in saved.json()["html"]
        assert "<script" not in saved.json()["html"]
        settings = (await api.get(f"/api/v1/establishments/{UAI}/settings")).json()
        assert settings["message_accueil"]["html"] == saved.json()["html"]


async def test_letter_type_contact_and_links_refuse_what_cannot_work(accounts: AccountsUnderTest) -> None:
    async with await _college(accounts) as api:
        _refused(await api.put(f"/api/v1/establishments/{UAI}/settings/ent_et_courrier",
                               json={"type_courrier": "Mixte ENT/Téléservices"}), "lien_ent")
        ok = await api.put(f"/api/v1/establishments/{UAI}/settings/ent_et_courrier", json={
            "type_courrier": "ENT seul", "lien_ent_specifique": "https://ent.college-lw.fr"})
        assert ok.status_code == 200, ok.text
        _refused(await api.put(f"/api/v1/establishments/{UAI}/settings/contact",
                               json={"adresse_contact": "ce@exemple.fr", "actif": True}), "adresse_contact")
        _refused(await api.post(f"/api/v1/establishments/{UAI}/settings/liens_utiles",
                                json={"libelle": "Site", "url": "javascript:alert(1)"}), "url")
        assert (await api.post(f"/api/v1/establishments/{UAI}/settings/liens_utiles",
                               json={"libelle": "Site de l'académie", "url": "https://www.ac-nancy-metz.fr"})
                ).status_code == 200


async def test_notes_dates_name_an_unknown_division(accounts: AccountsUnderTest) -> None:
    async with await _college(accounts) as api:
        _refused(await api.post(f"/api/v1/establishments/{UAI}/settings/notes/dates", json={
            "code_mef": "10310019110", "division": "9Z", "date": "2026-12-12"}), "division")


async def test_a_settings_change_is_published_at_once(accounts: AccountsUnderTest) -> None:
    async with await _college(accounts) as api:
        await api.put(f"/api/v1/establishments/{UAI}/settings/message_accueil", json={"texte": "Bonjour"})
    async with accounts.app.state.runtime.db.connection() as conn:
        groups = [r["g"] for r in await conn.fetch(
            "SELECT envelope::jsonb->'payload'->>'group' AS g FROM outbox"
            " WHERE envelope::jsonb->>'type' = 'accounts.EstablishmentSettingsChanged'")]
    assert groups == ["message_accueil"]


async def test_before_activation_nothing_can_be_opened(accounts: AccountsUnderTest) -> None:
    await accounts.establishment(UAI, activate=False, modules=["notes"])
    async with accounts.client(chef(UAI)) as api:
        _refused(await api.put(f"/api/v1/establishments/{UAI}/services/paiement", json={"open": True}), "service")


async def test_academy_operators_manage_the_academy_lists(accounts: AccountsUnderTest) -> None:
    await accounts.establishment(UAI)
    async with accounts.client() as operator:
        changed = await operator.patch("/api/v1/academies/NANCY-METZ", json={
            "grouping_enabled": False, "tipi_reference": {"12345": "Collège Langevin Wallon"},
            "ent_links": [{"id": "placedulycee", "libelle": "Place", "url": "https://ent.example.fr"}]})
        assert changed.status_code == 200 and changed.json()["grouping_enabled"] is False
        _refused(await operator.patch("/api/v1/academies/NANCY-METZ", json={"mandatory_services": ["fax"]}),
                 "mandatory_services")
    async with accounts.client(chef(UAI)) as api:
        assert (await api.patch("/api/v1/academies/NANCY-METZ", json={"grouping_enabled": True})).status_code == 403
        match = await api.get(f"/api/v1/establishments/{UAI}/settings/paiement/tipi/12345")
        assert match.json()["libelle"] == "Collège Langevin Wallon"
        _refused(await api.get(f"/api/v1/establishments/{UAI}/settings/paiement/tipi/99999"), "numero_tipi")


async def test_letters_are_edited_checked_and_reset(accounts: AccountsUnderTest) -> None:
    async with await _college(accounts) as api:
        base = f"/api/v1/establishments/{UAI}/settings/courriers"
        default = (await api.get(base)).json()["parts"]["responsable_nouveau_compte"]
        assert default["par_defaut"] and "[Mot de passe]" in default["texte"]
        _refused(await api.put(f"{base}/responsable_nouveau_compte",
                               json={"texte": default["texte"].replace("[Mot de passe]", "")}),
                 "responsable_nouveau_compte")
        edited = default["texte"] + "\nRéunion de rentrée le 4 septembre."
        assert (await api.put(f"{base}/responsable_nouveau_compte", json={"texte": edited})).status_code == 200
        now = (await api.get(base)).json()["parts"]["responsable_nouveau_compte"]
        assert now == {**default, "texte": edited, "par_defaut": False}
        assert (await api.delete(f"{base}/responsable_nouveau_compte")).status_code == 200
        assert (await api.get(base)).json()["parts"]["responsable_nouveau_compte"]["par_defaut"] is True


async def test_every_settings_change_is_audited_and_another_establishment_cannot_change_them(
        accounts: AccountsUnderTest) -> None:
    other = "0540002B"
    async with await _college(accounts) as api:
        await api.put(f"/api/v1/establishments/{UAI}/settings/message_accueil", json={"texte": "Bonjour"})
        await api.put(f"/api/v1/establishments/{UAI}/services/paiement", json={"open": True})
        await api.patch(f"/api/v1/establishments/{UAI}", json={"phone": "03 83 11 22 33"})
        trail = (await api.get(f"/api/v1/establishments/{UAI}/audit")).json()
    assert {"parametrer_message_accueil", "ouvrir_service", "modifier_etablissement", "activer_teleservices"} <= {
        entry["action"] for entry in trail}
    await accounts.establishment(other)
    async with accounts.client(chef(other)) as intruder:
        for method, path, body in [
            ("PUT", "settings/message_accueil", {"texte": "Piraté"}),
            ("PUT", "services/paiement", {"open": False}),
            ("PUT", "settings/courriers/en_tete", {"texte": "[Nom] [Adresse ligne 1] [Établissement]"}),
            ("DELETE", "settings/courriers/en_tete", None),
            ("POST", "settings/liens_utiles", {"libelle": "x", "url": "https://exemple.fr"}),
            ("PUT", "settings/contact", {"adresse_contact": None, "actif": False}),
            ("GET", "settings", None), ("GET", "services", None), ("GET", "settings/courriers", None),
        ]:
            response = await intruder.request(method, f"/api/v1/establishments/{UAI}/{path}", json=body)
            assert response.status_code == 404, (method, path, response.text)
    async with accounts.client(chef(UAI)) as api:
        settings = (await api.get(f"/api/v1/establishments/{UAI}/settings")).json()
    assert settings["message_accueil"]["texte"] == "Bonjour"
