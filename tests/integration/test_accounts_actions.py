"""Every staff action on accounts through the API: its answer, its refusals, and its line in the audit trail."""

from __future__ import annotations

from typing import Any

import pytest

from teleservices.shared.messages.siecle import PersonneData
from tests.support.accounts import AccountsUnderTest, audit_entries, chef, force_state, lenient_client, report_delivered
from tests.support.siecle import Family, family
from tests.support.waiting import eventually

U = "0540001A"
CHEF = chef(U)


async def _one(accounts: AccountsUnderTest, population: str, **filters: Any) -> dict[str, Any]:
    [account] = await accounts.accounts(U, population, **filters)
    return account


async def _ready(accounts: AccountsUnderTest, *families: Family, activate: bool = True) -> None:
    await accounts.establishment(U, activate=activate)
    await accounts.enrol(U, list(families) or [family()])


async def _audited(accounts: AccountsUnderTest, action: str, account_id: str) -> dict[str, Any]:
    """The one audit entry of this action on this account, by the head of U."""
    entries = [e for e in await audit_entries(accounts, U, acteur=CHEF.user_id) if e["action"] == action]
    assert [e["account_id"] for e in entries] == [account_id], entries
    assert entries[0]["actor_role"] == "chef" and entries[0]["uai"] == U
    return entries[0]


async def _refused(accounts: AccountsUnderTest, path: str, body: dict[str, Any] | None, status: int,
                   field: str, method: str = "POST") -> str:
    async with accounts.client(CHEF) as api:
        answer = await api.request(method, path, json=body)
    assert answer.status_code == status, answer.text
    assert answer.json()["detail"]["field"] == field, answer.text
    return str(answer.json()["detail"]["reason"])


async def _no_staff_action_recorded(accounts: AccountsUnderTest) -> None:
    assert await audit_entries(accounts, U, acteur=CHEF.user_id) == []


@pytest.mark.parametrize(("reset", "action"), [(False, "notifier"), (True, "reinitialiser_et_notifier")])
async def test_notify_a_representative_by_email(accounts: AccountsUnderTest, reset: bool, action: str) -> None:
    await _ready(accounts)
    rep = await _one(accounts, "responsable")
    async with accounts.client(CHEF) as api:
        answer = await api.post(f"/api/v1/accounts/{rep['id']}/notifications",
                                json={"channel": "email", "reset_password": reset})
    assert answer.status_code == 202, answer.text
    entry = await _audited(accounts, action, rep["id"])
    assert entry["details"] == {"mode": "email", "notification_id": answer.json()["notification_id"]}
    assert (await _one(accounts, "responsable"))["state"] == "Non notifié"  # changes only once delivered


async def test_pupils_are_notified_on_paper_only(accounts: AccountsUnderTest) -> None:
    await _ready(accounts)
    pupil = await _one(accounts, "eleve")
    await _refused(accounts, f"/api/v1/accounts/{pupil['id']}/notifications", {"channel": "email"}, 409, "mode")
    await _no_staff_action_recorded(accounts)
    async with accounts.client(CHEF) as api:
        paper = await api.post(f"/api/v1/accounts/{pupil['id']}/notifications", json={"channel": "paper"})
    assert paper.status_code == 202, paper.text
    assert (await _audited(accounts, "notifier", pupil["id"]))["details"]["mode"] == "paper"


async def test_email_needs_a_known_address(accounts: AccountsUnderTest) -> None:
    await _ready(accounts, family(parents=(("Loïc", None),)))
    rep = await _one(accounts, "responsable")
    await _refused(accounts, f"/api/v1/accounts/{rep['id']}/notifications", {"channel": "email"}, 409, "mode")
    await _refused(accounts, f"/api/v1/accounts/{rep['id']}/emails", {"subject": "Objet", "body": "Texte"},
                   409, "email")
    await _no_staff_action_recorded(accounts)


ACTIONS: list[tuple[str, str, dict[str, Any] | None]] = [
    ("POST", "notifications", {"channel": "paper"}),
    ("POST", "notifications", {"channel": "paper", "reset_password": True}),
    ("POST", "new-account", {"channel": "paper"}),
    ("POST", "simulation", None),
    ("POST", "activation-email", {}),
    ("POST", "emails", {"subject": "Objet", "body": "Texte"}),
    ("GET", "temporary-password", None),
]


async def test_nothing_is_done_before_teleservices_are_activated(accounts: AccountsUnderTest) -> None:
    await _ready(accounts, family(), family(nom="Martin"), activate=False)
    rep, other = await accounts.accounts(U, "responsable")
    for method, action, body in ACTIONS:
        reason = await _refused(accounts, f"/api/v1/accounts/{rep['id']}/{action}", body, 409, "uai", method)
        assert "ne sont pas activés" in reason
    await _refused(accounts, f"/api/v1/accounts/{rep['id']}/grouping", {"grouped_account_id": other["id"]},
                   409, "uai")
    await _no_staff_action_recorded(accounts)


async def test_simulation_is_for_accounts_in_use(accounts: AccountsUnderTest) -> None:
    await _ready(accounts)
    rep = await _one(accounts, "responsable")
    await _refused(accounts, f"/api/v1/accounts/{rep['id']}/simulation", None, 409, "etat")
    await force_state(accounts, rep["id"], "Utilisé")
    async with accounts.client(CHEF) as api:
        answer = await api.post(f"/api/v1/accounts/{rep['id']}/simulation")
    assert answer.status_code == 200, answer.text
    assert "/simulation?jeton=" in answer.json()["url"]
    await _audited(accounts, "simuler_acces", rep["id"])


async def test_activation_email_only_for_representatives_awaiting_activation(accounts: AccountsUnderTest) -> None:
    await _ready(accounts)
    pupil, rep = await _one(accounts, "eleve"), await _one(accounts, "responsable")
    await _refused(accounts, f"/api/v1/accounts/{pupil['id']}/activation-email", {}, 409, "population")
    await _refused(accounts, f"/api/v1/accounts/{rep['id']}/activation-email", {}, 409, "etat")
    async with accounts.client(CHEF) as api:
        invalid = await api.post(f"/api/v1/accounts/{rep['id']}/activation-email", json={"email": "pas-une-adresse"})
        assert invalid.status_code == 422
        assert [e["loc"] for e in invalid.json()["detail"]] == [["body", "email"]]
        await _no_staff_action_recorded(accounts)
        await force_state(accounts, rep["id"], "En cours d'activation", email="ancienne@exemple.fr")
        sent = await api.post(f"/api/v1/accounts/{rep['id']}/activation-email", json={"email": "bonne@exemple.fr"})
        assert sent.status_code == 202, sent.text
        account = (await api.get(f"/api/v1/accounts/{rep['id']}")).json()
    assert account["email"] == "bonne@exemple.fr" and account["email_en_attente"] is True
    entry = await _audited(accounts, "renvoyer_courriel_activation", rep["id"])
    assert entry["details"] == {"address_corrected": True}


@pytest.mark.parametrize(("population", "channel", "identifiant"),
                         [("eleve", "paper", "guillaume.dupont2"), ("responsable", "email", "philippe.dupont2")])
async def test_a_new_account_replaces_the_old_one_in_the_list(accounts: AccountsUnderTest, population: str,
                                                              channel: str, identifiant: str) -> None:
    await _ready(accounts)
    old = await _one(accounts, population)
    async with accounts.client(CHEF) as api:
        answer = await api.post(f"/api/v1/accounts/{old['id']}/new-account", json={"channel": channel})
    assert answer.status_code == 201, answer.text
    new = answer.json()
    assert new["identifiant"] == identifiant and new["identifiant"] != old["identifiant"]
    listed = await _one(accounts, population)  # at once: no event has to come back first
    assert (listed["id"], listed["identifiant"], listed["state"]) == (new["id"], identifiant, "Non notifié")
    entry = await _audited(accounts, "nouveau_compte", old["id"])
    assert entry["details"] == {"new_account_id": new["id"], "mode": channel}


async def test_a_replaced_representative_account_cannot_be_replaced_again(accounts: AccountsUnderTest) -> None:
    await _ready(accounts)
    old = await _one(accounts, "responsable")
    async with lenient_client(accounts, CHEF) as api:
        first = await api.post(f"/api/v1/accounts/{old['id']}/new-account", json={"channel": "paper"})
        second = await api.post(f"/api/v1/accounts/{old['id']}/new-account", json={"channel": "paper"})
    assert first.status_code == 201
    assert second.status_code == 409, second.text


async def test_temporary_password_of_a_non_notified_account_is_null_and_audited(accounts: AccountsUnderTest) -> None:
    await _ready(accounts)
    pupil = await _one(accounts, "eleve")
    async with accounts.client(CHEF) as api:
        answer = await api.get(f"/api/v1/accounts/{pupil['id']}/temporary-password")
    assert answer.status_code == 200 and answer.json() == {"temporary_password": None}
    await _audited(accounts, "consulter_mot_de_passe_provisoire", pupil["id"])


async def test_write_an_email(accounts: AccountsUnderTest) -> None:
    await _ready(accounts)
    rep = await _one(accounts, "responsable")
    async with accounts.client(CHEF) as api:
        answer = await api.post(f"/api/v1/accounts/{rep['id']}/emails",
                                json={"subject": "Réunion parents-professeurs", "body": "Jeudi à 18 h."})
    assert answer.status_code == 202, answer.text
    entry = await _audited(accounts, "ecrire_courriel", rep["id"])
    assert entry["details"] == {"notification_id": answer.json()["notification_id"]}


async def test_grouping_then_ungrouping_a_parent_of_two_children(accounts: AccountsUnderTest) -> None:
    mother = PersonneData(personne_id="P-CLAIRE", civilite="Mme", nom="Dupont", prenom="Claire",
                          email="claire@exemple.fr", address_lines=("40 rue du Rendez-Vous",))
    guillaume = Family(family(prenom="Guillaume", parents=()).eleve, [mother])
    lea = Family(family(prenom="Léa", division="5B", parents=()).eleve, [mother])
    await _ready(accounts, guillaume, lea)
    kept, grouped = await accounts.accounts(U, "responsable")
    assert (kept["identifiant"], grouped["identifiant"]) == ("claire.dupont1", "claire.dupont2")
    pupil = await _one(accounts, "eleve", nom="Dupont", division="3A")
    await _refused(accounts, f"/api/v1/accounts/{kept['id']}/grouping", {"grouped_account_id": pupil["id"]},
                   409, "compte")
    async with accounts.client(CHEF) as api:
        answer = await api.post(f"/api/v1/accounts/{kept['id']}/grouping", json={"grouped_account_id": grouped["id"]})
        assert answer.status_code == 204, answer.text
        listed = await accounts.accounts(U, "responsable")
        assert [(a["id"], a["eleve"]["prenom"]) for a in listed] == [(kept["id"], "Guillaume"), (kept["id"], "Léa")]
        view = (await api.get(f"/api/v1/accounts/{kept['id']}")).json()
        assert sorted(r["eleve_id"] for r in view["rattachements"] if r["detached_at"] is None) == sorted(
            [guillaume.eleve.eleve_id, lea.eleve.eleve_id])
        assert (await api.get(f"/api/v1/accounts/{grouped['id']}")).json()["closed_at"] is not None
        entry = await _audited(accounts, "regrouper", kept["id"])
        assert entry["details"] == {"grouped_account_id": grouped["id"]}

        undone = await api.delete(f"/api/v1/accounts/{kept['id']}/grouping/{lea.eleve.eleve_id}")
        assert undone.status_code == 200, undone.text
        new = undone.json()
    assert (new["identifiant"], new["state"]) == ("claire.dupont3", "Non notifié")
    listed = await accounts.accounts(U, "responsable")
    assert [(a["id"], a["eleve"]["prenom"]) for a in listed] == [(kept["id"], "Guillaume"), (new["id"], "Léa")]
    assert (await _audited(accounts, "degrouper", kept["id"]))["details"] == {"new_account_id": new["id"]}
    await _refused(accounts, f"/api/v1/accounts/{kept['id']}/grouping/{guillaume.eleve.eleve_id}", None, 409,
                   "eleve_id", method="DELETE")


async def test_an_account_cannot_be_grouped_with_itself(accounts: AccountsUnderTest) -> None:
    await _ready(accounts)
    rep = await _one(accounts, "responsable")
    async with accounts.client(CHEF) as api:
        answer = await api.post(f"/api/v1/accounts/{rep['id']}/grouping", json={"grouped_account_id": rep["id"]})
    assert answer.status_code == 409, answer.text
    assert [a["id"] for a in await accounts.accounts(U, "responsable")] == [rep["id"]]


PUPILS = [("Dupont", "3A", "0"), ("Durand", "3A", "21"), ("Martin", "3B", "60"), ("Moreau", "3B", "31"),
          ("Petit", "4C", "1"), ("Roux", "4C", "5")]


async def test_list_filters_and_summary(accounts: AccountsUnderTest) -> None:
    await _ready(accounts, *(family(nom=n, division=d, code_regime=r) for n, d, r in PUPILS))
    by_name = {a["eleve"]["nom"]: a["id"] for a in await accounts.accounts(U, "eleve")}
    await force_state(accounts, by_name["Durand"], "Notifié")
    await force_state(accounts, by_name["Moreau"], "Utilisé")
    cases: list[tuple[dict[str, Any], list[str]]] = [
        ({}, [n for n, _, _ in PUPILS]),
        ({"division": "3A"}, ["Dupont", "Durand"]),
        ({"division": ["3A", "4C"]}, ["Dupont", "Durand", "Petit", "Roux"]),
        ({"regime": "Externe"}, ["Dupont", "Petit"]),
        ({"regime": "Demi-pensionnaire"}, ["Durand", "Martin"]),
        ({"regime": "Interne"}, ["Moreau", "Roux"]),
        ({"regime": ["Externe", "Interne"]}, ["Dupont", "Moreau", "Petit", "Roux"]),
        ({"etat": "Notifié"}, ["Durand"]),
        ({"etat": ["Notifié", "Utilisé"]}, ["Durand", "Moreau"]),
        ({"etat": "Non notifié"}, ["Dupont", "Martin", "Petit", "Roux"]),
        ({"nom": "du"}, ["Dupont", "Durand"]),
        ({"nom": "MOR"}, ["Moreau"]),
        ({"nom": "zz"}, []),
        ({"division": "3B", "regime": "Interne", "etat": "Utilisé"}, ["Moreau"]),
    ]
    async with accounts.client(CHEF) as api:
        for filters, names in cases:
            page = await api.get(f"/api/v1/establishments/{U}/accounts", params={"population": "eleve", **filters})
            assert page.status_code == 200, page.text
            body = page.json()
            assert [a["eleve"]["nom"] for a in body["accounts"]] == names, filters
            assert (body["selected"], body["total"]) == (len(names), 6)
            assert body["summary"] == f"{len(names)} compte(s) sélectionné(s) sur 6"
        reps = await api.get(f"/api/v1/establishments/{U}/accounts", params={"population": "responsable",
                                                                             "division": "4C"})
        assert reps.json()["summary"] == "2 compte(s) sélectionné(s) sur 6"
        for bad in ({"regime": "Pensionnaire"}, {"etat": "Supprimé"}, {"population": "professeur"}):
            answer = await api.get(f"/api/v1/establishments/{U}/accounts", params={"population": "eleve", **bad})
            assert answer.status_code == 422, bad


async def test_name_filter_takes_letters_literally(accounts: AccountsUnderTest) -> None:
    await _ready(accounts, family(nom="Dupont"))
    assert await accounts.accounts(U, "eleve", nom="_u") == []
    assert await accounts.accounts(U, "eleve", nom="%") == []


async def test_unknown_fields_are_refused(accounts: AccountsUnderTest) -> None:
    await _ready(accounts)
    rep = await _one(accounts, "responsable")
    bodies = {"notifications": {"channel": "paper", "urgent": True}, "new-account": {"channel": "paper", "x": 1},
              "activation-email": {"email": None, "cc": "a@b.fr"}, "emails": {"subject": "a", "body": "b", "to": "x"},
              "grouping": {"grouped_account_id": rep["id"], "force": True}}
    async with accounts.client(CHEF) as api:
        for action, body in bodies.items():
            answer = await api.post(f"/api/v1/accounts/{rep['id']}/{action}", json=body)
            assert answer.status_code == 422, (action, answer.text)
            assert answer.json()["detail"][0]["type"] == "extra_forbidden"
        patched = await api.patch(f"/api/v1/establishments/{U}", json={"phone": "03 83 00 00 00", "fax": "x"})
        assert patched.status_code == 422
    await _no_staff_action_recorded(accounts)


async def test_the_head_edits_contact_details_only(accounts: AccountsUnderTest) -> None:
    await accounts.establishment(U)
    await _refused(accounts, f"/api/v1/establishments/{U}", {"name": "Autre nom"}, 403, "name", method="PATCH")
    async with accounts.client(CHEF) as api:
        assert (await api.patch(f"/api/v1/establishments/{U}", json={"phone": "03 83 00 00 01"})).status_code == 204
        establishment = (await api.get(f"/api/v1/establishments/{U}")).json()
        created = await api.post("/api/v1/establishments", json={"uai": "0540009Z", "name": "X", "academy": "NM"})
    assert establishment["phone"] == "03 83 00 00 01" and establishment["name"] == f"Collège {U}"
    entries = await audit_entries(accounts, U, acteur=CHEF.user_id)
    assert [(e["action"], e["details"]) for e in entries] == [("modifier_etablissement", {"fields": ["phone"]})]
    assert created.status_code == 403 and created.json()["detail"]["field"] == "role"


async def test_deliveries_reported_together_and_twice_each_take_effect_once(accounts: AccountsUnderTest) -> None:
    """A campaign's results arrive by the thousand, and a re-driven job reports a letter again: each account
    becomes « Notifié » once, with one line of history, whatever the batch."""
    await _ready(accounts)
    rep, eleve = await _one(accounts, "responsable"), await _one(accounts, "eleve")
    async with accounts.client(CHEF) as api:
        letters = [(await api.post(f"/api/v1/accounts/{account['id']}/notifications",
                                   json={"channel": "paper"})).json()["notification_id"] for account in (rep, eleve)]
    results = [(letters[0], rep["id"]), (letters[0], rep["id"]), (letters[1], eleve["id"]), (letters[1], eleve["id"])]
    await report_delivered(accounts, U, results)

    async def both_notified() -> list[dict[str, Any]] | None:
        async with accounts.client() as api:
            views = [(await api.get(f"/api/v1/accounts/{account['id']}")).json() for account in (rep, eleve)]
        return views if all(view["state"] == "Notifié" for view in views) else None

    for view in await eventually(both_notified):
        assert [(h["previous_state"], h["state"]) for h in view["history"]] == [("Non notifié", "Notifié")], view
