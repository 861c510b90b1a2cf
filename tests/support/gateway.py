"""The staff gateway under test: started in front of real services, staff accounts, a small OIDC provider."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import secrets
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlparse

import httpx
from authlib.jose import JsonWebKey, jwt
from playwright.async_api import Page

from tests.support.platform import PlatformUnderTest
from tests.support.siecle import Family, family
from tests.support.waiting import eventually

PASSWORD = "mot-de-passe-du-personnel-1"
UAI_A, UAI_B = "0540001A", "0540002B"


def start_gateway(platform: PlatformUnderTest, *services: str, **env: str) -> str:
    """Start the services the screens need, then the gateway in front of them; return its URL."""
    platform.start(*(services or ("accounts", "notifier", "sync")))
    urls = {name: process.url for name, process in platform.processes.items()}
    platform.env.update({
        "TELESERVICES_GATEWAY_ACCOUNTS_URL": urls.get("accounts", "http://127.0.0.1:9"),
        "TELESERVICES_GATEWAY_SYNC_URL": urls.get("sync", "http://127.0.0.1:9"),
        "TELESERVICES_GATEWAY_STATS_URL": urls.get("stats", "http://127.0.0.1:9"),
        "TELESERVICES_GATEWAY_NOTIFIER_URLS": urls.get("notifier", ""),
        **env,
    })
    platform.start("gateway")
    return platform.processes["gateway"].url


async def add_staff(platform: PlatformUnderTest, login: str, role: str, uais: tuple[str, ...] = (),
                    menus: tuple[str, ...] = (), academy: str | None = None) -> None:
    """A local staff account, as `teleservices staff add` creates it."""
    async with platform.client("gateway") as api:
        created = await api.post("/api/v1/staff", json={
            "login": login, "display_name": f"Personnel {login}", "role": role, "uais": list(uais),
            "menus": list(menus), "academy": academy, "password": PASSWORD})
        assert created.status_code == 201, created.text


async def establishment(platform: PlatformUnderTest, uai: str = UAI_A, name: str = "Collège Langevin Wallon",
                        families: list[Family] | None = None, activate: bool = True) -> None:
    """An establishment of the academy with its families enrolled (accounts pre-created)."""
    async with platform.client("accounts") as api:
        created = await api.post("/api/v1/establishments", json={
            "uai": uai, "name": name, "academy": "NANCY-METZ", "town": "BLAINVILLE-SUR-L'EAU",
            "address_lines": ["40 rue du Rendez-Vous"], "phone": "03 83 00 00 00",
            "emails": [f"ce.{uai.lower()}@ac-nancy-metz.fr"], "chef_civilite": "M.", "chef_nom": "E. Martin",
            "annee_scolaire": 2026, "modules": ["notes", "vie_scolaire"], "perimetres": ["bourse_college"]})
        assert created.status_code == 201, created.text
        if activate:
            assert (await api.post(f"/api/v1/establishments/{uai}/activation")).status_code == 204
    enrolled = families if families is not None else five_families()
    if not enrolled:
        return
    await platform.enrol(uai, enrolled)
    expected = sum(len(f.representants) for f in enrolled)

    async def all_there() -> bool:
        async with platform.client("accounts") as api:
            listed = await api.get(f"/api/v1/establishments/{uai}/accounts", params={"population": "responsable"})
            return bool(listed.json()["total"] == expected)

    await eventually(all_there)


def five_families() -> list[Family]:
    """Three representatives with an email, two without, in divisions 3A, 3B and 3C."""
    return [family(nom="Arnaud", division="3A", parents=(("Sophie", "sophie.arnaud@exemple.fr"),)),
            family(nom="Blanc", division="3A", parents=(("Luc", "luc.blanc@exemple.fr"),), code_regime="0"),
            family(nom="Caron", division="3B", parents=(("Inès", "ines.caron@exemple.fr"),)),
            family(nom="Dubois", division="3B", parents=(("Paul", None),)),
            family(nom="Evrard", division="3C", parents=(("Léa", None),))]


def csrf_of(html: str) -> str:
    """The CSRF token of the first form of a page."""
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, "no CSRF field on the page"
    return found.group(1)


async def signed_in(url: str, login: str, password: str = PASSWORD) -> httpx.AsyncClient:
    """An HTTP client signed in through the sign-in form (cookies kept, redirects not followed)."""
    client = httpx.AsyncClient(base_url=url, timeout=60)
    page = await client.get("/connexion")
    answer = await client.post("/connexion", data={"identifiant": login, "mot_de_passe": password,
                                                   "csrf": csrf_of(page.text), "suite": "/"})
    assert answer.status_code == 303, answer.text
    return client


async def sign_in(page: Page, url: str, login: str, target: str = "/") -> None:
    """Sign in through the page as a person would."""
    await page.goto(f"{url}/connexion?suite={target}")
    await page.get_by_label("Identifiant").fill(login)
    await page.get_by_label("Mot de passe").fill(PASSWORD)
    await page.get_by_role("button", name="Se connecter").click()
    await page.wait_for_load_state()


@dataclass
class OidcProvider:
    """A small OpenID Connect provider: discovery, JWKS, authorize (auto-approves `user`), token with PKCE."""

    client_id: str = "teleservices-gateway"
    client_secret: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    user: dict[str, Any] = field(default_factory=dict)
    url: str = ""
    issued_nonces: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.key = JsonWebKey.generate_key("RSA", 2048, is_private=True, options={"kid": "k1"})
        self.codes: dict[str, dict[str, Any]] = {}

    def id_token(self, nonce: str, **overrides: Any) -> str:
        now = int(time.time())
        claims = {"iss": self.url, "aud": self.client_id, "iat": now, "exp": now + 300, "nonce": nonce,
                  **self.user, **overrides}
        token: bytes = jwt.encode({"alg": "RS256", "kid": "k1"}, claims, self.key)
        return token.decode()

    def handler(self) -> type[BaseHTTPRequestHandler]:
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def _json(self, status: int, body: dict[str, Any]) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                parsed = urlparse(self.path)
                if parsed.path == "/.well-known/openid-configuration":
                    self._json(200, {"issuer": provider.url, "authorization_endpoint": f"{provider.url}/authorize",
                                     "token_endpoint": f"{provider.url}/token", "jwks_uri": f"{provider.url}/jwks",
                                     "response_types_supported": ["code"], "subject_types_supported": ["public"],
                                     "id_token_signing_alg_values_supported": ["RS256"]})
                elif parsed.path == "/jwks":
                    self._json(200, {"keys": [provider.key.as_dict(is_private=False)]})
                elif parsed.path == "/authorize":
                    q = {k: v[0] for k, v in parse_qs(parsed.query).items()}
                    code = secrets.token_urlsafe(16)
                    provider.codes[code] = q
                    provider.issued_nonces.append(q.get("nonce", ""))
                    self.send_response(302)
                    back = urlencode({"code": code, "state": q["state"]})
                    self.send_header("location", f"{q['redirect_uri']}?{back}")
                    self.end_headers()
                else:
                    self._json(404, {"error": "not_found"})

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length", "0"))
                form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
                auth = self.headers.get("authorization", "")
                expected = base64.b64encode(f"{provider.client_id}:{provider.client_secret}".encode()).decode()
                kept = provider.codes.pop(form.get("code", ""), None)
                if auth != f"Basic {expected}" or kept is None:
                    self._json(400, {"error": "invalid_grant"})
                    return
                challenge = base64.urlsafe_b64encode(
                    hashlib.sha256(form.get("code_verifier", "").encode()).digest()).rstrip(b"=").decode()
                if challenge != kept.get("code_challenge"):
                    self._json(400, {"error": "invalid_grant", "error_description": "PKCE"})
                    return
                self._json(200, {"access_token": secrets.token_urlsafe(16), "token_type": "Bearer",
                                 "expires_in": 300, "id_token": provider.id_token(kept.get("nonce", ""))})

            def log_message(self, *args: object) -> None:
                pass

        return Handler


@contextmanager
def oidc_provider(user: dict[str, Any]) -> Iterator[OidcProvider]:
    """A local OIDC provider on a free port, for the test's duration."""
    provider = OidcProvider(user=user)
    server = ThreadingHTTPServer(("127.0.0.1", 0), provider.handler())
    provider.url = f"http://127.0.0.1:{server.server_address[1]}"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield provider
    finally:
        server.shutdown()
