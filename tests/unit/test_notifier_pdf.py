"""Paper letters as HTML: every field filled, staff text and SIECLE data escaped, the CNIL mention always there."""

from __future__ import annotations

import re
import uuid
from datetime import date
from typing import Any

import pytest
import zxingcpp
from hypothesis import given, settings
from hypothesis import strategies as st
from markupsafe import escape
from pydantic import ValidationError

from teleservices.notifier.pdf import (
    LetterData,
    PdfRenderer,
    document_html,
    encode_letters,
    qr_payload,
    qr_svg,
    recipient_address,
    render_letter_html,
    split_header,
    values,
)
from teleservices.notifier.pdf.letter import QR_TITLE
from teleservices.shared.letters import CNIL_MENTION, DEFAULTS, FIELDS, TemplatePart
from teleservices.shared.messages.catalog import LetterVariant, Population
from teleservices.shared.security.links import LinkPurpose, issue_link_token

PASSWORD = "Kq7#vLm2Xp"


def letter(**changes: Any) -> LetterData:
    """A representative's "nouveau compte" letter, with the default templates."""
    data: dict[str, Any] = {
        "academie": "NANCY-METZ", "etablissement": "Collège LANGEVIN WALLON",
        "adresse_etablissement": ("Haut des places", "40 rue du Rendez-Vous", "54360 BLAINVILLE-SUR-L'EAU"),
        "telephone": "03 83 75 00 00", "courriel_etablissement": "ce.0540001a@ac-nancy-metz.fr",
        "commune_etablissement": "BLAINVILLE-SUR-L'EAU", "chef_etablissement": "M. E. DURAND",
        "civilite": "Mme", "nom": "MARTIN", "prenom": "Claire", "adresse": ("Appartement 12", "3 rue des Lilas"),
        "code_postal": "54360", "commune": "BLAINVILLE-SUR-L'EAU", "pays": None,
        "nom_eleve": "MARTIN", "prenom_eleve": "Léo", "division": "4A",
        "identifiant": "c.martin7", "mot_de_passe": PASSWORD, "adresse_des_services": "https://teleservices.example",
        "date": date(2026, 9, 3), "population": Population.responsable, "variant": LetterVariant.nouveau_compte,
        "qr_url": "https://teleservices.example/premiere-connexion/9f2c41d0aa7e4b1c",
    }
    data.update(changes)
    return LetterData(**data)


def text_of(html: str) -> str:
    """The HTML's text, tags removed and whitespace collapsed (entities left as they are)."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_values_name_every_field_with_the_address_split_into_lines() -> None:
    filled = values(letter())
    assert list(filled) == list(FIELDS)
    assert filled["Adresse ligne 1"] == "Appartement 12" and filled["Adresse ligne 2"] == "3 rue des Lilas"
    assert filled["Adresse ligne 3"] == "" and filled["Adresse ligne 4"] == ""
    assert filled["Date"] == "03/09/2026"
    assert filled["Adresse établissement"] == "Haut des places\n40 rue du Rendez-Vous\n54360 BLAINVILLE-SUR-L'EAU"
    assert filled["Mot de passe"] == PASSWORD and filled["Pays"] == ""


def test_line_breaks_and_tabs_in_siecle_data_stay_inside_their_field() -> None:
    filled = values(letter(nom="MARTIN\nDUPONT", adresse=("3 rue\tdes Lilas",)))
    assert filled["Nom"] == "MARTIN DUPONT" and filled["Adresse ligne 1"] == "3 rue des Lilas"
    assert "MARTIN DUPONT Claire" in render_letter_html(letter(nom="MARTIN\nDUPONT"))


def test_an_address_composed_by_accounts_is_split_into_the_letter_s_fields() -> None:
    assert recipient_address(["Appartement 12", "3 rue des Lilas", "54360 BLAINVILLE-SUR-L'EAU"]) == {
        "adresse": ("Appartement 12", "3 rue des Lilas"), "code_postal": "54360",
        "commune": "BLAINVILLE-SUR-L'EAU", "pays": None}
    assert recipient_address(["1", "2", "3", "4", "5", "75001 PARIS 1ER ARRONDISSEMENT", "BELGIQUE"]) == {
        "adresse": ("1", "2", "3", "4, 5"), "code_postal": "75001", "commune": "PARIS 1ER ARRONDISSEMENT",
        "pays": "BELGIQUE"}
    assert recipient_address(["Rue de la Loi 16", "B-1000 BRUXELLES", ""]) == {
        "adresse": ("Rue de la Loi 16", "B-1000 BRUXELLES"), "code_postal": None, "commune": None, "pays": None}
    html = text_of(render_letter_html(letter(**recipient_address(["3 rue des Lilas", "54360 NANCY", "ALLEMAGNE"]))))
    assert "Mme MARTIN Claire 3 rue des Lilas 54360 NANCY ALLEMAGNE" in html


def test_the_default_representative_letter_holds_the_guide_s_key_sentences() -> None:
    html = text_of(render_letter_html(letter()))
    for sentence in (
        "Identifiant : c.martin7", f"Mot de passe : {PASSWORD}", "https://teleservices.example",
        "Le Collège LANGEVIN WALLON met à votre disposition un ensemble de services",
        "de suivre la scolarité de Léo MARTIN, élève de 4A",
        "vous disposez d&#39;un délai de 3 mois pour activer votre compte",
        "les élèves ont également un compte personnel",
        "Académie de NANCY-METZ", "BLAINVILLE-SUR-L&#39;EAU, le 03/09/2026", "Mme MARTIN Claire",
        "Le chef d&#39;établissement M. E. DURAND",
    ):
        assert sentence in html, sentence


def test_the_recipient_block_is_the_one_placed_in_the_envelope_window() -> None:
    establishment, recipient, after = split_header(DEFAULTS[TemplatePart.en_tete])
    assert recipient.splitlines()[0] == "[Civilité] [Nom] [Prénom]" and recipient.endswith("[Pays]")
    assert "[Établissement]" in establishment and after == ""
    window = re.search(r'<address class="destinataire">(.*?)</address>', render_letter_html(letter()), re.S)
    assert window is not None
    assert text_of(window.group(1)).split() == ["Mme", "MARTIN", "Claire", "Appartement", "12", "3", "rue", "des",
                                                "Lilas", "54360", "BLAINVILLE-SUR-L&#39;EAU"]


def test_a_page_is_a4_in_french_with_a_title_and_one_letter_per_page() -> None:
    html = render_letter_html(letter())
    assert '<html lang="fr">' in html
    assert "<title>Accès aux services en ligne de l&#39;établissement – Collège LANGEVIN WALLON</title>" in html
    assert "size: A4" in html and "page-break-after: always" in html and "DejaVu Sans" in html
    assert "&#34;DejaVu Sans&#34;" not in html


def test_several_letters_keep_the_given_order() -> None:
    html = document_html([letter(nom="ZOLA"), letter(nom="ABEL"), letter(nom="MARTIN")], inline_css=False)
    assert html.count('<article class="lettre">') == 3
    assert html.index("ZOLA") < html.index("ABEL") < html.index("Mme MARTIN")
    assert "<style>" not in html


def test_a_script_in_a_name_is_escaped() -> None:
    html = render_letter_html(letter(nom="<script>alert(1)</script>", prenom='"><img src=x onerror=alert(2)>'))
    assert "<script" not in html and "<img" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&#34;&gt;&lt;img src=x onerror=alert(2)&gt;" in html


def test_markup_in_staff_s_templates_is_printed_as_text_never_executed() -> None:
    templates = dict(DEFAULTS)
    templates[TemplatePart.en_tete] = ("<b>[Établissement]</b>\n\n[Nom]\n[Adresse ligne 1]\n"
                                       "<style>*{display:none}</style>")
    templates[TemplatePart.responsable_nouveau_compte] = (
        "<script>document.write('x')</script> {{ 7*7 }} [Adresse des services] [Identifiant] [Mot de passe] "
        "[Nom élève] <a href=\"javascript:alert(1)\">ici</a>")
    html = render_letter_html(letter(templates=templates))
    assert "<script" not in html and "<b>" not in html and "<a href" not in html
    assert html.count("<style>") == 1
    assert "&lt;script&gt;document.write(&#39;x&#39;)&lt;/script&gt; {{ 7*7 }}" in html
    assert "&lt;style&gt;*{display:none}&lt;/style&gt;" in html


def test_a_template_typed_in_a_browser_form_with_crlf_line_ends_prints_the_same() -> None:
    crlf = {part: text.replace("\n", "\r\n") for part, text in DEFAULTS.items()}
    assert render_letter_html(letter(templates=crlf)) == render_letter_html(letter())


def test_the_cnil_mention_is_printed_even_when_staff_s_body_lacks_it() -> None:
    templates = {TemplatePart.responsable_nouveau_compte: "[Adresse des services] [Identifiant] [Mot de passe] "
                                                          "[Nom élève]"}
    html = render_letter_html(letter(templates=templates))
    assert str(escape(CNIL_MENTION)) in html
    assert "Académie de NANCY-METZ" in html, "a part the establishment did not change is the default one"


def test_the_head_s_signature_is_added_when_staff_s_body_lacks_it_and_not_repeated_otherwise() -> None:
    templates = {TemplatePart.responsable_nouveau_compte: "[Adresse des services] [Identifiant] [Mot de passe] "
                                                          "[Nom élève]"}
    assert '<div class="signature">' in render_letter_html(letter(templates=templates))
    default = render_letter_html(letter())
    assert '<div class="signature">' not in default and default.count("M. E. DURAND") == 1


def test_no_birth_date_anywhere() -> None:
    assert not [name for name in LetterData.model_fields if "naiss" in name or "birth" in name]
    with pytest.raises(ValidationError):
        letter(date_naissance=date(2012, 5, 4))
    html = render_letter_html(letter()).lower()
    assert "naissance" not in html and "né le" not in html and "née le" not in html
    assert re.findall(r"\d{2}/\d{2}/\d{4}", html) == ["03/09/2026"]


def test_the_password_is_never_in_the_qr_code() -> None:
    sample = letter()
    payload = qr_payload(sample)
    assert payload == "https://teleservices.example/premiere-connexion/9f2c41d0aa7e4b1c"
    assert PASSWORD not in payload
    html = render_letter_html(sample)
    assert str(qr_svg(payload)) in html and _scanned(html) == payload
    with pytest.raises(ValidationError, match="jamais"):
        letter(qr_url=f"https://teleservices.example/premiere-connexion?u=c.martin7&p={PASSWORD}")
    with pytest.raises(ValidationError, match="http"):
        letter(qr_url="javascript:alert(1)")


@settings(max_examples=60, deadline=None)
@given(payload=st.text(st.characters(min_codepoint=33, max_codepoint=126), min_size=1, max_size=400))
def test_the_printed_qr_code_reads_back_as_its_link(payload: str) -> None:
    """What a phone reads from the drawing (strokes rebuilt into modules, quiet zone included) is the payload."""
    svg = str(qr_svg(payload))
    assert svg.startswith('<svg viewBox="0 0 ') and f"<title>{QR_TITLE}</title>" in svg
    assert _scanned(svg) == payload


def test_a_first_connection_link_prints_as_a_version_8_symbol_at_most() -> None:
    """A 72-character token after the portal's address: 49 × 49 modules, 57 with the quiet zone."""
    token = issue_link_token("k" * 48, uuid.uuid4(), LinkPurpose.first_connection, ttl_s=92 * 86_400)
    link = f"https://scolarite.ac-nancy-metz.fr/premiere-connexion?jeton={token}"
    assert int(re.search(r'viewBox="0 0 (\d+)', str(qr_svg(link))).group(1)) <= 57


def _scanned(html: str) -> str:
    """The text a QR reader finds in the first QR code of the HTML, drawn 4 pixels per module."""
    size = int(re.search(r'viewBox="0 0 (\d+) \d+" class="qr-code"', html).group(1))
    path = re.search(r'class="qrline" stroke="#000" d="([^"]+)"', html).group(1)
    modules = [bytearray(b"\xff" * size) for _ in range(size)]
    x = y = 0
    for command, dx, dy in re.findall(r"([Mmh])(-?\d+)(?: (-?[\d.]+))?", path):
        if command == "h":
            modules[y][x:x + int(dx)] = b"\x00" * int(dx)
            x += int(dx)
        elif command == "M":
            x, y = int(dx), int(float(dy))
        else:
            x, y = x + int(dx), y + int(dy)
    scale = 4
    pixels = b"".join(bytes(b for b in row for _ in range(scale)) * scale for row in modules)
    found = zxingcpp.read_barcode(zxingcpp.ImageView(pixels, size * scale, size * scale, zxingcpp.ImageFormat.Lum),
                                  formats=zxingcpp.BarcodeFormat.QRCode)
    assert found is not None, "no QR code found"
    return str(found.text)


def test_without_a_link_there_is_no_qr_code() -> None:
    assert "<svg" not in render_letter_html(letter(qr_url=None))


@pytest.mark.parametrize(("population", "variant"), [(p, v) for p in Population for v in LetterVariant])
def test_each_population_and_letter_uses_its_own_body(population: Population, variant: LetterVariant) -> None:
    password = PASSWORD if variant is LetterVariant.nouveau_compte else None
    html = text_of(render_letter_html(letter(population=population, variant=variant, mot_de_passe=password)))
    assert "Identifiant : c.martin7" in html
    assert (PASSWORD in html) == (variant is LetterVariant.nouveau_compte)
    marker = {"eleve": "Avec mes encouragements", "responsable": "Salutations distinguées"}[population.value]
    assert marker in html


def test_a_new_account_letter_needs_its_password_and_an_address_has_four_lines_at_most() -> None:
    with pytest.raises(ValidationError, match="mot de passe"):
        letter(mot_de_passe=None)
    with pytest.raises(ValidationError, match="4 lignes"):
        letter(adresse=("1", "2", "3", "4", "5"))


def test_letters_travel_to_a_worker_as_json_and_the_renderer_pickles() -> None:
    import json
    import pickle

    payload = json.loads(encode_letters([letter(), letter(nom="ABEL")], tagged=False))
    assert payload["tagged"] is False and [item["nom"] for item in payload["letters"]] == ["MARTIN", "ABEL"]
    assert LetterData.model_validate(payload["letters"][0]) == letter()
    assert pickle.loads(pickle.dumps(PdfRenderer())) == PdfRenderer()  # noqa: S301 - our own bytes.
