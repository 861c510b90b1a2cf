"""Settings shared by every service; each service adds its own class with its own prefix."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

from pydantic import AliasChoices, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PLACEHOLDER_SECRETS = frozenset({"", "changeme", "change-me", "secret", "development", "dev"})
DEV_SECRET_PREFIX = "dev-only-"  # noqa: S105 — not a secret


class Environment(StrEnum):
    development = "development"
    test = "test"
    production = "production"


class DatabaseSettings(BaseSettings):
    """PostgreSQL connection shared by the services (each service uses its own schema)."""

    model_config = SettingsConfigDict(env_prefix="TELESERVICES_DATABASE_", extra="ignore")

    url: str = "postgresql://postgres@localhost:5432/teleservices"
    pool_min_size: int = 1
    pool_max_size: int = 10


class KafkaSettings(BaseSettings):
    """Kafka-protocol broker connection and topic naming."""

    model_config = SettingsConfigDict(env_prefix="TELESERVICES_KAFKA_", extra="ignore")

    bootstrap_servers: str = "127.0.0.1:9092"
    topic_prefix: str = ""
    idempotent_producer: bool = Field(
        default=False, description="On with Apache Kafka; the embedded tansu broker lacks InitProducerId."
    )
    replication_factor: int = 1
    session_timeout_ms: int = 10_000
    max_handler_attempts: int = 5


class SecretsSettings(BaseSettings):
    """Keys shared between services; placeholders are refused outside development."""

    model_config = SettingsConfigDict(env_prefix="TELESERVICES_SECRET_", extra="ignore")

    staff_token_key: SecretStr = SecretStr("")
    link_key: SecretStr = SecretStr("")
    transit_key: SecretStr = SecretStr("")
    at_rest_key: SecretStr = SecretStr("")

    def placeholders(self) -> list[str]:
        """Names of the secrets that are missing or still a placeholder."""
        weak = []
        for name in type(self).model_fields:
            value: SecretStr = getattr(self, name)
            raw = value.get_secret_value()
            if raw.lower() in PLACEHOLDER_SECRETS or raw.startswith(DEV_SECRET_PREFIX) or len(raw) < 32:
                weak.append(name)
        return weak


class ServiceSettings(BaseSettings):
    """Common part of every service's settings."""

    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True)

    environment: Environment = Field(
        default=Environment.production, validation_alias=AliasChoices("TELESERVICES_ENVIRONMENT")
    )
    data_dir: Path = Field(default=Path(".data"), validation_alias=AliasChoices("TELESERVICES_DATA_DIR"))
    http_host: str = "127.0.0.1"
    http_port: int = 8080
    outbox_retention_days: int = 7
    database: DatabaseSettings = Field(default_factory=DatabaseSettings)
    kafka: KafkaSettings = Field(default_factory=KafkaSettings)
    secrets: SecretsSettings = Field(default_factory=SecretsSettings)

    @model_validator(mode="after")
    def _refuse_placeholder_secrets(self) -> ServiceSettings:
        if self.environment is not Environment.development:
            weak = self.secrets.placeholders()
            if weak:
                names = ", ".join(f"TELESERVICES_SECRET_{n.upper()}" for n in weak)
                raise ValueError(f"missing or placeholder secrets outside development: {names}")
        return self

