"""Staff sign-in through the gateway: local accounts, OIDC, sessions, CSRF and establishment scoping."""

from __future__ import annotations

import httpx

from teleservices.gateway.sessions import COOKIE
from tests.support.gateway import (
    PASSWORD,
    UAI_A,
    UAI_B,
    add_staff,
    csrf_of,
    establishment,
    oidc_provider,
    signed_in,
    start_gateway,
)
from tests.support.platform import PlatformUnderTest


async def _follow_provider(response: httpx.Response) -> str:
    """The provider approves at once: where it sends the browser back."""
    async with httpx.AsyncClient() as client:
        return (await client.get(response.headers["location"])).headers["location"]


async def test_sign_in_rotates_the_session_and_sign_out_ends_it(platform: PlatformUnderTest) -> None:
    url = start_gateway(platform, "accounts")
    await establishment(platform, families=[])
    await add_staff(platform, "chef.a", "chef", (UAI_A,))
    async with httpx.AsyncClient(base_url=url, timeout=30) as browser:
        assert (await browser.get(f"/etablissements/{UAI_A}")).headers["location"].startswith("/connexion")
        page = await browser.get("/connexion")
        pre_login = browser.cookies[COOKIE]
        assert "httponly" in page.headers["set-cookie"].lower() and "samesite=lax" in page.headers["set-cookie"].lower()

        refused = await browser.post("/connexion", data={
            "identifiant": "chef.a", "mot_de_passe": "mauvais-mot-de-passe", "csrf": csrf_of(page.text)})
        assert refused.status_code == 401 and "Identifiant ou mot de passe incorrect." in refused.text

        accepted = await browser.post("/connexion", data={
            "identifiant": "chef.a", "mot_de_passe": PASSWORD, "csrf": csrf_of(page.text),
            "suite": f"/etablissements/{UAI_A}"})
        assert accepted.status_code == 303 and accepted.headers["location"] == f"/etablissements/{UAI_A}"
        signed_in_id = browser.cookies[COOKIE]
        assert signed_in_id != pre_login
        home = await browser.get(f"/etablissements/{UAI_A}")
        assert home.status_code == 200 and "Collège Langevin Wallon" in home.text and "Année 2026/2027" in home.text
        for link in ("Accueil", "Aide", "Impression", "Quoi de neuf", "Informations académiques", "Quitter"):
            assert f">{link}<" in home.text

        # the pre-login id is worth nothing now
        stale = await httpx.AsyncClient(base_url=url, cookies={COOKIE: pre_login}).get(f"/etablissements/{UAI_A}")
        assert stale.status_code == 303

        out = await browser.post("/deconnexion", data={"csrf": csrf_of(home.text)})
        assert out.status_code == 303 and out.headers["location"] == "/connexion"
        replayed = await httpx.AsyncClient(base_url=url, cookies={COOKIE: signed_in_id}).get(f"/etablissements/{UAI_A}")
        assert replayed.status_code == 303 and replayed.headers["location"].startswith("/connexion")

        # five wrong passwords in a row: the login is refused for a while, even with the right password
        page = await browser.get("/connexion")
        for _ in range(5):
            await browser.post("/connexion", data={"identifiant": "chef.a", "mot_de_passe": "mauvais-mot-de-passe",
                                                   "csrf": csrf_of(page.text)})
        blocked = await browser.post("/connexion", data={"identifiant": "chef.a", "mot_de_passe": PASSWORD,
                                                         "csrf": csrf_of(page.text)})
        assert blocked.status_code == 429 and "réessayez dans 15 minutes" in blocked.text


async def test_forms_without_the_session_csrf_token_are_refused_and_change_nothing(platform: PlatformUnderTest) -> None:
    url = start_gateway(platform, "accounts")
    await establishment(platform, families=[])
    await add_staff(platform, "chef.a", "chef", (UAI_A,))
    browser = await signed_in(url, "chef.a")
    target = f"/etablissements/{UAI_A}/services/notes/publication"
    for headers, data in (({}, {"publication": "a_echeance"}),
                          ({}, {"publication": "a_echeance", "csrf": "forged"}),
                          ({"x-csrf-token": "forged"}, {"publication": "a_echeance"})):
        refused = await browser.post(target, data=data, headers=headers)
        assert refused.status_code == 403 and "Formulaire expiré" in refused.text
    async with platform.client("accounts") as api:
        settings = (await api.get(f"/api/v1/establishments/{UAI_A}/settings")).json()
    assert settings["notes"]["publication"] == "au_fil_de_l_eau"

    page = await browser.get(f"/etablissements/{UAI_A}/services/notes")
    accepted = await browser.post(target, data={"publication": "a_echeance", "csrf": csrf_of(page.text)})
    assert accepted.status_code == 303
    async with platform.client("accounts") as api:
        settings = (await api.get(f"/api/v1/establishments/{UAI_A}/settings")).json()
    assert settings["notes"]["publication"] == "a_echeance"

    # the sign-in form is protected too
    fresh = httpx.AsyncClient(base_url=url)
    await fresh.get("/connexion")
    assert (await fresh.post("/connexion", data={"identifiant": "chef.a", "mot_de_passe": PASSWORD})).status_code == 403


async def test_an_idle_session_expires(platform: PlatformUnderTest) -> None:
    url = start_gateway(platform, "accounts")
    await establishment(platform, families=[])
    await add_staff(platform, "chef.a", "chef", (UAI_A,))
    browser = await signed_in(url, "chef.a")
    assert (await browser.get(f"/etablissements/{UAI_A}")).status_code == 200
    async with platform.database("gateway") as db:
        await db.execute("UPDATE staff_sessions SET last_seen_at = now() - interval '31 minutes'")
    expired = await browser.get(f"/etablissements/{UAI_A}/services")
    assert expired.status_code == 303
    assert expired.headers["location"] == f"/connexion?suite=/etablissements/{UAI_A}/services"


async def test_a_chef_never_sees_another_establishment(platform: PlatformUnderTest) -> None:
    url = start_gateway(platform, "accounts", "sync")
    await establishment(platform, UAI_A)
    await establishment(platform, UAI_B, name="Lycée Jacques Callot")
    await add_staff(platform, "chef.a", "chef", (UAI_A,))
    await add_staff(platform, "delegue.a", "delegue", (UAI_A,), menus=("acces_responsables",))
    async with platform.client("accounts") as api:
        listed = await api.get(f"/api/v1/establishments/{UAI_B}/accounts", params={"population": "responsable"})
    account_b = listed.json()["accounts"][0]["id"]
    chef = await signed_in(url, "chef.a")
    for path in ("", "/services", "/parametrage/ent-et-courrier", "/responsables/notifier",
                 f"/responsables/comptes/{account_b}", "/eleves/listes?division=3A", "/imports"):
        page = await chef.get(f"/etablissements/{UAI_B}{path}")
        assert page.status_code == 404, path
        assert "Page introuvable" in page.text and "Lycée Jacques Callot" not in page.text
    # B's account reached through A's pages is just as unknown
    assert (await chef.get(f"/etablissements/{UAI_A}/responsables/comptes/{account_b}")).status_code == 404
    assert (await chef.get(f"/etablissements/{UAI_A}/responsables/notifier")).status_code == 200

    delegate = await signed_in(url, "delegue.a")
    assert (await delegate.get(f"/etablissements/{UAI_A}/responsables/notifier")).status_code == 200
    denied = await delegate.get(f"/etablissements/{UAI_A}/services")
    assert denied.status_code == 403 and "ne vous a pas délégué le menu « Gestion des services »" in denied.text
    assert "Gestion des services" not in (await delegate.get(f"/etablissements/{UAI_A}")).text.split("<main")[0]


async def test_staff_sign_in_through_the_academy_openid_connect_provider(platform: PlatformUnderTest) -> None:
    user = {"sub": "agent-42", "name": "Mme la principale", "teleservices_role": "chef",
            "teleservices_uais": [UAI_A], "teleservices_academy": "NANCY-METZ"}
    with oidc_provider(user) as provider:
        url = start_gateway(platform, "accounts", TELESERVICES_GATEWAY_OIDC__ISSUER=provider.url,
                            TELESERVICES_GATEWAY_OIDC__CLIENT_ID=provider.client_id,
                            TELESERVICES_GATEWAY_OIDC__CLIENT_SECRET=provider.client_secret)
        await establishment(platform, families=[])
        async with httpx.AsyncClient(base_url=url, timeout=30) as browser:
            page = await browser.get("/connexion")
            assert "Se connecter avec le compte académique" in page.text
            to_provider = await browser.post("/connexion/oidc", data={"csrf": csrf_of(page.text),
                                                                      "suite": f"/etablissements/{UAI_A}"})
            assert to_provider.status_code == 303 and to_provider.headers["location"].startswith(provider.url)
            back = await _follow_provider(to_provider)
            assert back.startswith(f"{url}/connexion/oidc/retour?")

            forged = await browser.get(back.replace("state=", "state=x"))
            assert forged.status_code in (400, 403)  # a forged state signs nobody in

            page = await browser.get("/connexion")
            to_provider = await browser.post("/connexion/oidc", data={"csrf": csrf_of(page.text),
                                                                      "suite": f"/etablissements/{UAI_A}"})
            back = await _follow_provider(to_provider)
            signed = await browser.get(back)
            assert signed.status_code == 303 and signed.headers["location"] == f"/etablissements/{UAI_A}"
            home = await browser.get(f"/etablissements/{UAI_A}")
            assert home.status_code == 200 and "Mme la principale" in home.text
            assert (await browser.get(f"/etablissements/{UAI_B}")).status_code == 404
