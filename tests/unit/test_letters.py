"""Letter templates: the fields staff may use, what each letter must keep, and how fields are filled."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from teleservices.shared.letters import CNIL_MENTION, DEFAULTS, TemplatePart, TemplateRefused, check_template, fill


@pytest.mark.parametrize("part", list(TemplatePart))
def test_every_default_template_is_acceptable(part: TemplatePart) -> None:
    assert check_template(part, DEFAULTS[part]) == DEFAULTS[part]


@pytest.mark.parametrize(("part", "removed"), [
    (TemplatePart.en_tete, "[Nom]"), (TemplatePart.en_tete, "[Adresse ligne 1]"),
    (TemplatePart.en_tete, "[Établissement]"),
    (TemplatePart.responsable_nouveau_compte, "[Adresse des services]"),
    (TemplatePart.responsable_nouveau_compte, "[Identifiant]"),
    (TemplatePart.responsable_nouveau_compte, "[Mot de passe]"),
    (TemplatePart.responsable_nouveau_compte, "[Nom élève]"),
    (TemplatePart.eleve_nouveau_compte, "[Mot de passe]"),
])
def test_a_template_that_lost_a_required_field_is_refused_naming_it(part: TemplatePart, removed: str) -> None:
    with pytest.raises(TemplateRefused) as refused:
        check_template(part, DEFAULTS[part].replace(removed, ""))
    assert removed in refused.value.reason and refused.value.field == part.value


def test_an_unknown_field_or_an_overlong_template_is_refused() -> None:
    with pytest.raises(TemplateRefused, match=r"\[Salaire\] n'existe pas"):
        check_template(TemplatePart.eleve_rappel_identifiant, DEFAULTS[TemplatePart.eleve_rappel_identifiant]
                       + "[Salaire]")
    with pytest.raises(TemplateRefused, match="limité"):
        check_template(TemplatePart.eleve_rappel_identifiant, DEFAULTS[TemplatePart.eleve_rappel_identifiant]
                       + "x" * 7000)


def test_the_pupils_reminder_may_drop_the_pupils_name_but_not_the_identifier() -> None:
    check_template(TemplatePart.eleve_rappel_identifiant, "[Adresse des services] [Identifiant]")
    with pytest.raises(TemplateRefused):
        check_template(TemplatePart.eleve_rappel_identifiant, "[Adresse des services]")


def test_fill_replaces_fields_and_drops_lines_left_empty() -> None:
    text = "[Civilité] [Nom] [Prénom]\n[Adresse ligne 1]\n[Adresse ligne 2]\n\nIdentifiant : [Identifiant]"
    filled = fill(text, {"Civilité": "MME", "Nom": "DUPONT", "Prénom": "Hélène", "Adresse ligne 1": "1 rue A",
                         "Identifiant": "helene.dupont1"})
    assert filled == "MME DUPONT Hélène\n1 rue A\n\nIdentifiant : helene.dupont1"


@given(st.text(max_size=200))
def test_what_staff_type_is_never_interpreted(typed: str) -> None:
    values = {"Nom": "{{ 7*7 }}", "Prénom": "<script>"}
    filled = fill(typed + "[Nom][Prénom]", values)
    assert filled.endswith("{{ 7*7 }}<script>") or "\n" in typed


def test_the_cnil_mention_is_fixed() -> None:
    assert "commission nationale de l'informatique et des libertés" in CNIL_MENTION
