"""Tenant isolation of the staff API: one establishment's staff never reach, change or see another's data."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Any

import asyncpg
import pytest

from teleservices.shared.security.staff import Menu, issue_staff_token
from tests.support.accounts import (
    OPERATOR,
    AccountsUnderTest,
    audit_entries,
    bearer_client,
    chef,
    delegue,
)
from tests.support.siecle import Family, family

A, B = "0540001A", "0540002B"


@dataclass
class Tenants:
    """Two establishments of the same academy, each with one family; the ids tests aim at."""

    ids: dict[str, str]
    b_secrets: tuple[str, ...]
    """Strings only B's data contains: names, identifiers, SIECLE ids, account ids."""


async def _tenants(accounts: AccountsUnderTest) -> Tenants:
    await accounts.establishment(A)
    await accounts.establishment(B)
    await accounts.enrol(A, [family(nom="Alpha", prenom="Anne", parents=(("Paul", "paul@exemple.fr"),))])
    b_family = family(nom="Bravo", prenom="Bruno", parents=(("Berthe", "berthe@exemple.fr"), ("Basile", None)))
    b_family = Family(b_family.eleve.model_copy(update={"eleve_id": "ELEVE-DE-B"}), b_family.representants)
    await accounts.enrol(B, [b_family])
    [a_rep] = await accounts.accounts(A, "responsable")
    [b_pupil] = await accounts.accounts(B, "eleve")
    b_rep, b_other = await accounts.accounts(B, "responsable")
    ids = {"uai": B, "account": b_rep["id"], "pupil": b_pupil["id"], "other": b_other["id"],
           "eleve": b_family.eleve.eleve_id, "own": a_rep["id"]}
    b_secrets = ("Bravo", "Berthe", "Basile", "berthe@exemple.fr", b_family.eleve.eleve_id,
                 b_rep["identifiant"], b_other["identifiant"], b_pupil["identifiant"],
                 b_rep["id"], b_other["id"], b_pupil["id"])
    return Tenants(ids, b_secrets)


ROUTES: list[tuple[str, str, dict[str, Any] | None]] = [
    ("GET", "/api/v1/establishments/{uai}", None),
    ("PATCH", "/api/v1/establishments/{uai}", {"phone": "03 83 00 00 00"}),
    ("POST", "/api/v1/establishments/{uai}/activation", None),
    ("GET", "/api/v1/establishments/{uai}/accounts?population=eleve", None),
    ("GET", "/api/v1/establishments/{uai}/accounts?population=responsable", None),
    ("GET", "/api/v1/accounts/{account}", None),
    ("GET", "/api/v1/accounts/{pupil}", None),
    ("POST", "/api/v1/accounts/{account}/notifications", {"channel": "email"}),
    ("POST", "/api/v1/accounts/{pupil}/notifications", {"channel": "paper", "reset_password": True}),
    ("POST", "/api/v1/accounts/{account}/new-account", {"channel": "paper"}),
    ("POST", "/api/v1/accounts/{pupil}/new-account", {"channel": "paper"}),
    ("POST", "/api/v1/accounts/{account}/simulation", None),
    ("POST", "/api/v1/accounts/{account}/activation-email", {"email": "pirate@exemple.fr"}),
    ("POST", "/api/v1/accounts/{account}/emails", {"subject": "Réunion", "body": "Bonjour"}),
    ("GET", "/api/v1/accounts/{account}/temporary-password", None),
    ("POST", "/api/v1/accounts/{account}/grouping", {"grouped_account_id": "{other}"}),
    ("POST", "/api/v1/accounts/{own}/grouping", {"grouped_account_id": "{account}"}),
    ("POST", "/api/v1/accounts/{account}/grouping", {"grouped_account_id": "{own}"}),
    ("DELETE", "/api/v1/accounts/{account}/grouping/{eleve}", None),
    ("GET", "/api/v1/establishments/{uai}/audit", None),
    ("GET", "/api/v1/establishments/{uai}/export", None),
    ("POST", "/api/v1/establishments/{uai}/emails", {"subject": "Réunion", "body": "Bonjour",
                                                      "account_ids": ["{account}", "{other}"]}),
    ("POST", "/api/v1/establishments/0540001A/emails", {"subject": "Réunion", "body": "Bonjour",
                                                         "account_ids": ["{account}", "{other}"]}),
    ("GET", "/api/v1/audit?uai={uai}", None),
    ("GET", "/api/v1/establishments/{uai}/expiring", None),
    ("GET", "/api/v1/establishments/{uai}/settings", None),
    ("GET", "/api/v1/establishments/{uai}/services", None),
    ("PUT", "/api/v1/establishments/{uai}/services/notes", {"open": False}),
]


def _fill(value: Any, ids: dict[str, str]) -> Any:
    if isinstance(value, dict):
        return {k: _fill(v, ids) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, ids) for v in value]
    return value.format(**ids) if isinstance(value, str) else value


async def _call(api: Any, method: str, path: str, body: dict[str, Any] | None, ids: dict[str, str]) -> Any:
    return await api.request(method, path.format(**ids), json=_fill(body, ids))


async def _assert_b_untouched(accounts: AccountsUnderTest, database_url: str, before: dict[str, Any]) -> None:
    assert await _snapshot(accounts) == before
    assert not [e for e in await audit_entries(accounts, B) if e["actor_id"] == chef(A).user_id]
    conn = await asyncpg.connect(database_url)
    try:
        assert await conn.fetchval("SELECT count(*) FROM accounts.notifications") == 0
        assert await conn.fetchval("SELECT count(*) FROM accounts.replacements") == 0
        assert await conn.fetchval("SELECT count(*) FROM accounts.rattachements WHERE detached_at IS NOT NULL") == 0
    finally:
        await conn.close()


async def _snapshot(accounts: AccountsUnderTest) -> dict[str, Any]:
    lines = await accounts.accounts(B, "eleve") + await accounts.accounts(B, "responsable")
    async with accounts.client() as api:
        establishment = (await api.get(f"/api/v1/establishments/{B}")).json()
    assert {line["state"] for line in lines} == {"Non notifié"}
    return {"accounts": sorted((a["id"], a["identifiant"], a["state"]) for a in lines),
            "establishment": establishment}


@pytest.mark.parametrize(("method", "path", "body"), ROUTES, ids=[f"{m} {p} {b or ''}" for m, p, b in ROUTES])
async def test_staff_of_a_never_reach_b(accounts: AccountsUnderTest, database_url: str, method: str, path: str,
                                        body: dict[str, Any] | None) -> None:
    tenants = await _tenants(accounts)
    before = await _snapshot(accounts)
    for principal in (chef(A), delegue(A, *Menu)):
        async with accounts.client(principal) as api:
            answer = await _call(api, method, path, body, tenants.ids)
        assert answer.status_code in (403, 404), answer.text
        assert not [s for s in tenants.b_secrets if s in answer.text], answer.text
    await _assert_b_untouched(accounts, database_url, before)


async def test_b_never_appears_in_what_chef_a_reads(accounts: AccountsUnderTest) -> None:
    tenants = await _tenants(accounts)
    async with accounts.client(chef(A)) as api:
        establishments = (await api.get("/api/v1/establishments")).json()
        pages = [await api.get(f"/api/v1/establishments/{A}/accounts", params={"population": p})
                 for p in ("eleve", "responsable")]
        pages.append(await api.get(f"/api/v1/establishments/{A}/export"))
        pages.append(await api.get(f"/api/v1/establishments/{A}/audit"))
        pages.append(await api.get(f"/api/v1/establishments/{A}/audit", params={"compte": tenants.ids["account"]}))
        pages.append(await api.get(f"/api/v1/accounts/{tenants.ids['own']}"))
    assert [e["uai"] for e in establishments] == [A]
    for page in pages:
        assert page.status_code == 200, page.text
        assert not [s for s in tenants.b_secrets if s in page.text], page.text
    assert pages[0].json()["summary"] == "1 compte(s) sélectionné(s) sur 1"
    assert pages[1].json()["summary"] == "1 compte(s) sélectionné(s) sur 1"
    assert pages[4].json() == []


async def test_the_operator_sees_both_establishments(accounts: AccountsUnderTest) -> None:
    await _tenants(accounts)
    async with accounts.client(OPERATOR) as api:
        assert [e["uai"] for e in (await api.get("/api/v1/establishments")).json()] == [A, B]


REPRESENTATIVE_ROUTES: list[tuple[str, str, dict[str, Any] | None]] = [
    ("GET", "/api/v1/establishments/{uai}/accounts?population=responsable", None),
    ("GET", "/api/v1/accounts/{account}", None),
    ("POST", "/api/v1/accounts/{account}/notifications", {"channel": "paper"}),
    ("GET", "/api/v1/accounts/{account}/temporary-password", None),
    ("POST", "/api/v1/accounts/{account}/emails", {"subject": "Réunion", "body": "Bonjour"}),
]


@pytest.mark.parametrize(("method", "path", "body"), REPRESENTATIVE_ROUTES)
async def test_a_delegate_needs_the_representatives_menu(accounts: AccountsUnderTest, method: str, path: str,
                                                         body: dict[str, Any] | None) -> None:
    await accounts.establishment(A)
    await accounts.enrol(A, [family()])
    [rep] = await accounts.accounts(A, "responsable")
    ids = {"uai": A, "account": rep["id"]}
    async with accounts.client(delegue(A, Menu.acces_eleves, Menu.parametrage)) as api:
        refused = await _call(api, method, path, body, ids)
    assert refused.status_code == 403, refused.text
    assert refused.json()["detail"]["field"] == "menu"
    async with accounts.client(delegue(A, Menu.acces_responsables)) as api:
        allowed = await _call(api, method, path, body, ids)
    assert allowed.status_code in (200, 202), allowed.text


async def test_a_delegate_with_only_the_representatives_menu_cannot_manage_pupils(
        accounts: AccountsUnderTest) -> None:
    await accounts.establishment(A)
    await accounts.enrol(A, [family()])
    [pupil] = await accounts.accounts(A, "eleve")
    async with accounts.client(delegue(A, Menu.acces_responsables)) as api:
        listed = await api.get(f"/api/v1/establishments/{A}/accounts", params={"population": "eleve"})
        notified = await api.post(f"/api/v1/accounts/{pupil['id']}/notifications", json={"channel": "paper"})
    assert (listed.status_code, notified.status_code) == (403, 403)


def _tampered(token: str, uais: list[str]) -> str:
    body, _, signature = token.partition(".")
    claims = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    claims.update(uais=uais, role="operateur_academique")
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return f"{forged}.{signature}"


async def test_missing_forged_and_expired_tokens_are_refused_on_every_route(accounts: AccountsUnderTest,
                                                                            database_url: str) -> None:
    tenants = await _tenants(accounts)
    before = await _snapshot(accounts)
    key = accounts.settings.secrets.staff_token_key.get_secret_value()
    valid_for_a = issue_staff_token(chef(A), key)
    tokens = {
        "none": None,
        "empty": "",
        "garbage": "pas-un-jeton",
        "wrong key": issue_staff_token(OPERATOR, "une-autre-cle-" + key),
        "tampered claims": _tampered(valid_for_a, [A, B]),
        "no signature": valid_for_a.partition(".")[0] + ".",
        "expired": issue_staff_token(chef(B), key, ttl_s=-1),
    }
    for name, token in tokens.items():
        async with bearer_client(accounts, token) as api:
            for method, path, body in ROUTES:
                answer = await _call(api, method, path, body, tenants.ids)
                assert answer.status_code == 401, (name, method, path, answer.text)
                assert answer.headers["www-authenticate"] == "Bearer"
    async with bearer_client(accounts, None) as api:
        basic = await api.get("/api/v1/establishments", headers={"authorization": f"Basic {valid_for_a}"})
    assert basic.status_code == 401
    await _assert_b_untouched(accounts, database_url, before)
