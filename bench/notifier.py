"""notifier.emails_per_s and notifier.pdf_letters_per_s, each beside the bare library doing the same work.

- emails: the notifier's send path (letter rendering, the SMTP connection pool, 8 at a time) to the platform's
  SMTP sink running in another process, beside a bare aiosmtplib loop sending the same messages 8 at a time.
- PDF: the notifier's renderer (letter layout, QR code, tagged PDF) in one process, beside WeasyPrint rendering
  the same letters' HTML as one document in a bare loop.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import aiosmtplib

from bench.harness import Row, Servers, benchmark, median
from bench.services import smtp_sink
from teleservices.notifier import letters
from teleservices.notifier.mailer import SmtpConfig, SmtpPool
from teleservices.notifier.pdf.letter import LetterData, document_html
from teleservices.notifier.pdf.render import PDF_VARIANT, PdfRenderer
from teleservices.notifier.printing import QR_LINK_TTL_S
from teleservices.shared.messages.catalog import Channel, LetterVariant, Population, Recipient, SendNotification
from teleservices.shared.security.links import LinkPurpose, issue_link_token

EMAILS, PDF_LETTERS, ROUNDS, CONCURRENCY = 1000, 100, 3, 8
PDF_ROUNDS = 7
"""Rendering speed drifts by ±20 % within minutes on these shared hosts: more rounds, each side first in turn."""


def _letters(n: int) -> list[SendNotification]:
    return [SendNotification(
        notification_id=uuid.uuid4(), account_id=uuid.uuid4(), uai="0540001A", population=Population.responsable,
        channel=Channel.email, variant=LetterVariant.nouveau_compte, identifiant=f"camille.famille{i}",
        establishment_name="Collège Langevin Wallon", services_url="https://scolarite.exemple.fr",
        recipient=Recipient(civilite="MME", nom=f"Famille{i}", prenom="Camille", email=f"f{i}@exemple.fr"),
        eleve_nom=f"Famille{i}", eleve_prenom="Léo", division="4A") for i in range(n)]


async def _through_notifier(port: int, messages: list[SendNotification]) -> float:
    pool = SmtpPool(SmtpConfig(host="127.0.0.1", port=port, sender="ne-pas-repondre@exemple.fr",
                               message_id_domain="exemple.fr", pool_size=CONCURRENCY, local_hostname="bench"))
    await pool.start(concurrency=CONCURRENCY)
    limit = asyncio.Semaphore(CONCURRENCY)

    async def one(letter: SendNotification) -> None:
        async with limit:
            email = letters.render_email(letter, "k7m2p9x4", "ne-pas-repondre@exemple.fr", "exemple.fr")
            assert (await pool.send(email)).delivered

    try:
        started = time.perf_counter()
        await asyncio.gather(*(one(m) for m in messages))
        return len(messages) / (time.perf_counter() - started)
    finally:
        await pool.close()


async def _bare(port: int, messages: list[SendNotification]) -> float:
    emails = [letters.render_email(m, "k7m2p9x4", "ne-pas-repondre@exemple.fr", "exemple.fr") for m in messages]
    limit = asyncio.Semaphore(CONCURRENCY)

    async def one(email: object) -> None:
        async with limit:
            await aiosmtplib.send(email, hostname="127.0.0.1", port=port,  # type: ignore[arg-type]
                                  local_hostname="bench")

    started = time.perf_counter()
    await asyncio.gather(*(one(e) for e in emails))
    return len(emails) / (time.perf_counter() - started)


def _first_connection_link() -> str:
    """A link as the notifier prints it in the QR code: a real signed token (its length sets the QR code's size,
    and a dense QR code is a good part of a letter's layout time)."""
    token = issue_link_token("bench-link-key-" + "x" * 32, uuid.uuid4(), LinkPurpose.first_connection, QR_LINK_TTL_S)
    return f"https://scolarite.exemple.fr/premiere-connexion?jeton={token}"


def _pdf_letters() -> list[LetterData]:
    return [LetterData(academie="NANCY-METZ", etablissement="Collège Langevin Wallon",
                       adresse_etablissement=("40 rue du Rendez-Vous",), commune_etablissement="BLAINVILLE",
                       civilite="MME", nom=f"FAMILLE{i}", prenom="Camille", adresse=("1 rue des Écoles",),
                       code_postal="54360", commune="BLAINVILLE", nom_eleve=f"FAMILLE{i}", prenom_eleve="Léo",
                       division="4A", identifiant=f"camille.famille{i}", mot_de_passe="k7m2p9x4",
                       adresse_des_services="https://scolarite.exemple.fr", date=date(2026, 9, 1),
                       population=Population.responsable, variant=LetterVariant.nouveau_compte,
                       qr_url=_first_connection_link())
            for i in range(PDF_LETTERS)]


def bare_weasyprint_letters_per_s(count: int = PDF_LETTERS, ready: Callable[[], object] = lambda: None) -> float:
    """WeasyPrint alone rendering `count` letters' HTML as one document (after a warm-up, then `ready()`).

    The same output as the notifier's: a tagged PDF/UA-1 document (its structure tree cost WeasyPrint 0.5 % and 8 %
    of a letter's time in two measurements; untagged would be less work than the letters families receive)."""
    import weasyprint

    data = _pdf_letters()[:count]
    weasyprint.HTML(string=document_html(data[:2])).write_pdf(pdf_variant=PDF_VARIANT)
    html = document_html(data)
    ready()
    started = time.perf_counter()
    weasyprint.HTML(string=html).write_pdf(pdf_variant=PDF_VARIANT)
    return len(data) / (time.perf_counter() - started)


def _bare_weasyprint_process(barrier: Any, rates: Any, count: int) -> None:
    rates.put(bare_weasyprint_letters_per_s(count, ready=barrier.wait))


def bare_weasyprint_letters_per_s_together(processes: int = 2, count: int = PDF_LETTERS) -> float:
    """Letters per second of `processes` bare WeasyPrint loops rendering at the same time, summed: what the cores
    deliver together (on these machines two renders at once run about 13 % slower each than one alone)."""
    context = multiprocessing.get_context("spawn")
    barrier, rates = context.Barrier(processes), context.Queue()
    workers = [context.Process(target=_bare_weasyprint_process, args=(barrier, rates, count))
               for _ in range(processes)]
    for worker in workers:
        worker.start()
    total = sum(rates.get(timeout=600) for _ in workers)
    for worker in workers:
        worker.join()
    return float(total)


async def bare_aiosmtplib_emails_per_s(port: int, count: int = EMAILS) -> float:
    """A bare aiosmtplib loop sending `count` letters' emails, 8 at a time."""
    return await _bare(port, _letters(count))


def _pdf_rows() -> list[Row]:
    data = _pdf_letters()
    renderer = PdfRenderer()
    renderer.render(data[:2])  # warm up: fonts and stylesheet parsed once per process
    ours: list[float] = []
    bare: list[float] = []

    def ours_once() -> None:
        started = time.perf_counter()
        renderer.render(data)
        ours.append(len(data) / (time.perf_counter() - started))

    def bare_once() -> None:
        bare.append(bare_weasyprint_letters_per_s())

    for round_ in range(PDF_ROUNDS):
        for measure in (ours_once, bare_once) if round_ % 2 == 0 else (bare_once, ours_once):
            measure()
    return [Row("notifier.pdf_letters_per_s", median(ours), "letters/s", median(bare),
                "ratio ≥ 0.9 (bare WeasyPrint, same letters, same PDF/UA-1, one document)")]


@benchmark("notifier.")
async def notifier(servers: Servers) -> list[Row]:
    """Emails through the pool to a sink in another process; PDF letters in one process."""
    with tempfile.TemporaryDirectory() as tmp:
        async with smtp_sink(Path(tmp) / "mail") as smtp:
            ours, bare = [], []
            for _ in range(ROUNDS):
                ours.append(await _through_notifier(smtp, _letters(EMAILS)))
                bare.append(await _bare(smtp, _letters(EMAILS)))
    return [Row("notifier.emails_per_s", median(ours), "emails/s", median(bare),
                "ratio ≥ 0.9 (bare aiosmtplib, same messages)"), *_pdf_rows()]
