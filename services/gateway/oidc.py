"""Sign-in through the academy's OpenID Connect provider (authorization code + PKCE, ID token checked)."""

from __future__ import annotations

import secrets
from typing import Any

import httpx
from authlib.common.errors import AuthlibBaseError
from authlib.common.security import generate_token
from authlib.integrations.httpx_client import AsyncOAuth2Client
from authlib.jose import JsonWebKey, jwt
from authlib.jose.errors import JoseError
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from authlib.oidc.core import CodeIDToken

from teleservices.gateway.settings import OidcSettings
from teleservices.shared.security.staff import Role, StaffPrincipal


class OidcRefused(Exception):
    """The provider's answer cannot sign anyone in (state, nonce, signature, claims)."""


class OidcClient:
    """The relying party: discovery document and keys fetched from the issuer."""

    def __init__(self, settings: OidcSettings):
        self.settings = settings
        self._metadata: dict[str, Any] | None = None

    async def metadata(self) -> dict[str, Any]:
        """The provider's discovery document (kept after the first read)."""
        if self._metadata is None:
            url = self.settings.issuer.rstrip("/") + "/.well-known/openid-configuration"
            async with httpx.AsyncClient(timeout=10) as client:
                response = await client.get(url)
                response.raise_for_status()
                self._metadata = response.json()
        return self._metadata

    def _client(self, redirect_uri: str) -> AsyncOAuth2Client:
        return AsyncOAuth2Client(client_id=self.settings.client_id,
                                 client_secret=self.settings.client_secret.get_secret_value(),
                                 scope=self.settings.scope, redirect_uri=redirect_uri, timeout=10)

    async def start(self, redirect_uri: str) -> tuple[str, dict[str, str]]:
        """The provider's authorization URL, and what to keep in the pre-login session to check the return."""
        meta = await self.metadata()
        state, nonce, verifier = generate_token(32), generate_token(32), secrets.token_urlsafe(48)
        redirect_uri = self.settings.redirect_url or redirect_uri
        async with self._client(redirect_uri) as client:
            url, _ = client.create_authorization_url(
                meta["authorization_endpoint"], state=state, nonce=nonce,
                code_challenge=create_s256_code_challenge(verifier), code_challenge_method="S256")
        return url, {"state": state, "nonce": nonce, "verifier": verifier, "redirect_uri": redirect_uri}

    async def finish(self, kept: dict[str, str], state: str | None, code: str | None) -> StaffPrincipal:
        """Exchange the code, verify the ID token and map its claims to a staff principal."""
        if not kept or not state or not code or not secrets.compare_digest(state, kept.get("state", "")):
            raise OidcRefused("state")
        meta = await self.metadata()
        try:
            async with self._client(kept["redirect_uri"]) as client:
                token = await client.fetch_token(meta["token_endpoint"], code=code, code_verifier=kept["verifier"])
            async with httpx.AsyncClient(timeout=10) as http:
                keys = JsonWebKey.import_key_set((await http.get(meta["jwks_uri"])).json())
        except (AuthlibBaseError, httpx.HTTPError, KeyError, ValueError) as exc:
            raise OidcRefused("token") from exc
        try:
            claims = jwt.decode(token["id_token"], keys, claims_cls=CodeIDToken, claims_options={
                "iss": {"essential": True, "value": meta["issuer"]},
                "aud": {"essential": True, "value": self.settings.client_id}})
            claims.validate()
        except (JoseError, KeyError, ValueError) as exc:
            raise OidcRefused("id_token") from exc
        if claims.get("nonce") != kept["nonce"]:
            raise OidcRefused("nonce")
        return self.principal(dict(claims))

    def principal(self, claims: dict[str, Any]) -> StaffPrincipal:
        """The staff member the provider vouches for (role, establishments, menus from configured claims)."""
        s = self.settings
        try:
            role = Role(claims.get(s.role_claim, ""))
        except ValueError as exc:
            raise OidcRefused("role") from exc
        uais = claims.get(s.uais_claim) or []
        menus = claims.get(s.menus_claim) or []
        if isinstance(uais, str):
            uais = uais.split()
        if isinstance(menus, str):
            menus = menus.split()
        if role is not Role.operateur_academique and not uais:
            raise OidcRefused("uais")
        name = claims.get("name") or " ".join(filter(None, [claims.get("given_name"), claims.get("family_name")]))
        return StaffPrincipal(user_id=f"oidc:{claims['sub']}", display_name=name or str(claims["sub"]), role=role,
                              academy=claims.get(s.academy_claim), uais=tuple(uais), menus=tuple(menus))
