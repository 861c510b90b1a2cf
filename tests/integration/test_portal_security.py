"""The portal's security: CSRF, cookies and headers, sessions, throttling, argon2id, the accounts read API."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
from argon2 import PasswordHasher, Type

from teleservices.shared.security.signing import derive_key, sign
from tests.support.accounts import AccountsUnderTest
from tests.support.portal import (
    PortalUnderTest,
    csrf,
    deliver,
    in_use,
    login,
    notified,
    post,
    ready_family,
    running_portal,
)
from tests.support.waiting import eventually


@pytest.fixture
async def portal(accounts: AccountsUnderTest) -> AsyncIterator[PortalUnderTest]:
    async with running_portal(accounts, throttle_address_failures=8) as running:
        yield running


async def test_every_form_needs_its_csrf_token(portal: PortalUnderTest) -> None:
    rep = (await ready_family(portal))["responsable"][0]
    temporary = await notified(portal, rep)
    async with portal.browser() as family, portal.browser() as attacker:
        bare = await family.post("/connexion", data={"identifiant": rep["identifiant"], "mot_de_passe": temporary})
        assert bare.status_code == 403 and "session" not in bare.headers.get("set-cookie", "")
        stolen = await csrf(attacker)
        other = await family.post("/connexion", data={"csrf": stolen, "identifiant": rep["identifiant"],
                                                       "mot_de_passe": temporary})
        assert other.status_code == 403
        for path in ("/deconnexion", "/premiere-connexion", "/mot-de-passe-oublie", "/identifiant-oublie",
                     "/activation", "/reinitialisation", "/mon-compte/mot-de-passe", "/mon-compte/courriel",
                     "/mon-compte/regroupement", "/activation/renvoyer", "/validation-courriel"):
            assert (await family.post(path, data={"csrf": "0" * 64})).status_code == 403, path


async def test_cookies_and_security_headers(portal: PortalUnderTest) -> None:
    async with portal.browser() as family:
        page = await family.get("/connexion")
    headers = page.headers
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert "script-src" not in headers["content-security-policy"]  # default-src 'none': no script at all
    assert headers["referrer-policy"] == "no-referrer" and headers["x-frame-options"] == "DENY"
    assert headers["x-content-type-options"] == "nosniff" and headers["cache-control"] == "no-store"
    cookie = headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie


async def test_production_cookies_are_secure_and_host_bound(accounts: AccountsUnderTest) -> None:
    async with running_portal(accounts, cookie_secure=True) as secure_portal, secure_portal.browser() as family:
        page = await family.get("/connexion")
    cookie = page.headers["set-cookie"]
    assert cookie.startswith("__Host-portail_csrf=") and "Secure" in cookie and "Path=/" in cookie
    assert page.headers["strict-transport-security"].startswith("max-age=")


async def test_login_rotates_the_session_and_logout_ends_it_server_side(portal: PortalUnderTest) -> None:
    pupil = (await ready_family(portal))["eleve"][0]
    password = await in_use(portal, pupil)
    async with portal.browser() as family:
        await login(family, pupil["identifiant"], password)
        first = family.cookies["portail_session"]
        await login(family, pupil["identifiant"], password)
        second = family.cookies["portail_session"]
        assert first != second
        assert "Bienvenue" in (await family.get("/")).text
        assert (await post(family, "/deconnexion", {}, page="/")).headers["location"] == "/connexion?deconnecte=1"
    for old in (first, second):  # the session before login rotation, and the one logout ended
        async with portal.browser() as replay:
            replay.cookies.set("portail_session", old)
            assert "Connexion à Scolarité services" in (await replay.get("/")).text
            assert (await replay.get("/mon-compte")).status_code == 303


async def test_failed_logins_slow_down_then_lock_an_identifier_but_not_forever(portal: PortalUnderTest) -> None:
    pupil = (await ready_family(portal))["eleve"][0]
    password = await in_use(portal, pupil)
    key = f"id:{pupil['identifiant']}"
    async with portal.browser() as attacker:
        for _ in range(3):
            assert (await login(attacker, pupil["identifiant"], "devine")).status_code == 401
        assert (await login(attacker, pupil["identifiant"], "devine")).status_code == 401  # 4th: counted, delay starts
        slowed = await login(attacker, pupil["identifiant"], password)  # even the right password waits
        assert slowed.status_code == 429 and "Réessayez dans" in slowed.text
    await portal.sql("UPDATE throttle SET last_failure = now() - interval '1 hour' WHERE key = $1", key)
    async with portal.browser() as family:
        assert (await login(family, pupil["identifiant"], password)).status_code == 303  # the delay passed
    await portal.sql("INSERT INTO throttle (key, failures, locked_until) VALUES ($1, 10,"
                     " now() + interval '15 minutes')", key)
    async with portal.browser() as family:
        locked = await login(family, pupil["identifiant"], password)
        assert locked.status_code == 429 and "minutes" in locked.text
    await portal.sql("UPDATE throttle SET locked_until = now() - interval '1 second',"
                     " last_failure = now() - interval '16 minutes' WHERE key = $1", key)
    async with portal.browser() as family:
        assert (await login(family, pupil["identifiant"], password)).status_code == 303  # the lock is temporary


async def test_a_hundred_failures_block_the_password_until_a_reset_link(portal: PortalUnderTest) -> None:
    rep = (await ready_family(portal))["responsable"][0]
    password = await in_use(portal, rep)
    await portal.sql("INSERT INTO throttle (key, failures, last_failure) VALUES ($1, 100, now() - interval '1 day')",
                     f"id:{rep['identifiant']}")
    async with portal.browser() as family:
        blocked = await login(family, rep["identifiant"], password)
        assert blocked.status_code == 429 and "Mot de passe oublié" in blocked.text
        await post(family, "/mot-de-passe-oublie", {"identifiant": rep["identifiant"]})
    [command] = await portal.commands("notifier.SendFreeEmail")
    link = command["body"].split("http://portal")[1].split()[0]
    async with portal.browser() as family:
        await post(family, "/reinitialisation", {"jeton": link.split("jeton=")[1], "mot_de_passe": "Nouveau2025x",
                                                 "confirmation": "Nouveau2025x"}, page=link)
        assert (await login(family, rep["identifiant"], "Nouveau2025x")).status_code == 303


async def test_one_client_address_is_slowed_only_after_many_failures(portal: PortalUnderTest) -> None:
    families = await ready_family(portal)
    pupil = families["eleve"][0]
    password = await in_use(portal, pupil)
    async with portal.browser("198.51.100.9") as school:
        for n in range(8):  # eight different pupils mistyping behind the same NAT (the limit is 8 in this test)
            assert (await login(school, f"eleve.{n}", "faux")).status_code == 401
        assert (await login(school, pupil["identifiant"], password)).status_code == 429
    async with portal.browser("198.51.100.10") as elsewhere:
        assert (await login(elsewhere, pupil["identifiant"], password)).status_code == 303


async def test_birth_date_guesses_count_as_failed_attempts(portal: PortalUnderTest) -> None:
    rep = (await ready_family(portal))["responsable"][0]
    temporary = await notified(portal, rep)
    async with portal.browser() as guesser:
        await login(guesser, rep["identifiant"], temporary)
        answers = []
        for day in range(1, 6):
            answer = await post(guesser, "/premiere-connexion", {
                "mot_de_passe": "Cartable2024", "confirmation": "Cartable2024",
                "date_naissance": f"0{day}/01/2011", "email": "p@exemple.fr"})
            answers.append(answer.status_code)
        assert answers[:3] == [400, 400, 400] and 429 in answers
        assert (await guesser.get("/premiere-connexion")).status_code == 200
        assert "provisoire" in (await guesser.get("/premiere-connexion")).text  # session ended: back to login
        assert (await login(guesser, rep["identifiant"], temporary)).status_code == 429  # a new login resets nothing
    [row] = await portal.sql("SELECT failures FROM throttle WHERE key = $1", f"id:{rep['identifiant']}")
    assert row["failures"] >= 4


async def test_chosen_passwords_are_argon2id_and_rehashed_when_parameters_rise(portal: PortalUnderTest) -> None:
    pupil = (await ready_family(portal))["eleve"][0]
    password = await in_use(portal, pupil)
    stored = (await portal.credential(pupil["id"]))["password_hash"]
    assert stored.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    weak = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1, type=Type.ID).hash(password)
    await portal.sql("UPDATE credentials SET password_hash = $2 WHERE account_id = $1", uuid.UUID(pupil["id"]), weak)
    async with portal.browser() as family:
        assert (await login(family, pupil["identifiant"], password)).status_code == 303
    assert (await portal.credential(pupil["id"]))["password_hash"].startswith("$argon2id$v=19$m=19456,t=2,p=1$")


async def test_the_temporary_password_is_never_stored_in_clear(portal: PortalUnderTest) -> None:
    rep = (await ready_family(portal))["responsable"][0]
    temporary = await notified(portal, rep)
    row = await portal.credential(rep["id"])
    assert row["temp_password_hash"].startswith("$argon2id$")
    dump = " ".join(str(v) for v in row.values())
    assert temporary not in dump
    everything = await portal.sql("SELECT string_agg(t::text, ' ') AS all FROM (SELECT * FROM outbox) t")
    assert temporary not in (everything[0]["all"] or "")


async def test_the_accounts_read_api_answers_only_about_the_account_the_token_names(portal: PortalUnderTest) -> None:
    accounts = await ready_family(portal)
    rep, pupil = accounts["responsable"][0], accounts["eleve"][0]
    key = derive_key(portal.settings.secrets.link_key.get_secret_value(), "portal-to-accounts")
    import time
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=portal.accounts.app),
                                 base_url="http://accounts") as api:
        path = f"/internal/portal/accounts/{pupil['id']}"
        assert (await api.get(path)).status_code == 401
        for_rep = sign({"aud": "accounts", "acc": rep["id"], "exp": int(time.time()) + 60}, key)
        assert (await api.get(path, headers={"x-portal-token": for_rep})).status_code == 404
        forged = sign({"aud": "accounts", "acc": pupil["id"], "exp": int(time.time()) + 60}, b"x" * 32)
        assert (await api.get(path, headers={"x-portal-token": forged})).status_code == 401
        old = sign({"aud": "accounts", "acc": pupil["id"], "exp": int(time.time()) - 1}, key)
        assert (await api.get(path, headers={"x-portal-token": old})).status_code == 401
        mine = sign({"aud": "accounts", "acc": rep["id"], "exp": int(time.time()) + 60}, key)
        view = (await api.get(f"/internal/portal/accounts/{rep['id']}", headers={"x-portal-token": mine})).json()
    assert [e["prenom"] for e in view["eleves"]] == ["Guillaume"] and view["etablissement"]["uai"] == "0540001A"


async def test_recovery_requests_are_limited_per_identifier_without_saying_whether_it_exists(
        portal: PortalUnderTest) -> None:
    async with portal.browser() as family:
        answers = [(await post(family, "/mot-de-passe-oublie", {"identifiant": "quelqu.un1"})).status_code
                   for _ in range(6)]
    assert answers == [200] * 5 + [429]
    async with portal.browser() as family:  # another identifier is not affected
        assert (await post(family, "/mot-de-passe-oublie", {"identifiant": "autre.personne1"})).status_code == 200


async def test_a_password_reset_by_staff_ends_the_sessions_and_the_chosen_password(portal: PortalUnderTest) -> None:
    pupil = (await ready_family(portal))["eleve"][0]
    password = await in_use(portal, pupil)
    async with portal.browser() as child:
        await login(child, pupil["identifiant"], password)
        assert "Bienvenue" in (await child.get("/")).text
        async with portal.accounts.client() as api:
            launched = await api.post(f"/api/v1/accounts/{pupil['id']}/notifications",
                                      json={"channel": "paper", "reset_password": True})
            await deliver(portal.accounts, launched.json()["notification_id"], pupil["id"])

        async def reset_reached_the_portal() -> bool:
            row = await portal.credential(pupil["id"])
            return bool(row["state"] == "Notifié" and row["password_hash"] is None)

        await eventually(reset_reached_the_portal)
        assert "Connexion à Scolarité services" in (await child.get("/")).text  # the session is gone
        assert (await login(child, pupil["identifiant"], password)).status_code == 401
        async with portal.accounts.client() as api:
            temporary = (await api.get(f"/api/v1/accounts/{pupil['id']}/temporary-password")).json()[
                "temporary_password"]
        await login(child, pupil["identifiant"], temporary)
        assert (await child.get("/")).headers["location"] == "/premiere-connexion"
