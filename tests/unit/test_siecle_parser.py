"""SIECLE/BEE parsing: a complete small export, then one fixture folder per quirk of the real files."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest

from teleservices.sync.siecle.model import (
    CHAMPS_CONSERVES,
    CHAMPS_JAMAIS_CONSERVES,
    CategorieRegime,
    Eleve,
    ExportKind,
    NiveauResponsabilite,
    categorie_regime,
)
from teleservices.sync.siecle.parser import parse_eleves, parse_export, parse_responsables
from teleservices.sync.siecle.problems import Severity
from teleservices.sync.siecle.reader import InMemoryFile

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "siecle"
COLLEGE = FIXTURES / "college_minimal"
TODAY = date(2025, 1, 20)


def _by_id(eleves: list[Eleve] | tuple[Eleve, ...]) -> dict[str, Eleve]:
    return {eleve.eleve_id: eleve for eleve in eleves}


def test_college_minimal_is_read_whole_without_any_problem() -> None:
    export = parse_export(COLLEGE, today=TODAY)

    assert export.problems == ()
    assert export.importable
    assert (export.uaj, export.annee_scolaire) == ("0990001Z", 2024)
    assert [header.kind for header in export.headers] == list(ExportKind)
    eleves = _by_id(export.eleves)
    assert sorted(eleves) == ["4001", "4002", "4003", "4004", "4005", "4006"]
    eloise = eleves["4001"]
    assert (eloise.prenom, eloise.nom, eloise.ine) == ("Éloïse", "MARTIN", "1234567890A")
    assert (eloise.date_naissance, eloise.date_entree) == (date(2012, 3, 12), date(2024, 9, 2))
    assert (eloise.division, eloise.groupes, eloise.code_mef) == ("5 A", ("LATIN5",), "10110001110")
    assert categorie_regime(eloise.code_regime or "") is CategorieRegime.demi_pensionnaire
    assert eloise.adresse is not None and eloise.adresse.commune == "RENNES"
    assert eleves["4003"].nom == "CŒUR"
    assert eleves["4005"].nom_usage == "LEFÈVRE-DUPONT"
    assert {eleve.division for eleve in export.eleves} == {"5 A", "3 B"}
    assert [(division.code, division.libelle, division.mefs) for division in export.divisions] == [
        ("5 A", "5ÈME A", ("10110001110",)), ("3 B", "3ÈME B", ("10310019110",))]
    assert [(groupe.code, groupe.divisions) for groupe in export.groupes] == [("LATIN5", ("5 A",))]
    assert {mef.code_mef: mef.libelle_long for mef in export.mefs}["10110001110"] == "5EME"
    assert {regime.code: regime.libelle_court for regime in export.regimes}["21"] == "DP 1 J"


def test_college_minimal_siblings_share_their_representatives_and_separated_parents_live_apart() -> None:
    export = parse_export(COLLEGE, today=TODAY)
    personnes = {personne.personne_id: personne for personne in export.personnes}

    def representants(eleve_id: str) -> set[str]:
        return {lien.personne_id for lien in export.liens if lien.eleve_id == eleve_id and lien.representant_legal}

    assert len(personnes) == 9
    assert representants("4001") == representants("4002") == {"5001", "5002"}
    assert representants("4003") == {"5003", "5004"}
    mere, pere = personnes["5003"].adresse, personnes["5004"].adresse
    assert mere is not None and pere is not None and mere != pere
    assert (pere.commune, pere.pays, pere.code_postal) == ("4000 LIÈGE", "BELGIQUE", None)
    assert pere.lignes == ("RUE SAINT-GILLES 40", "BOÎTE 3")
    assert personnes["5006"].nom == "SOW" and personnes["5006"].nom_usage == "N'DIAYE"
    assert personnes["5002"].telephones.professionnel == "+33299000000"
    assert personnes["5004"].email == "" and personnes["5005"].email is None
    grand_mere = next(lien for lien in export.liens if lien.personne_id == "5008")
    assert grand_mere.niveau_responsabilite is NiveauResponsabilite.personne_a_contacter
    assert not grand_mere.representant_legal


def test_fixtures_are_latin9_encoded_like_the_real_exports() -> None:
    raw = (COLLEGE / "ElevesAvecAdresses.xml").read_bytes()

    assert raw.startswith(b'<?xml version="1.0" encoding="ISO-8859-15"?>')
    assert "CŒUR".encode("iso-8859-15") in raw and "Éloïse".encode("iso-8859-15") in raw
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")


def test_place_of_birth_is_never_kept() -> None:
    export = parse_export(COLLEGE, today=TODAY)

    everything = repr(export)
    for birth_place in ("QUIMPER", "LORIENT", "VANNES", "DAKAR", "SAINT-MALO", "FOUGÈRES", "29232", "56121"):
        assert birth_place not in everything
    assert CHAMPS_JAMAIS_CONSERVES.isdisjoint(CHAMPS_CONSERVES["ELEVE"])
    assert {field.name for field in dataclasses.fields(Eleve)} == {
        "eleve_id", "ine", "nom", "nom_usage", "prenom", "date_naissance", "code_mef", "code_regime", "date_entree",
        "date_sortie", "email", "division", "groupes", "adresse", "parti"}


def test_groupe_avant_division() -> None:
    fichier = parse_eleves(FIXTURES / "groupe_avant_division" / "ElevesSansAdresses.xml", today=TODAY)
    eleves = _by_id(fichier.eleves)

    assert (eleves["4101"].division, eleves["4101"].groupes) == ("5 A", ("LATIN5", "CHORALE"))
    assert (eleves["4102"].division, eleves["4102"].groupes) == (None, ("CHORALE",))
    [problem] = fichier.problems
    assert (problem.severity, problem.siecle_id, problem.file) == (Severity.avertissement, "4102",
                                                                    "ElevesSansAdresses.xml")
    assert "sans division" in problem.message


def test_mel_absent_ou_vide() -> None:
    fichier = parse_eleves(FIXTURES / "mel_absent_ou_vide" / "ElevesSansAdresses.xml", today=TODAY)
    emails = {eleve.eleve_id: eleve.email for eleve in fichier.eleves}

    assert emails == {"4201": None, "4202": "", "4203": "", "4204": "dorian.renseigne@example.org",
                      "4205": "elodie.invalide-at-example.org"}
    [problem] = fichier.problems
    assert (problem.severity, problem.siecle_id, problem.field) == (Severity.avertissement, "4205", "MEL")
    assert problem.path == "BEE_ELEVES/DONNEES/ELEVES/ELEVE[ELEVE_ID=4205]/MEL"


def test_date_sortie_9999_means_no_end() -> None:
    fichier = parse_eleves(FIXTURES / "date_sortie_9999" / "ElevesSansAdresses.xml", today=TODAY)

    assert [(eleve.date_sortie, eleve.parti) for eleve in fichier.eleves] == [(None, False)] * 3
    assert fichier.problems == []


def test_responsables_niveau_model_since_2018() -> None:
    fichier = parse_responsables(FIXTURES / "responsables_niveau" / "ResponsablesSansAdresses.xml")
    liens = {lien.personne_id: lien for lien in fichier.liens}

    assert {personne_id: lien.niveau_responsabilite for personne_id, lien in liens.items()} == {
        "5401": 1, "5402": 1, "5403": 2, "5404": 3}
    assert [personne_id for personne_id, lien in liens.items() if lien.representant_legal] == ["5401", "5402"]
    assert liens["5403"].code_parente == "41"
    assert all(personne.adresse is None for personne in fichier.personnes)
    assert fichier.problems == []


def test_responsables_resp_legal_model_before_2018() -> None:
    fichier = parse_responsables(FIXTURES / "responsables_resp_legal" / "ResponsablesSansAdresses.xml")
    niveaux = {(lien.eleve_id, lien.personne_id): lien.niveau_responsabilite for lien in fichier.liens}

    assert niveaux == {("4501", "5501"): NiveauResponsabilite.representant_legal,
                       ("4501", "5502"): NiveauResponsabilite.representant_legal,
                       ("4501", "5503"): None,
                       ("4502", "5504"): NiveauResponsabilite.representant_legal,
                       ("4502", "5505"): NiveauResponsabilite.representant_legal}
    assert {personne.nom for personne in fichier.personnes} == {"LE BRIS", "MORVAN"}
    [problem] = fichier.problems
    assert (problem.severity, problem.siecle_id, problem.field) == (Severity.avertissement, "4502", "RESP_LEGAL")


def test_deux_representants_legaux_are_normal_three_are_not() -> None:
    fichier = parse_responsables(FIXTURES / "deux_representants_legaux" / "ResponsablesSansAdresses.xml")

    [problem] = fichier.problems
    assert (problem.severity, problem.siecle_id) == (Severity.avertissement, "4602")
    assert "3 représentants légaux" in problem.message and "5613" in problem.message


def test_eleve_parti_is_marked_and_his_only_representative_flagged() -> None:
    export = parse_export(FIXTURES / "eleve_parti", today=TODAY)
    eleves = _by_id(export.eleves)

    assert (eleves["4701"].parti, eleves["4701"].date_sortie) == (True, date(2024, 12, 20))
    assert not eleves["4702"].parti
    assert (eleves["4703"].parti, eleves["4703"].date_sortie) == (False, date(2025, 6, 30))
    flagged = [problem for problem in export.problems if problem.field == "PERSONNE_ID"]
    assert [(problem.severity, problem.siecle_id) for problem in flagged] == [(Severity.avertissement, "5701")]
    assert "4701" in flagged[0].message
    before = parse_export(FIXTURES / "eleve_parti", today=date(2024, 12, 20))
    assert not any(eleve.parti for eleve in before.eleves)


def test_eleve_sans_ine() -> None:
    fichier = parse_eleves(FIXTURES / "eleve_sans_ine" / "ElevesSansAdresses.xml", today=TODAY)

    assert [eleve.ine for eleve in fichier.eleves] == [None, None, "4803000000X"]
    assert fichier.problems == []


def test_point_interrogation_in_names_is_kept_as_is() -> None:
    [eleve] = parse_eleves(FIXTURES / "point_interrogation" / "ElevesSansAdresses.xml", today=TODAY).eleves

    assert (eleve.nom, eleve.nom_usage, eleve.prenom) == ("NGUY?N", "NGUY?N-?ANG", "Th?o")


def test_nom_ancien_format_before_2016() -> None:
    [eleve] = parse_eleves(FIXTURES / "nom_ancien_format" / "ElevesSansAdresses.xml", today=TODAY).eleves

    assert (eleve.nom, eleve.nom_usage, eleve.prenom) == ("ANCIEN-FORMAT", "ANCIEN-FORMAT", "Maëlys")


def test_export_zippe() -> None:
    fichier = parse_eleves(FIXTURES / "export_zippe" / "ExportXML_ElevesSansAdresses.zip", today=TODAY)

    assert fichier.header.file == "ElevesSansAdresses.xml (dans ExportXML_ElevesSansAdresses.zip)"
    assert [(eleve.nom, eleve.prenom) for eleve in fichier.eleves] == [("ZIPPÉ", "Œdipe")]
    export = parse_export(FIXTURES / "export_zippe", today=TODAY)
    assert [eleve.eleve_id for eleve in export.eleves] == ["4951"]


def test_sans_et_avec_prefers_the_file_with_addresses() -> None:
    export = parse_export(FIXTURES / "sans_et_avec", today=TODAY)

    assert export.headers[0].file == "ElevesAvecAdresses.xml"
    [eleve] = export.eleves
    assert eleve.adresse is not None and eleve.adresse.lignes == ("4 RUE D'ANTRAIN",)
    sans = parse_eleves(FIXTURES / "sans_et_avec" / "ElevesSansAdresses.xml", today=TODAY)
    assert sans.eleves[0].adresse is None and sans.problems == []


@pytest.mark.parametrize("encoded", [
    lambda text: text.replace("ISO-8859-15", "UTF-8").encode("utf-8"),
    lambda text: b"\xef\xbb\xbf" + text.replace("ISO-8859-15", "UTF-8").encode("utf-8"),
    lambda text: text.split("\n", 1)[1].encode("utf-8"),
    lambda text: text.replace("ISO-8859-15", "windows-1252").replace("Œ", "E").encode("cp1252"),
], ids=["utf-8", "utf-8 with BOM", "no declaration", "windows-1252"])
def test_other_declared_encodings_read_the_same(encoded: Callable[[str], bytes]) -> None:
    text = (COLLEGE / "ElevesAvecAdresses.xml").read_text(encoding="iso-8859-15")
    fichier = parse_eleves(InMemoryFile("ElevesAvecAdresses.xml", encoded(text)), today=TODAY)

    assert _by_id(fichier.eleves)["4001"].prenom == "Éloïse"
    assert fichier.problems == []


@pytest.mark.parametrize(("code", "categorie"), [
    ("0", "Externe"), ("1", "Externe"), ("2", "Demi-pensionnaire"), ("21", "Demi-pensionnaire"),
    ("29", "Demi-pensionnaire"), ("6", "Demi-pensionnaire"), ("3", "Interne"), ("31", "Interne"),
    ("38", "Interne"), ("39", "Interne"), ("4", "Interne"), ("5", "Interne"),
])
def test_categorie_regime_from_the_first_digit(code: str, categorie: str) -> None:
    assert categorie_regime(code) == categorie


@pytest.mark.parametrize("code", ["", "7", "9", "X"])
def test_categorie_regime_refuses_unknown_codes(code: str) -> None:
    with pytest.raises(ValueError, match="code régime inconnu"):
        categorie_regime(code)
