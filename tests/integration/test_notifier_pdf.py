"""Paper letters printed by the real WeasyPrint: one PDF, one letter per page, tagged, in French, titled."""

from __future__ import annotations

import io
import logging
import os
import signal
import subprocess
import sys
import time
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader

from teleservices.notifier.pdf import (
    LetterData,
    PdfRenderer,
    harfbuzz_subset_available,
    pdf_process_pool,
    render,
    render_letters_pdf,
)
from teleservices.shared.messages.catalog import LetterVariant, Population

PEOPLE = [("ABEL", "Jeanne", "j.abel3", "Tr4#pQzw9e"), ("MARTIN", "Claire", "c.martin7", "Kq7#vLm2Xp"),
          ("ZOLA", "Émile", "e.zola1", "Bn8%uYd3Rc")]


def letter(nom: str, prenom: str, identifiant: str, password: str, **changes: Any) -> LetterData:
    data: dict[str, Any] = {
        "academie": "NANCY-METZ", "etablissement": "Collège LANGEVIN WALLON",
        "adresse_etablissement": ("40 rue du Rendez-Vous", "54360 BLAINVILLE-SUR-L'EAU"), "telephone": "03 83 75 00 00",
        "courriel_etablissement": "ce.0540001a@ac-nancy-metz.fr", "commune_etablissement": "BLAINVILLE-SUR-L'EAU",
        "chef_etablissement": "M. E. DURAND", "civilite": "Mme", "nom": nom, "prenom": prenom,
        "adresse": ("3 rue des Lilas",), "code_postal": "54360", "commune": "BLAINVILLE-SUR-L'EAU",
        "nom_eleve": nom, "prenom_eleve": "Léo", "division": "4A", "identifiant": identifiant,
        "mot_de_passe": password, "adresse_des_services": "https://teleservices.example", "date": date(2026, 9, 3),
        "population": Population.responsable, "variant": LetterVariant.nouveau_compte,
        "qr_url": f"https://teleservices.example/premiere-connexion/{identifiant}-0a1b2c3d4e5f",
    }
    data.update(changes)
    return LetterData(**data)


def pages_text(pdf: bytes) -> tuple[PdfReader, list[str]]:
    reader = PdfReader(io.BytesIO(pdf))
    return reader, [" ".join(page.extract_text().split()) for page in reader.pages]


def test_three_letters_make_one_tagged_french_pdf_one_letter_per_page_in_the_given_order(
        caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        pdf = render_letters_pdf([letter(*person) for person in PEOPLE])
    assert not caplog.records, "WeasyPrint found nothing to complain about (PDF/UA included)"
    reader, pages = pages_text(pdf)
    assert len(pages) == 3
    for page, (nom, prenom, identifiant, password) in zip(pages, PEOPLE, strict=True):
        assert f"Mme {nom} {prenom}" in page
        assert f"Identifiant : {identifiant}" in page and f"Mot de passe : {password}" in page
        assert "3 mois" in page and "commission nationale de l'informatique et des libertés" in page
        others = [p for p in PEOPLE if p[0] != nom]
        assert not any(other[2] in page or other[3] in page for other in others)
    assert reader.metadata is not None
    assert reader.metadata.title == "Accès aux services en ligne de l'établissement – Collège LANGEVIN WALLON"
    catalog = reader.trailer["/Root"]
    assert catalog["/Lang"] == "fr"
    assert "/StructTreeRoot" in catalog and catalog["/MarkInfo"]["/Marked"], "a tagged PDF (PDF/UA-1)"
    assert reader.pdf_header == "%PDF-1.7"
    box = reader.pages[0].mediabox
    assert (round(float(box.width) * 25.4 / 72), round(float(box.height) * 25.4 / 72)) == (210, 297)


def test_staff_markup_is_printed_as_text() -> None:
    templates = {"eleve_rappel_identifiant": "<b>Bonjour</b> [Adresse des services]\nIdentifiant : [Identifiant]"}
    pdf = render_letters_pdf([letter(*PEOPLE[0], population=Population.eleve, variant=LetterVariant.rappel_identifiant,
                                     mot_de_passe=None, templates=templates)], tagged=False)
    _, pages = pages_text(pdf)
    assert "<b>Bonjour</b> https://teleservices.example" in pages[0] and "Identifiant : j.abel3" in pages[0]


def test_when_weasyprint_refuses_the_pdf_variant_the_letters_are_printed_untagged(
        monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setattr(render, "PDF_VARIANT", "pdf/ua-99")
    monkeypatch.setattr(render, "_variant_refused", False)
    with caplog.at_level(logging.WARNING, logger=render.__name__):
        pdf = render_letters_pdf([letter(*PEOPLE[2])])
    reader, pages = pages_text(pdf)
    assert "Identifiant : e.zola1" in pages[0] and "/StructTreeRoot" not in reader.trailer["/Root"]
    assert reader.trailer["/Root"]["/Lang"] == "fr"
    assert [r.getMessage() for r in caplog.records if r.name == render.__name__] == [
        "PDF variant refused by WeasyPrint: letters are printed untagged"]
    assert render._variant_refused


def test_a_worker_process_renders_the_letters_it_receives_as_json() -> None:
    with pdf_process_pool(1) as pool:
        pdf = PdfRenderer().submit(pool, [letter(*PEOPLE[1])]).result(timeout=60)
    _, pages = pages_text(pdf)
    assert len(pages) == 1 and "Mot de passe : Kq7#vLm2Xp" in pages[0]


OWNER = """
import os, sys
from teleservices.notifier.pdf import pdf_process_pool
pool = pdf_process_pool(1, niceness=7)
print(pool.submit(os.getpid).result(timeout=60), pool.submit(os.nice, 0).result(timeout=60), flush=True)
sys.stdin.read()
"""


def test_render_workers_run_below_the_service_and_end_with_it_even_when_it_is_killed() -> None:
    owner = subprocess.Popen([sys.executable, "-c", OWNER], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert owner.stdout is not None
        worker_pid, worker_niceness = map(int, owner.stdout.readline().split())
        fork_server = int(Path(f"/proc/{worker_pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
        assert worker_niceness == os.nice(0) + 7 and fork_server != owner.pid
    finally:
        owner.send_signal(signal.SIGKILL)  # as a notifier killed in a fault test, or by the OOM killer
        owner.wait(10)
    deadline = time.monotonic() + 10
    while any(Path(f"/proc/{pid}").exists() for pid in (worker_pid, fork_server)) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not Path(f"/proc/{worker_pid}").exists() and not Path(f"/proc/{fork_server}").exists()


def test_harfbuzz_subsetting_is_reported_as_weasyprint_sees_it() -> None:
    from weasyprint.text.ffi import harfbuzz_subset

    assert harfbuzz_subset_available() == (harfbuzz_subset is not None)
