"""Embedded SMTP sink and web mailbox over real TCP: storage, JSON API, HTML pages, faults, TLS, AUTH."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import ssl
from collections.abc import Iterator
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path

import aiosmtplib
import httpx
import pytest

from teleservices.shared.embedded.mailbox import MailStore, SmtpSink, create_mailbox_app, serve_mailbox
from tests.support.tls import self_signed

pytestmark = pytest.mark.integration

SENDER = "ne-pas-repondre@college-jean-moulin.example"
PARENT = "elodie.dupre@example.org"
OTHER_PARENT = "marc.lefevre@example.org"
ACTIVATION_URL = "https://portail.example/activation?jeton=abc123&source=courriel"


SUBJECT = "Activation du compte de Zoé – Collège Jean-Moulin"


def _message(to: str = PARENT, subject: str = SUBJECT) -> EmailMessage:
    message = EmailMessage()
    message["From"] = f"Collège Jean-Moulin <{SENDER}>"
    message["To"] = f"Élodie Dupré <{to}>"
    message["Subject"] = subject
    message["Message-ID"] = make_msgid(domain="college-jean-moulin.example")
    message["Date"] = "Mon, 08 Sep 2025 09:30:00 +0200"
    message.set_content(
        "Madame, Monsieur,\n\nPour activer le compte Téléservices de votre enfant Zoé, élève de 6e, "
        f"suivez ce lien : {ACTIVATION_URL}.\n\nLe principal du collège\n"
    )
    message.add_alternative(
        "<html><body><p>Madame, Monsieur,</p><p>Pour activer le compte de votre enfant <b>Zoé</b> "
        f'(élève de 6e), <a href="{ACTIVATION_URL}">cliquez ici pour activer le compte</a>.</p>'
        "<script>alert('courriel')</script></body></html>",
        subtype="html",
    )
    return message


async def _send(port: int, message: EmailMessage, **options: object) -> tuple[dict[str, object], str]:
    errors, response = await aiosmtplib.send(
        message, hostname="127.0.0.1", port=port, timeout=10, **options  # type: ignore[arg-type]
    )
    return dict(errors), response


def _code(error: BaseException) -> int:
    """The SMTP code carried by an aiosmtplib error (RCPT refusals come wrapped in SMTPRecipientsRefused)."""
    if isinstance(error, aiosmtplib.SMTPRecipientsRefused):
        return error.recipients[0].code
    assert isinstance(error, aiosmtplib.SMTPResponseException)
    return error.code


@pytest.fixture(scope="module")
def sink(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SmtpSink]:
    with SmtpSink(MailStore(tmp_path_factory.mktemp("mailbox")), port=0) as server:
        yield server


@pytest.fixture(autouse=True)
def _clean_sink(sink: SmtpSink) -> Iterator[None]:
    sink.accept()
    sink.store.clear()
    yield
    sink.accept()


@pytest.fixture
def client(sink: SmtpSink) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=create_mailbox_app(sink.store))
    return httpx.AsyncClient(transport=transport, base_url="http://mailbox.test")


async def test_multipart_message_with_accents_is_stored_and_parsed(sink: SmtpSink) -> None:
    sent = _message()
    errors, response = await _send(sink.port, sent)
    assert errors == {}
    (summary,) = sink.store.list()
    assert response.endswith(summary.id)  # "OK queued as <id>"
    assert summary.subject == "Activation du compte de Zoé – Collège Jean-Moulin"
    assert summary.sender == f"Collège Jean-Moulin <{SENDER}>"
    assert summary.envelope_from == SENDER
    assert summary.recipients == (PARENT,)
    assert summary.message_id == sent["Message-ID"]
    assert summary.date == dt.datetime(2025, 9, 8, 7, 30, tzinfo=dt.UTC)
    assert summary.size > 0

    parsed = sink.store.get(summary.id)
    assert parsed.text is not None and "votre enfant Zoé, élève de 6e" in parsed.text
    assert ACTIVATION_URL in parsed.text
    assert parsed.html is not None and f'<a href="{ACTIVATION_URL}">' in parsed.html
    assert parsed.header("to") == f"Élodie Dupré <{PARENT}>"
    assert parsed.raw.startswith(b"X-Mailbox-Envelope-From: <")
    assert parsed.attachments == ()

    # One .eml per message, no leftover temporary file, readable by another process / after a restart.
    assert [p.suffix for p in sink.store.directory.iterdir()] == [".eml"]
    assert MailStore(sink.store.directory).get(summary.id).text == parsed.text
    assert sink.store.text(summary.id) == parsed.text  # the quick reading of the text body alone says the same
    assert sink.store.count() == 1


async def test_json_api(sink: SmtpSink, client: httpx.AsyncClient) -> None:
    await _send(sink.port, _message(PARENT, "Premier"))
    await _send(sink.port, _message(OTHER_PARENT, "Second"))
    async with client:
        listing = (await client.get("/api/messages")).json()
        assert [m["subject"] for m in listing] == ["Second", "Premier"]  # newest first
        assert set(listing[0]) >= {"id", "from", "to", "subject", "date", "message_id", "size"}

        filtered = (await client.get("/api/messages", params={"to": PARENT.upper()})).json()
        assert [m["to"] for m in filtered] == [[PARENT]]

        detail = (await client.get(f"/api/messages/{filtered[0]['id']}")).json()
        assert "élève de 6e" in detail["text"]
        assert ACTIVATION_URL in detail["html"]
        assert {"name": "Subject", "value": "Premier"} in detail["headers"]

        raw = await client.get(f"/api/messages/{filtered[0]['id']}/raw")
        assert raw.status_code == 200
        assert raw.headers["content-type"].startswith("message/rfc822")
        assert b"Subject: Premier" in raw.content

        assert (await client.get("/api/messages/00000000000000000000-" + "0" * 32)).status_code == 404
        assert (await client.get("/api/messages/..%2F..%2Fetc%2Fpasswd")).status_code == 404

        assert (await client.delete("/api/messages")).json() == {"deleted": 2}
        assert (await client.get("/api/messages")).json() == []


async def test_html_pages_escape_untrusted_content(sink: SmtpSink, client: httpx.AsyncClient) -> None:
    async with client:
        empty = await client.get("/")
        assert empty.status_code == 200
        assert '<html lang="fr">' in empty.text
        assert "Aucun message reçu pour l'instant…" in empty.text

        hostile = "<script>alert('objet')</script> Réunion parents-professeurs"
        await _send(sink.port, _message(subject=hostile))
        (summary,) = sink.store.list()

        index = await client.get("/")
        assert "&lt;script&gt;alert(&#39;objet&#39;)&lt;/script&gt; Réunion parents-professeurs" in index.text
        assert "<script>" not in index.text
        assert "Destinataire" in index.text and "Objet" in index.text and "Vider la boîte" in index.text
        assert "default-src 'none'" in index.headers["content-security-policy"]

        page = await client.get(f"/messages/{summary.id}")
        assert page.status_code == 200
        assert "<script>" not in page.text
        assert "&lt;script&gt;" in page.text
        assert 'sandbox="allow-popups' in page.text and f'src="/messages/{summary.id}/html"' in page.text
        clickable = ACTIVATION_URL.replace("&", "&amp;")
        assert f'<a href="{clickable}" rel="noopener noreferrer">{clickable}</a>' in page.text
        assert f'href="/api/messages/{summary.id}/raw"' in page.text

        framed = await client.get(f"/messages/{summary.id}/html")
        assert framed.headers["content-security-policy"].startswith("sandbox ")
        assert "script-src" not in framed.headers["content-security-policy"]  # default-src 'none' applies

        assert (await client.get("/messages/inconnu")).status_code == 404

        forged = await client.post("/clear", headers={"Sec-Fetch-Site": "cross-site"})
        assert forged.status_code == 403
        assert sink.store.count() == 1
        cleared = await client.post("/clear", headers={"Sec-Fetch-Site": "same-origin"})
        assert cleared.status_code == 303 and cleared.headers["location"] == "/"
        assert sink.store.count() == 0


async def test_refuse_then_accept(sink: SmtpSink) -> None:
    sink.refuse()
    with pytest.raises(aiosmtplib.SMTPRecipientsRefused) as refused:
        await _send(sink.port, _message())
    assert _code(refused.value) == 451
    assert "Try again later" in refused.value.recipients[0].message

    sink.refuse(421, "4.7.0 Greylisted", at="DATA")
    with pytest.raises(aiosmtplib.SMTPResponseException) as at_data:
        await _send(sink.port, _message())
    assert _code(at_data.value) == 421

    sink.refuse(452, "4.3.1 Insufficient system storage", at="MAIL")
    with pytest.raises(aiosmtplib.SMTPSenderRefused) as at_mail:
        await _send(sink.port, _message())
    assert _code(at_mail.value) == 452
    assert sink.store.count() == 0

    sink.accept()
    errors, _ = await _send(sink.port, _message())
    assert errors == {}
    assert sink.store.count() == 1


async def test_refuse_recipient(sink: SmtpSink) -> None:
    sink.refuse_recipient(OTHER_PARENT.upper())
    with pytest.raises(aiosmtplib.SMTPRecipientsRefused) as refused:
        await _send(sink.port, _message(OTHER_PARENT))
    assert _code(refused.value) == 550

    # One refused recipient out of two: aiosmtplib does not raise, it reports it and the rest is delivered.
    errors, _ = await _send(sink.port, _message(), recipients=[PARENT, OTHER_PARENT])
    assert list(errors) == [OTHER_PARENT]
    assert [s.recipients for s in sink.store.list()] == [(PARENT,)]

    sink.accept()
    await _send(sink.port, _message(OTHER_PARENT))
    assert len(sink.store.list(to=OTHER_PARENT)) == 1




async def test_starttls_and_auth(tmp_path: Path) -> None:
    cert, key = self_signed(tmp_path)
    server_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_context.load_cert_chain(cert, key)
    client_context = ssl.create_default_context(cafile=str(cert))

    store = MailStore(tmp_path / "mail")
    with SmtpSink(store, tls_context=server_context, require_auth={"notifier": "s3cret-éé"}) as secure:
        errors, _ = await _send(secure.port, _message(), start_tls=True, tls_context=client_context,
                                username="notifier", password="s3cret-éé")
        assert errors == {}
        assert store.count() == 1

        with pytest.raises(aiosmtplib.SMTPAuthenticationError) as bad_password:
            await _send(secure.port, _message(), start_tls=True, tls_context=client_context,
                        username="notifier", password="wrong")
        assert bad_password.value.code == 535

        with pytest.raises(aiosmtplib.SMTPResponseException) as no_tls:  # MAIL before STARTTLS
            await _send(secure.port, _message(), start_tls=False)
        assert no_tls.value.code == 530

        with pytest.raises(aiosmtplib.SMTPResponseException) as no_auth:  # TLS but no AUTH
            await _send(secure.port, _message(), start_tls=True, tls_context=client_context)
        assert no_auth.value.code == 530
        assert store.count() == 1


async def test_stop_and_restart_keep_port_and_messages(tmp_path: Path) -> None:
    sink = SmtpSink(MailStore(tmp_path))
    sink.start()
    try:
        port = sink.port
        assert port != 0
        await _send(port, _message())
        sink.stop()
        with pytest.raises((aiosmtplib.SMTPConnectError, ConnectionError)):
            await _send(port, _message())
        sink.start()
        assert sink.port == port
        await _send(port, _message())
        assert sink.store.count() == 2
    finally:
        sink.stop()


async def test_logs_carry_no_personal_data(sink: SmtpSink, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    sink.refuse_recipient(OTHER_PARENT)
    await _send(sink.port, _message(), recipients=[PARENT, OTHER_PARENT])
    (summary,) = sink.store.list()
    assert summary.id in caplog.text
    for personal in (PARENT, OTHER_PARENT, SENDER, "Zoé", "Activation"):
        assert personal not in caplog.text


async def test_serve_mailbox_runs_smtp_and_web_until_cancelled(tmp_path: Path) -> None:
    ready: asyncio.Future[tuple[int, int]] = asyncio.get_running_loop().create_future()
    task = asyncio.create_task(serve_mailbox(tmp_path, smtp_port=0, http_port=0,
                                             on_ready=lambda smtp, web: ready.set_result((smtp, web))))
    smtp_port, http_port = await asyncio.wait_for(ready, 10)
    try:
        await _send(smtp_port, _message())
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{http_port}") as web:
            listing = (await web.get("/api/messages")).json()
            assert [m["to"] for m in listing] == [[PARENT]]
            page = await web.get(f"/messages/{listing[0]['id']}")
            assert "Activation du compte de Zoé" in page.text
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await asyncio.wait_for(task, 10)
    with pytest.raises((aiosmtplib.SMTPConnectError, ConnectionError)):
        await _send(smtp_port, _message())


def test_a_reader_following_the_mailbox_gets_only_what_arrived_since_its_last_look(tmp_path: Path) -> None:
    store = MailStore(tmp_path / "mail")
    first = [store.add("a@exemple.fr", [f"famille{n}@exemple.fr"], b"Subject: n\r\n\r\ncorps\r\n") for n in range(3)]
    newest = store.list()[0].id

    later = [store.add("a@exemple.fr", [f"famille{n}@exemple.fr"], b"Subject: n\r\n\r\ncorps\r\n") for n in range(2)]

    assert newest == first[-1]
    assert [s.id for s in store.list(after=newest)] == later[::-1]
    assert store.list(after=later[-1]) == []
    assert len(store.list()) == 5
