"""Identifiers: normalised `prenom.nom` plus the smallest number making it unique in the academy."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from teleservices.accounts.domain.identifiers import (
    PART_MAX_LENGTH,
    first_given_name,
    identifier,
    identifier_base,
    normalise_part,
)

BASE_PATTERN = re.compile(r"[a-z0-9-]{1,30}\.[a-z0-9-]{1,30}")


@pytest.mark.parametrize(("prenom", "nom", "base"), [
    ("Philippe", "Dupont", "philippe.dupont"),
    ("Éloïse", "N'Diaye", "eloise.ndiaye"),
    ("Jean-Baptiste Marie", "Le Gall", "jean-baptiste.legall"),
    ("Cœur", "Müller", "coeur.muller"),
    ("Straße", "Æsir", "strasse.aesir"),
    ("ŒDIPE", "STRASSE", "oedipe.strasse"),
    ("Anne-Sophie", "De La Fontaine-Dubois", "anne-sophie.delafontaine-dubois"),
    ("François", "Lefèvre", "francois.lefevre"),
    ("Zoé", "O’Neill", "zoe.oneill"),
    ("Ana María", "Núñez García", "ana.nunezgarcia"),
    ("Jérôme", "d'Hérouville-Saint-Clair", "jerome.dherouville-saint-clair"),
])
def test_identifier_base_examples(prenom: str, nom: str, base: str) -> None:
    assert identifier_base(prenom, nom) == base


@pytest.mark.parametrize(("prenom", "first"), [
    ("Marie", "Marie"),
    ("Jean-Baptiste Marie", "Jean-Baptiste"),
    ("Léa, Manon", "Léa"),
    ("Léa,Manon", "Léa"),
    ("  Hugo   Paul ", "Hugo"),
    ("Inès\tClaire", "Inès"),
    ("", ""),
    ("   ", ""),
])
def test_first_given_name_is_the_first_of_prenom(prenom: str, first: str) -> None:
    assert first_given_name(prenom) == first


@pytest.mark.parametrize(("text", "part"), [
    ("Éloïse", "eloise"),
    ("N'Diaye", "ndiaye"),
    ("Le Gall", "legall"),
    ("Cœur", "coeur"),
    ("Lætitia", "laetitia"),
    ("Straße", "strasse"),
    ("GROẞ", "gross"),
    ("Müller", "muller"),
    ("Saint-Exupéry", "saint-exupery"),
    ("Dupont (né Martin)", "dupontnemartin"),
    ("O.Brien_Jr!", "obrienjr"),
])
def test_normalise_part(text: str, part: str) -> None:
    assert normalise_part(text) == part


@pytest.mark.parametrize(("text", "part"), [("Ǽlfred", "aelfred"), ("Hǣl", "hael"), ("Søren", "soren"),
                                            ("Łukasz", "lukasz"), ("Đorđević", "dordevic")])
def test_ligature_with_a_diacritic_is_expanded(text: str, part: str) -> None:
    assert normalise_part(text) == part


def test_each_part_is_cut_to_30_characters() -> None:
    long_prenom = "Maximiliendelaroche" + "x" * 21
    long_nom = "Vandenberghe-" + "Y" * 27
    assert len(long_prenom) == len(long_nom) == 40

    base = identifier_base(long_prenom, long_nom)

    prenom_part, nom_part = base.split(".")
    assert len(prenom_part) == len(nom_part) == PART_MAX_LENGTH == 30
    assert prenom_part == ("maximiliendelaroche" + "x" * 21)[:30]
    assert nom_part == ("vandenberghe-" + "y" * 27)[:30]


def test_cut_applies_after_dropped_characters() -> None:
    nom = "d'" + "a" * 30
    assert identifier_base("Jean", nom) == "jean.d" + "a" * 29


def test_a_name_with_nothing_left_still_gives_a_valid_base() -> None:
    assert BASE_PATTERN.fullmatch(identifier_base("", "李"))
    assert BASE_PATTERN.fullmatch(identifier_base("'''", "   "))


@pytest.mark.parametrize(("base", "number", "expected"), [
    ("philippe.dupont", 1, "philippe.dupont1"),
    ("philippe.dupont", 2, "philippe.dupont2"),
    ("philippe.dupont", 10, "philippe.dupont10"),
])
def test_identifier_adds_the_number(base: str, number: int, expected: str) -> None:
    assert identifier(base, number) == expected


@pytest.mark.parametrize("number", [0, -1])
def test_numbers_start_at_one(number: int) -> None:
    with pytest.raises(ValueError):
        identifier("philippe.dupont", number)


@given(prenom=st.text(), nom=st.text())
def test_any_names_give_a_well_formed_base(prenom: str, nom: str) -> None:
    base = identifier_base(prenom, nom)
    assert BASE_PATTERN.fullmatch(base), base


@given(prenom=st.text(), nom=st.text())
def test_normalisation_is_idempotent_on_the_base(prenom: str, nom: str) -> None:
    prenom_part, nom_part = identifier_base(prenom, nom).split(".")
    assert identifier_base(prenom_part, nom_part) == f"{prenom_part}.{nom_part}"


@given(prenom=st.text(), nom=st.text())
def test_numbers_1_to_1000_give_distinct_identifiers(prenom: str, nom: str) -> None:
    base = identifier_base(prenom, nom)
    identifiers = [identifier(base, n) for n in range(1, 1001)]
    assert len(set(identifiers)) == 1000
    for n, ident in enumerate(identifiers, start=1):
        assert ident == base + str(n)
        assert ident.endswith(str(n))
