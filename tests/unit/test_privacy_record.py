"""The record of processing (art. 30): in French, and its retention figures are the ones the jobs apply."""

from __future__ import annotations

import io
from datetime import timedelta
from pathlib import Path

import pytest
from pydantic import ValidationError
from pypdf import PdfReader
from typer.testing import CliRunner

from teleservices.accounts.expiry import Expiry
from teleservices.accounts.settings import AccountsSettings
from teleservices.notifier.settings import NotifierSettings
from teleservices.shared.cli.main import app
from teleservices.shared.privacy.record import TITLE, record_markdown, traitements
from teleservices.shared.privacy.retention import RetentionSettings, current_retention
from teleservices.shared.settings import Environment, SecretsSettings

CHANGED = {
    "TELESERVICES_ACCOUNTS_NOTIFIED_EXPIRY_DAYS": "61",
    "TELESERVICES_ACCOUNTS_UNUSED_EXPIRY_DAYS": "333",
    "TELESERVICES_NOTIFIER_DOCUMENT_RETENTION_DAYS": "11",
    "TELESERVICES_RETENTION_DEPARTURE_PURGE_DAYS": "45",
    "TELESERVICES_RETENTION_CONNECTION_LOG_DAYS": "180",
    "TELESERVICES_SYNC_ARCHIVE_RETENTION_DAYS": "3",
}


def test_default_figures_are_those_of_the_issue_and_the_guide() -> None:
    figures = current_retention()
    assert (figures.notified_expiry_days, figures.unused_expiry_days, figures.document_retention_days,
            figures.departure_purge_days, figures.connection_log_days) == (92, 365, 7, 90, 365)


def test_the_record_states_the_periods_the_jobs_apply(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in CHANGED.items():
        monkeypatch.setenv(name, value)
    secrets = SecretsSettings(**{n: "x" * 40 for n in SecretsSettings.model_fields})
    accounts = AccountsSettings(environment=Environment.test, secrets=secrets)
    expiry = Expiry(db=None, settings=accounts)  # type: ignore[arg-type]  # only its delays are read
    notifier = NotifierSettings(environment=Environment.test, secrets=secrets)
    figures = current_retention()
    assert timedelta(days=figures.notified_expiry_days) == expiry.notified_delay == timedelta(days=61)
    assert timedelta(days=figures.unused_expiry_days) == expiry.unused_delay == timedelta(days=333)
    assert figures.document_retention_days == notifier.document_retention_days == 11
    assert figures.departure_purge_days == RetentionSettings().departure_purge_days == 45
    assert figures.connection_log_days == 180
    assert figures.siecle_archive_days == 3

    text = record_markdown()
    for phrase in ("supprimé 61 jours après la dernière notification", "supprimé après 333 jours sans connexion",
                   "supprimés après 11 jours", "45 jours après l'import qui constate le départ",
                   "purgées ou anonymisées après 180 jours", "supprimés 3 jours après leur import"):
        assert phrase in text
    assert "92 jours" not in text and "90 jours" not in text


def test_each_processing_says_what_article_30_asks() -> None:
    for t in traitements(current_retention()):
        assert t.finalites and t.base_legale and t.personnes and t.donnees and t.destinataires and t.durees
        assert t.mesures
    text = record_markdown()
    assert text.startswith(f"# {TITLE}")
    assert "VILLE_NAISS" not in text.split("Jamais lus")[0]  # the kept SIECLE fields, without the place of birth
    assert "Jamais lus ni conservés en base : lieu de naissance" in text


def test_retention_beyond_what_the_law_allows_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TELESERVICES_RETENTION_DEPARTURE_PURGE_DAYS", "120")
    with pytest.raises(ValidationError, match="departure_purge_days"):
        RetentionSettings()
    result = CliRunner().invoke(app, ["privacy", "record"])
    assert result.exit_code == 2 and "departure_purge_days" in result.output


def test_record_command_writes_markdown_and_a_tagged_pdf(tmp_path: Path) -> None:
    pdf_path, md_path = tmp_path / "registre.pdf", tmp_path / "registre.md"
    result = CliRunner().invoke(app, ["privacy", "record", "--out", str(md_path), "--pdf", str(pdf_path)])
    assert result.exit_code == 0, result.output
    assert md_path.read_text(encoding="utf-8").startswith(f"# {TITLE}")
    reader = PdfReader(io.BytesIO(pdf_path.read_bytes()))
    assert reader.metadata is not None and reader.metadata.title == TITLE
    assert reader.trailer["/Root"].get("/Lang") == "fr" and "/StructTreeRoot" in reader.trailer["/Root"]
    text = " ".join(page.extract_text() for page in reader.pages)
    assert "Durées de conservation" in text and "Import des données SIECLE/BEE" in text
    assert CliRunner().invoke(app, ["privacy", "record"]).output.startswith(f"# {TITLE}")
