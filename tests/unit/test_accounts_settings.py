"""Settings of an establishment: per-service settings, message d'accueil, ENT and letters, contact, liens utiles."""

from __future__ import annotations

import re
import uuid
from datetime import date
from decimal import Decimal
from html.parser import HTMLParser

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from teleservices.accounts.domain.catalogue import EstablishmentProfile, SiecleModule, set_service_open
from teleservices.accounts.domain.establishment_settings import (
    MESSAGE_MAX_LENGTH,
    BourseCollege,
    BourseLycee,
    ConfigurationNotes,
    ContactEtablissement,
    DatePublication,
    EmploiDuTemps,
    EntEtCourrier,
    LienEntPredefini,
    LiensUtiles,
    MessageAccueil,
    PaiementEnLigne,
    PublicationNotes,
    TipiMatch,
    TypeCourrier,
    adresse_des_services,
    check_tipi,
    configure_bourse_college,
    configure_bourse_lycee,
    configure_contact,
    configure_emploi_du_temps,
    configure_ent_et_courrier,
    configure_paiement,
    sanitise_message_html,
    shows_ent_tile,
    validate_email,
    validate_url,
    write_message_accueil,
)
from teleservices.accounts.domain.model import ActionRefused

CLOSED_NOTES = "Le service Notes est fermé : le paramétrage n'est pas modifiable."
CLOSED_EDT = "Le service Emploi du temps est fermé : le paramétrage n'est pas modifiable."


def refused(field: str, call, *args, **kwargs) -> str:  # type: ignore[no-untyped-def]
    """Run `call`, expect ActionRefused naming `field`, return its French reason."""
    with pytest.raises(ActionRefused) as refusal:
        call(*args, **kwargs)
    assert refusal.value.field == field
    return refusal.value.reason


# --- email and web addresses ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("typed", "kept"), [
    ("ce.0540001a@ac-nancy-metz.fr", "ce.0540001a@ac-nancy-metz.fr"),
    ("  Secretariat@AC-Nancy-Metz.FR ", "Secretariat@ac-nancy-metz.fr"),
    ("o'neill+bourses@college.example.org", "o'neill+bourses@college.example.org"),
    ("intendance@éducation.fr", "intendance@éducation.fr"),
    ("a@b.xn--p1ai", "a@b.xn--p1ai"),
])
def test_valid_email_addresses_are_kept_with_their_domain_lower_cased(typed: str, kept: str) -> None:
    assert validate_email(typed, "adresse_messagerie") == kept


@pytest.mark.parametrize("typed", [
    "secretariat", "secretariat@", "@ac-lyon.fr", "a@@ac-lyon.fr", "a@ac-lyon", "a@ac_lyon.fr", "a b@ac-lyon.fr",
    "a@ac-lyon.fr.", "a@-ac.fr", "a@ac-.fr", ".a@ac-lyon.fr", "a..b@ac-lyon.fr", "a@ac-lyon.f", "a@ac-lyon.123",
    "a@ac-lyon.fr\nBcc: x@evil.fr", "a\n@ac-lyon.fr", "<a@ac-lyon.fr>", "a@ac-lyon.fr<script>", "\"a b\"@ac-lyon.fr",
    "x" * 65 + "@ac-lyon.fr", "a@" + "b" * 64 + ".fr", "a@" + ("b" * 60 + ".") * 5 + "fr", "élève@ac-lyon.fr",
])
def test_invalid_email_addresses_are_refused_naming_the_field(typed: str) -> None:
    assert refused("courriel_contact", validate_email, typed, "courriel_contact") == (
        "L'adresse de messagerie n'est pas valide.")


@pytest.mark.parametrize("typed", [None, "", "   "])
def test_an_email_address_is_required(typed: str | None) -> None:
    assert refused("adresse_messagerie", validate_email, typed, "adresse_messagerie") == (
        "L'adresse de messagerie est obligatoire.")


@given(st.text(max_size=80))
@example("A@B.CD")
def test_any_accepted_email_is_one_address_with_a_lower_case_domain(typed: str) -> None:
    try:
        address = validate_email(typed, "adresse_messagerie")
    except ActionRefused as refusal:
        assert refusal.field == "adresse_messagerie"
        return
    local, domain = address.split("@")
    assert local
    assert domain == domain.lower()
    assert not any(c.isspace() or c in "<>\"()," for c in address)


@pytest.mark.parametrize(("typed", "kept"), [
    ("https://www.ac-nancy-metz.fr", "https://www.ac-nancy-metz.fr"),
    ("  http://college-langevin.fr/ent?x=1&y=2#haut ", "http://college-langevin.fr/ent?x=1&y=2#haut"),
    ("HTTPS://ENT.Example.ORG:8443/portail", "HTTPS://ENT.Example.ORG:8443/portail"),
    ("https://192.0.2.10/ent", "https://192.0.2.10/ent"),
    ("https://[2001:db8::1]/ent", "https://[2001:db8::1]/ent"),
    ("https://éducation.fr/", "https://éducation.fr/"),
])
def test_valid_web_addresses_are_kept(typed: str, kept: str) -> None:
    assert validate_url(typed, "url") == kept


@pytest.mark.parametrize(("typed", "words"), [
    ("javascript:alert(1)", "http:// ou https://"),
    ("JavaScript:alert(document.cookie)", "http:// ou https://"),
    ("ftp://ftp.ac-lyon.fr/pub", "http:// ou https://"),
    ("data:text/html,<script>alert(1)</script>", "ni espace"),
    ("data:text/html;base64,PHNjcmlwdD4=", "http:// ou https://"),
    ("vbscript:msgbox", "http:// ou https://"),
    ("/ent/accueil", "http:// ou https://"),
    ("ent/accueil", "http:// ou https://"),
    ("//ent.ac-lyon.fr", "http:// ou https://"),
    ("www.ac-lyon.fr", "http:// ou https://"),
    ("http:/ent.ac-lyon.fr", "http:// ou https://"),
    ("https:ent.ac-lyon.fr", "http:// ou https://"),
    ("https://", "nom de domaine"),
    ("https:///chemin", "nom de domaine"),
    ("https://localhost/ent", "nom de domaine"),
    ("https://ent_lyon.fr", "nom de domaine"),
    ("https://999.1.1.1/", "nom de domaine"),
    ("https://[fe80::zz]/", "nom de domaine"),
    ("https://[2001:db8::1/", "nom de domaine"),
    ("https://ent.fr]/", "nom de domaine"),
    ("https://ent.ac-lyon.fr:99999/", "port"),
    ("https://ent.ac-lyon.fr:0/", "port"),
    ("https://ac-lyon.fr@evil.example.com/", "ni identifiant ni mot de passe"),
    ("https://user:secret@ent.ac-lyon.fr/", "ni identifiant ni mot de passe"),
    ("https://ent.ac-lyon.fr/a b", "ni espace"),
    ("java\tscript:alert(1)", "ni espace"),
    ("https://ent.ac-lyon.fr/\x00", "ni espace"),
    ("https://ent.ac-lyon.fr/\u202e", "ni espace"),
    ("https://ent.ac-lyon.fr/\"onmouseover=\"x", "ni espace"),
    ("https:\\\\evil.example.com", "ni espace"),
    ("https://ent.ac-lyon.fr/" + "a" * 2000, "limitée à 2000"),
])
def test_invalid_web_addresses_are_refused_naming_the_field(typed: str, words: str) -> None:
    assert words in refused("lien_ent", validate_url, typed, "lien_ent")


@pytest.mark.parametrize("typed", [None, "", " \t "])
def test_a_web_address_is_required(typed: str | None) -> None:
    assert refused("url", validate_url, typed, "url") == "L'adresse internet est obligatoire."


LABELS = st.from_regex(r"[a-z0-9]([a-z0-9-]{0,10}[a-z0-9])?", fullmatch=True)
PATHS = st.from_regex(r"(/[A-Za-z0-9._~%!$&'()*+,;=:@-]*)*", fullmatch=True)


@given(st.sampled_from(["http", "https", "HTTPS"]), st.lists(LABELS, min_size=1, max_size=3),
       st.sampled_from(["fr", "org", "education"]), PATHS)
def test_well_formed_web_addresses_are_accepted(scheme: str, labels: list[str], top: str, path: str) -> None:
    url = f"{scheme}://{'.'.join(labels)}.{top}{path}"
    assert validate_url(url, "url") == url


@given(st.text(max_size=60))
@example("javascript://ac-lyon.fr/%0Aalert(1)")
@example(" https://ac-lyon.fr")
def test_any_accepted_web_address_is_absolute_http_or_https(typed: str) -> None:
    try:
        url = validate_url(typed, "url")
    except ActionRefused as refusal:
        assert refusal.field == "url"
        return
    assert re.match(r"https?://[^/?#\s]", url, re.IGNORECASE)
    assert not any(c.isspace() for c in url)


# --- Configuration Notes (§2.2) ---------------------------------------------------------------------------------

DIVISIONS = frozenset({"3A", "3B", "1STMG 1"})
MEF_3E = "10310019110"
MEF_1STMG = "21133101110"


def test_notes_are_published_au_fil_de_l_eau_until_the_establishment_chooses_otherwise() -> None:
    configuration = ConfigurationNotes()
    assert configuration.publication is PublicationNotes.au_fil_de_l_eau
    assert configuration.dates == ()
    changed = configuration.with_publication(PublicationNotes.a_echeance, service_open=True)
    assert changed.publication is PublicationNotes.a_echeance
    assert configuration.with_publication("a_echeance", service_open=True) == changed  # type: ignore[arg-type]


def test_an_unknown_publication_mode_is_refused() -> None:
    assert "au fil de l'eau" in refused("publication", ConfigurationNotes().with_publication, "hebdomadaire",
                                        service_open=True)


def test_publication_dates_are_added_and_removed_per_mef_and_division() -> None:
    configuration = ConfigurationNotes(PublicationNotes.a_echeance)
    configuration = configuration.add_date(MEF_1STMG, "1STMG 1", date(2012, 12, 12), DIVISIONS, service_open=True)
    configuration = configuration.add_date(MEF_3E, "3B", date(2013, 3, 22), DIVISIONS, service_open=True)
    configuration = configuration.add_date(MEF_3E, "3A", date(2013, 3, 22), DIVISIONS, service_open=True)
    configuration = configuration.add_date(MEF_3E, "3A", date(2012, 12, 14), DIVISIONS, service_open=True)
    assert configuration.dates == (
        DatePublication(MEF_3E, "3A", date(2012, 12, 14)),
        DatePublication(MEF_3E, "3A", date(2013, 3, 22)),
        DatePublication(MEF_3E, "3B", date(2013, 3, 22)),
        DatePublication(MEF_1STMG, "1STMG 1", date(2012, 12, 12)),
    )
    configuration = configuration.remove_date(MEF_3E, "3A", date(2013, 3, 22), service_open=True)
    assert DatePublication(MEF_3E, "3A", date(2013, 3, 22)) not in configuration.dates
    assert len(configuration.dates) == 3


@pytest.mark.parametrize("division", ["3C", "", "3a", "1STMG1"])
def test_a_date_for_a_division_the_establishment_does_not_have_is_refused(division: str) -> None:
    reason = refused("division", ConfigurationNotes().add_date, MEF_3E, division, date(2013, 1, 1), DIVISIONS,
                     service_open=True)
    assert reason == f"La division « {division} » n'existe pas dans l'établissement."


def test_a_date_needs_its_mef() -> None:
    assert refused("code_mef", ConfigurationNotes().add_date, " ", "3A", date(2013, 1, 1), DIVISIONS,
                   service_open=True) == "Le MEF est obligatoire."


def test_the_same_date_twice_for_a_mef_and_division_is_refused() -> None:
    once = ConfigurationNotes().add_date(MEF_3E, "3A", date(2013, 1, 1), DIVISIONS, service_open=True)
    assert "existe déjà" in refused("date", once.add_date, MEF_3E, "3A", date(2013, 1, 1), DIVISIONS,
                                    service_open=True)


def test_removing_a_date_that_does_not_exist_is_refused() -> None:
    once = ConfigurationNotes().add_date(MEF_3E, "3A", date(2013, 1, 1), DIVISIONS, service_open=True)
    assert "n'existe pas" in refused("date", once.remove_date, MEF_3E, "3B", date(2013, 1, 1), service_open=True)


@pytest.mark.parametrize("change", [
    lambda c: c.with_publication(PublicationNotes.a_echeance, service_open=False),
    lambda c: c.add_date(MEF_3E, "3B", date(2013, 1, 1), DIVISIONS, service_open=False),
    lambda c: c.remove_date(MEF_3E, "3A", date(2013, 1, 1), service_open=False),
], ids=["publication", "add", "remove"])
def test_the_notes_menu_is_not_editable_while_notes_is_closed(change) -> None:  # type: ignore[no-untyped-def]
    configuration = ConfigurationNotes().add_date(MEF_3E, "3A", date(2013, 1, 1), DIVISIONS, service_open=True)
    assert refused("service", change, configuration) == CLOSED_NOTES


def test_the_notes_configuration_is_kept_while_the_service_is_closed() -> None:
    establishment = EstablishmentProfile("0540001A", frozenset({SiecleModule.notes}), teleservices_active=True)
    configuration = ConfigurationNotes(PublicationNotes.a_echeance).add_date(
        MEF_3E, "3A", date(2013, 1, 1), DIVISIONS, service_open=True)
    opened = set_service_open(frozenset({"notes"}), "notes", False, establishment, frozenset(), ())
    opened = set_service_open(opened, "notes", True, establishment, frozenset(), ())
    assert "notes" in opened
    assert configuration.publication is PublicationNotes.a_echeance
    assert configuration.dates == (DatePublication(MEF_3E, "3A", date(2013, 1, 1)),)
    switched = configuration.with_publication(PublicationNotes.au_fil_de_l_eau, service_open=True)
    assert switched.dates == configuration.dates


# --- Paiement en ligne des factures (§2.3) ----------------------------------------------------------------------

TIPI_REFERENCE = {"012345": "COLLEGE LANGEVIN WALLON BLAINVILLE", "7": "LYCEE TEST"}


@pytest.mark.parametrize(("typed", "match"), [
    ("012345", TipiMatch("012345", "COLLEGE LANGEVIN WALLON BLAINVILLE")),
    (" 7 ", TipiMatch("7", "LYCEE TEST")),
])
def test_a_tipi_number_found_in_the_reference_is_shown_for_confirmation(typed: str, match: TipiMatch) -> None:
    assert check_tipi(typed, TIPI_REFERENCE) == match


@pytest.mark.parametrize("typed", ["", "1234567", "12a45", "-12345", "12 345", "١٢٣", "12.5"])
def test_a_tipi_number_is_one_to_six_digits(typed: str) -> None:
    assert refused("numero_tipi", check_tipi, typed, TIPI_REFERENCE) == (
        "Le numéro de client TIPI ne comporte que des chiffres (6 au plus).")


@pytest.mark.parametrize("typed", ["12345", "123456", "07", "8"])
def test_a_tipi_number_not_in_the_reference_is_refused(typed: str) -> None:
    assert refused("numero_tipi", check_tipi, typed, TIPI_REFERENCE) == (
        "Le numéro de client TIPI n'a pas été trouvé dans le référentiel.")


@pytest.mark.parametrize(("typed", "amount"), [
    ("0", Decimal("0.00")), ("15", Decimal("15.00")), ("15.5", Decimal("15.50")), ("15,50", Decimal("15.50")),
    (" 1 000,00 ", Decimal("1000.00")), ("1\u202f000", Decimal("1000.00")), (Decimal("2.5"), Decimal("2.50")),
    (Decimal("3.000"), Decimal("3.00")), (3, Decimal("3.00")), (0, Decimal("0.00")),
])
def test_the_minimum_amount_is_zero_or_more_with_at_most_two_decimals(typed: Decimal | int | str,
                                                                      amount: Decimal) -> None:
    settings = configure_paiement("012345", typed, "Intendance@AC-Nancy-Metz.fr", TIPI_REFERENCE)
    assert settings == PaiementEnLigne("012345", "COLLEGE LANGEVIN WALLON BLAINVILLE", amount,
                                       "Intendance@ac-nancy-metz.fr")
    assert str(settings.montant_minimum) == str(amount)


@pytest.mark.parametrize("typed", [
    "-1", "1.234", "1,234", "abc", "", "NaN", "Infinity", "1e3", "1.", ".5", "--1", Decimal("NaN"),
    Decimal("-0.01"), Decimal("0.001"), Decimal("Infinity"), -1, True,
])
def test_an_invalid_minimum_amount_is_refused(typed: Decimal | int | str) -> None:
    assert refused("montant_minimum", configure_paiement, "012345", typed, "a@ac-lyon.fr", TIPI_REFERENCE) == (
        "Le montant minimum doit être un nombre positif ou nul, avec au plus deux décimales.")


@given(st.decimals(min_value=0, max_value=10**6, places=2, allow_nan=False, allow_infinity=False))
def test_any_amount_in_cents_is_accepted_as_typed(amount: Decimal) -> None:
    typed = format(amount, "f").replace(".", ",")
    assert configure_paiement("7", typed, "a@ac-lyon.fr", TIPI_REFERENCE).montant_minimum == amount


@pytest.mark.parametrize(("numero", "courriel", "field"), [
    ("999999", "a@ac-lyon.fr", "numero_tipi"),
    ("012345", "", "adresse_messagerie"),
    ("012345", "intendance", "adresse_messagerie"),
])
def test_paiement_settings_are_refused_naming_the_wrong_field(numero: str, courriel: str, field: str) -> None:
    refused(field, configure_paiement, numero, "10", courriel, TIPI_REFERENCE)


# --- Emploi du temps (§2.4) -------------------------------------------------------------------------------------


@pytest.mark.parametrize("weeks", range(1, 11))
def test_one_to_ten_weeks_of_timetable_are_shown(weeks: int) -> None:
    assert configure_emploi_du_temps(weeks, service_open=True) == EmploiDuTemps(weeks)


@pytest.mark.parametrize("weeks", [0, 11, -1, 52, True, 2.5, "3"])
def test_another_number_of_weeks_is_refused(weeks: int) -> None:
    assert "entre 1 et 10, semaine en cours comprise" in refused(
        "nombre_semaines", configure_emploi_du_temps, weeks, service_open=True)


@pytest.mark.parametrize("weeks", [2, 0])
def test_the_timetable_settings_are_not_editable_while_the_service_is_closed(weeks: int) -> None:
    assert refused("service", configure_emploi_du_temps, weeks, service_open=False) == CLOSED_EDT


# --- Bourses (§2.5, §2.6) ---------------------------------------------------------------------------------------


def test_the_bourse_de_college_contact_address_is_required() -> None:
    assert configure_bourse_college(" Bourses@College.FR ") == BourseCollege("Bourses@college.fr")
    for typed in (None, "", "  "):
        assert refused("adresse_messagerie", configure_bourse_college, typed) == (
            "L'adresse de messagerie est obligatoire.")
    refused("adresse_messagerie", configure_bourse_college, "bourses@")


@pytest.mark.parametrize(("typed", "settings", "tab"), [
    (None, BourseLycee(None), False),
    ("", BourseLycee(None), False),
    ("   ", BourseLycee(None), False),
    ("bourses@lycee.FR", BourseLycee("bourses@lycee.fr"), True),
])
def test_the_bourse_de_lycee_contact_tab_exists_only_with_an_address(typed: str | None, settings: BourseLycee,
                                                                     tab: bool) -> None:
    assert configure_bourse_lycee(typed) == settings
    assert settings.shows_contact_tab is tab


def test_an_invalid_bourse_de_lycee_address_is_refused() -> None:
    refused("adresse_messagerie", configure_bourse_lycee, "bourses lycee@fr")


# --- Message d'accueil (§2.7) -----------------------------------------------------------------------------------

LINK = ' rel="noopener noreferrer" target="_blank"'


@pytest.mark.parametrize(("typed", "shown"), [
    ("Bienvenue !", "Bienvenue !"),
    ("<p>Réunion <strong>parents</strong> le <em>12</em></p>",
     "<p>Réunion <strong>parents</strong> le <em>12</em></p>"),
    ('<a href="https://www.ac-nancy-metz.fr/">Académie</a>',
     f'<a href="https://www.ac-nancy-metz.fr/"{LINK}>Académie</a>'),
    ("<A HREF='http://a.fr/?x=1&y=2'>x</A>", f'<a href="http://a.fr/?x=1&amp;y=2"{LINK}>x</a>'),
    ('<a href="https://a.fr" rel="opener" target="_self" onclick="x()">x</a>', f'<a href="https://a.fr"{LINK}>x</a>'),
    ("<ul><li>un</li><li>deux</ul><ol><li>a</ol>", "<ul><li>un</li><li>deux</li></ul><ol><li>a</li></ol>"),
    ("un<br>deux<br/>trois<BR />", "un<br>deux<br>trois<br>"),
    ("<p>un<p>deux", "<p>un</p><p>deux</p>"),
    ("<ul><li>a<li>b</ul>", "<ul><li>a</li><li>b</li></ul>"),
    ("<strong><em>x</strong></em>", "<strong><em>x</em></strong>"),
    ("<p style=\"color:red\" class=\"x\">rouge</p>", "<p>rouge</p>"),
    ('<font color="red">texte</font> <span>ici</span>', "texte ici"),
    ("<script>alert(1)</script>après", "après"),
    ("<SCRIPT SRC=//evil.fr/x.js></SCRIPT>après", "après"),
    ("<script>document.write('<p>')</script>ok", "ok"),
    ("<style>body{display:none}</style>ok", "ok"),
    ("<img src=x onerror=alert(1)>", ""),
    ('<img src="x" onerror="alert(\'1\')">texte', "texte"),
    ("<svg onload=alert(1)><text>x</text></svg>ok", "ok"),
    ("<iframe src=https://evil.fr></iframe>ok", "ok"),
    ("<p onclick=alert(1)>x</p>", "<p>x</p>"),
    ('<a href=" javascript:alert(1)">x</a>', "x"),
    ('<a href="javascript:alert(1)">x</a>', "x"),
    ('<a href="JaVaScRiPt:alert(1)">x</a>', "x"),
    ('<a href="&#106;avascript:alert(1)">x</a>', "x"),
    ('<a href="&#x6A;avascript&#x3A;alert(1)">x</a>', "x"),
    ('<a href="java&#9;script:alert(1)">x</a>', "x"),
    ('<a href="java\nscript:alert(1)">x</a>', "x"),
    ('<a href="data:text/html;base64,PHNjcmlwdD4=">x</a>', "x"),
    ('<a href="/relatif">x</a>', "x"),
    ("<a>x</a>", "x"),
    ("<a href>x</a>", "x"),
    ('<a href="https://ok.fr/" href="javascript:alert(1)">x</a>', f'<a href="https://ok.fr/"{LINK}>x</a>'),
    ('<a href="https://ok.fr/&quot; onmouseover=&quot;alert(1)">x</a>', "x"),
    ("<a href='https://ok.fr/\"onmouseover=\"alert(1)'>x</a>", "x"),
    ('<a href="https://ok.fr/">x<a href="https://b.fr">y</a>',
     f'<a href="https://ok.fr/"{LINK}>x</a><a href="https://b.fr"{LINK}>y</a>'),
    ('<a href="https://ok.fr/">sans fin', f'<a href="https://ok.fr/"{LINK}>sans fin</a>'),
    ("&lt;script&gt;alert(1)&lt;/script&gt;", "&lt;script&gt;alert(1)&lt;/script&gt;"),
    ("Tom &amp; Jerry &eacute;t&eacute; &#x3C;b&#x3E;", "Tom &amp; Jerry été &lt;b&gt;"),
    ("javascript:alert(1)", "javascript&#58;alert(1)"),
    ("java<b></b>script:alert(1)", "javascript&#58;alert(1)"),
    ("<scr<script>ipt>alert(1)</script>", "ipt&gt;alert(1)"),
    ("a < b > c \"d\" 'e'", "a &lt; b &gt; c &quot;d&quot; &#x27;e&#x27;"),
    ("<!-- <script>alert(1)</script> -->ok", "ok"),
    ("<![CDATA[<script>alert(1)</script>]]>ok", "ok"),
    ("<![foo[ <b>x</b> ]]>", "&lt;![foo[ &lt;b&gt;x&lt;/b&gt; ]]&gt;"),
    ("<!DOCTYPE html><?xml version='1.0'?>ok", "ok"),
    ("<p", "&lt;p"),
    ("</p>orphelin</li>", "orphelin"),
    ("<textarea><p>x</p></textarea>ok", "ok"),
    ("<template><a href='https://a.fr'>x</a></template>ok", "ok"),
    ("<noscript><p>x</p></noscript>ok", "ok"),
    ("<math><mi>x</mi></math>ok", "ok"),
])
def test_the_message_keeps_only_safe_html(typed: str, shown: str) -> None:
    assert sanitise_message_html(typed) == shown


def test_the_message_is_kept_as_typed_and_shown_sanitised() -> None:
    typed = '<p>Bonjour</p><script>x</script><a href="https://ac-lyon.fr">site</a>'
    assert write_message_accueil(typed) == MessageAccueil(
        typed, f'<p>Bonjour</p><a href="https://ac-lyon.fr"{LINK}>site</a>')


def test_an_empty_message_is_allowed() -> None:
    assert write_message_accueil("") == MessageAccueil("", "")


@pytest.mark.parametrize("length", [0, 1, 1999, 2000])
def test_a_message_of_up_to_2000_characters_is_accepted(length: int) -> None:
    assert write_message_accueil("é" * length).texte == "é" * length


@pytest.mark.parametrize("length", [2001, 2500, 10_000])
def test_a_message_over_2000_characters_is_refused(length: int) -> None:
    assert refused("message", write_message_accueil, "x" * length) == (
        f"Le message d'accueil est limité à 2000 caractères ({length} saisis).")


def test_the_length_is_counted_on_the_text_as_typed_not_on_the_html_shown() -> None:
    typed = '<a href="https://a.fr">x</a>' * (MESSAGE_MAX_LENGTH // 28)
    assert len(typed) <= MESSAGE_MAX_LENGTH
    assert len(write_message_accueil(typed).html) > MESSAGE_MAX_LENGTH
    assert "(2001 saisis)" in refused("message", write_message_accueil, "<b>" + "x" * 1998)


def test_a_line_break_counts_as_one_character_whatever_the_browser_sends() -> None:
    assert write_message_accueil("a\r\n" * 1000).texte == "a\n" * 1000
    refused("message", write_message_accueil, "a\r\n" * 1000 + "b")


TAG = re.compile(r"<[^>]*>")
SAFE_TAG = re.compile(r'</?(?:p|strong|em|ul|ol|li)>|<br>|</a>|<a href="https?://[^"\s<>]+"'
                      r' rel="noopener noreferrer" target="_blank">')
FRAGMENTS = st.sampled_from([
    "<script>", "</script>", "<SCRIPT>", "<scr", "ipt>", "<a href=\"", "<a href='", "<a href=", "href=", "\"", "'",
    ">", "<", "/", "=", " ", "\t", "\n", "javascript:", "JaVaScRiPt:", "java", "script", ":", "&#106;", "&#x3A;",
    "&lt;", "&gt;", "&quot;", "&", "#", ";", "https://ok.fr/", "http://a.b.fr", "onerror=", " onclick=", " on",
    "<img src=x ", "<svg onload=alert(1)>", "<p>", "</p>", "<li>", "<ul>", "</ul>", "<br/>", "<br>", "</a>",
    "<strong>", "</em>", "<style>", "</style>", "<!--", "-->", "<![CDATA[", "]]>", "<![if ", "<!", "<?", "?>",
    "<textarea>", "</textarea>", "<iframe>", "data:", "alert(1)", "\x00", "\u202e",
])
MESSAGES = st.one_of(st.text(), st.lists(st.one_of(FRAGMENTS, st.text(max_size=5)), max_size=40).map("".join))


class _Structure(HTMLParser):
    """Reads back a sanitised message: its tags must nest properly."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.open: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        assert not any(name.startswith("on") for name, _ in attrs)
        if tag != "br":
            self.open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        assert self.open.pop() == tag


@given(MESSAGES)
@example('<a href="https://ok.fr/">x<a href=" javascript:alert(1)">y</a>')
@example("<a href='https://x.fr/javascript:alert(1)'>x</a>")
def test_whatever_is_typed_the_shown_message_holds_no_script(typed: str) -> None:
    shown = sanitise_message_html(typed)
    assert "<script" not in shown.lower()
    assert "javascript:" not in shown.lower()
    assert all(SAFE_TAG.fullmatch(tag) for tag in TAG.findall(shown))
    assert not re.search(r"[<>\"]", TAG.sub("", shown))
    structure = _Structure()
    structure.feed(shown)
    structure.close()
    assert structure.open == []
    assert sanitise_message_html(shown) == shown


@given(MESSAGES)
def test_whatever_is_typed_the_length_rule_holds(typed: str) -> None:
    length = len(typed.replace("\r\n", "\n"))
    if length <= MESSAGE_MAX_LENGTH:
        assert write_message_accueil(typed).html == sanitise_message_html(typed.replace("\r\n", "\n"))
    else:
        assert refused("message", write_message_accueil, typed).endswith(f"({length} saisis).")


@given(st.text(max_size=300).filter(lambda text: "<" not in text and "&" not in text))
def test_plain_text_reads_the_same_once_shown(typed: str) -> None:
    shown = sanitise_message_html(typed)

    class _Text(HTMLParser):
        def __init__(self) -> None:
            super().__init__(convert_charrefs=True)
            self.text = ""

        def handle_data(self, data: str) -> None:
            self.text += data

    reader = _Text()
    reader.feed(shown)
    reader.close()
    assert reader.text == typed


# --- ENT et courrier de notification (§2.8) ---------------------------------------------------------------------

PORTAL = "https://teleservices.ac-nancy-metz.fr"
ENT_ACADEMIQUE = LienEntPredefini("placedulycee", "Place du lycée", "https://www.place-du-lycee.fr")
PREDEFINED = [ENT_ACADEMIQUE, LienEntPredefini("monbureau", "Mon bureau numérique", "https://mbn.education.fr")]


@pytest.mark.parametrize(("member", "label"), [
    (TypeCourrier.teleservices, "Téléservices"),
    (TypeCourrier.mixte, "Mixte ENT/Téléservices"),
    (TypeCourrier.ent_seul, "ENT seul"),
])
def test_letter_types_carry_the_guides_labels(member: TypeCourrier, label: str) -> None:
    assert member == label
    assert TypeCourrier(label) is member


@pytest.mark.parametrize("type_courrier", [TypeCourrier.mixte, TypeCourrier.ent_seul])
def test_an_ent_link_is_chosen_from_the_academy_list(type_courrier: TypeCourrier) -> None:
    settings = configure_ent_et_courrier(type_courrier, PREDEFINED, lien_ent_predefini="placedulycee")
    assert settings == EntEtCourrier(type_courrier, lien_ent_predefini=ENT_ACADEMIQUE)
    assert settings.ent_url == "https://www.place-du-lycee.fr"


@pytest.mark.parametrize("type_courrier", [TypeCourrier.mixte, TypeCourrier.ent_seul])
def test_an_ent_link_is_the_establishments_own_address(type_courrier: TypeCourrier) -> None:
    settings = configure_ent_et_courrier(type_courrier, PREDEFINED, lien_ent_specifique=" https://ent.college.fr ")
    assert settings == EntEtCourrier(type_courrier, lien_ent_specifique="https://ent.college.fr")
    assert settings.ent_url == "https://ent.college.fr"


def test_with_teleservices_letters_no_ent_link_is_kept() -> None:
    settings = configure_ent_et_courrier(TypeCourrier.teleservices, PREDEFINED, lien_ent_predefini="placedulycee",
                                         lien_ent_specifique="javascript:alert(1)")
    assert settings == EntEtCourrier(TypeCourrier.teleservices)
    assert settings.ent_url is None


@pytest.mark.parametrize("type_courrier", [TypeCourrier.mixte, TypeCourrier.ent_seul])
@pytest.mark.parametrize(("predefini", "specifique", "words"), [
    (None, None, "nécessite un lien ENT"),
    ("", "  ", "nécessite un lien ENT"),
    ("inconnu", None, "liste prédéfinie par l'académie"),
    ("placedulycee", "https://ent.college.fr", "pas les deux"),
    (None, "javascript:alert(1)", "http:// ou https://"),
    (None, "ent.college.fr", "http:// ou https://"),
    (None, "ftp://ent.college.fr", "http:// ou https://"),
])
def test_mixte_and_ent_seul_need_one_valid_ent_link(type_courrier: TypeCourrier, predefini: str | None,
                                                    specifique: str | None, words: str) -> None:
    reason = refused("lien_ent", configure_ent_et_courrier, type_courrier, PREDEFINED,
                     lien_ent_predefini=predefini, lien_ent_specifique=specifique)
    assert words in reason


@pytest.mark.parametrize(("type_courrier", "printed"), [
    (TypeCourrier.teleservices, PORTAL),
    (TypeCourrier.mixte, PORTAL),
    (TypeCourrier.ent_seul, "https://ent.college.fr"),
])
def test_letters_give_one_address_depending_on_their_type(type_courrier: TypeCourrier, printed: str) -> None:
    assert adresse_des_services(type_courrier, PORTAL, "https://ent.college.fr") == printed


def test_ent_seul_letters_cannot_be_printed_without_the_ent_address() -> None:
    refused("lien_ent", adresse_des_services, TypeCourrier.ent_seul, PORTAL, None)
    assert adresse_des_services(TypeCourrier.teleservices, PORTAL, None) == PORTAL


@pytest.mark.parametrize(("type_courrier", "tile"), [
    (TypeCourrier.teleservices, False),
    (TypeCourrier.mixte, True),
    (TypeCourrier.ent_seul, True),
])
def test_scolarite_services_links_to_the_ent_except_with_teleservices_letters(type_courrier: TypeCourrier,
                                                                             tile: bool) -> None:
    assert shows_ent_tile(type_courrier) is tile


# --- Contact établissement (§2.9) -------------------------------------------------------------------------------

ADDRESSES = ["ce.0540001A@ac-nancy-metz.fr", "secretariat@college-langevin.fr"]


@pytest.mark.parametrize(("typed", "kept"), [
    ("secretariat@college-langevin.fr", "secretariat@college-langevin.fr"),
    (" ce.0540001A@AC-NANCY-METZ.FR ", "ce.0540001A@ac-nancy-metz.fr"),
])
@pytest.mark.parametrize("actif", [True, False])
def test_the_contact_address_is_one_of_the_establishments(typed: str, kept: str, actif: bool) -> None:
    contact = configure_contact(typed, actif, ADDRESSES)
    assert contact == ContactEtablissement(kept, actif)
    assert contact.shown_address == (kept if actif else None)


@pytest.mark.parametrize("typed", ["parent@gmail.com", "CE.0540001A@ac-nancy-metz.fr", "secretariat"])
def test_another_contact_address_is_refused(typed: str) -> None:
    assert refused("adresse_contact", configure_contact, typed, True, ADDRESSES) == (
        "L'adresse de contact doit être l'une des adresses de messagerie de l'établissement.")


@pytest.mark.parametrize("actif", [True, False])
def test_without_any_establishment_address_the_contact_cannot_be_set(actif: bool) -> None:
    reason = refused("adresse_contact", configure_contact, "secretariat@college-langevin.fr", actif, [])
    assert "Aucune adresse de messagerie n'est définie" in reason
    assert "la liste déroulante et le bouton « Valider » sont grisés" in reason


def test_an_inactive_contact_needs_no_address_but_an_active_one_does() -> None:
    assert configure_contact(None, False, ADDRESSES) == ContactEtablissement(None, False)
    refused("adresse_contact", configure_contact, "", True, ADDRESSES)


# --- Liens utiles (§2.10) ---------------------------------------------------------------------------------------


def test_useful_links_are_shown_in_creation_order() -> None:
    page, academie = LiensUtiles().add("Le site de l'académie", "https://www.ac-nancy-metz.fr")
    page, college = page.add(" Le site de l'établissement ", "https://college-langevin.fr ")
    page, cdi = page.add("CDI", "https://cdi.college-langevin.fr")
    assert [(lien.libelle, lien.url) for lien in page.liens] == [
        ("Le site de l'académie", "https://www.ac-nancy-metz.fr"),
        ("Le site de l'établissement", "https://college-langevin.fr"),
        ("CDI", "https://cdi.college-langevin.fr"),
    ]
    assert len({academie.id, college.id, cdi.id}) == 3
    page = page.remove(college.id)
    assert [lien.id for lien in page.liens] == [academie.id, cdi.id]
    page = page.update(academie.id, "Académie", "https://www.ac-nancy-metz.fr/accueil")
    assert [(lien.id, lien.libelle) for lien in page.liens] == [(academie.id, "Académie"), (cdi.id, "CDI")]


@pytest.mark.parametrize(("libelle", "url", "field", "words"), [
    ("", "https://a.fr", "libelle", "obligatoire"),
    ("   ", "https://a.fr", "libelle", "obligatoire"),
    ("x" * 256, "https://a.fr", "libelle", "limitée à 255"),
    ("Site", "", "url", "obligatoire"),
    ("Site", "  ", "url", "obligatoire"),
    ("Site", "javascript:alert(1)", "url", "http:// ou https://"),
    ("Site", "www.ac-lyon.fr", "url", "http:// ou https://"),
    ("Site", "ftp://ac-lyon.fr", "url", "http:// ou https://"),
])
def test_a_useful_link_needs_a_label_and_a_valid_address(libelle: str, url: str, field: str, words: str) -> None:
    page, lien = LiensUtiles().add("Académie", "https://www.ac-lyon.fr")
    assert words in refused(field, page.add, libelle, url)
    assert words in refused(field, page.update, lien.id, libelle, url)


@pytest.mark.parametrize("action", ["update", "remove"])
def test_changing_a_link_that_does_not_exist_is_refused(action: str) -> None:
    page, _ = LiensUtiles().add("Académie", "https://www.ac-lyon.fr")
    arguments = (uuid.uuid4(), "x", "https://x.fr") if action == "update" else (uuid.uuid4(),)
    assert refused("lien", getattr(page, action), *arguments) == "Ce lien utile n'existe pas."
