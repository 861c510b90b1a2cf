"""Settings: secrets refused in production unless strong, environment prefixes."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator

import pytest
from pydantic import ValidationError

from teleservices.accounts.settings import AccountsSettings
from teleservices.shared.settings import Environment, ServiceSettings

SECRET_VARS = (
    "TELESERVICES_SECRET_STAFF_TOKEN_KEY",
    "TELESERVICES_SECRET_LINK_KEY",
    "TELESERVICES_SECRET_TRANSIT_KEY",
    "TELESERVICES_SECRET_AT_REST_KEY",
)


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path) -> Iterator[None]:
    """No TELESERVICES_* variable of the caller leaks in; no .env file is around."""
    for name in list(os.environ):
        if name.upper().startswith("TELESERVICES_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    yield


@pytest.fixture
def strong_secrets(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    values = {name: secrets.token_urlsafe(36) for name in SECRET_VARS}
    for name, value in values.items():
        assert len(value) == 48
        monkeypatch.setenv(name, value)
    return values


@pytest.mark.parametrize("settings_class", [ServiceSettings, AccountsSettings])
def test_production_is_the_default_and_refuses_missing_secrets(settings_class) -> None:
    with pytest.raises(ValidationError) as refused:
        settings_class()
    message = str(refused.value)
    for name in SECRET_VARS:
        assert name in message


@pytest.mark.parametrize("placeholder", ["changeme", "CHANGEME", "change-me", "secret", "dev", "development",
                                         "dev-only-" + "a" * 40, "short-but-random-Zq8"])
def test_production_refuses_a_placeholder_and_names_it(
    monkeypatch: pytest.MonkeyPatch, strong_secrets: dict[str, str], placeholder: str
) -> None:
    monkeypatch.setenv("TELESERVICES_SECRET_LINK_KEY", placeholder)

    with pytest.raises(ValidationError) as refused:
        AccountsSettings()

    message = str(refused.value)
    assert "TELESERVICES_SECRET_LINK_KEY" in message
    for other in set(SECRET_VARS) - {"TELESERVICES_SECRET_LINK_KEY"}:
        assert other not in message
    for value in strong_secrets.values():
        assert value not in message, "secret values never appear in the error"


def test_production_accepts_strong_secrets(strong_secrets: dict[str, str]) -> None:
    settings = AccountsSettings()

    assert settings.environment is Environment.production
    assert settings.secrets.placeholders() == []
    assert settings.secrets.staff_token_key.get_secret_value() == strong_secrets[SECRET_VARS[0]]
    assert settings.secrets.at_rest_key.get_secret_value() == strong_secrets[SECRET_VARS[3]]
    assert strong_secrets[SECRET_VARS[0]] not in repr(settings)


def test_development_accepts_empty_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TELESERVICES_ENVIRONMENT", "development")

    settings = AccountsSettings()

    assert settings.environment is Environment.development
    assert settings.secrets.staff_token_key.get_secret_value() == ""
    assert sorted(settings.secrets.placeholders()) == sorted(
        ["staff_token_key", "link_key", "transit_key", "at_rest_key"])


def test_environment_must_be_a_known_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TELESERVICES_ENVIRONMENT", "prod")
    with pytest.raises(ValidationError):
        AccountsSettings()


def test_accounts_defaults(strong_secrets: dict[str, str]) -> None:
    settings = AccountsSettings()
    assert settings.http_port == 8010
    assert settings.portal_url == "http://127.0.0.1:8001"
    assert settings.kafka.bootstrap_servers == "127.0.0.1:9092"
    assert settings.kafka.topic_prefix == ""


def test_service_prefix_reaches_the_service_settings(monkeypatch: pytest.MonkeyPatch,
                                                     strong_secrets: dict[str, str]) -> None:
    monkeypatch.setenv("TELESERVICES_ACCOUNTS_HTTP_PORT", "9123")
    monkeypatch.setenv("TELESERVICES_ACCOUNTS_PORTAL_URL", "https://portail.example")
    monkeypatch.setenv("TELESERVICES_NOTIFIER_HTTP_PORT", "9999")

    settings = AccountsSettings()

    assert settings.http_port == 9123
    assert settings.portal_url == "https://portail.example"


def test_another_service_prefix_is_ignored(monkeypatch: pytest.MonkeyPatch,
                                           strong_secrets: dict[str, str]) -> None:
    monkeypatch.setenv("TELESERVICES_NOTIFIER_HTTP_PORT", "9999")
    monkeypatch.setenv("HTTP_PORT", "9998")
    assert AccountsSettings().http_port == 8010


def test_shared_prefixes_reach_the_nested_settings(monkeypatch: pytest.MonkeyPatch,
                                                   strong_secrets: dict[str, str]) -> None:
    monkeypatch.setenv("TELESERVICES_KAFKA_BOOTSTRAP_SERVERS", "broker-1:9092,broker-2:9092")
    monkeypatch.setenv("TELESERVICES_KAFKA_TOPIC_PREFIX", "t42.")
    monkeypatch.setenv("TELESERVICES_KAFKA_IDEMPOTENT_PRODUCER", "true")
    monkeypatch.setenv("TELESERVICES_DATABASE_URL", "postgresql://u@db:5432/x")
    monkeypatch.setenv("TELESERVICES_DATABASE_POOL_MAX_SIZE", "5")
    monkeypatch.setenv("TELESERVICES_DATA_DIR", "/var/lib/teleservices")

    settings = AccountsSettings()

    assert settings.kafka.bootstrap_servers == "broker-1:9092,broker-2:9092"
    assert settings.kafka.topic_prefix == "t42."
    assert settings.kafka.idempotent_producer is True
    assert settings.database.url == "postgresql://u@db:5432/x"
    assert settings.database.pool_max_size == 5
    assert str(settings.data_dir) == "/var/lib/teleservices"


def test_environment_variable_selects_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TELESERVICES_ENVIRONMENT", "development")
    monkeypatch.setenv("TELESERVICES_ACCOUNTS_ENVIRONMENT", "production")
    assert AccountsSettings().environment is Environment.development
