"""The online-service catalogue: visibility, opening and closing of services (guide §1.1, §1.2, §2.1)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from teleservices.accounts.domain.catalogue import (
    BOURSE_COLLEGE,
    BOURSE_LYCEE,
    EMPLOI_DU_TEMPS,
    EVALUATION,
    FICHE_RENSEIGNEMENTS,
    INSCRIPTION_LYCEE,
    LIVRET_SCOLAIRE,
    LIVRET_SCOLAIRE_LYCEE,
    NATIONAL_SERVICES,
    NOT_ACTIVATED,
    NOTES,
    PAIEMENT,
    VIE_SCOLAIRE,
    AcademyService,
    Categorie,
    EstablishmentProfile,
    NationalService,
    Perimetre,
    ServiceAvailability,
    SiecleModule,
    academy_service,
    availability,
    catalogue,
    default_open_services,
    effective_open_services,
    set_service_open,
)
from teleservices.accounts.domain.model import ActionRefused

UAI = "0540001A"
OTHER_UAI = "0570002B"
NONE: frozenset[str] = frozenset()
ALL_MODULES = frozenset(SiecleModule)
ALL_PERIMETRES = frozenset(Perimetre)

FULL = EstablishmentProfile(UAI, ALL_MODULES, ALL_PERIMETRES, teleservices_active=True)
"""Uses every SIECLE module and is in every perimeter."""
BARE = EstablishmentProfile(UAI, frozenset(), frozenset(), teleservices_active=True)
"""Uses no SIECLE module and is in no perimeter."""

CAHIER = AcademyService("cahier_textes", "Cahier de textes", "https://cahier.ac-nancy-metz.fr")
EXPERIMENTAL = AcademyService("orientation", "Orientation", "https://orientation.ac-nancy-metz.fr",
                              experimental=True, establishments=frozenset({UAI}))
ACADEMY_SERVICES = (CAHIER, EXPERIMENTAL)


def profile(modules: set[SiecleModule] | frozenset[SiecleModule] = ALL_MODULES,
            perimetres: set[Perimetre] | frozenset[Perimetre] = ALL_PERIMETRES,
            active: bool = True, uai: str = UAI) -> EstablishmentProfile:
    return EstablishmentProfile(uai, frozenset(modules), frozenset(perimetres), active)


# --- the national services --------------------------------------------------------------------------------------


def test_the_national_services_are_those_of_the_guide_in_its_order() -> None:
    assert [service.label for service in NATIONAL_SERVICES] == [
        "Notes", "Évaluation", "Vie scolaire", "Fiche de renseignements", "Livret scolaire (CP - 3e)",
        "Livret scolaire du lycée", "Inscription en ligne au lycée", "Paiement en ligne", "Bourse de collège",
        "Bourse de lycée", "Emploi du temps",
    ]
    assert len({service.code for service in NATIONAL_SERVICES}) == len(NATIONAL_SERVICES)


@pytest.mark.parametrize(("service", "categorie"), [
    (NOTES, Categorie.notes),
    (EVALUATION, Categorie.notes),
    (VIE_SCOLAIRE, Categorie.vie_scolaire),
    (FICHE_RENSEIGNEMENTS, Categorie.fiche_renseignements),
    (LIVRET_SCOLAIRE, Categorie.livret_scolaire),
    (LIVRET_SCOLAIRE_LYCEE, Categorie.livret_scolaire),
    (INSCRIPTION_LYCEE, Categorie.inscription),
    (PAIEMENT, Categorie.paiement),
    (BOURSE_COLLEGE, Categorie.bourses),
    (BOURSE_LYCEE, Categorie.bourses),
    (EMPLOI_DU_TEMPS, Categorie.emploi_du_temps),
    (CAHIER, Categorie.services_academiques),
], ids=lambda value: getattr(value, "code", None))
def test_each_service_is_counted_in_a_statistics_category(service: NationalService | AcademyService,
                                                         categorie: Categorie) -> None:
    assert service.categorie is categorie


@pytest.mark.parametrize("categorie", list(Categorie))
def test_categories_are_named_in_french(categorie: Categorie) -> None:
    assert categorie.value[0].isupper()


# --- availability -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("service", [FICHE_RENSEIGNEMENTS, BOURSE_LYCEE], ids=lambda s: s.code)
def test_nationally_mandatory_services_are_open_and_cannot_be_closed(service: NationalService) -> None:
    result = availability(service, FULL, NONE)
    assert (result.visible, result.can_open, result.can_close, result.mandatory) == (True, True, False, True)
    assert result.reason is not None
    assert "obligatoire au niveau national" in result.reason


def test_a_service_made_mandatory_by_the_recteur_cannot_be_closed() -> None:
    result = availability(LIVRET_SCOLAIRE, FULL, frozenset({"livret_scolaire"}))
    assert (result.can_open, result.can_close, result.mandatory) == (True, False, True)
    assert result.reason is not None
    assert "rendu obligatoire par le recteur" in result.reason


def test_an_academy_service_can_be_made_mandatory_by_the_recteur() -> None:
    assert availability(CAHIER, FULL, frozenset({CAHIER.code})).mandatory


@pytest.mark.parametrize(("service", "module", "module_label"), [
    (NOTES, SiecleModule.notes, "Notes"),
    (EVALUATION, SiecleModule.evaluation, "Évaluation"),
    (VIE_SCOLAIRE, SiecleModule.vie_scolaire, "Vie scolaire"),
    (EMPLOI_DU_TEMPS, SiecleModule.emploi_du_temps, "Emploi du temps"),
], ids=lambda value: getattr(value, "code", None))
def test_a_service_is_greyed_out_without_its_siecle_module(service: NationalService, module: SiecleModule,
                                                          module_label: str) -> None:
    result = availability(service, profile(modules=ALL_MODULES - {module}), NONE)
    assert (result.visible, result.can_open, result.can_close, result.mandatory) == (True, False, True, False)
    assert result.reason is not None
    assert f"n'utilise pas le module « {module_label} » de SIECLE" in result.reason
    assert availability(service, profile(modules={module}), NONE).can_open


def test_the_recteur_cannot_make_open_a_service_whose_module_is_not_used() -> None:
    result = availability(NOTES, profile(modules=set()), frozenset({"notes"}))
    assert (result.can_open, result.mandatory) == (False, False)


@pytest.mark.parametrize(("service", "perimetre", "words"), [
    (BOURSE_COLLEGE, Perimetre.bourse_college, "périmètre de la bourse de collège"),
    (BOURSE_LYCEE, Perimetre.bourse_lycee, "périmètre de la bourse de lycée"),
    (EMPLOI_DU_TEMPS, Perimetre.emploi_du_temps, "périmètre de l'emploi du temps"),
], ids=lambda value: getattr(value, "code", None))
def test_a_service_is_not_shown_outside_its_perimeter(service: NationalService, perimetre: Perimetre,
                                                     words: str) -> None:
    result = availability(service, profile(perimetres=ALL_PERIMETRES - {perimetre}), frozenset({service.code}))
    assert (result.visible, result.can_open, result.can_close, result.mandatory) == (False, False, False, False)
    assert result.reason is not None
    assert words in result.reason
    assert availability(service, profile(perimetres={perimetre}), NONE).visible


def test_emploi_du_temps_needs_both_its_perimeter_and_its_module() -> None:
    in_perimeter_without_module = availability(EMPLOI_DU_TEMPS, profile(modules=set()), NONE)
    assert (in_perimeter_without_module.visible, in_perimeter_without_module.can_open) == (True, False)
    module_outside_perimeter = availability(EMPLOI_DU_TEMPS, profile(perimetres=set()), NONE)
    assert not module_outside_perimeter.visible


@pytest.mark.parametrize("service", [
    LIVRET_SCOLAIRE, LIVRET_SCOLAIRE_LYCEE, INSCRIPTION_LYCEE, PAIEMENT, EVALUATION, CAHIER,
], ids=lambda s: s.code)
def test_an_ordinary_service_can_be_opened_and_closed(service: NationalService | AcademyService) -> None:
    assert availability(service, FULL, NONE) == ServiceAvailability(True, True, True, False, None)


@pytest.mark.parametrize("service", [
    LIVRET_SCOLAIRE, LIVRET_SCOLAIRE_LYCEE, INSCRIPTION_LYCEE, PAIEMENT, FICHE_RENSEIGNEMENTS,
], ids=lambda s: s.code)
def test_services_without_module_or_perimeter_are_offered_to_every_establishment(service: NationalService) -> None:
    assert availability(service, BARE, NONE).can_open


def test_an_experimental_academy_service_is_offered_to_the_listed_establishments_only() -> None:
    listed = availability(EXPERIMENTAL, FULL, NONE)
    assert (listed.visible, listed.can_open, listed.can_close) == (True, True, True)
    other = availability(EXPERIMENTAL, profile(uai=OTHER_UAI), NONE)
    assert (other.visible, other.can_open, other.can_close) == (False, False, False)
    assert other.reason is not None
    assert "établissements retenus par l'académie" in other.reason


def test_a_non_experimental_academy_service_is_offered_to_every_establishment() -> None:
    assert availability(CAHIER, profile(uai=OTHER_UAI, modules=set(), perimetres=set()), NONE).can_open


def test_before_activation_the_screen_is_shown_with_every_button_greyed() -> None:
    inactive = profile(active=False)
    services: list[NationalService | AcademyService] = [*NATIONAL_SERVICES, CAHIER]
    for service in services:
        result = availability(service, inactive, NONE)
        assert (result.visible, result.can_open, result.can_close) == (True, False, False)
        assert result.reason == NOT_ACTIVATED
    assert availability(FICHE_RENSEIGNEMENTS, inactive, NONE).mandatory
    assert not availability(BOURSE_COLLEGE, profile(perimetres=set(), active=False), NONE).visible


# --- default open services --------------------------------------------------------------------------------------


def test_at_activation_everything_openable_is_open_except_paiement_and_evaluation() -> None:
    opened = default_open_services(FULL, NONE, ACADEMY_SERVICES)
    assert opened == {service.code for service in NATIONAL_SERVICES} - {"paiement", "evaluation"} | {
        "cahier_textes", "orientation"}


def test_at_activation_nothing_hidden_or_greyed_is_open() -> None:
    opened = default_open_services(profile(uai=OTHER_UAI, modules=set(), perimetres=set()), NONE, ACADEMY_SERVICES)
    assert opened == {"fiche_renseignements", "livret_scolaire", "livret_scolaire_lycee", "inscription_lycee",
                      "cahier_textes"}


def test_a_mandatory_service_is_open_at_activation_even_if_closed_by_default() -> None:
    assert "paiement" in default_open_services(FULL, frozenset({"paiement"}), ())


def test_default_open_services_do_not_depend_on_the_activation_flag() -> None:
    assert default_open_services(profile(active=False), NONE, ()) == default_open_services(FULL, NONE, ())


@given(st.frozensets(st.sampled_from(list(SiecleModule))), st.frozensets(st.sampled_from(list(Perimetre))),
       st.frozensets(st.sampled_from([s.code for s in NATIONAL_SERVICES] + [CAHIER.code])))
def test_default_open_services_are_visible_openable_and_include_the_mandatory_ones(
        modules: frozenset[SiecleModule], perimetres: frozenset[Perimetre], mandatory: frozenset[str]) -> None:
    establishment = profile(modules, perimetres)
    opened = default_open_services(establishment, mandatory, ACADEMY_SERVICES)
    for code, service in catalogue(ACADEMY_SERVICES).items():
        result = availability(service, establishment, mandatory)
        if code in opened:
            assert result.visible
            assert result.can_open
        if result.mandatory:
            assert code in opened
    assert "paiement" in opened or "paiement" not in mandatory


# --- opening and closing ----------------------------------------------------------------------------------------


def test_opening_and_closing_a_service() -> None:
    opened = set_service_open(frozenset({"notes"}), "paiement", True, FULL, NONE, ())
    assert opened == {"notes", "paiement"}
    assert set_service_open(opened, "paiement", False, FULL, NONE, ()) == {"notes"}


@pytest.mark.parametrize("open_", [True, False])
def test_opening_or_closing_twice_changes_nothing(open_: bool) -> None:
    start = frozenset({"notes"}) if open_ else frozenset()
    assert set_service_open(start, "notes", open_, FULL, NONE, ()) == start


def test_opening_an_academy_service() -> None:
    assert set_service_open(NONE, "cahier_textes", True, FULL, NONE, ACADEMY_SERVICES) == {"cahier_textes"}
    assert set_service_open(NONE, "orientation", True, FULL, NONE, ACADEMY_SERVICES) == {"orientation"}


def test_a_service_whose_module_is_gone_can_still_be_closed() -> None:
    assert set_service_open(frozenset({"notes"}), "notes", False, profile(modules=set()), NONE, ()) == NONE


def refusal(open_services: frozenset[str], code: str, open_: bool, establishment: EstablishmentProfile = FULL,
            mandatory: frozenset[str] = NONE) -> ActionRefused:
    with pytest.raises(ActionRefused) as refused:
        set_service_open(open_services, code, open_, establishment, mandatory, ACADEMY_SERVICES)
    assert refused.value.field == "service"
    return refused.value


@pytest.mark.parametrize(("code", "mandatory", "label"), [
    ("fiche_renseignements", NONE, "Fiche de renseignements"),
    ("bourse_lycee", NONE, "Bourse de lycée"),
    ("livret_scolaire", frozenset({"livret_scolaire"}), "Livret scolaire (CP - 3e)"),
    ("cahier_textes", frozenset({"cahier_textes"}), "Cahier de textes"),
])
def test_closing_a_mandatory_service_is_refused(code: str, mandatory: frozenset[str], label: str) -> None:
    refused = refusal(frozenset({code}), code, False, mandatory=mandatory)
    assert refused.reason == f"Le service « {label} » est obligatoire : il ne peut pas être fermé."


@pytest.mark.parametrize(("code", "module"), [
    ("notes", SiecleModule.notes),
    ("evaluation", SiecleModule.evaluation),
    ("vie_scolaire", SiecleModule.vie_scolaire),
    ("emploi_du_temps", SiecleModule.emploi_du_temps),
])
def test_opening_without_the_siecle_module_is_refused(code: str, module: SiecleModule) -> None:
    refused = refusal(NONE, code, True, profile(modules=ALL_MODULES - {module}))
    assert "n'utilise pas le module" in refused.reason


@pytest.mark.parametrize(("code", "establishment"), [
    ("bourse_college", profile(perimetres=ALL_PERIMETRES - {Perimetre.bourse_college})),
    ("bourse_lycee", profile(perimetres=ALL_PERIMETRES - {Perimetre.bourse_lycee})),
    ("emploi_du_temps", profile(perimetres=ALL_PERIMETRES - {Perimetre.emploi_du_temps})),
    ("orientation", profile(uai=OTHER_UAI)),
])
@pytest.mark.parametrize("open_", [True, False])
def test_changing_a_service_the_establishment_does_not_see_is_refused(code: str, establishment: EstablishmentProfile,
                                                                     open_: bool) -> None:
    refused = refusal(NONE, code, open_, establishment)
    assert "périmètre" in refused.reason or "établissements retenus" in refused.reason


@pytest.mark.parametrize("code", ["cahier", "", "NOTES", "ent"])
def test_an_unknown_service_is_refused(code: str) -> None:
    assert refusal(NONE, code, True).reason == f"Le service en ligne « {code} » n'existe pas."


@pytest.mark.parametrize(("code", "open_"), [("notes", True), ("notes", False), ("paiement", True),
                                             ("inconnu", True)])
def test_any_change_before_activation_is_refused(code: str, open_: bool) -> None:
    refused = refusal(NONE, code, open_, profile(active=False))
    assert refused.reason == "Les téléservices ne sont pas activés pour cet établissement."


# --- what families are offered ----------------------------------------------------------------------------------


def test_families_are_offered_the_open_services_still_available_and_every_mandatory_one() -> None:
    stored = frozenset({"notes", "paiement", "bourse_college", "orientation", "gone"})
    establishment = profile(modules={SiecleModule.vie_scolaire}, perimetres={Perimetre.bourse_lycee}, uai=OTHER_UAI)
    assert effective_open_services(stored, establishment, frozenset({"livret_scolaire"}), ACADEMY_SERVICES) == {
        "paiement", "fiche_renseignements", "bourse_lycee", "livret_scolaire"}


def test_nothing_is_offered_before_activation() -> None:
    assert effective_open_services(frozenset({"notes"}), profile(active=False), NONE, ()) == NONE


# --- academy services -------------------------------------------------------------------------------------------


def test_an_academy_service_is_declared_with_a_web_address() -> None:
    service = academy_service(" cahier_textes ", " Cahier de textes ", " https://cahier.ac-lyon.fr/ ",
                              experimental=True, establishments=["0690001a", UAI])
    assert service == AcademyService("cahier_textes", "Cahier de textes", "https://cahier.ac-lyon.fr/", True,
                                     frozenset({"0690001A", UAI}))


@pytest.mark.parametrize(("kwargs", "field"), [
    ({"code": ""}, "code"),
    ({"code": "Cahier Textes"}, "code"),
    ({"code": "notes"}, "code"),
    ({"label": "  "}, "label"),
    ({"url": "javascript:alert(1)"}, "url"),
    ({"url": "ftp://ac-lyon.fr/cahier"}, "url"),
    ({"url": "/cahier"}, "url"),
    ({"experimental": True, "establishments": []}, "establishments"),
    ({"experimental": True, "establishments": ["054001A"]}, "establishments"),
])
def test_an_invalid_academy_service_is_refused(kwargs: dict[str, object], field: str) -> None:
    arguments: dict[str, object] = {"code": "cahier", "label": "Cahier de textes", "url": "https://cahier.ac-lyon.fr"}
    with pytest.raises(ActionRefused) as refused:
        academy_service(**(arguments | kwargs))  # type: ignore[arg-type]
    assert refused.value.field == field


def test_an_academy_service_never_replaces_a_national_one() -> None:
    impostor = AcademyService("notes", "Fausses notes", "https://notes.example.fr")
    assert catalogue([impostor])["notes"] is NOTES
