"""The letter editor's parser under generated input: whatever staff type, a template is kept or refused with a
TemplateRefused naming the letter, filling never fails, and nothing typed — by staff or in SIECLE data — is ever
interpreted as a template or an expression."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from teleservices.shared.letters import DEFAULTS, FIELDS, TemplatePart, TemplateRefused, check_template, fill

PIECES = st.one_of(
    st.sampled_from([f"[{name}]" for name in FIELDS]), st.sampled_from(["[", "]", "[]", "[[Nom]]", "[Inconnu]",
                                                                        "{{ 7*7 }}", "{% if 1 %}", "<b>", "\n", "\t"]),
    st.text(max_size=20))
TEMPLATES = st.lists(PIECES, max_size=40).map("".join)
VALUES = st.dictionaries(st.sampled_from(sorted(FIELDS)), st.one_of(st.none(), st.text(max_size=30),
                                                                     st.just("{{ 7*7 }} [Nom] <script>")))


@settings(max_examples=300)
@given(part=st.sampled_from(list(TemplatePart)), text=TEMPLATES)
def test_a_template_is_kept_as_typed_or_refused_naming_the_letter(part: TemplatePart, text: str) -> None:
    try:
        assert check_template(part, text) == text
    except TemplateRefused as refused:
        assert refused.field == part.value and refused.reason


@settings(max_examples=300)
@given(text=TEMPLATES, values=VALUES)
def test_filling_never_fails_and_never_interprets_what_it_inserts(text: str, values: dict[str, str | None]) -> None:
    filled = fill(text, values)
    if "{{ 7*7 }}" not in text and not any(v and "7*7" in v for v in values.values()):
        assert "49" not in filled or "49" in text or any(v and "49" in v for v in values.values())
    for name, value in values.items():
        if value and f"[{name}]" in text and "\n" not in value:
            assert value.rstrip() in filled or not value.strip()


@given(part=st.sampled_from(list(TemplatePart)), values=VALUES)
def test_every_default_letter_is_accepted_and_fills(part: TemplatePart, values: dict[str, str | None]) -> None:
    assert check_template(part, DEFAULTS[part]) == DEFAULTS[part]
    assert isinstance(fill(DEFAULTS[part], values), str)
