"""The notifier process set up for STARTTLS and AUTH, end to end: a campaign reaches a server requiring both."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from pathlib import Path

import pytest

from teleservices.shared.embedded.mailbox import MailStore, SmtpSink
from tests.support.campaigns import UAI, establishment_with_five_families, finished
from tests.support.platform import PlatformUnderTest
from tests.support.tls import self_signed
from tests.support.waiting import eventually

SMTP_PASSWORD = "mot-de-passe-du-relais-7Qx"


@pytest.fixture
def certificate(tmp_path: Path) -> tuple[Path, Path]:
    """A self-signed certificate for the secure server."""
    folder = tmp_path / "tls"
    folder.mkdir()
    return self_signed(folder)


@pytest.fixture
def secure_sink(tmp_path: Path, certificate: tuple[Path, Path]) -> Iterator[SmtpSink]:
    """An SMTP server offering STARTTLS and refusing mail without AUTH."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*certificate)
    with SmtpSink(MailStore(tmp_path / "secure"), tls_context=context,
                  require_auth={"teleservices": SMTP_PASSWORD}) as sink:
        yield sink


async def test_a_campaign_through_starttls_and_auth(platform: PlatformUnderTest, secure_sink: SmtpSink,
                                                    certificate: tuple[Path, Path]) -> None:
    platform.env.update({
        "TELESERVICES_NOTIFIER_SMTP_PORT": str(secure_sink.port), "TELESERVICES_NOTIFIER_SMTP_STARTTLS": "true",
        "TELESERVICES_NOTIFIER_SMTP_USERNAME": "teleservices", "TELESERVICES_NOTIFIER_SMTP_PASSWORD": SMTP_PASSWORD,
        "TELESERVICES_NOTIFIER_SMTP_CA_FILE": str(certificate[0])})
    platform.start("accounts", "notifier")
    await establishment_with_five_families(platform)
    async with platform.client("accounts") as api:
        launched = await api.post(f"/api/v1/establishments/{UAI}/campaigns", json={
            "population": "responsable", "mode": "Courrier électronique seul"})
    progress = await eventually(lambda: finished(platform, launched.json()["id"]), within_s=90)
    assert sum(d["email"] for d in progress["divisions"]) == 3
    assert sorted(m.recipients[0] for m in secure_sink.store.list()) == [
        "ines.caron@exemple.fr", "luc.blanc@exemple.fr", "sophie.arnaud@exemple.fr"]
    assert SMTP_PASSWORD not in (platform.workdir / "logs" / "notifier.log").read_text()
