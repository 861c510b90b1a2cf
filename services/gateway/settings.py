"""Settings of the gateway service (environment prefix TELESERVICES_GATEWAY_)."""

from __future__ import annotations

from pydantic import BaseModel, Field, SecretStr
from pydantic_settings import SettingsConfigDict

from teleservices.shared.settings import Environment, ServiceSettings


class OidcSettings(BaseModel):
    """The academy's OpenID Connect provider (production sign-in); off when `issuer` is empty."""

    issuer: str = Field(default="", description="URL de l'émetteur ; /.well-known/openid-configuration y est lu")
    client_id: str = ""
    client_secret: SecretStr = SecretStr("")
    redirect_url: str = Field(default="", description="URL publique de /connexion/oidc/retour")
    scope: str = "openid profile email"
    label: str = "Se connecter avec le compte académique"
    role_claim: str = "teleservices_role"
    uais_claim: str = "teleservices_uais"
    menus_claim: str = "teleservices_menus"
    academy_claim: str = "teleservices_academy"

    @property
    def enabled(self) -> bool:
        """Whether staff may sign in through the provider."""
        return bool(self.issuer and self.client_id)


class GatewaySettings(ServiceSettings):
    """gateway service settings."""

    model_config = SettingsConfigDict(env_prefix="TELESERVICES_GATEWAY_", extra="ignore", env_nested_delimiter="__")

    http_port: int = 8000
    accounts_url: str = "http://127.0.0.1:8010"
    sync_url: str = "http://127.0.0.1:8011"
    stats_url: str = "http://127.0.0.1:8012"
    notifier_urls: str = Field(default="", description="URLs des notifiers, séparées par des virgules")
    portal_auth_url: str = "http://127.0.0.1:8001"
    teleinscription_url: str = "https://teleinscription.exemple.fr"
    session_idle_minutes: int = Field(default=30, ge=1, le=24 * 60)
    session_max_hours: int = Field(default=10, ge=1, le=24)
    cookie_secure: bool | None = Field(default=None, description="Par défaut : vrai en production")
    local_login: bool = Field(default=True, description="Comptes locaux (`teleservices staff add`)")
    oidc: OidcSettings = Field(default_factory=OidcSettings)

    @property
    def secure_cookies(self) -> bool:
        """Cookies only over HTTPS (production), unless told otherwise."""
        if self.cookie_secure is not None:
            return self.cookie_secure
        return self.environment is Environment.production

    @property
    def notifiers(self) -> list[str]:
        """The notifier base URLs."""
        return [url.strip().rstrip("/") for url in self.notifier_urls.split(",") if url.strip()]
