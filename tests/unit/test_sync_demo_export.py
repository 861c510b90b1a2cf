"""Fictional SIECLE exports: read by the real parser with no erreur, with the quirks of real files, reproducible."""

from __future__ import annotations

import re
import zipfile
from collections import Counter
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from teleservices.shared.cli.main import app
from teleservices.sync.demo_export import (
    DemoSummary,
    academy_uais,
    modify_export,
    write_academy_exports,
    write_demo_export,
)
from teleservices.sync.siecle.model import NiveauResponsabilite
from teleservices.sync.siecle.parser import SiecleExport, parse_export

PUPILS = 300
XML_NAMES = ("ElevesAvecAdresses.xml", "ResponsablesAvecAdresses.xml", "Nomenclature.xml", "Structures.xml")


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[DemoSummary, SiecleExport]:
    summary = write_demo_export(tmp_path_factory.mktemp("demo"), pupils=PUPILS)
    return summary, parse_export(summary.files, today=summary.date_export)


def _only_expected_warnings(export: SiecleExport) -> None:
    """Invalid e-mails and persons left with departed pupils only: nothing else is flagged."""
    assert export.erreurs == ()
    for problem in export.avertissements:
        departed_only = problem.field == "PERSONNE_ID" and "élèves partis" in problem.message
        assert problem.field == "MEL" or departed_only, problem


def test_the_parser_reads_it_with_no_erreur_and_the_summary_counts_what_it_finds(
        demo: tuple[DemoSummary, SiecleExport]) -> None:
    summary, export = demo

    _only_expected_warnings(export)
    assert [path.name for path in summary.files] == list(XML_NAMES)
    assert (export.uaj, export.annee_scolaire, summary.date_export) == ("0540001A", 2026, date(2026, 10, 1))
    assert len(export.eleves) == summary.pupils == PUPILS
    assert sum(eleve.parti for eleve in export.eleves) == summary.departed >= 1
    assert len(export.personnes) == summary.persons
    assert sum(lien.representant_legal for lien in export.liens) == summary.legal_links
    assert len(export.liens) == summary.links
    assert (len(export.divisions), len(export.groupes)) == (summary.divisions, summary.groups)
    assert len({eleve.eleve_id for eleve in export.eleves}) == PUPILS
    assert len({personne.personne_id for personne in export.personnes}) == summary.persons
    ines = [eleve.ine for eleve in export.eleves if eleve.ine]
    assert len(set(ines)) == len(ines) >= PUPILS - 3
    sizes = Counter(eleve.division for eleve in export.eleves)
    assert None not in sizes and all(25 <= size <= 28 for size in sizes.values()), sizes
    assert {eleve.code_mef for eleve in export.eleves} == {"10010012110", "10110001110", "10210001110", "10310019110"}
    assert {"0", "2"} <= {eleve.code_regime for eleve in export.eleves} <= {regime.code for regime in export.regimes}
    assert all(not lien.representant_legal or lien.code_parente in ("10", "20", "50", "70") for lien in export.liens)


def test_the_quirks_of_real_files_are_there(demo: tuple[DemoSummary, SiecleExport]) -> None:
    summary, export = demo
    raw = summary.files[0].read_bytes()
    eleves = {eleve.eleve_id: eleve for eleve in export.eleves}
    personnes = {personne.personne_id: personne for personne in export.personnes}

    assert raw.startswith(b'<?xml version="1.0" encoding="ISO-8859-15"?>\n')
    everything = raw + summary.files[1].read_bytes()
    assert all(text.encode("iso-8859-15") in everything for text in ("Œ", "É", "È", "Ï", "'", "ç", "ë"))
    first_structures = re.findall(rb"<STRUCTURES_ELEVE [^>]*>\s*<STRUCTURE>\s*<CODE_STRUCTURE>[^<]*</CODE_STRUCTURE>"
                                  rb"\s*<TYPE_STRUCTURE>(\w)</TYPE_STRUCTURE>", raw)
    # the first structure of a pupil is usually his division, sometimes a group
    assert len(first_structures) == PUPILS and {b"G", b"D"} == set(first_structures)
    legal_children: dict[str, set[str]] = {}
    for lien in export.liens:
        if lien.representant_legal:
            legal_children.setdefault(lien.personne_id, set()).add(lien.eleve_id)
    assert {2, 3} <= {len(children) for children in legal_children.values()}  # siblings share their representatives
    separated = [lien.eleve_id for lien in export.liens if lien.code_parente == "20" and lien.representant_legal
                 and any(other.code_parente == "10" and other.representant_legal and
                         personnes[other.personne_id].adresse != personnes[lien.personne_id].adresse
                         for other in export.liens if other.eleve_id == lien.eleve_id)]
    assert separated
    self_links = [lien for lien in export.liens if lien.code_parente == "70"]
    assert self_links and all(lien.representant_legal for lien in self_links)
    for lien in self_links:
        eleve, personne = eleves[lien.eleve_id], personnes[lien.personne_id]
        assert (personne.nom, personne.prenom) == (eleve.nom, eleve.prenom)
        assert eleve.date_naissance is not None and _age(eleve.date_naissance, summary.date_export) >= 18
    adults = [eleve for eleve in export.eleves if _age(eleve.date_naissance or date.max, summary.date_export) >= 18]
    assert len(adults) > len(self_links)  # some adults keep their parents as legal representatives
    emails = [personne.email for personne in export.personnes]
    assert None in emails and "" in emails
    flagged = {problem.message.split("«")[1].split("»")[0].strip() for problem in export.avertissements
               if problem.field == "MEL"}
    assert {"jean.dupont@", "sans-arobase.fr"} <= flagged
    partis = [eleve for eleve in export.eleves if eleve.parti]
    assert partis and all(eleve.date_sortie and eleve.date_sortie < summary.date_export and eleve.division
                          for eleve in partis)
    assert b"<DATE_SORTIE>31/12/9999</DATE_SORTIE>" in raw
    assert sum(eleve.ine is None for eleve in export.eleves) >= 2
    assert {lien.niveau_responsabilite for lien in export.liens} == set(NiveauResponsabilite)


def test_the_same_seed_gives_the_same_bytes_and_another_seed_other_ones(tmp_path: Path) -> None:
    first = write_demo_export(tmp_path / "a", pupils=120, seed=7)
    again = write_demo_export(tmp_path / "b", pupils=120, seed=7)
    other = write_demo_export(tmp_path / "c", pupils=120, seed=8)

    assert [path.read_bytes() for path in first.files] == [path.read_bytes() for path in again.files]
    assert first.files[0].read_bytes() != other.files[0].read_bytes()
    zipped = write_demo_export(tmp_path / "z1", pupils=120, seed=7, zipped=True)
    assert [p.read_bytes() for p in zipped.files] == [
        p.read_bytes() for p in write_demo_export(tmp_path / "z2", pupils=120, seed=7, zipped=True).files]


def test_the_zipped_export_is_read_like_the_plain_one(tmp_path: Path) -> None:
    plain = write_demo_export(tmp_path / "plain", pupils=150, seed=3)
    zipped = write_demo_export(tmp_path / "zipped", pupils=150, seed=3, zipped=True)

    assert [path.name for path in zipped.files] == [f"ExportXML_{name[:-4]}.zip" for name in XML_NAMES]
    for path, name in zip(zipped.files, XML_NAMES, strict=True):
        with zipfile.ZipFile(path) as archive:
            assert archive.namelist() == [name]
    from_zip = parse_export(tmp_path / "zipped", today=zipped.date_export)
    _only_expected_warnings(from_zip)
    assert from_zip.eleves == parse_export(tmp_path / "plain", today=plain.date_export).eleves


def test_old_model_and_sans_adresses(tmp_path: Path) -> None:
    summary = write_demo_export(tmp_path, pupils=150, old_model=True, avec_adresses=False)
    export = parse_export(tmp_path, today=summary.date_export)
    responsables = summary.files[1].read_bytes()

    assert [path.name for path in summary.files][:2] == ["ElevesSansAdresses.xml", "ResponsablesSansAdresses.xml"]
    _only_expected_warnings(export)
    assert b"<RESP_LEGAL>2</RESP_LEGAL>" in responsables and b"NIVEAU_RESPONSABILITE" not in responsables
    assert sum(lien.representant_legal for lien in export.liens) == summary.legal_links
    assert all(eleve.adresse is None for eleve in export.eleves)
    assert all(personne.adresse is None for personne in export.personnes)


def test_modify_export_expectations_are_what_the_parser_sees(tmp_path: Path) -> None:
    base = write_demo_export(tmp_path / "base", pupils=PUPILS, seed=11)
    expected = modify_export(tmp_path / "base", tmp_path / "modified", seed=5, moves=6, departures=2, arrivals=3,
                             name_changes=4, email_changes=5, links_removed=4, links_added=3)
    before = parse_export(tmp_path / "base", today=base.date_export)
    after = parse_export(tmp_path / "modified", today=expected.date_export)
    _only_expected_warnings(after)
    old = {eleve.eleve_id: eleve for eleve in before.eleves}
    new = {eleve.eleve_id: eleve for eleve in after.eleves}
    both = old.keys() & new.keys()
    old_emails = {personne.personne_id: personne.email for personne in before.personnes}
    new_emails = {personne.personne_id: personne.email for personne in after.personnes}

    def links(export: SiecleExport) -> set[tuple[str, str]]:
        return {(lien.eleve_id, lien.personne_id) for lien in export.liens}

    assert expected.date_export_before == base.date_export < expected.date_export
    assert {i: (old[i].division, new[i].division) for i in both if old[i].division != new[i].division} \
        == expected.moved
    assert {i for i in both if new[i].parti and not old[i].parti} == expected.departed
    assert new.keys() - old.keys() == expected.arrived
    assert {i for i in both if (old[i].nom, old[i].nom_usage, old[i].prenom)
            != (new[i].nom, new[i].nom_usage, new[i].prenom)} == expected.renamed
    assert {p for p in old_emails.keys() & new_emails.keys() if old_emails[p] != new_emails[p]} \
        == expected.email_changed
    assert links(before) - links(after) == expected.links_removed
    assert links(after) - links(before) == expected.links_added
    assert (new_emails.keys() - old_emails.keys(), old_emails.keys() - new_emails.keys()) \
        == (expected.persons_added, expected.persons_removed)
    assert [len(expected.moved), len(expected.departed), len(expected.arrived), len(expected.renamed),
            len(expected.email_changed), len(expected.links_removed)] == [6, 2, 3, 4, 5, 4]
    assert len(expected.links_added) >= 3 + 3  # three contacts added, and the arrivals' own links
    assert expected.summary.pupils == len(after.eleves) == PUPILS + 3

    again = modify_export(tmp_path / "base", tmp_path / "again", seed=5, moves=6, departures=2, arrivals=3,
                          name_changes=4, email_changes=5, links_removed=4, links_added=3)
    assert [p.read_bytes() for p in again.summary.files] == [p.read_bytes() for p in expected.summary.files]
    chained = modify_export(tmp_path / "modified", tmp_path / "later", seed=6, departures=1, arrivals=1)
    later = parse_export(tmp_path / "later", today=chained.date_export)
    assert len(chained.departed) == 1 and chained.arrived == {e.eleve_id for e in later.eleves} - new.keys()
    assert not chained.moved and not chained.links_removed


def test_modify_export_refuses_impossible_changes(tmp_path: Path) -> None:
    write_demo_export(tmp_path / "base", pupils=20)

    with pytest.raises(ValueError, match="impossible"):
        modify_export(tmp_path / "base", tmp_path / "modified", seed=1, departures=500)
    with pytest.raises(ValueError, match="demo-export"):
        modify_export(Path(__file__).parents[1] / "fixtures" / "siecle" / "college_minimal", tmp_path / "x", seed=1)


def test_academy_exports_have_one_folder_per_establishment_and_unique_ines(tmp_path: Path) -> None:
    folders = write_academy_exports(tmp_path, 5, 60, seed=2018)

    assert [folder.name for folder in folders] == academy_uais(5)
    assert len(set(academy_uais(400))) == 400
    ines: list[str] = []
    for folder in folders:
        export = parse_export(folder, today=date(2026, 10, 1))
        _only_expected_warnings(export)
        assert export.uaj == folder.name and len(export.eleves) == 60
        ines += [eleve.ine for eleve in export.eleves if eleve.ine]
    assert len(ines) == len(set(ines)) >= 5 * 58


def test_bad_parameters_are_refused_before_writing(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="UAI"):
        write_demo_export(tmp_path / "x", uai="../etc")
    with pytest.raises(ValueError, match="élèves"):
        write_demo_export(tmp_path / "x", pupils=0)
    assert not (tmp_path / "x").exists()


def test_cli_demo_export(tmp_path: Path) -> None:
    runner = CliRunner()

    assert runner.invoke(app, ["demo-export", "--help"]).exit_code == 0
    result = runner.invoke(app, ["demo-export", "--pupils", "80", "--uai", "0570100L", "--seed", "4", "--dir",
                                 str(tmp_path), "--zip"])
    assert result.exit_code == 0, result.output
    assert "80 élèves" in result.output and "0570100L" in result.output
    assert len(result.output.strip().splitlines()) == 1
    export = parse_export(tmp_path, today=date(2026, 10, 1))
    assert export.uaj == "0570100L" and len(export.eleves) == 80 and export.importable
    assert runner.invoke(app, ["demo-export", "--pupils", "10", "--uai", "nope", "--dir", str(tmp_path)]).exit_code == 2


def _age(born: date, today: date) -> int:
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))
