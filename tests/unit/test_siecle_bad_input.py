"""SIECLE/BEE bad input: an unreadable file is a SiecleFileError, a bad record a problem naming file, id, field."""

from __future__ import annotations

import io
import shutil
import zipfile
from datetime import date
from pathlib import Path

import pytest

from teleservices.sync.siecle.parser import parse_eleves, parse_export, parse_structures
from teleservices.sync.siecle.problems import ImportProblem, Severity, SiecleFileError
from teleservices.sync.siecle.reader import InMemoryFile

COLLEGE = Path(__file__).resolve().parents[1] / "fixtures" / "siecle" / "college_minimal"
TODAY = date(2025, 1, 20)
ELEVES = "ElevesAvecAdresses.xml"
RESPONSABLES = "ResponsablesAvecAdresses.xml"


def _text(name: str) -> str:
    return (COLLEGE / name).read_text(encoding="iso-8859-15")


def _export_with(tmp_path: Path, name: str, old: str, new: str) -> Path:
    """A copy of college_minimal where one file has `old` replaced by `new` (once)."""
    folder = tmp_path / "export"
    shutil.copytree(COLLEGE, folder)
    text = _text(name)
    assert text.count(old) >= 1
    (folder / name).write_bytes(text.replace(old, new, 1).encode("iso-8859-15"))
    return folder


def _zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def _erreurs_of(problems: tuple[ImportProblem, ...]) -> list[ImportProblem]:
    return [problem for problem in problems if problem.severity is Severity.erreur]


def _only_erreur(problems: tuple[ImportProblem, ...]) -> ImportProblem:
    erreurs = _erreurs_of(problems)
    assert len(erreurs) == 1, erreurs
    return erreurs[0]


def test_truncated_xml_names_the_file_and_the_line() -> None:
    data = (COLLEGE / ELEVES).read_bytes()
    cut = data[: len(data) // 2]

    with pytest.raises(SiecleFileError) as raised:
        parse_eleves(InMemoryFile(ELEVES, cut), today=TODAY)

    assert raised.value.file == ELEVES
    assert raised.value.line == cut.count(b"\n") + 1
    assert f"{ELEVES}, ligne {raised.value.line}" in str(raised.value)
    assert "incomplet" in raised.value.message


def test_wrong_root_element_names_the_file_and_the_root_found() -> None:
    with pytest.raises(SiecleFileError) as raised:
        parse_eleves(COLLEGE / "Structures.xml", today=TODAY)

    assert raised.value.file == "Structures.xml"
    assert "BEE_STRUCTURES" in raised.value.message and "BEE_ELEVES" in raised.value.message


def test_a_file_that_is_no_bee_export_is_refused_when_given_explicitly() -> None:
    sts = InMemoryFile("sts_emp_0990001Z_2024.xml", b'<?xml version="1.0"?><STS_EDT><PARAMETRES/></STS_EDT>')

    with pytest.raises(SiecleFileError, match="STS_EDT") as raised:
        parse_export([COLLEGE / ELEVES, sts], today=TODAY)
    assert raised.value.file == sts.name


@pytest.mark.parametrize(("declaration", "shown"), [
    ('encoding="KLINGON-8"', "KLINGON-8"), ('encoding="ISO-8859-16"', "ISO-8859-16"), ('encoding="rot13"', "rot13"),
])
def test_unknown_encoding_is_refused_by_name(declaration: str, shown: str) -> None:
    data = _text(ELEVES).replace('encoding="ISO-8859-15"', declaration).encode("iso-8859-15")

    with pytest.raises(SiecleFileError) as raised:
        parse_eleves(InMemoryFile(ELEVES, data), today=TODAY)

    assert (raised.value.file, raised.value.line) == (ELEVES, 1)
    assert f"« {shown} »" in raised.value.message


def test_utf16_is_refused() -> None:
    with pytest.raises(SiecleFileError, match="UTF-16"):
        parse_eleves(InMemoryFile(ELEVES, _text(ELEVES).encode("utf-16")), today=TODAY)


def test_bytes_not_in_the_declared_encoding_name_the_line() -> None:
    text = _text(ELEVES).replace('encoding="ISO-8859-15"', 'encoding="UTF-8"')

    with pytest.raises(SiecleFileError) as raised:
        parse_eleves(InMemoryFile(ELEVES, text.encode("iso-8859-15")), today=TODAY)

    first_accent = next(number for number, line in enumerate(text.splitlines(), 1) if not line.isascii())
    assert (raised.value.file, raised.value.line) == (ELEVES, first_accent)
    assert "utf-8" in raised.value.message.lower()


@pytest.mark.parametrize(("members", "named"), [
    ({"ElevesSansAdresses.xml": b"<BEE_ELEVES/>", "Nomenclature.xml": b"<BEE_NOMENCLATURES/>"}, "Nomenclature.xml"),
    ({}, "aucun fichier"),
    ({"ResponsablesSansAdresses.xml": b"<BEE_RESPONSABLES/>"}, "ResponsablesSansAdresses.xml"),
], ids=["two files", "no file", "another name"])
def test_zip_not_holding_exactly_its_xml_names_the_zip(members: dict[str, bytes], named: str) -> None:
    zipped = InMemoryFile("ExportXML_ElevesSansAdresses.zip", _zip(members))

    with pytest.raises(SiecleFileError) as raised:
        parse_eleves(zipped, today=TODAY)

    assert raised.value.file == "ExportXML_ElevesSansAdresses.zip"
    assert "ElevesSansAdresses.xml" in raised.value.message and named in raised.value.message


def test_a_zip_that_is_no_zip_names_the_file() -> None:
    with pytest.raises(SiecleFileError, match="archive zip illisible") as raised:
        parse_eleves(InMemoryFile("ExportXML_ElevesSansAdresses.zip", b"PK\x03\x04 not really"), today=TODAY)
    assert raised.value.file == "ExportXML_ElevesSansAdresses.zip"


@pytest.mark.parametrize("dtd", [
    '<!DOCTYPE lol [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>',
    '<!DOCTYPE BEE_ELEVES [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>',
    '<!DOCTYPE BEE_ELEVES SYSTEM "http://example.invalid/bee.dtd">',
], ids=["billion laughs", "external entity", "external DTD"])
def test_dtds_and_entities_are_refused(dtd: str) -> None:
    text = _text(ELEVES).replace("<BEE_ELEVES", f"{dtd}\n<BEE_ELEVES", 1).replace("MARTIN", "&lol2;", 1)

    with pytest.raises(SiecleFileError, match="DOCTYPE") as raised:
        parse_eleves(InMemoryFile(ELEVES, text.encode("iso-8859-15")), today=TODAY)
    assert (raised.value.file, raised.value.line) == (ELEVES, 2)


def test_empty_file_and_missing_parametres_are_refused() -> None:
    with pytest.raises(SiecleFileError, match="vide"):
        parse_eleves(InMemoryFile(ELEVES, b""), today=TODAY)
    with pytest.raises(SiecleFileError, match="PARAMETRES"):
        parse_structures(InMemoryFile("Structures.xml", b"<BEE_STRUCTURES><DONNEES/></BEE_STRUCTURES>"))


def test_impossible_date_is_an_erreur_naming_file_path_id_and_field(tmp_path: Path) -> None:
    folder = _export_with(tmp_path, ELEVES, "<DATE_NAISS>12/03/2012", "<DATE_NAISS>31/02/2010")

    export = parse_export(folder, today=TODAY)

    problem = _only_erreur(export.problems)
    assert problem.file == ELEVES
    assert problem.path == "BEE_ELEVES/DONNEES/ELEVES/ELEVE[ELEVE_ID=4001]/DATE_NAISS"
    assert (problem.siecle_id, problem.field) == ("4001", "DATE_NAISS")
    assert problem.message == "La date de naissance 31/02/2010 de l'élève 4001 n'existe pas"
    assert not export.importable


def test_missing_birth_date_is_an_avertissement() -> None:
    text = _text(ELEVES).replace("<DATE_NAISS>12/03/2012</DATE_NAISS>", "")

    fichier = parse_eleves(InMemoryFile(ELEVES, text.encode("iso-8859-15")), today=TODAY)

    [problem] = fichier.problems
    assert (problem.severity, problem.siecle_id, problem.field) == (Severity.avertissement, "4001", "DATE_NAISS")
    assert str(problem) == ("avertissement — ElevesAvecAdresses.xml, BEE_ELEVES/DONNEES/ELEVES/ELEVE[ELEVE_ID=4001]"
                            "/DATE_NAISS : La date de naissance de l'élève 4001 est absente")
    assert [eleve.date_naissance for eleve in fichier.eleves if eleve.eleve_id == "4001"] == [None]


def test_link_to_a_pupil_absent_from_the_pupils_file_names_both_ids(tmp_path: Path) -> None:
    folder = _export_with(tmp_path, RESPONSABLES, "<ELEVE_ID>4006</ELEVE_ID>", "<ELEVE_ID>9999</ELEVE_ID>")

    export = parse_export(folder, today=TODAY)

    problem = _only_erreur(export.problems)
    assert (problem.file, problem.siecle_id, problem.field) == (RESPONSABLES, "9999", "ELEVE_ID")
    assert "9999" in problem.message and "5009" in problem.message and ELEVES in problem.message
    assert "ELEVE_ID=9999,PERSONNE_ID=5009" in problem.path


def test_uaj_mismatch_between_files_is_an_erreur(tmp_path: Path) -> None:
    folder = _export_with(tmp_path, "Structures.xml", "<UAJ>0990001Z</UAJ>", "<UAJ>0990002A</UAJ>")

    problem = _only_erreur(parse_export(folder, today=TODAY).problems)

    assert (problem.file, problem.field, problem.path) == ("Structures.xml", "UAJ", "BEE_STRUCTURES/PARAMETRES/UAJ")
    assert "0990002A" in problem.message and "0990001Z" in problem.message and ELEVES in problem.message


def test_annee_scolaire_mismatch_between_files_is_an_erreur(tmp_path: Path) -> None:
    folder = _export_with(tmp_path, RESPONSABLES, "<ANNEE_SCOLAIRE>2024", "<ANNEE_SCOLAIRE>2025")

    problem = _only_erreur(parse_export(folder, today=TODAY).problems)

    assert (problem.file, problem.field) == (RESPONSABLES, "ANNEE_SCOLAIRE")
    assert "2025-2026" in problem.message and "2024-2025" in problem.message


def test_duplicate_eleve_id_is_an_erreur_and_only_the_first_is_kept(tmp_path: Path) -> None:
    folder = _export_with(tmp_path, ELEVES, '<ELEVE ELEVE_ID="4002"', '<ELEVE ELEVE_ID="4001"')

    fichier = parse_eleves(folder / ELEVES, today=TODAY)

    problem = _only_erreur(tuple(fichier.problems))
    assert (problem.file, problem.siecle_id, problem.field) == (ELEVES, "4001", "ELEVE_ID")
    assert problem.path == "BEE_ELEVES/DONNEES/ELEVES/ELEVE[ELEVE_ID=4001]"
    assert "plusieurs fois" in problem.message
    assert [eleve.prenom for eleve in fichier.eleves if eleve.eleve_id == "4001"] == ["Éloïse"]
    erreurs = _erreurs_of(parse_export(folder, today=TODAY).problems)
    assert any("4002" in problem.message for problem in erreurs)  # its links now name an absent pupil


def test_a_folder_without_pupils_file_is_refused(tmp_path: Path) -> None:
    shutil.copytree(COLLEGE, tmp_path / "export")
    (tmp_path / "export" / ELEVES).unlink()

    with pytest.raises(SiecleFileError, match="fichier des élèves") as raised:
        parse_export(tmp_path / "export", today=TODAY)
    assert raised.value.file == "export"


def test_two_files_of_the_same_export_are_refused() -> None:
    copy = InMemoryFile("ElevesAvecAdresses (1).xml", (COLLEGE / ELEVES).read_bytes())

    with pytest.raises(SiecleFileError, match="deux fichiers") as raised:
        parse_export([COLLEGE / ELEVES, copy], today=TODAY)
    assert ELEVES in raised.value.message and copy.name in raised.value.message


def test_a_missing_responsables_file_forbids_the_import(tmp_path: Path) -> None:
    shutil.copytree(COLLEGE, tmp_path / "export")
    (tmp_path / "export" / RESPONSABLES).unlink()

    problem = _only_erreur(parse_export(tmp_path / "export", today=TODAY).problems)

    assert "ResponsablesAvecAdresses.xml" in problem.message
